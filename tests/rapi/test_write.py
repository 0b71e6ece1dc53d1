"""Every write endpoint family against a live RAPI that this module may change, with the job waiter following
each job (progress reported, final status and result returned, failures raised as JobFailed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from fleet.rapi import LogEntry, cluster, errors, flows, groups, instances, jobs, networks, nodes
from fleet.rapi.models import Job, Node
from tests.conftest import SEED
from tests.rapi.conftest import Driver, side_by_side
from tests.targets import RapiTarget


def submit_and_wait(driver: Driver, target: RapiTarget, call: Any, log: list[LogEntry] | None = None) -> Job:
    """Submit a job-returning call, then follow the job to its end."""
    job_id = driver.call(target, call)
    assert isinstance(job_id, int)

    def on_log(jid: int, entry: LogEntry) -> None:
        assert jid == job_id
        if log is not None:
            log.append(entry)

    job: Job = driver.run(target, flows.wait_for_job(job_id, on_log=on_log))
    assert job.id == job_id
    assert job.status == "success"
    return job


def by_name(driver: Driver, target: RapiTarget) -> dict[str, Any]:
    return {i["name"]: i for i in driver.call(target, instances.bulk())}


@dataclass(frozen=True)
class Facts:
    """What the cluster offers to the tests that create things: from /2/info, /2/os and the node list."""

    os: str
    templates: tuple[str, ...]  # enabled disk templates
    hypervisor: str  # the default one
    iallocator: str
    master: str
    vm_nodes: tuple[str, ...]  # online, undrained and vm_capable
    nodes: tuple[Node, ...]

    def first(self, *templates: str) -> str | None:
        """The first of these templates that the cluster enables."""
        return next((t for t in templates if t in self.templates), None)

    def needs_two_vm_nodes(self, why: str) -> None:
        if len(self.vm_nodes) < 2:
            pytest.skip(
                f"{why} needs a second vm_capable node (the cluster has {len(self.vm_nodes)}: "
                f"{', '.join(self.vm_nodes) or 'none'})"
            )


# The OS list of each target (by address and certificate): /2/os is a job on a real cluster (an OS diagnose on
# every node), asked for once; test_read checks the call itself.
_OSES: dict[tuple[str, str], list[str]] = {}


def facts(driver: Driver, target: RapiTarget) -> Facts:
    info = driver.call(target, cluster.info())
    key = (target.url, target.fingerprint)
    oses = _OSES.get(key) or _OSES.setdefault(key, driver.call(target, cluster.operating_systems()))
    all_nodes = driver.call(target, nodes.bulk())
    return Facts(
        os=sorted(oses, key=lambda o: (o != "noop", o))[0],
        templates=tuple(info["enabled_disk_templates"]),
        hypervisor=info["default_hypervisor"],
        iallocator=info.get("default_iallocator") or "hail",
        master=info["master"],
        vm_nodes=tuple(
            n["name"] for n in all_nodes if n["vm_capable"] and not n["offline"] and not n["drained"]
        ),
        nodes=tuple(all_nodes),
    )


def remove_leftovers(driver: Driver, target: RapiTarget, *names: str) -> None:
    """Delete instances an interrupted earlier run left behind (a real cluster keeps them)."""
    existing = set(driver.call(target, instances.list()))
    for name in names:
        if name in existing:
            submit_and_wait(driver, target, instances.delete(name))


@side_by_side
def test_instance_lifecycle(driver: Driver, writable: RapiTarget) -> None:
    t = writable
    f = facts(driver, t)
    mirrored = "drbd" in f.templates and len(f.vm_nodes) >= 2
    template = "drbd" if mirrored else f.first("plain", "file", "sharedfile")
    if template is None:
        pytest.skip(f"needs a disk template with disks (the cluster enables {', '.join(f.templates)})")
    name = f"rapi-test-{driver.kind}.example.org"
    new_name = f"rapi-renamed-{driver.kind}.example.org"
    remove_leftovers(driver, t, name, new_name)
    spec = instances.instance_spec(
        name,
        disk_template=template,
        disks=[{"size": 1024}],
        os_type=f.os,
        beparams={"vcpus": 1, "maxmem": 512, "minmem": 512},
        name_check=False,
        ip_check=False,
        tags=["fleet:test"],
    )
    log: list[LogEntry] = []
    created = submit_and_wait(driver, t, instances.create(spec, reason="rapi client test"), log)
    assert log, "the waiter reports the job's log lines"
    assert [e.serial for e in log] == sorted({e.serial for e in log})
    pnode, *snodes = created.opresult[0]
    assert len(snodes) == (1 if mirrored else 0)
    inst = driver.call(t, instances.get(name))
    assert (inst["pnode"], inst["snodes"], inst["status"]) == (pnode, snodes, "running")

    submit_and_wait(driver, t, instances.shutdown(name, timeout=10))
    assert driver.call(t, instances.get(name))["status"] == "ADMIN_down"
    submit_and_wait(driver, t, instances.startup(name))
    assert driver.call(t, instances.get(name))["status"] == "running"
    submit_and_wait(driver, t, instances.reboot(name, type="soft"))

    submit_and_wait(
        driver, t, instances.modify(name, beparams={"vcpus": 2}, disks=[("add", -1, {"size": 512})])
    )
    inst = driver.call(t, instances.get(name))
    assert inst["beparams"]["vcpus"] == 2
    assert inst["disk.sizes"] == [1024, 512]
    submit_and_wait(driver, t, instances.grow_disk(name, 1, 512))
    assert driver.call(t, instances.get(name))["disk.sizes"] == [1024, 1024]

    submit_and_wait(driver, t, instances.shutdown(name))  # Ganeti renames only stopped instances
    submit_and_wait(driver, t, instances.activate_disks(name))
    submit_and_wait(driver, t, instances.deactivate_disks(name))
    renamed = submit_and_wait(driver, t, instances.rename(name, new_name, name_check=False, ip_check=False))
    assert renamed.opresult == [new_name]
    reinstalled = submit_and_wait(driver, t, instances.reinstall(new_name, start=True))
    assert len(reinstalled.ops) == 3
    assert driver.call(t, instances.get(new_name))["status"] == "running"

    submit_and_wait(driver, t, instances.add_tags(new_name, ["fleet:user:alice"]))
    assert "fleet:user:alice" in driver.call(t, instances.tags(new_name))
    submit_and_wait(driver, t, instances.delete_tags(new_name, ["fleet:user:alice"]))
    assert "fleet:user:alice" not in driver.call(t, instances.tags(new_name))

    submit_and_wait(driver, t, instances.delete(new_name))
    with pytest.raises(errors.NotFound):
        driver.call(t, instances.get(new_name))


@side_by_side
def test_mirrored_instance_moves(driver: Driver, writable: RapiTarget) -> None:
    t = writable
    f = facts(driver, t)
    if "drbd" not in f.templates:
        pytest.skip(f"migrate, failover and replace-disks need drbd (enabled: {', '.join(f.templates)})")
    f.needs_two_vm_nodes("a DRBD instance")
    name = f"rapi-moves-{driver.kind}.example.org"
    remove_leftovers(driver, t, name)
    spec = instances.instance_spec(
        name,
        disk_template="drbd",
        disks=[{"size": 1024}],
        os_type=f.os,
        beparams={"vcpus": 1, "maxmem": 256, "minmem": 256},
        name_check=False,
        ip_check=False,
    )
    pnode, snode = submit_and_wait(driver, t, instances.create(spec)).opresult[0]
    submit_and_wait(driver, t, instances.migrate(name))
    assert driver.call(t, instances.get(name))["pnode"] == snode
    submit_and_wait(driver, t, instances.failover(name, ignore_consistency=True))
    assert driver.call(t, instances.get(name))["pnode"] == pnode
    submit_and_wait(driver, t, instances.replace_disks(name, mode="replace_auto"))
    submit_and_wait(driver, t, instances.delete(name))


@side_by_side
def test_failed_job_raises_job_failed(driver: Driver, writable: RapiTarget) -> None:
    job_id = driver.call(writable, instances.startup("no-such-instance.example.org"))
    with pytest.raises(errors.JobFailed) as info:
        driver.run(writable, flows.wait_for_job(job_id))
    assert (info.value.job_id, info.value.error_class, info.value.ecode) == (
        job_id,
        "OpPrereqError",
        "unknown_entity",
    )
    assert "no-such-instance" in info.value.message
    job = driver.call(writable, jobs.get(str(job_id)))
    assert job.status == "error"


@side_by_side
def test_dry_run_changes_nothing(driver: Driver, writable: RapiTarget) -> None:
    names = driver.call(writable, instances.list())
    name = next((n for n in names if n in SEED), names[0])  # one that no other test removes
    before = driver.call(writable, instances.get(name))
    submit_and_wait(driver, writable, instances.modify(name, beparams={"vcpus": 7}, dry_run=True))
    assert driver.call(writable, instances.get(name))["beparams"] == before["beparams"]


@side_by_side
def test_multi_alloc_follows_child_jobs(driver: Driver, writable: RapiTarget) -> None:
    f = facts(driver, writable)
    template = f.first("plain", "file", "diskless") or f.templates[0]
    names = [f"rapi-multi{i}-{driver.kind}.example.org" for i in range(2)]
    remove_leftovers(driver, writable, *names)
    specs = [
        instances.instance_spec(
            name,
            disk_template=template,
            disks=[] if template == "diskless" else [{"size": 256}],
            os_type=f.os,
            beparams={"maxmem": 128, "minmem": 128},
            name_check=False,
            ip_check=False,
        )
        for name in names
    ]
    call = instances.multi_alloc(specs, iallocator=f.iallocator, hypervisor=f.hypervisor)
    parent, children = driver.run(writable, flows.wait_for_job_tree(driver.call(writable, call)))
    assert len(parent.submitted_jobs) == 2
    assert [c.status for c in children] == ["success", "success"]
    assert set(names) <= set(driver.call(writable, instances.list()))
    deletions = [driver.call(writable, instances.delete(name)) for name in names]
    deleted = driver.run(writable, flows.wait_for_jobs(deletions))
    assert [j.status for j in deleted] == ["success", "success"]


@side_by_side
def test_node_tags(driver: Driver, writable: RapiTarget) -> None:
    t = writable
    node = (
        next((n["name"] for n in facts(driver, t).nodes if n["role"] != "M"), None)
        or driver.call(t, nodes.list())[0]
    )
    tag = f"rack:{driver.kind}"
    submit_and_wait(driver, t, nodes.add_tags(node, [tag]))
    assert tag in driver.call(t, nodes.tags(node))
    submit_and_wait(driver, t, nodes.delete_tags(node, [tag]))
    assert tag not in driver.call(t, nodes.tags(node))


def test_node_role_and_modify(driver: Driver, writable: RapiTarget) -> None:
    t = writable
    f = facts(driver, t)
    others = [n["name"] for n in f.nodes if n["role"] != "M" and not n["offline"]]
    if not others:
        pytest.skip(f"needs an online node besides the master {f.master} to drain (the cluster has no other)")
    node = others[0]
    before = driver.call(t, nodes.role(node))
    submit_and_wait(driver, t, nodes.set_role(node, "drained"))
    assert driver.call(t, nodes.role(node)) == "drained"
    submit_and_wait(driver, t, nodes.modify(node, drained=False))
    assert driver.call(t, nodes.role(node)) in ("regular", "master-candidate")
    submit_and_wait(driver, t, nodes.set_role(node, before))


@pytest.mark.parametrize("action", ["migrate", "evacuate"])
def test_node_migrate_and_evacuate_follow_child_jobs(
    driver: Driver, writable: RapiTarget, action: str
) -> None:
    t = writable
    f = facts(driver, t)
    f.needs_two_vm_nodes(f"node {action}")
    if action == "migrate":
        node = next((n for n in f.nodes if n["role"] != "M" and n["pinst_cnt"]), None)
        if node is None:
            pytest.skip(f"node migrate needs a node besides the master {f.master} with primary instances")
        call = nodes.migrate(node["name"])
    else:
        # With an iallocator Ganeti refuses mode "all" (OpPrereqError: "it is not possible to evacuate all
        # instances at once"); mode "secondary-only" gives the node's DRBD instances a new secondary node.
        if len(f.vm_nodes) < 3:
            pytest.skip(f"node evacuate needs a third vm_capable node (the cluster has {len(f.vm_nodes)})")
        node = next((n for n in f.nodes if n["role"] != "M" and n["sinst_cnt"]), None)
        if node is None:
            pytest.skip(f"node evacuate needs a node besides the master {f.master} with secondary instances")
        call = nodes.evacuate(node["name"], "secondary-only", iallocator=f.iallocator)
    parent, children = driver.run(t, flows.wait_for_job_tree(driver.call(t, call)))
    assert parent.status == "success"
    assert {c.id for c in children} == {s.job_id for s in parent.submitted_jobs if s.ok}
    assert all(c.final for c in children)


@side_by_side
def test_groups_and_networks(driver: Driver, writable: RapiTarget) -> None:
    t = writable
    group = f"rapi-{driver.kind}"
    submit_and_wait(driver, t, groups.create(group, alloc_policy="last_resort"))
    assert driver.call(t, groups.get(group))["alloc_policy"] == "last_resort"
    submit_and_wait(driver, t, groups.modify(group, alloc_policy="unallocable"))
    assert driver.call(t, groups.get(group))["alloc_policy"] == "unallocable"
    submit_and_wait(driver, t, groups.add_tags(group, ["site:x"]))
    assert driver.call(t, groups.tags(group)) == ["site:x"]

    net = f"rapi-net-{driver.kind}"
    third = 10 if driver.kind == "sync" else 11
    submit_and_wait(driver, t, networks.create(net, f"10.99.{third}.0/24", mac_prefix="aa:00:01"))
    assert driver.call(t, networks.get(net))["network"] == f"10.99.{third}.0/24"
    submit_and_wait(driver, t, networks.modify(net, add_reserved_ips=[f"10.99.{third}.5"]))
    assert driver.call(t, networks.get(net))["map"][5] == "X"
    submit_and_wait(driver, t, networks.connect(net, group, mode="bridged", link="br99"))
    assert [g[0] for g in driver.call(t, networks.get(net))["group_list"]] == [group]
    submit_and_wait(driver, t, networks.disconnect(net, group))
    submit_and_wait(driver, t, networks.delete(net))
    with pytest.raises(errors.NotFound):
        driver.call(t, networks.get(net))
    submit_and_wait(driver, t, groups.rename(group, group + "-b"))
    submit_and_wait(driver, t, groups.delete(group + "-b"))
    assert group + "-b" not in driver.call(t, groups.list())


@side_by_side
def test_cluster_tags_and_cancel(driver: Driver, writable: RapiTarget) -> None:
    t = writable
    tag = f"fleet:test:{driver.kind}"
    submit_and_wait(driver, t, cluster.add_tags([tag]))
    assert tag in driver.call(t, cluster.tags())
    submit_and_wait(driver, t, cluster.delete_tags([tag]))
    assert tag not in driver.call(t, cluster.tags())
    done = submit_and_wait(driver, t, cluster.redistribute_config())
    result = driver.call(t, jobs.cancel(done.id))
    assert result.ok is False
    assert result.message


@side_by_side
def test_network_with_a_gateway(driver: Driver, writable: RapiTarget) -> None:
    net = f"rapi-gw-{driver.kind}"
    third = 20 if driver.kind == "sync" else 21
    submit_and_wait(driver, writable, networks.create(net, f"10.99.{third}.0/24", gateway=f"10.99.{third}.1"))
    assert driver.call(writable, networks.get(net))["gateway"] == f"10.99.{third}.1"
    submit_and_wait(driver, writable, networks.delete(net))

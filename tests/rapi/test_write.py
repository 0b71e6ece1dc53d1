"""Every write endpoint family against a live RAPI that this module may change, with the job waiter following
each job (progress reported, final status and result returned, failures raised as JobFailed)."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.rapi import LogEntry, cluster, errors, flows, groups, instances, jobs, networks, nodes
from fleet.rapi.models import Job
from tests.rapi.conftest import Driver
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


def test_instance_lifecycle(driver: Driver, writable: RapiTarget) -> None:
    t = writable
    name = f"rapi-test-{driver.kind}.example.org"
    spec = instances.instance_spec(
        name,
        disk_template="drbd",
        disks=[{"size": 1024}],
        os_type=driver.call(t, cluster.operating_systems())[0],
        beparams={"vcpus": 1, "maxmem": 512, "minmem": 512},
        name_check=False,
        ip_check=False,
        tags=["fleet:test"],
    )
    log: list[LogEntry] = []
    created = submit_and_wait(driver, t, instances.create(spec, reason="rapi client test"), log)
    assert log, "the waiter reports the job's log lines"
    assert [e.serial for e in log] == sorted({e.serial for e in log})
    pnode, snode = created.opresult[0]
    inst = driver.call(t, instances.get(name))
    assert (inst["pnode"], inst["snodes"], inst["status"]) == (pnode, [snode], "running")

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

    submit_and_wait(driver, t, instances.migrate(name))
    assert driver.call(t, instances.get(name))["pnode"] == snode
    submit_and_wait(driver, t, instances.failover(name, ignore_consistency=True))
    assert driver.call(t, instances.get(name))["pnode"] == pnode
    submit_and_wait(driver, t, instances.replace_disks(name, mode="replace_auto"))

    submit_and_wait(driver, t, instances.shutdown(name))
    submit_and_wait(driver, t, instances.activate_disks(name))
    submit_and_wait(driver, t, instances.deactivate_disks(name))
    reinstalled = submit_and_wait(driver, t, instances.reinstall(name, start=True))
    assert len(reinstalled.ops) == 3
    assert driver.call(t, instances.get(name))["status"] == "running"

    new_name = f"rapi-renamed-{driver.kind}.example.org"
    renamed = submit_and_wait(driver, t, instances.rename(name, new_name, name_check=False, ip_check=False))
    assert renamed.opresult == [new_name]
    submit_and_wait(driver, t, instances.add_tags(new_name, ["fleet:user:alice"]))
    assert "fleet:user:alice" in driver.call(t, instances.tags(new_name))
    submit_and_wait(driver, t, instances.delete_tags(new_name, ["fleet:user:alice"]))
    assert "fleet:user:alice" not in driver.call(t, instances.tags(new_name))

    submit_and_wait(driver, t, instances.delete(new_name))
    with pytest.raises(errors.NotFound):
        driver.call(t, instances.get(new_name))


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


def test_dry_run_changes_nothing(driver: Driver, writable: RapiTarget) -> None:
    name = driver.call(writable, instances.list())[0]
    before = driver.call(writable, instances.get(name))
    submit_and_wait(driver, writable, instances.modify(name, beparams={"vcpus": 7}, dry_run=True))
    assert driver.call(writable, instances.get(name))["beparams"] == before["beparams"]


def test_multi_alloc_follows_child_jobs(driver: Driver, writable: RapiTarget) -> None:
    os_type = driver.call(writable, cluster.operating_systems())[0]
    specs = [
        instances.instance_spec(
            f"rapi-multi{i}-{driver.kind}.example.org",
            disk_template="plain",
            disks=[{"size": 256}],
            os_type=os_type,
            beparams={"maxmem": 128, "minmem": 128},
            name_check=False,
            ip_check=False,
        )
        for i in range(2)
    ]
    job_id = driver.call(writable, instances.multi_alloc(specs, iallocator="hail"))
    parent, children = driver.run(writable, flows.wait_for_job_tree(job_id))
    assert len(parent.submitted_jobs) == 2
    assert [c.status for c in children] == ["success", "success"]
    names = set(driver.call(writable, instances.list()))
    assert {s["instance_name"] for s in specs} <= names


def test_node_role_modify_and_tags(driver: Driver, writable: RapiTarget) -> None:
    t = writable
    bulk = driver.call(t, nodes.bulk())
    node = next(n["name"] for n in bulk if n["role"] != "M")
    before = driver.call(t, nodes.role(node))
    submit_and_wait(driver, t, nodes.set_role(node, "drained"))
    assert driver.call(t, nodes.role(node)) == "drained"
    submit_and_wait(driver, t, nodes.modify(node, drained=False))
    assert driver.call(t, nodes.role(node)) in ("regular", "master-candidate")
    submit_and_wait(driver, t, nodes.set_role(node, before))  # type: ignore[arg-type]
    submit_and_wait(driver, t, nodes.add_tags(node, ["rack:r1"]))
    assert "rack:r1" in driver.call(t, nodes.tags(node))


@pytest.mark.parametrize("action", ["migrate", "evacuate"])
def test_node_migrate_and_evacuate_follow_child_jobs(
    driver: Driver, writable: RapiTarget, action: str
) -> None:
    t = writable
    node = next(n for n in driver.call(t, nodes.bulk()) if n["role"] != "M" and n["pinst_cnt"])
    call = (
        nodes.migrate(node["name"])
        if action == "migrate"
        else nodes.evacuate(node["name"], "all", iallocator="hail")
    )
    parent, children = driver.run(t, flows.wait_for_job_tree(driver.call(t, call)))
    assert parent.status == "success"
    assert {c.id for c in children} == {s.job_id for s in parent.submitted_jobs if s.ok}
    assert all(c.final for c in children)


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


def test_network_with_a_gateway(driver: Driver, writable: RapiTarget) -> None:
    net = f"rapi-gw-{driver.kind}"
    third = 20 if driver.kind == "sync" else 21
    submit_and_wait(driver, writable, networks.create(net, f"10.99.{third}.0/24", gateway=f"10.99.{third}.1"))
    assert driver.call(writable, networks.get(net))["gateway"] == f"10.99.{third}.1"
    submit_and_wait(driver, writable, networks.delete(net))

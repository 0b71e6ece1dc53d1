"""Each endpoint function builds exactly the request Ganeti 3.0.2 expects (reference §2 and §4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from fleet.rapi import cluster, filters, groups, instances, jobs, networks, nodes, qfilter, query
from fleet.rapi.wire import Call

CASES: list[tuple[Call[Any], str, str, Any]] = [
    (cluster.version(), "GET", "/version", None),
    (cluster.info(), "GET", "/2/info", None),
    (cluster.features(), "GET", "/2/features", None),
    (cluster.operating_systems(), "GET", "/2/os", None),
    (cluster.modify({"candidate_pool_size": 5}), "PUT", "/2/modify", {"candidate_pool_size": 5}),
    (cluster.redistribute_config(), "PUT", "/2/redistribute-config", {}),
    (cluster.tags(), "GET", "/2/tags", None),
    (cluster.add_tags(["a:b", "c"], dry_run=True), "PUT", "/2/tags?dry-run=1&tag=a%3Ab&tag=c", {}),
    (cluster.delete_tags(["a"]), "DELETE", "/2/tags?tag=a", None),
    (instances.list(), "GET", "/2/instances", None),
    (instances.bulk(), "GET", "/2/instances?bulk=1", None),
    (instances.get("web1.example.com"), "GET", "/2/instances/web1.example.com", None),
    (instances.info("web1", static=True), "GET", "/2/instances/web1/info?static=1", None),
    (
        instances.create(
            instances.instance_spec(
                "web1", disk_template="drbd", disks=[{"size": 1024}], os_type="debootstrap+default"
            ),
            dry_run=True,
            reason="ticket 7",
        ),
        "POST",
        "/2/instances?dry-run=1&reason=ticket+7",
        {
            "__version__": 1,
            "mode": "create",
            "instance_name": "web1",
            "disk_template": "drbd",
            "disks": [{"size": 1024}],
            "nics": [{}],
            "os_type": "debootstrap+default",
        },
    ),
    (
        instances.multi_alloc(
            [instances.instance_spec("a", disk_template="plain", disks=[{"size": 1}], start=False)],
            iallocator="hail",
        ),
        "POST",
        "/2/instances-multi-alloc",
        {
            "instances": [
                {
                    "mode": "create",
                    "instance_name": "a",
                    "disk_template": "plain",
                    "disks": [{"size": 1}],
                    "nics": [{}],
                    "start": False,
                }
            ],
            "iallocator": "hail",
        },
    ),
    (  # __version__ is refused inside a multi-alloc instance; Ganeti 3.0 needs each one's hypervisor
        instances.multi_alloc(
            [
                {
                    **instances.instance_spec("a", disk_template="file", disks=[], hypervisor="kvm"),
                    "__version__": 1,
                },
                instances.instance_spec("b", disk_template="diskless", disks=[]),
            ],
            hypervisor="fake",
        ),
        "POST",
        "/2/instances-multi-alloc",
        {
            "instances": [
                {
                    "mode": "create",
                    "instance_name": "a",
                    "disk_template": "file",
                    "disks": [],
                    "nics": [{}],
                    "hypervisor": "kvm",
                },
                {
                    "mode": "create",
                    "instance_name": "b",
                    "disk_template": "diskless",
                    "disks": [],
                    "nics": [{}],
                    "hypervisor": "fake",
                },
            ],
        },
    ),
    (instances.delete("web1"), "DELETE", "/2/instances/web1", None),
    (instances.delete("web1", shutdown_timeout=5), "DELETE", "/2/instances/web1", {"shutdown_timeout": 5}),
    (instances.startup("web1", force=True), "PUT", "/2/instances/web1/startup?force=1", {}),
    (
        instances.shutdown("web1", timeout=30, no_remember=True),
        "PUT",
        "/2/instances/web1/shutdown?no_remember=1",
        {"timeout": 30},
    ),
    (instances.reboot("web1"), "POST", "/2/instances/web1/reboot?type=hard", {}),
    (
        instances.reboot("web1", type="soft", shutdown_timeout=10),
        "POST",
        "/2/instances/web1/reboot?type=soft",
        {"shutdown_timeout": 10},
    ),
    (
        instances.reinstall("web1", os="debian", start=False),
        "POST",
        "/2/instances/web1/reinstall",
        {"os": "debian", "start": False},
    ),
    (  # Ganeti refuses a reinstall's body with any query argument: the reason is not sent
        instances.reinstall("web1", os="debian", reason="why"),
        "POST",
        "/2/instances/web1/reinstall",
        {"os": "debian", "start": True},
    ),
    (
        instances.rename("web1", "web2", name_check=False, ip_check=False),
        "PUT",
        "/2/instances/web1/rename",
        {"new_name": "web2", "ip_check": False, "name_check": False},
    ),
    (
        instances.modify(
            "web1",
            beparams={"vcpus": 2, "maxmem": "default"},
            disks=[("add", -1, {"size": 1024})],
            nics=[("modify", 0, {"link": "br1"})],
        ),
        "PUT",
        "/2/instances/web1/modify",
        {
            "beparams": {"vcpus": 2, "maxmem": "default"},
            "disks": [["add", -1, {"size": 1024}]],
            "nics": [["modify", 0, {"link": "br1"}]],
        },
    ),
    (
        instances.modify("web1", osparams={"img_id": "default"}, osparams_private={"img_passwd": "default"}),
        "PUT",
        "/2/instances/web1/modify",
        {"osparams": {"img_id": "default"}, "osparams_private": {"img_passwd": "default"}},
    ),
    (
        instances.modify("web1", offline=True, dry_run=True),
        "PUT",
        "/2/instances/web1/modify",
        {"offline": True, "dry_run": True},
    ),
    (nodes.migrate("n1", dry_run=True), "POST", "/2/nodes/n1/migrate", {"dry_run": True}),
    (cluster.redistribute_config(dry_run=True), "PUT", "/2/redistribute-config", {"dry_run": True}),
    (instances.migrate("web1", mode="live"), "PUT", "/2/instances/web1/migrate", {"mode": "live"}),
    (
        instances.failover("web1", ignore_consistency=True),
        "PUT",
        "/2/instances/web1/failover",
        {"ignore_consistency": True},
    ),
    (
        instances.replace_disks("web1", mode="replace_new_secondary", remote_node="n3", disks=[0]),
        "POST",
        "/2/instances/web1/replace-disks",
        {"mode": "replace_new_secondary", "remote_node": "n3", "disks": [0]},
    ),
    (
        instances.grow_disk("web1", 0, 2048, wait_for_sync=False),
        "POST",
        "/2/instances/web1/disk/0/grow",
        {"amount": 2048, "wait_for_sync": False},
    ),
    (
        instances.recreate_disks("web1", disks=[0], nodes=["n1"]),
        "POST",
        "/2/instances/web1/recreate-disks",
        {"disks": [0], "nodes": ["n1"]},
    ),
    (instances.activate_disks("web1"), "PUT", "/2/instances/web1/activate-disks", {}),
    (instances.deactivate_disks("web1", force=True), "PUT", "/2/instances/web1/deactivate-disks?force=1", {}),
    (instances.console("web1"), "GET", "/2/instances/web1/console", None),
    (instances.tags("web1"), "GET", "/2/instances/web1/tags", None),
    (instances.add_tags("web1", ["x"]), "PUT", "/2/instances/web1/tags?tag=x", {}),
    (instances.delete_tags("web1", ["x"]), "DELETE", "/2/instances/web1/tags?tag=x", None),
    (nodes.list(), "GET", "/2/nodes", None),
    (nodes.bulk(), "GET", "/2/nodes?bulk=1", None),
    (nodes.get("n1"), "GET", "/2/nodes/n1", None),
    (nodes.role("n1"), "GET", "/2/nodes/n1/role", None),
    (nodes.set_role("n1", "drained", force=True), "PUT", "/2/nodes/n1/role?force=1", "drained"),
    (nodes.modify("n1", offline=True), "POST", "/2/nodes/n1/modify", {"offline": True}),
    (
        nodes.evacuate("n1", "all", iallocator="hail", dry_run=True),
        "POST",
        "/2/nodes/n1/evacuate?dry-run=1",
        {"mode": "all", "iallocator": "hail"},
    ),
    (nodes.migrate("n1", mode="live"), "POST", "/2/nodes/n1/migrate", {"mode": "live"}),
    (nodes.powercycle("n1"), "POST", "/2/nodes/n1/powercycle", {}),
    (nodes.tags("n1"), "GET", "/2/nodes/n1/tags", None),
    (nodes.add_tags("n1", ["rack:1"]), "PUT", "/2/nodes/n1/tags?tag=rack%3A1", {}),
    (groups.list(), "GET", "/2/groups", None),
    (groups.bulk(), "GET", "/2/groups?bulk=1", None),
    (groups.get("default"), "GET", "/2/groups/default", None),
    (
        groups.create("g2", alloc_policy="last_resort"),
        "POST",
        "/2/groups",
        {"group_name": "g2", "alloc_policy": "last_resort"},
    ),
    (
        groups.modify("g2", alloc_policy="preferred"),
        "PUT",
        "/2/groups/g2/modify",
        {"alloc_policy": "preferred"},
    ),
    (groups.rename("g2", "g3"), "PUT", "/2/groups/g2/rename", {"new_name": "g3"}),
    (
        groups.assign_nodes("g2", ["n1"], force=True),
        "PUT",
        "/2/groups/g2/assign-nodes?force=1",
        {"nodes": ["n1"]},
    ),
    (groups.delete("g2"), "DELETE", "/2/groups/g2", None),
    (groups.tags("g2"), "GET", "/2/groups/g2/tags", None),
    (groups.delete_tags("g2", ["t"]), "DELETE", "/2/groups/g2/tags?tag=t", None),
    (networks.list(), "GET", "/2/networks", None),
    (networks.bulk(), "GET", "/2/networks?bulk=1", None),
    (networks.get("lan"), "GET", "/2/networks/lan", None),
    (
        networks.create("lan", "10.0.0.0/24", gateway="10.0.0.1", add_reserved_ips=["10.0.0.2"]),
        "POST",
        "/2/networks",
        {
            "network_name": "lan",
            "network": "10.0.0.0/24",
            "gateway": "10.0.0.1",
            "add_reserved_ips": ["10.0.0.2"],
        },
    ),
    (
        networks.modify("lan", remove_reserved_ips=["10.0.0.2"]),
        "PUT",
        "/2/networks/lan/modify",
        {"remove_reserved_ips": ["10.0.0.2"]},
    ),
    (
        networks.connect("lan", "default", mode="bridged", link="br0"),
        "PUT",
        "/2/networks/lan/connect",
        {"group_name": "default", "network_mode": "bridged", "network_link": "br0", "network_vlan": ""},
    ),
    (networks.disconnect("lan", "default"), "PUT", "/2/networks/lan/disconnect", {"group_name": "default"}),
    (networks.delete("lan"), "DELETE", "/2/networks/lan", None),
    (networks.tags("lan"), "GET", "/2/networks/lan/tags", None),
    (networks.add_tags("lan", ["t"]), "PUT", "/2/networks/lan/tags?tag=t", {}),
    (jobs.list(), "GET", "/2/jobs", None),
    (jobs.bulk(), "GET", "/2/jobs?bulk=1", None),
    (jobs.get(17), "GET", "/2/jobs/17", None),
    (jobs.get("17"), "GET", "/2/jobs/17", None),
    (
        jobs.wait_for_change(17, ["status"], ["running"], 4),
        "GET",
        "/2/jobs/17/wait",
        {"fields": ["status"], "previous_job_info": ["running"], "previous_log_serial": 4},
    ),
    (jobs.cancel("17"), "DELETE", "/2/jobs/17", None),
    (
        query.run("instance", ["name", "status"], qfilter.and_(qfilter.regex("name", "^web"))),
        "PUT",
        "/2/query/instance",
        {"fields": ["name", "status"], "qfilter": ["&", ["=~", "name", "^web"]]},
    ),
    (query.get("node", ["name", "role"]), "GET", "/2/query/node?fields=name%2Crole", None),
    (query.fields("job"), "GET", "/2/query/job/fields", None),
    (query.fields("job", ["id"]), "GET", "/2/query/job/fields?fields=id", None),
    (filters.list(), "GET", "/2/filters", None),
    (filters.bulk(), "GET", "/2/filters?bulk=1", None),
    (filters.get("u-1"), "GET", "/2/filters/u-1", None),
    (
        filters.add(priority=1, predicates=[["jobid", [">", "id", "watermark"]]], action="REJECT"),
        "POST",
        "/2/filters",
        {
            "priority": 1,
            "predicates": [["jobid", [">", "id", "watermark"]]],
            "action": "REJECT",
            "reason": [],
        },
    ),
    (
        filters.replace("u-1", action=["RATE_LIMIT", 2]),
        "PUT",
        "/2/filters/u-1",
        {"priority": 0, "predicates": [], "action": ["RATE_LIMIT", 2], "reason": []},
    ),
    (filters.delete("u-1"), "DELETE", "/2/filters/u-1", None),
]


@pytest.mark.parametrize(("call", "method", "target", "body"), CASES, ids=[c[2] for c in CASES])
def test_request(call: Call[Any], method: str, target: str, body: Any) -> None:
    request = call.request
    assert request.method == method
    assert request.target == target
    if body is None:
        assert request.body is None
        assert "Content-Type" not in request.headers
    else:
        assert request.body is not None
        assert json.loads(request.body) == body
        assert request.headers["Content-Type"] == "application/json"


def test_only_the_job_wait_is_a_long_poll() -> None:
    assert [c.request.target for c, *_ in CASES if c.long_poll] == ["/2/jobs/17/wait"]


def test_names_are_quoted_in_paths() -> None:
    assert instances.get("a/b").request.path == "/2/instances/a%2Fb"


@pytest.mark.parametrize("bad", [-1, "x", "1.5", "", True])
def test_bad_job_ids_are_refused(bad: Any) -> None:
    with pytest.raises(ValueError, match="not a job id"):
        jobs.get(bad)


def test_tags_need_at_least_one() -> None:
    with pytest.raises(ValueError, match="no tags"):
        cluster.add_tags([])


def test_query_needs_fields() -> None:
    with pytest.raises(ValueError):
        query.run("instance", [])
    with pytest.raises(TypeError):
        query.run("instance", "name")

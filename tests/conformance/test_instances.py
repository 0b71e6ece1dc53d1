"""The instance lifecycle through Ganeti's official RAPI client, with every recorded opcode checked by
Ganeti's own opcode definitions (VerifyOpInput / VerifyOpResult)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conformance.official import (
    Facts,
    batch,
    call,
    create,
    facts,
    failed,
    http_error,
    job,
    ok,
    raw,
    succeeded,
)
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance


@dataclass(frozen=True)
class Running:
    """A running diskless instance the module's tests share, on the first node of a two-node group when the
    target has one (so that it can migrate there and back), and the node its create chose."""

    target: RapiTarget
    facts: Facts
    name: str
    pnode: str


@pytest.fixture(scope="module")
def running(module_target: RapiTarget) -> Iterator[Running]:
    f = facts(module_target)
    name = f"conf-{uuid.uuid4().hex[:8]}-up.example.test"
    pair = f.two_node_group()
    kwargs = {"pnode": pair[0]} if pair else {}
    try:
        (made,) = batch(module_target, [create(name, f, **kwargs)])
        yield Running(module_target, f, name, succeeded(made)["opresult"][0][0])
    finally:
        (gone,) = batch(module_target, [job("DeleteInstance", name)])
    succeeded(gone)


def test_lifecycle(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name, renamed = f"conf-{unique}.example.test", f"conf-{unique}-b.example.test"
    r = batch(
        target,
        [
            create(name, f, template=f.disk_template),  # 0
            call("GetInstance", name),
            job("ShutdownInstance", name),
            call("GetInstance", name),
            call("GetInstanceConsole", name),
            job("StartupInstance", name),  # 5
            call("GetInstance", name),
            {**call("GetInstanceConsole", name), "validate_console": True},
            job("RebootInstance", name),
            call("GetInstance", name),
            job("ModifyInstance", name, beparams={"vcpus": 2}),  # 10
            call("GetInstance", name),
            job("ModifyInstance", name, beparams={"vcpus": "default"}),
            call("GetInstance", name),
            job("AddInstanceTags", name, ["fleet:user:alice", "env.test"]),
            call("GetInstanceTags", name),  # 15
            job("DeleteInstanceTags", name, ["env.test"]),
            call("GetInstanceTags", name),
            job("ReinstallInstance", name, os=f.os),
            call("GetInstance", name),
            job("ShutdownInstance", name),  # 20
            job("RenameInstance", name, renamed, ip_check=False, name_check=False),
            call("GetInstance", name),
            call("GetInstance", renamed),
            job("RenameInstance", renamed, name, ip_check=False, name_check=False),
            call("GetInstance", name),  # 25
            job("DeleteInstance", name),
            call("GetInstance", name),
        ],
    )
    created = succeeded(r[0])
    assert created["ops"][0]["OP_ID"] == "OP_INSTANCE_CREATE"
    pnode = ok(r[1])["pnode"]
    assert created["opresult"][0][0] == pnode
    assert (
        ok(r[1])["status"] == "running" and ok(r[1])["admin_state"] == "up" and ok(r[1])["oper_state"] is True
    )

    succeeded(r[2])
    stopped = ok(r[3])
    assert (stopped["status"], stopped["admin_state"], stopped["oper_state"]) == ("ADMIN_down", "down", False)
    assert stopped["oper_ram"] is None
    assert http_error(r[4]) == 503  # no console for a stopped instance

    succeeded(r[5])
    assert ok(r[6])["status"] == "running"
    console = ok(r[7])
    assert console["instance"] == name and console["kind"] in ("ssh", "vnc", "spice", "msg")
    assert r[7]["console_valid"] is True, r[7]["console_valid"]

    reboot = succeeded(r[8])
    assert reboot["ops"][0]["OP_ID"] == "OP_INSTANCE_REBOOT"
    assert reboot["ops"][0]["reboot_type"] == "hard"  # the RAPI default
    assert ok(r[9])["status"] == "running"

    assert succeeded(r[10])["opresult"][0] == [["be/vcpus", 2]]
    assert ok(r[11])["beparams"]["vcpus"] == 2 and ok(r[11])["custom_beparams"]["vcpus"] == 2
    succeeded(r[12])
    assert "vcpus" not in ok(r[13])["custom_beparams"]

    tags_job = succeeded(r[14])
    assert tags_job["ops"][0]["OP_ID"] == "OP_TAGS_SET"
    assert sorted(ok(r[15])) == ["env.test", "fleet:user:alice"]
    succeeded(r[16])
    assert ok(r[17]) == ["fleet:user:alice"]

    reinstall = succeeded(r[18])
    assert [op["OP_ID"] for op in reinstall["ops"]] == [
        "OP_INSTANCE_SHUTDOWN",
        "OP_INSTANCE_REINSTALL",
        "OP_INSTANCE_STARTUP",
    ]
    assert ok(r[19])["status"] == "running"

    succeeded(r[20])
    assert succeeded(r[21])["opresult"] == [renamed]
    assert http_error(r[22]) == 404
    assert ok(r[23])["name"] == renamed and ok(r[23])["status"] == "ADMIN_down"
    succeeded(r[24])
    assert ok(r[25])["name"] == name

    assert succeeded(r[26])["ops"][0]["OP_ID"] == "OP_INSTANCE_REMOVE"
    assert http_error(r[27]) == 404


def test_rename_refused_while_running(running: Running, unique: str) -> None:
    name = running.name
    r = batch(
        running.target,
        [
            job("RenameInstance", name, f"conf-{unique}-b.example.test", ip_check=False, name_check=False),
            call("GetInstance", name),
        ],
    )
    error_class, (_, ecode) = failed(r[0])
    assert (error_class, ecode) == ("OpPrereqError", "wrong_state")
    assert ok(r[1])["status"] == "running"


def test_writes_on_a_missing_instance_are_jobs_that_fail(target: RapiTarget, unique: str) -> None:
    name = f"conf-{unique}-missing.example.test"
    r = batch(
        target, [job("StartupInstance", name), job("ShutdownInstance", name), job("DeleteInstance", name)]
    )
    for report in r:
        assert isinstance(report["result"], int)  # a job id, as a JSON number
        error_class, (message, ecode) = failed(report)
        assert (error_class, ecode) == ("OpPrereqError", "unknown_entity")
        assert name in message


def test_create_dry_run_creates_nothing(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(target, [create(name, f, dry_run=True), call("GetInstance", name)])
    dry = succeeded(r[0])
    assert dry["ops"][0]["dry_run"] is True
    # Ganeti 3.0.2 answers a dry-run create with the chosen node's UUID (a real run gives its name)
    (chosen,) = dry["opresult"][0]
    assert f.node_uuids[chosen] in f.nodes
    assert http_error(r[1]) == 404


def test_migrate_and_failover(running: Running) -> None:
    """On one node there is nowhere to go and the jobs fail (real Ganeti: hail finds no node); with two
    nodes in a group the instance moves there and back."""
    name, before = running.name, running.pnode
    pair = running.facts.two_node_group()
    r = batch(
        running.target,
        [
            call("GetInstance", name),
            job("MigrateInstance", name),
            call("GetInstance", name),
            job("FailoverInstance", name),
            call("GetInstance", name),
        ],
    )
    assert ok(r[0])["pnode"] == before
    if pair is None:
        for report in (r[1], r[3]):
            error_class, (_, ecode) = failed(report)
            assert (error_class, ecode) == ("OpPrereqError", "insufficient_resources")
        assert ok(r[2])["pnode"] == before and ok(r[4])["pnode"] == before
        assert ok(r[4])["status"] == "running"
    else:
        assert succeeded(r[1])["ops"][0]["OP_ID"] == "OP_INSTANCE_MIGRATE"
        migrated = ok(r[2])
        assert migrated["pnode"] != before and migrated["status"] == "running"
        assert succeeded(r[3])["ops"][0]["OP_ID"] == "OP_INSTANCE_FAILOVER"
        assert ok(r[4])["pnode"] != migrated["pnode"]


def test_multi_alloc(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    names = [f"conf-{unique}-{i}.example.test" for i in range(2)]
    specs = [
        {
            "mode": "create",
            "instance_name": n,
            "disk_template": f.quick_template,
            "disks": [] if f.quick_template == "diskless" else [{"size": 128}],
            "nics": [{}],
            "os_type": f.os,
            "name_check": False,
            "ip_check": False,
            "start": False,
            "beparams": {"maxmem": 32, "minmem": 32},
            # Ganeti 3.0.2 does not fill in the default hypervisor for multi-alloc requests: without it the
            # job fails with "Request parameter 'hypervisor' has invalid type <class 'NoneType'>"
            "hypervisor": f.hypervisor,
        }
        for n in names
    ]
    r = batch(
        target,
        [
            {**call("InstancesMultiAlloc", [{**specs[0], "__version__": 1}]), "stop_on_error": False},
            {**job("InstancesMultiAlloc", specs), "children": True},
            call("GetInstance", names[0]),
            call("GetInstance", names[1]),
            job("DeleteInstance", names[0]),
            job("DeleteInstance", names[1]),
        ],
    )
    assert http_error(r[0]) == 400  # __version__ belongs to POST /2/instances only
    parent = succeeded(r[1])
    assert parent["ops"][0]["OP_ID"] == "OP_INSTANCE_MULTI_ALLOC"
    result = parent["opresult"][0]
    assert sorted(result["allocatable"]) == sorted(names) and result["failed"] == []
    assert [ok_ for ok_, _ in result["jobs"]] == [True, True]
    assert len(r[1]["children"]) == 2 and all(c["status"] == "success" for c in r[1]["children"])
    assert ok(r[2])["status"] == "ADMIN_down" and ok(r[3])["status"] == "ADMIN_down"
    succeeded(r[4])
    succeeded(r[5])


def test_raw_create_with_legacy_names(target: RapiTarget, unique: str) -> None:
    """qa_rapi's raw-body create: legacy `name` and `os` still work, both spellings at once are refused, and a
    body without __version__ 1 is refused."""
    f = facts(target)
    name = f"conf-{unique}.example.test"
    body = {
        "__version__": 1,
        "mode": "create",
        "name": name,
        "os": f.os,
        "disk_template": f.quick_template,
        "disks": [] if f.quick_template == "diskless" else [{"size": 128}],
        "nics": [{}],
        "name_check": False,
        "ip_check": False,
        "start": False,
        "beparams": {"maxmem": 32, "minmem": 32},
    }
    r = batch(
        target,
        [
            raw("POST", "/2/instances", None, {**body, "instance_name": name}),
            raw("POST", "/2/instances", None, {k: v for k, v in body.items() if k != "__version__"}),
            {**raw("POST", "/2/instances", None, body), "wait": True},
            call("GetInstance", name),
            job("DeleteInstance", name),
        ],
    )
    assert http_error(r[0]) == 400
    assert http_error(r[1]) == 400
    created = succeeded(r[2])
    assert created["ops"][0]["instance_name"] == name and created["ops"][0]["os_type"] == f.os
    assert ok(r[3])["os"] == f.os
    succeeded(r[4])

"""Node group modify and rename results, and instance moves on a multi-node cluster: node migrate with a
stopped instance (its child job's outcome), failover, and migrate falling back to failover."""

from __future__ import annotations

import re

import pytest

from tests.conformance.official import (
    batch,
    call,
    create,
    facts,
    failed,
    job,
    job_with_children,
    log_lines,
    ok,
    raw,
    succeeded,
)
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance


def test_group_modify_and_rename_results(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    group, renamed = f"g-{unique}", f"g-{unique}-b"
    r = batch(
        target,
        [
            job("CreateGroup", group),
            job("ModifyGroup", group, alloc_policy="last_resort"),
            job("ModifyGroup", group, ndparams={"spindle_count": 2}),
            job("ModifyGroup", group, diskparams={"plain": {"stripes": 2}}),
            job("ModifyGroup", group, ipolicy={"vcpu-ratio": 8.0}),
            job("ModifyGroup", group),
            job("RenameGroup", group, renamed),
            job("RenameGroup", renamed, "default"),
            call("GetGroup", renamed),
            call("GetGroup", "default"),
            job("DeleteGroup", renamed),
            job("DeleteGroup", "default"),
        ],
    )
    succeeded(r[0])
    # a new policy or ipolicy is applied without a word; new parameters are named as Python prints them
    assert succeeded(r[1])["opresult"] == [[]]
    assert succeeded(r[2])["opresult"] == [[["ndparams", "{'spindle_count': 2}"]]]
    assert succeeded(r[3])["opresult"] == [[["diskparams", "{'plain': {'stripes': 2}}"]]]
    assert succeeded(r[4])["opresult"] == [[]]
    error_class, (message, ecode) = failed(r[5])
    assert (error_class, message, ecode) == (
        "OpPrereqError",
        "Please pass at least one modification",
        "wrong_input",
    )
    assert succeeded(r[6])["opresult"] == [renamed]
    default = ok(r[9])
    error_class, (message, ecode) = failed(r[7])
    assert (error_class, ecode) == ("OpPrereqError", "already_exists")
    assert message == f"Desired new name 'default' clashes with existing node group (UUID: {default['uuid']})"
    changed = ok(r[8])
    assert changed["alloc_policy"] == "last_resort" and changed["custom_ndparams"] == {"spindle_count": 2}
    assert changed["ipolicy"]["vcpu-ratio"] == 8.0 and changed["custom_ipolicy"] == {"vcpu-ratio": 8.0}
    succeeded(r[10])
    # a group with nodes is not removed; Ganeti names its nodes by UUID
    error_class, (message, ecode) = failed(r[11])
    assert (error_class, ecode) == ("OpPrereqError", "wrong_state")
    prefix = "Group 'default' not empty, has the following nodes: "
    assert message.startswith(prefix)
    uuids = {u for u, name in f.node_uuids.items() if name in default["node_list"]}
    assert set(message[len(prefix) :].split(", ")) == uuids


def _hail_choice(lines: list[str], name: str) -> str:
    match = re.fullmatch(
        rf" - INFO: Selected nodes for instance {re.escape(name)} via iallocator hail: (\S+)", lines[0]
    )
    assert match, lines
    return match.group(1)


def test_node_migrate_with_a_stopped_instance(target: RapiTarget, unique: str) -> None:
    """Every primary instance gets a child migration job; the stopped one's fails (Ganeti does not fall back
    to failover unless asked), the running one moves."""
    f = facts(target)
    node = f.nodes[-1]
    up, down = f"conf-{unique}-up.example.test", f"conf-{unique}-down.example.test"
    r = batch(
        target,
        [
            create(up, f, template="diskless", pnode=node),
            create(down, f, template="diskless", pnode=node, start=False),
            job_with_children("MigrateNode", node),
            call("GetInstance", up),
            call("GetInstance", down),
        ],
    )
    succeeded(r[0]), succeeded(r[1])
    children = {c["summary"][0]: c for c in r[2]["children"]}
    stopped, running = children[f"INSTANCE_MIGRATE({down})"], children[f"INSTANCE_MIGRATE({up})"]
    assert stopped["status"] == "error" and stopped["opstatus"] == ["error"]
    assert stopped["opresult"] == [
        [
            "OpPrereqError",
            [f"Can't migrate, please use failover: Instance {down} is not running", "wrong_state"],
        ]
    ]
    stopped_log = [e[3] for e in stopped["oplog"][0]]
    assert len(stopped_log) == 1 and _hail_choice(stopped_log, down) != node
    assert running["status"] == "success" and running["opresult"] == [None]
    running_log = [e[3] for e in running["oplog"][0]]
    target_node = _hail_choice(running_log, up)
    assert running_log[1:] == [
        f"Migrating instance {up}",
        "* checking disk consistency between source and target",
        f"* closing instance disks on node {target_node}",
        f"* opening instance disks on node {node} in shared mode",
        f"* opening instance disks on node {target_node} in shared mode",
        f"* preparing {target_node} to accept the instance",
        f"* migrating instance to {target_node}",
        "* starting memory transfer",
        "* memory transfer complete",
        f"* closing instance disks on node {node}",
        f"* opening instance disks on node {target_node} in exclusive mode",
        "* done",
    ]
    assert ok(r[3])["pnode"] == target_node and ok(r[3])["status"] == "running"
    assert ok(r[4])["pnode"] == node and ok(r[4])["status"] == "ADMIN_down"
    moves = batch(
        target,
        [
            # (the official client has no allow_failover: its own request path, then wait for the job)
            {**raw("PUT", f"/2/instances/{down}/migrate", body={"allow_failover": True}), "wait": True},
            job("FailoverInstance", down),
            call("GetInstance", down),
            job("DeleteInstance", up),
            job("DeleteInstance", down),
        ],
    )
    fallback = log_lines(moves[0])
    assert succeeded(moves[0])["opresult"] == [None]
    assert (
        fallback[0] == " - INFO: Instance is marked down or offline, fallback allowed, switching to failover"
    )
    moved_to = _hail_choice(fallback[1:], down)
    assert fallback[2:] == [
        " - INFO: Not checking memory on the secondary node as instance will not be started",
        f"Failover instance {down}",
        "* not checking disk consistency as instance is not running",
        "* shutting down instance on source node",
        f"* closing instance disks on node {node}",
        "* deactivating the instance's disks on source node",
    ]
    failover = log_lines(moves[1])
    assert succeeded(moves[1])["opresult"] == [None]
    assert failover[1] == " - INFO: Not checking memory on the secondary node as instance will not be started"
    assert failover[-1] == "* deactivating the instance's disks on source node"
    assert ok(moves[2])["pnode"] == _hail_choice(failover, down) != moved_to
    succeeded(moves[3]), succeeded(moves[4])

"""Nodes (role, tags, evacuate and migrate with child jobs), node groups and networks through the official
client."""

from __future__ import annotations

import pytest

from tests.conformance.official import (
    batch,
    call,
    create,
    facts,
    failed,
    http_error,
    job,
    job_with_children,
    ok,
    succeeded,
)
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance

ROLE_LETTERS = {"master": "M", "master-candidate": "C", "regular": "R", "drained": "D", "offline": "O"}


def test_node_roles_and_tags(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    tag = f"conformance:{unique}"
    r = batch(
        target,
        [
            call("GetNodeRole", f.master),
            call("GetNode", f.master),
            job("SetNodeRole", f.master, "drained"),
            call("SetNodeRole", f.master, "master"),
            job("AddNodeTags", f.master, [tag]),
            call("GetNodeTags", f.master),
            job("DeleteNodeTags", f.master, [tag]),
            call("GetNodeTags", f.master),
        ],
    )
    assert ok(r[0]) == "master"
    node = ok(r[1])
    assert node["role"] == "M" and node["master_candidate"] is True and "secondary_ip" in node
    error_class, (message, ecode) = failed(r[2])
    assert (error_class, ecode) == ("OpPrereqError", "wrong_input")
    assert "master-failover" in message
    assert http_error(r[3]) == 400
    succeeded(r[4])
    assert tag in ok(r[5])
    succeeded(r[6])
    assert tag not in ok(r[7])


def test_drain_a_non_master_node(target: RapiTarget) -> None:
    f = facts(target)
    others = [n for n in f.nodes if n != f.master]
    if not others:
        pytest.skip("needs a second node (the real cluster here has one)")
    node = others[-1]
    r = batch(
        target,
        [
            call("GetNodeRole", node),
            job("SetNodeRole", node, "drained"),
            call("GetNodeRole", node),
            call("GetNode", node),
            job("SetNodeRole", node, "$0"),
            call("GetNodeRole", node),
        ],
    )
    before = ok(r[0])
    assert before in ("master-candidate", "regular")
    assert succeeded(r[1])["ops"][0]["OP_ID"] == "OP_NODE_SET_PARAMS"
    assert ok(r[2]) == "drained"
    assert ok(r[3])["role"] == "D" and ok(r[3])["drained"] is True
    succeeded(r[4])
    assert ok(r[5]) == before


def test_evacuate_all_with_an_iallocator_is_refused(target: RapiTarget) -> None:
    """Ganeti 3.0.2 refuses mode "all" with an iallocator: the job fails (wrong_input), no child jobs."""
    f = facts(target)
    (r,) = batch(target, [job_with_children("EvacuateNode", f.master, iallocator="hail", mode="all")])
    error_class, (message, ecode) = failed(r)
    assert (error_class, ecode) == ("OpPrereqError", "wrong_input")
    assert "primary or secondary" in message
    assert r["children"] == []


def test_node_migrate_returns_child_jobs(target: RapiTarget, unique: str) -> None:
    """Node migrate answers {"jobs": [[true, id], ...]}, one child job per primary instance. On a single
    node the children fail (nowhere to go); with a second node in the group they succeed and the instance
    moves."""
    f = facts(target)
    pair = f.two_node_group()
    node = pair[0] if pair else f.master
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, pnode=node),
            job_with_children("MigrateNode", node, mode="live"),
            call("GetInstance", name),
            job("DeleteInstance", name),
        ],
    )
    succeeded(r[0])
    parent = succeeded(r[1])
    assert parent["ops"][0]["OP_ID"] == "OP_NODE_MIGRATE"
    (result,) = parent["opresult"]
    assert result["jobs"] and all(submitted is True for submitted, _ in result["jobs"])
    children = r[1]["children"]
    assert [c["id"] for c in children] == [job_id for _, job_id in result["jobs"]]
    assert all(c["status"] in ("success", "error") for c in children)
    mine = [c for c in children if c["summary"] == [f"INSTANCE_MIGRATE({name})"]]
    assert len(mine) == 1 and mine[0]["ops"][0]["OP_ID"] == "OP_INSTANCE_MIGRATE"
    if pair:
        assert mine[0]["status"] == "success" and ok(r[2])["pnode"] != node
    else:
        assert mine[0]["status"] == "error" and ok(r[2])["pnode"] == node
    succeeded(r[3])


def test_evacuate_primaries_moves_them_away(sim_target: RapiTarget, unique: str) -> None:
    """Multi-node only: evacuate primary-only returns child jobs that all succeed and leave the node empty of
    the instance."""
    target = sim_target
    f = facts(target)
    pair = f.two_node_group()
    if pair is None:
        pytest.skip("needs two usable nodes in one group")
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, pnode=pair[0]),
            job_with_children("EvacuateNode", pair[0], iallocator="hail", mode="primary-only"),
            call("GetInstance", name),
            job("DeleteInstance", name),
        ],
    )
    succeeded(r[0])
    parent = succeeded(r[1])
    assert parent["ops"][0]["OP_ID"] == "OP_NODE_EVACUATE"
    assert parent["opresult"][0]["jobs"]
    assert r[1]["children"] and all(c["status"] == "success" for c in r[1]["children"])
    assert r[1]["verify"] == []
    assert ok(r[2])["pnode"] != pair[0]
    succeeded(r[3])


def test_group_lifecycle(target: RapiTarget, unique: str) -> None:
    name, renamed = f"conf-{unique}", f"conf-{unique}-b"
    r = batch(
        target,
        [
            job("CreateGroup", name, alloc_policy="last_resort"),
            call("GetGroup", name),
            call("GetGroups"),
            job("ModifyGroup", name, alloc_policy="unallocable"),
            call("GetGroup", name),
            job("AddGroupTags", name, ["conformance"]),
            call("GetGroupTags", name),
            job("RenameGroup", name, renamed),
            call("GetGroup", name),
            job("DeleteGroup", renamed),
            call("GetGroup", renamed),
            job("CreateGroup", "default"),
        ],
    )
    assert succeeded(r[0])["ops"][0]["OP_ID"] == "OP_GROUP_ADD"
    group = ok(r[1])
    assert group["name"] == name and group["alloc_policy"] == "last_resort"
    assert group["node_cnt"] == 0 and group["node_list"] == []
    assert name in ok(r[2])
    succeeded(r[3])
    assert ok(r[4])["alloc_policy"] == "unallocable"
    succeeded(r[5])
    assert ok(r[6]) == ["conformance"]
    assert succeeded(r[7])["opresult"] == [renamed]
    assert http_error(r[8]) == 404
    succeeded(r[9])
    assert http_error(r[10]) == 404
    error_class, (_, ecode) = failed(r[11])
    assert (error_class, ecode) == ("OpPrereqError", "already_exists")


def test_network_lifecycle(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    group = next(iter(f.groups))
    name = f"conf-{unique}"
    r = batch(
        target,
        [
            job(
                "CreateNetwork", name, "10.123.0.0/28", gateway="10.123.0.1", tags="conformance"
            ),  # the client splits a comma-separated string
            call("GetNetwork", name),
            job("ConnectNetwork", name, group, "bridged", f.nic_link),
            call("GetNetwork", name),
            job("ModifyNetwork", name, add_reserved_ips=["10.123.0.5"]),
            call("GetNetwork", name),
            call("GetNetworks"),
            call("GetNetworkTags", name),
            job("DeleteNetwork", name),  # still connected: refused
            job("DisconnectNetwork", name, group),
            job("DeleteNetwork", name),
            call("GetNetwork", name),
        ],
    )
    assert succeeded(r[0])["ops"][0]["OP_ID"] == "OP_NETWORK_ADD"
    net = ok(r[1])
    assert (net["name"], net["network"], net["gateway"]) == (name, "10.123.0.0/28", "10.123.0.1")
    # network, gateway and broadcast addresses are reserved externally
    assert net["free_count"] == 13 and net["reserved_count"] == 3
    assert net["map"] == "XX.............X"
    assert net["external_reservations"] == "10.123.0.0, 10.123.0.1, 10.123.0.15"
    assert net["group_list"] == [] and net["tags"] == ["conformance"]
    succeeded(r[2])
    assert ok(r[3])["group_list"] == [[group, "bridged", f.nic_link, ""]]
    succeeded(r[4])
    modified = ok(r[5])
    assert modified["free_count"] == 12 and modified["map"] == "XX...X.........X"
    assert "10.123.0.5" in modified["external_reservations"].split(", ")
    assert name in ok(r[6])
    assert ok(r[7]) == ["conformance"]
    error_class, _ = failed(r[8])
    assert error_class == "OpPrereqError"
    succeeded(r[9])
    succeeded(r[10])
    assert http_error(r[11]) == 404

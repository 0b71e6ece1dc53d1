"""What a job acts on, read from its opcodes as RAPI lists them."""

from __future__ import annotations

from fleet.jobs.targets import EVERYTHING, changed, targets


def test_instance_opcodes_name_their_instance_and_nodes() -> None:
    ops = [
        {"OP_ID": "OP_INSTANCE_CREATE", "instance_name": "web1", "pnode": "node1", "snode": "node2"},
        {"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": "web2", "target_node": "node3"},
    ]
    assert targets(ops) == {
        ("instance", "web1"),
        ("instance", "web2"),
        ("node", "node1"),
        ("node", "node2"),
        ("node", "node3"),
    }
    assert changed(ops) == {"web1", "web2"}


def test_renames_name_the_old_and_the_new_object() -> None:
    assert targets([{"OP_ID": "OP_INSTANCE_RENAME", "instance_name": "old", "new_name": "new"}]) == {
        ("instance", "old"),
        ("instance", "new"),
    }
    assert targets([{"OP_ID": "OP_GROUP_RENAME", "group_name": "g1", "new_name": "g2"}]) == {
        ("group", "g1"),
        ("group", "g2"),
    }
    assert changed([{"OP_ID": "OP_INSTANCE_RENAME", "instance_name": "old", "new_name": "new"}]) == {
        "old",
        "new",
    }


def test_tag_opcodes_name_their_object_by_kind() -> None:
    assert targets([{"OP_ID": "OP_TAGS_SET", "kind": "instance", "name": "vm1", "tags": ["a"]}]) == {
        ("instance", "vm1")
    }
    assert targets([{"OP_ID": "OP_TAGS_DEL", "kind": "nodegroup", "name": "default"}]) == {
        ("group", "default")
    }
    assert targets([{"OP_ID": "OP_TAGS_SET", "kind": "cluster", "name": None}]) == {("cluster", "")}
    assert changed([{"OP_ID": "OP_TAGS_SET", "kind": "instance", "name": "vm1"}]) == {"vm1"}
    assert changed([{"OP_ID": "OP_TAGS_SET", "kind": "node", "name": "node1"}]) is EVERYTHING


def test_multi_allocation_names_every_instance() -> None:
    ops = [
        {
            "OP_ID": "OP_INSTANCE_MULTI_ALLOC",
            "instances": [{"instance_name": "a", "pnode": "n1"}, {"instance_name": "b"}, "junk"],
        }
    ]
    assert targets(ops) == {("instance", "a"), ("instance", "b"), ("node", "n1")}
    assert changed(ops) == {"a", "b"}


def test_node_group_network_and_cluster_jobs_change_everything() -> None:
    for op in (
        {"OP_ID": "OP_NODE_SET_PARAMS", "node_name": "node1", "drained": True},
        {"OP_ID": "OP_NODE_MIGRATE", "node_name": "node1"},
        {"OP_ID": "OP_GROUP_SET_PARAMS", "group_name": "default"},
        {"OP_ID": "OP_NETWORK_CONNECT", "network_name": "net1", "group_name": "default"},
        {"OP_ID": "OP_CLUSTER_SET_PARAMS"},
    ):
        assert changed([op]) is EVERYTHING, op
    assert targets([{"OP_ID": "OP_NETWORK_CONNECT", "network_name": "net1", "group_name": "g"}]) == {
        ("network", "net1"),
        ("group", "g"),
    }


def test_jobs_that_only_read_change_nothing() -> None:
    for op_id in ("OP_CLUSTER_VERIFY", "OP_CLUSTER_VERIFY_DISKS", "OP_GROUP_VERIFY_DISKS", "OP_OS_DIAGNOSE"):
        assert changed([{"OP_ID": op_id}]) == frozenset(), op_id
    assert changed([{"OP_ID": "OP_INSTANCE_QUERY_DATA", "instances": ["vm1"]}]) == frozenset()
    assert changed([{"OP_ID": "OP_TEST_DELAY", "duration": 1}]) == frozenset()
    # A reading opcode beside a writing one: what the writing one changed.
    assert changed(
        [{"OP_ID": "OP_CLUSTER_VERIFY"}, {"OP_ID": "OP_INSTANCE_STARTUP", "instance_name": "x"}]
    ) == {"x"}


def test_data_from_a_cluster_never_raises() -> None:
    assert targets([None, 3, "x", {"OP_ID": None}, {"instance_name": 7}, {"OP_ID": "OP_TAGS_SET"}]) == set()
    assert changed([]) == frozenset()
    assert changed([{"OP_ID": "OP_INSTANCE_SHUTDOWN"}], instance_name="known") == {"known"}
    assert changed([{"OP_ID": "OP_INSTANCE_SHUTDOWN"}]) is EVERYTHING  # which instance, nobody says

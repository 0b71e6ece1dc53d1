"""Effects of the node opcodes: flags and roles, evacuation and migration (as child jobs), power cycle,
storage; and multi-allocation, which also spawns one job per instance."""

from __future__ import annotations

from typing import Any

from fleet.simulator.effects import Context, OpError, effect, get_node
from fleet.simulator.state import node_role, touch


@effect("OP_NODE_SET_PARAMS")
def node_set_params(ctx: Context, op: dict[str, Any]) -> list[list[Any]]:
    """Change a node's flags (role), capabilities or parameters."""
    c = ctx.cluster
    node = get_node(c, op.get("node_name"))
    changes = []
    for key in ("master_candidate", "offline", "drained", "master_capable", "vm_capable", "powered"):
        value = op.get(key)
        if value is None:
            continue
        if node.get("master") and key in ("offline", "drained") and value:
            raise OpError(
                "OpPrereqError",
                f"The master role can be changed only with master-failover (node {node['name']})",
                "wrong_input",
            )
        node[key] = value
        changes.append([key, str(value)])
        if value and key in ("offline", "drained"):
            node["master_candidate"] = False
            other = "drained" if key == "offline" else "offline"
            node[other] = False
        if value and key == "master_candidate":
            node["offline"] = node["drained"] = False
    if op.get("ndparams"):
        node["ndparams"] = {**node["ndparams"], **op["ndparams"]}
        changes.append(["ndparams", op["ndparams"]])
    node["role"] = node_role(node)
    touch(node)
    c.refresh_node(node["name"])
    for inst in c.instances.values():
        if inst["pnode"] == node["name"]:
            inst["status"] = _status_after_node_change(inst, node)
    return changes


def _status_after_node_change(inst: dict[str, Any], node: dict[str, Any]) -> str:
    from fleet.simulator.state import instance_status

    return instance_status(inst["admin_state"], bool(inst["oper_state"]) and not node["offline"], node)


def _child_jobs(ctx: Context, ops: list[dict[str, Any]]) -> dict[str, Any]:
    from fleet.simulator.validate import complete

    jobs: list[list[Any]] = [[True, ctx.submit([complete(o)])] for o in ops]
    return {"jobs": jobs}


@effect("OP_INSTANCE_MULTI_ALLOC")
def multi_alloc(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    """Allocate several instances: one child creation job each."""
    result = _child_jobs(ctx, [dict(spec) for spec in op.get("instances") or []])
    result["allocatable"] = [spec["instance_name"] for spec in op.get("instances") or []]
    result["failed"] = []
    return result


@effect("OP_NODE_EVACUATE")
def node_evacuate(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    """Plan the evacuation of a node: one child job per instance to move."""
    c = ctx.cluster
    node = get_node(c, op.get("node_name"))
    mode = op.get("mode") or "all"
    ops: list[dict[str, Any]] = []
    for name in node["pinst_list"] if mode in ("primary-only", "all") else []:
        inst = c.instances[name]
        if inst["disk_template"] == "drbd":
            ops.append({"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": name, "allow_failover": True})
    for name in node["sinst_list"] if mode in ("secondary-only", "all") else []:
        spec = {
            "OP_ID": "OP_INSTANCE_REPLACE_DISKS",
            "instance_name": name,
            "mode": "replace_new_secondary",
            "disks": [],
        }
        if op.get("remote_node"):
            spec["remote_node"] = op["remote_node"]
        else:
            spec["iallocator"] = op.get("iallocator") or "hail"
        ops.append(spec)
    return _child_jobs(ctx, ops)


@effect("OP_NODE_MIGRATE")
def node_migrate(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    """Migrate every primary instance off a node: one child job per instance."""
    c = ctx.cluster
    node = get_node(c, op.get("node_name"))
    ops = [
        {"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": n, "mode": op.get("mode")}
        for n in node["pinst_list"]
        if c.instances[n]["disk_template"] == "drbd"
    ]
    return _child_jobs(ctx, ops)


@effect("OP_NODE_POWERCYCLE")
def node_powercycle(ctx: Context, op: dict[str, Any]) -> str:
    """Power-cycle a node; returns its name."""
    return str(get_node(ctx.cluster, op.get("node_name"))["name"])


@effect("OP_NODE_QUERY_STORAGE")
def node_query_storage(ctx: Context, op: dict[str, Any]) -> list[list[Any]]:
    """Storage units of nodes: one row per (node, unit) with the requested fields."""
    c = ctx.cluster
    rows = []
    for name in op.get("nodes") or []:
        node = get_node(c, name)
        unit = {
            "node": node["name"],
            "name": "xenvg",
            "size": node["dtotal"],
            "used": None,
            "free": node["dfree"],
            "allocatable": True,
            "type": op.get("storage_type") or "lvm-vg",
        }
        if unit["size"] is not None and unit["free"] is not None:
            unit["used"] = unit["size"] - unit["free"]
        rows.append([unit.get(f) for f in op.get("output_fields") or ["name", "size", "free"]])
    return rows

"""Effects of the node opcodes: evacuation and migration (as child jobs), power cycle, storage; and
multi-allocation, which also spawns one job per instance. Flags and roles are in `effects_node_roles.py`."""

from __future__ import annotations

from typing import Any

from fleet.simulator.effects import Context, OpError, effect, get_node
from fleet.simulator.state import Cluster


def _child_jobs(ctx: Context, parent: dict[str, Any], jobs: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Submit the jobs an opcode spawns, as mcpu does: each child opcode takes the parent's debug level and
    priority, the comment "Submitted by OP_X" and the parent's reason trail after its own."""
    from fleet.simulator.validate import complete

    ids: list[list[Any]] = []
    for ops in jobs:
        children = []
        for o in ops:
            child = dict(o)
            child.setdefault("priority", parent.get("priority", 0))
            child.setdefault("debug_level", parent.get("debug_level", 0))
            child["comment"] = child.get("comment") or f"Submitted by {parent['OP_ID']}"
            child["reason"] = [*(child.get("reason") or []), *(parent.get("reason") or [])]
            children.append(complete(child))
        ids.append([True, ctx.submit(children)])
    return {"jobs": ids}


@effect("OP_INSTANCE_MULTI_ALLOC")
def multi_alloc(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    """Allocate several instances: one child creation job each."""
    result = _child_jobs(ctx, op, [[dict(spec)] for spec in op.get("instances") or []])
    result["allocatable"] = [spec["instance_name"] for spec in op.get("instances") or []]
    result["failed"] = []
    return result


EXTERNAL_MIRROR = frozenset({"diskless", "sharedfile", "blockdev", "rbd", "ext", "gluster"})


def _hail_migrate(name: str, target: str | None = None) -> dict[str, Any]:
    """The migration opcode hail's node-evacuate answer holds (htools' `iMoveToJob`)."""
    return {
        "OP_ID": "OP_INSTANCE_MIGRATE",
        "instance_name": name,
        "target_node": target,
        "allow_runtime_changes": False,
        "ignore_ipolicy": False,
        "cleanup": False,
        "allow_failover": True,
        "ignore_hvversions": True,
    }


def _hail_replace(name: str, remote: str, early_release: bool) -> dict[str, Any]:
    return {
        "OP_ID": "OP_INSTANCE_REPLACE_DISKS",
        "instance_name": name,
        "mode": "replace_new_secondary",
        "disks": [],
        "remote_node": remote,
        "early_release": early_release,
        "ignore_ipolicy": False,
    }


def _evac_target(c: Cluster, inst: dict[str, Any], node: dict[str, Any], primary: bool) -> str:
    """The node hail moves an instance (or its secondary) to: another usable node of the node's group that
    is not already one of the instance's nodes (and has the memory, for a primary); "Can't find any good
    node: " otherwise."""
    memory = int(inst["beparams"].get("maxmem") or 0) if primary else -1
    candidates = sorted(
        (
            n
            for n in c.nodes.values()
            if n["group.uuid"] == node["group.uuid"]
            and n["name"] not in (inst["pnode"], *inst["snodes"])
            and not (n["offline"] or n["drained"] or not n["vm_capable"])
            and (n["mfree"] or 0) > memory
        ),
        key=lambda n: (-(n["mfree"] or 0), n["name"]),
    )
    if not candidates:
        raise ValueError("Can't find any good node: ")
    return str(candidates[0]["name"])


def _evac_ops(c: Cluster, inst: dict[str, Any], node: dict[str, Any], mode: str, early: bool) -> list[Any]:
    """hail's node-evacuate answer for one instance: its opcodes, or ValueError with the reason it fails."""
    template = inst["disk_template"]
    if template in ("plain", "file"):
        raise ValueError(f"Instances of type {template} cannot be relocated")
    if mode == "secondary-only" and template != "drbd":
        raise ValueError(f"Instances with disk template '{template}' can't execute change secondary")
    if template == "drbd":
        if mode == "primary-only":
            return [_hail_migrate(inst["name"])]
        return [_hail_replace(inst["name"], _evac_target(c, inst, node, False), early)]
    if template in EXTERNAL_MIRROR:
        return [_hail_migrate(inst["name"], _evac_target(c, inst, node, True))]
    raise ValueError("Can't relocate/evacuate non-mirrored instances")


@effect("OP_NODE_EVACUATE")
def node_evacuate(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    """Evacuate a node as LUNodeEvacuate does: child jobs from hail's plan (or replace-disks onto a given
    remote node); mode "all" cannot go through the iallocator, and any instance hail cannot place fails the
    whole opcode."""
    c = ctx.cluster
    node = get_node(c, op.get("node_name"))
    mode = op.get("mode") or "all"
    remote = op.get("remote_node")
    iallocator = op.get("iallocator")
    if remote and iallocator:
        raise OpError("OpPrereqError", "Do not specify both, iallocator and node", "wrong_input")
    if not remote and not iallocator:
        iallocator = c.info.get("default_iallocator")
        if not iallocator:
            raise OpError(
                "OpPrereqError",
                "No iallocator or node given and no cluster-wide default iallocator found; please specify"
                " either an iallocator or a node, or set a cluster-wide default iallocator",
                "wrong_input",
            )
    if remote:
        remote_node = get_node(c, remote)
        if remote_node["name"] == node["name"]:
            message = "Can not use evacuated node as a new secondary node"
            raise OpError("OpPrereqError", message, "wrong_input")
        if mode != "secondary-only":
            raise OpError(
                "OpPrereqError",
                "Without the use of an iallocator only secondary instances can be evacuated",
                "wrong_input",
            )
    elif mode == "all":
        raise OpError(
            "OpPrereqError",
            "Due to an issue with the iallocator interface it is not possible to evacuate all instances at"
            " once; specify explicitly whether to evacuate primary or secondary instances",
            "wrong_input",
        )
    names = list(node["pinst_list"] if mode == "primary-only" else node["sinst_list"])
    if not names:
        ctx.log(f" - INFO: No instances to evacuate from node '{node['name']}'")
        return _child_jobs(ctx, op, [])
    ctx.log(f" - INFO: Evacuating instances from node '{node['name']}': {', '.join(sorted(names))}")
    early = bool(op.get("early_release"))
    if remote:
        jobs = [[_hail_replace(n, get_node(c, remote)["name"], early)] for n in names]
        return _child_jobs(ctx, op, jobs)
    jobs, failed = [], []
    for name in sorted(names):
        try:
            jobs.append(_evac_ops(c, c.instances[name], node, mode, early))
        except ValueError as exc:
            failed.append(f"{name} ({exc})")
    if failed:
        reason = ", ".join(reversed(failed))
        ctx.log(f" - WARNING: Unable to evacuate instances {reason}")
        raise OpError("OpExecError", f"Unable to evacuate instances {reason}", None)
    return _child_jobs(ctx, op, jobs)


@effect("OP_NODE_MIGRATE")
def node_migrate(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    """Migrate every primary instance off a node: one child migration job per instance, whatever its disk
    template (those that cannot migrate fail in their own job), as LUNodeMigrate does."""
    c = ctx.cluster
    node = get_node(c, op.get("node_name"))
    keys = ("mode", "live", "iallocator", "target_node", "allow_runtime_changes", "ignore_ipolicy")
    jobs = [
        [{"OP_ID": "OP_INSTANCE_MIGRATE", "instance_name": n, **{k: op.get(k) for k in keys if k in op}}]
        for n in node["pinst_list"]
    ]
    return _child_jobs(ctx, op, jobs)


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

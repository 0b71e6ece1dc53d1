"""Effects of the instance opcodes on disks: grow, replace, (de)activate, recreate, and exports. Modify is in
`effects_modify.py`, the instance info job in `effects_query_data.py`."""

from __future__ import annotations

from typing import Any

from fleet.simulator import feedback
from fleet.simulator.effects import (
    INSTANCE_DOWN,
    INSTANCE_NOT_RUNNING,
    Context,
    OpError,
    check_instance_state,
    effect,
    get_instance,
    get_node,
)
from fleet.simulator.state import disk_usage, touch


@effect("OP_INSTANCE_GROW_DISK")
def grow_disk(ctx: Context, op: dict[str, Any]) -> None:
    """Grow one disk by `amount` MiB (or to `amount` when absolute)."""
    inst = get_instance(ctx.cluster, op)
    idx = op["disk"]
    sizes = list(inst["disk.sizes"])
    if not 0 <= idx < len(sizes):
        raise OpError("OpPrereqError", f"Invalid disk index {idx}", "wrong_input")
    new = op["amount"] if op.get("absolute") else sizes[idx] + op["amount"]
    if new < sizes[idx]:
        raise OpError("OpPrereqError", "Requested size is smaller than the current one", "wrong_input")
    feedback.grown(ctx.log, inst["name"], idx, new - sizes[idx], new)
    sizes[idx] = new
    inst["disk.sizes"] = sizes
    inst["disk_usage"] = disk_usage(inst["disk_template"], sizes)
    touch(inst)
    ctx.cluster.refresh_nodes([inst["pnode"], *inst["snodes"]])


@effect("OP_INSTANCE_REPLACE_DISKS")
def replace_disks(ctx: Context, op: dict[str, Any]) -> None:
    """Replace DRBD disks; with a new secondary, move the mirror there."""
    c = ctx.cluster
    inst = get_instance(c, op)
    if inst["disk_template"] != "drbd":
        raise OpError("OpPrereqError", "Can only run replace disks for DRBD8-based instances", "wrong_input")
    if op.get("mode") == "replace_new_secondary":
        if not op.get("remote_node") and not op.get("iallocator"):
            raise OpError(
                "OpPrereqError",
                "When changing the secondary either an iallocator script must be used or the new node given",
                "wrong_input",
            )
        old = inst["snodes"][0]
        if op.get("remote_node"):
            target = get_node(c, op["remote_node"])["name"]
        else:
            group = c.nodes[inst["pnode"]]["group.uuid"]
            choices = sorted(
                n["name"]
                for n in c.nodes.values()
                if n["name"] not in (inst["pnode"], old)
                and n["group.uuid"] == group
                and not n["offline"]
                and not n["drained"]
            )
            if not choices:
                raise OpError(
                    "OpPrereqError", "No node available for the new secondary", "insufficient_resources"
                )
            target = choices[0]
        if target == inst["pnode"]:
            raise OpError(
                "OpPrereqError", "The specified node is the primary node of the instance", "wrong_input"
            )
        inst["snodes"] = [target]
        touch(inst)
        c.refresh_nodes([old, target])
    ctx.log("STEP 6/6 Sync devices")


@effect("OP_INSTANCE_ACTIVATE_DISKS")
def activate_disks(ctx: Context, op: dict[str, Any]) -> list[list[Any]]:
    """Activate an instance's disks; return [node, iv_name, device] per disk."""
    inst = get_instance(ctx.cluster, op)
    inst["disks_active"] = True
    return [[inst["pnode"], f"disk/{i}", f"/dev/drbd{i}"] for i in range(len(inst["disk.sizes"]))]


@effect("OP_INSTANCE_DEACTIVATE_DISKS")
def deactivate_disks(ctx: Context, op: dict[str, Any]) -> None:
    """Deactivate the disks of a stopped instance (with `force`, of any instance)."""
    inst = get_instance(ctx.cluster, op)
    if not op.get("force"):
        check_instance_state(ctx.cluster, inst, INSTANCE_DOWN, "cannot shutdown disks")
    inst["disks_active"] = False


@effect("OP_INSTANCE_RECREATE_DISKS")
def recreate_disks(ctx: Context, op: dict[str, Any]) -> None:
    """Recreate disks of a stopped instance."""
    inst = get_instance(ctx.cluster, op)
    check_instance_state(ctx.cluster, inst, INSTANCE_NOT_RUNNING, "cannot recreate disks")


@effect("OP_BACKUP_PREPARE")
def backup_prepare(ctx: Context, op: dict[str, Any]) -> None:
    """Prepare an export (nothing to do for a local export)."""
    get_instance(ctx.cluster, op)


@effect("OP_BACKUP_EXPORT")
def backup_export(ctx: Context, op: dict[str, Any]) -> list[Any]:
    """Export an instance; return (finalize status, per-disk results)."""
    inst = get_instance(ctx.cluster, op)
    return [True, [True for _ in inst["disk.sizes"]]]

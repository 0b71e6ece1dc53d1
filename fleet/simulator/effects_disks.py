"""Effects of the instance opcodes on disks and parameters: grow, replace, (de)activate, recreate, modify,
data queries and exports."""

from __future__ import annotations

from typing import Any

from fleet.simulator.effects import Context, OpError, effect, get_instance, get_node
from fleet.simulator.state import disk_usage, new_uuid, touch


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


@effect("OP_INSTANCE_SET_PARAMS")
def set_params(ctx: Context, op: dict[str, Any]) -> list[list[Any]]:
    """Change backend parameters, disks, NICs, the OS or the offline flag; return the changes."""
    c = ctx.cluster
    inst = get_instance(c, op)
    changes: list[list[Any]] = []
    be_changes = op.get("beparams") or {}
    if be_changes:
        custom = dict(inst["custom_beparams"])
        for key, value in be_changes.items():
            if value == "default":
                custom.pop(key, None)
                value = c.info["beparams"]["default"].get(key)
            else:
                custom[key] = value
            changes.append([f"be/{key}", value])
        if "memory" in custom:
            custom.setdefault("maxmem", custom["memory"])
            custom.setdefault("minmem", custom.pop("memory"))
        beparams = {**c.info["beparams"]["default"], **custom}
        beparams["memory"] = beparams["maxmem"]
        inst["custom_beparams"], inst["beparams"] = custom, beparams
        if inst["oper_state"]:
            inst["oper_ram"], inst["oper_vcpus"] = beparams["maxmem"], beparams["vcpus"]
    for action, *rest in op.get("disks") or []:
        params = rest[-1] if rest and isinstance(rest[-1], dict) else {}
        sizes = list(inst["disk.sizes"])
        if action == "add":
            sizes.append(int(params.get("size", 1024)))
            inst["disk.uuids"] = [*inst["disk.uuids"], new_uuid()]
            inst["disk.names"] = [*inst["disk.names"], params.get("name")]
            inst["disk.spindles"] = [*inst["disk.spindles"], None]
            changes.append([f"disk/{len(sizes) - 1}", f"add:size={sizes[-1]},mode=rw"])
        elif action == "remove" and sizes:
            sizes.pop()
            inst["disk.uuids"], inst["disk.names"] = inst["disk.uuids"][:-1], inst["disk.names"][:-1]
            inst["disk.spindles"] = inst["disk.spindles"][:-1]
            changes.append([f"disk/{len(sizes)}", "remove"])
        inst["disk.sizes"] = sizes
        inst["disk_usage"] = disk_usage(inst["disk_template"], sizes)
    if op.get("os_name"):
        inst["os"] = op["os_name"]
        changes.append(["os", op["os_name"]])
    if op.get("offline") is not None:
        if op["offline"] and inst["oper_state"]:
            raise OpError("OpPrereqError", f"Instance '{inst['name']}' is running", "wrong_state")
        c.set_instance_state(inst, "offline" if op["offline"] else "down", False)
        changes.append(["admin_state", inst["admin_state"]])
    touch(inst)
    c.refresh_nodes([inst["pnode"], *inst["snodes"]])
    return changes


@effect("OP_INSTANCE_ACTIVATE_DISKS")
def activate_disks(ctx: Context, op: dict[str, Any]) -> list[list[Any]]:
    """Activate an instance's disks; return [node, iv_name, device] per disk."""
    inst = get_instance(ctx.cluster, op)
    inst["disks_active"] = True
    return [[inst["pnode"], f"disk/{i}", f"/dev/drbd{i}"] for i in range(len(inst["disk.sizes"]))]


@effect("OP_INSTANCE_DEACTIVATE_DISKS")
def deactivate_disks(ctx: Context, op: dict[str, Any]) -> None:
    """Deactivate the disks of a stopped instance."""
    inst = get_instance(ctx.cluster, op)
    if inst["oper_state"] and not op.get("force"):
        raise OpError("OpPrereqError", "Cannot deactivate disks of a running instance", "wrong_state")
    inst["disks_active"] = False


@effect("OP_INSTANCE_RECREATE_DISKS")
def recreate_disks(ctx: Context, op: dict[str, Any]) -> None:
    """Recreate disks of a stopped instance."""
    inst = get_instance(ctx.cluster, op)
    if inst["oper_state"]:
        raise OpError("OpPrereqError", f"Instance '{inst['name']}' is running", "wrong_state")


@effect("OP_INSTANCE_QUERY_DATA")
def query_data(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    """Detailed data about instances, keyed by name."""
    c = ctx.cluster
    names = op.get("instances") or []
    insts = [get_instance(c, {"instance_name": n}) for n in names] if names else list(c.instances.values())
    out = {}
    for inst in insts:
        out[inst["name"]] = {
            "name": inst["name"],
            "config_state": inst["admin_state"],
            "run_state": "up" if inst["oper_state"] else "down",
            "pnode": inst["pnode"],
            "snodes": inst["snodes"],
            "os": inst["os"],
            "network_port": inst["network_port"],
            "hypervisor": "kvm",
            "hv_instance": inst["custom_hvparams"],
            "hv_actual": inst["hvparams"],
            "be_instance": inst["custom_beparams"],
            "be_actual": inst["beparams"],
            "disk_template": inst["disk_template"],
            "uuid": inst["uuid"],
            "serial_no": inst["serial_no"],
            "ctime": inst["ctime"],
            "mtime": inst["mtime"],
            "tags": inst["tags"],
            "nics": [
                [ip, mac, mode, link]
                for ip, mac, mode, link in zip(
                    inst["nic.ips"], inst["nic.macs"], inst["nic.modes"], inst["nic.links"], strict=True
                )
            ],
            "disks": [
                {"size": s, "mode": "rw", "dev_type": inst["disk_template"]} for s in inst["disk.sizes"]
            ],
        }
    return out


@effect("OP_BACKUP_PREPARE")
def backup_prepare(ctx: Context, op: dict[str, Any]) -> None:
    """Prepare an export (nothing to do for a local export)."""
    get_instance(ctx.cluster, op)


@effect("OP_BACKUP_EXPORT")
def backup_export(ctx: Context, op: dict[str, Any]) -> list[Any]:
    """Export an instance; return (finalize status, per-disk results)."""
    inst = get_instance(ctx.cluster, op)
    return [True, [True for _ in inst["disk.sizes"]]]

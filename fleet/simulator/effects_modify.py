"""The effect of OP_INSTANCE_SET_PARAMS as LUInstanceSetParams applies it: disks and NICs added, modified or
removed (legacy two-element and three-element modifications), hypervisor and backend parameters, the OS and
the offline flag; the job's result lists each change as Ganeti words it, in Ganeti's order."""

from __future__ import annotations

from typing import Any

from fleet.simulator import feedback
from fleet.simulator.effects import (
    INSTANCE_NOT_RUNNING,
    Context,
    OpError,
    check_instance_state,
    effect,
    get_instance,
)
from fleet.simulator.effects_instance import new_nic
from fleet.simulator.state import Cluster, disk_usage, new_uuid, touch

Changes = list[list[Any]]
DISK_COLUMNS = ("disk.sizes", "disk.uuids", "disk.names", "disk.spindles")
NIC_COLUMNS = (
    "nic.ips",
    "nic.macs",
    "nic.modes",
    "nic.uuids",
    "nic.names",
    "nic.links",
    "nic.vlans",
    "nic.networks",
    "nic.networks.names",
    "nic.bridges",
    "custom_nicparams",
)
NIC_PARAMS = ("link", "mode", "vlan")
ANY_CHANGE = ("nics", "disks", "disk_template", "hvparams", "beparams", "os_name", "osparams", "runtime_mem")


def modifications(mods: Any) -> list[tuple[str, int, dict[str, Any]]]:
    """(action, index, params) for each modification: `[action, params]` or `[index, params]` (legacy) and
    `[action, index, params]`; an index of -1 means the end."""
    result = []
    for mod in mods or []:
        if len(mod) == 2:
            first, params = mod
            if isinstance(first, int):
                result.append(("modify", first, params or {}))
            else:
                result.append((str(first), -1, params or {}))
        else:
            action, index, params = mod
            result.append((str(action), int(index), params or {}))
    return result


def _absolute(kind: str, index: int, count: int) -> int:
    if index == -1 and count:
        return count - 1
    if not 0 <= index < count:
        raise OpError("OpPrereqError", f"Got {kind} index {index}, but there are only {count}", "wrong_input")
    return index


def _disks(ctx: Context, inst: dict[str, Any], mods: list[tuple[str, int, dict[str, Any]]]) -> Changes:
    c, changes = ctx.cluster, []
    if mods and inst["disk_template"] == "diskless":
        raise OpError("OpPrereqError", "Disk operations not supported for diskless instances", "wrong_input")
    for action, _, _ in mods:
        if action == "remove":
            message = "can't remove volume from a running instance without using hotplug"
            check_instance_state(c, inst, INSTANCE_NOT_RUNNING, message)
    for action, index, params in mods:
        count = len(inst["disk.sizes"])
        if action == "add":
            at = count if index == -1 else index
            size = int(params.get("size", 1024))
            feedback.disks_generated(ctx.log, [size], at)
            for column, value in zip(DISK_COLUMNS, (size, new_uuid(), params.get("name"), None), strict=True):
                inst[column] = [*inst[column][:at], value, *inst[column][at:]]
            changes.append([f"disk/{at}", f"add:size={size},mode={params.get('mode', 'rw')}"])
            feedback.waited_for_sync(ctx.log, inst["name"], 1)
        elif action == "remove":
            at = _absolute("disk", index, count)
            for column in DISK_COLUMNS:
                inst[column] = [v for i, v in enumerate(inst[column]) if i != at]
            changes.append([f"disk/{at}", "remove"])
        elif action == "modify":
            at = _absolute("disk", index, count)
            if "mode" in params:
                changes.append([f"disk.mode/{at}", params["mode"]])
            if "name" in params:
                inst["disk.names"] = [
                    params["name"] if i == at else n for i, n in enumerate(inst["disk.names"])
                ]
                changes.append([f"disk.name/{at}", params["name"]])
    inst["disk_usage"] = disk_usage(inst["disk_template"], inst["disk.sizes"])
    return changes


def _nic_row(c: Cluster, nic: dict[str, Any]) -> tuple[Any, ...]:
    """The values of one NIC in NIC_COLUMNS order."""
    net = c.network_by_uuid(nic["network"]) if nic["network"] else None
    bridge = nic["link"] if nic["mode"] == "bridged" else None
    custom = {"mode": nic["mode"], "link": nic["link"], "vlan": nic.get("vlan", "")}
    return (
        nic["ip"],
        nic["mac"],
        nic["mode"],
        nic["uuid"],
        nic.get("name"),
        nic["link"],
        nic.get("vlan", ""),
        nic["network"],
        net["name"] if net else None,
        bridge,
        custom,
    )


def _nics(ctx: Context, inst: dict[str, Any], mods: list[tuple[str, int, dict[str, Any]]]) -> Changes:
    c, changes = ctx.cluster, []
    group = c.nodes[inst["pnode"]]["group.uuid"]
    for action, index, params in mods:
        count = len(inst["nic.macs"])
        if action == "add":
            at = count if index == -1 else index
            nic = new_nic(c, params, group)
            nic["name"] = params.get("name")
            for column, value in zip(NIC_COLUMNS, _nic_row(c, nic), strict=True):
                inst[column] = [*inst[column][:at], value, *inst[column][at:]]
            net = params.get("network")
            changes.append(
                [
                    f"nic.{at}",
                    f"add:mac={nic['mac']},ip={nic['ip']},mode={nic['mode']},link={nic['link']},network={net}",
                ]
            )
        elif action == "remove":
            at = _absolute("NIC", index, count)
            ip, net_uuid = inst["nic.ips"][at], inst["nic.networks"][at]
            net = c.network_by_uuid(net_uuid) if net_uuid else None
            if net is not None and ip:
                c.pools[net["name"]].release(ip)
                c.refresh_network(net)
            for column in NIC_COLUMNS:
                inst[column] = [v for i, v in enumerate(inst[column]) if i != at]
            changes.append([f"NIC/{at}", "remove"])
        elif action == "modify":
            at = _absolute("NIC", index, count)
            changes.extend(_modify_nic(c, inst, at, params))
    return changes


def _modify_nic(c: Cluster, inst: dict[str, Any], at: int, params: dict[str, Any]) -> Changes:
    """_ApplyNicMods: MAC, IP and name as given, then every NIC parameter, filled from the cluster's, which
    the NIC keeps from now on."""
    changes: Changes = []
    for key, column in (("mac", "nic.macs"), ("ip", "nic.ips"), ("name", "nic.names")):
        if key in params:
            inst[column] = [params[key] if i == at else v for i, v in enumerate(inst[column])]
            changes.append([f"nic.{key}/{at}", params[key]])
    nicparams = {**c.info["nicparams"]["default"], **inst["custom_nicparams"][at]}
    nicparams.update({k: params[k] for k in NIC_PARAMS if k in params})
    inst["custom_nicparams"] = [nicparams if i == at else p for i, p in enumerate(inst["custom_nicparams"])]
    for key, column in (("mode", "nic.modes"), ("link", "nic.links"), ("vlan", "nic.vlans")):
        inst[column] = [nicparams.get(key, v) if i == at else v for i, v in enumerate(inst[column])]
    bridged = nicparams.get("mode") == "bridged"
    inst["nic.bridges"] = [
        (nicparams.get("link") if bridged else None) if i == at else b
        for i, b in enumerate(inst["nic.bridges"])
    ]
    changes.extend([f"nic.{key}/{at}", nicparams[key]] for key in sorted(nicparams))
    return changes


@effect("OP_INSTANCE_SET_PARAMS")
def set_params(ctx: Context, op: dict[str, Any]) -> Changes:
    """Change disks, NICs, parameters, the OS or the offline flag; return the changes."""
    c = ctx.cluster
    inst = get_instance(c, op)
    if not any(op.get(k) for k in ANY_CHANGE) and op.get("offline") is None:
        raise OpError("OpPrereqError", "No changes submitted", "wrong_input")
    if op.get("offline") is not None:
        if op["offline"]:
            message = "can't change to offline without being down first"
        else:
            message = "can't change to online (down) without being offline first"
        check_instance_state(c, inst, INSTANCE_NOT_RUNNING, message)
    changes = _disks(ctx, inst, modifications(op.get("disks")))
    changes += _nics(ctx, inst, modifications(op.get("nics")))
    for key, value in (op.get("hvparams") or {}).items():
        inst["custom_hvparams"] = {**inst["custom_hvparams"], key: value}
        changes.append([f"hv/{key}", value])
    if op.get("beparams"):
        changes += _beparams(c, inst, op["beparams"])
    if op.get("os_name"):
        inst["os"] = op["os_name"]
    if op.get("offline") is not None:
        c.set_instance_state(inst, "offline" if op["offline"] else "down", False)
        changes.append(["admin_state", inst["admin_state"]])
    touch(inst)
    c.refresh_nodes([inst["pnode"], *inst["snodes"]])
    return changes


def _beparams(c: Cluster, inst: dict[str, Any], wanted: dict[str, Any]) -> Changes:
    custom = dict(inst["custom_beparams"])
    for key, value in wanted.items():
        if value == "default":
            custom.pop(key, None)
        else:
            custom[key] = value
    if "memory" in custom:
        memory = custom.pop("memory")
        custom["maxmem"] = custom["minmem"] = memory
    beparams = {**c.info["beparams"]["default"], **custom}
    beparams["memory"] = beparams["maxmem"]
    inst["custom_beparams"], inst["beparams"] = custom, beparams
    if inst["oper_state"]:
        inst["oper_ram"], inst["oper_vcpus"] = beparams["maxmem"], beparams["vcpus"]
    return [[f"be/{key}", value] for key, value in wanted.items()]

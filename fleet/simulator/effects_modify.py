"""The effect of OP_INSTANCE_SET_PARAMS as LUInstanceSetParams applies it: disks and NICs added, modified or
removed (legacy two-element and three-element modifications), hypervisor and backend parameters, the OS and
the offline flag; the job's result lists each change as Ganeti words it, in Ganeti's order."""

from __future__ import annotations

from typing import Any

from fleet.simulator import feedback, oses, paramchecks
from fleet.simulator.allocator import Spec, group_ipolicy, policy_violations
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
ANY_CHANGE = (
    "nics", "disks", "disk_template", "hvparams", "beparams", "os_name", "osparams", "osparams_private",
    "runtime_mem",
)  # fmt: skip


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
    paramchecks.check_not_global(op.get("hvparams") or {})
    if op.get("offline") is not None:
        if op["offline"]:
            message = "can't change to offline without being down first"
        else:
            message = "can't change to online (down) without being offline first"
        check_instance_state(c, inst, INSTANCE_NOT_RUNNING, message)
    hv_custom = _hvparams(c, inst, op.get("hvparams") or {})
    be_custom = _beparams(c, inst, op)
    os_custom = _osparams(inst, op)
    changes = _disks(ctx, inst, modifications(op.get("disks")))
    changes += _nics(ctx, inst, modifications(op.get("nics")))
    if hv_custom is not None:
        inst["custom_hvparams"] = hv_custom
        inst["hvparams"] = {**c.info["hvparams"].get("kvm", {}), **hv_custom}
        changes += [[f"hv/{key}", value] for key, value in op["hvparams"].items()]
    if be_custom is not None:
        _apply_beparams(c, inst, be_custom)
        changes += [[f"be/{key}", value] for key, value in op["beparams"].items()]
    if op.get("os_name"):
        inst["os"] = op["os_name"]
    if os_custom is not None:
        public, private = os_custom
        oses.set_osparams(inst, public, private)
        changes += [[f"os/{key}", value] for key, value in (op.get("osparams") or {}).items()]
        changes += [
            [f"os_private/{key}", f"Private(?, descr='{key}')"] for key in op.get("osparams_private") or {}
        ]
    if op.get("offline") is not None:
        c.set_instance_state(inst, "offline" if op["offline"] else "down", False)
        changes.append(["admin_state", inst["admin_state"]])
    touch(inst)
    c.refresh_nodes([inst["pnode"], *inst["snodes"]])
    return changes


def _hvparams(c: Cluster, inst: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any] | None:
    """_ProcessHVParams: the instance's new custom hypervisor parameters, checked in full; None if none."""
    if not wanted:
        return None
    custom = paramchecks.force_types(oses.updated(inst["custom_hvparams"], wanted), paramchecks.HVS_TYPES)
    paramchecks.check_kvm({**c.info["hvparams"].get("kvm", {}), **custom}, inst["pnode"])
    return custom


def _beparams(c: Cluster, inst: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    """_ProcessBeParams and _ProcessMem, then the group's ipolicy over the new values; None if none."""
    wanted, force = op.get("beparams") or {}, bool(op.get("force"))
    if not wanted:
        return None
    custom = {k: v for k, v in oses.updated(inst["custom_beparams"], wanted).items() if v is not None}
    if "memory" in custom:  # objects.UpgradeBeParams
        memory = custom.pop("memory")
        custom["maxmem"] = custom["minmem"] = memory
    custom = paramchecks.force_types(custom, paramchecks.BES_TYPES)
    new = {**c.info["beparams"]["default"], **custom}
    old_max = inst["beparams"]["maxmem"]
    if "maxmem" in custom and not force and new["maxmem"] > old_max:
        used = (inst["oper_ram"] or 0) if inst["oper_state"] else 0
        missing = new["maxmem"] - used - (c.nodes[inst["pnode"]]["mfree"] or 0)
        if missing > 0:
            message = (
                f"This change will prevent the instance from starting, due to {missing} MB of memory missing"
                " on its primary node"
            )
            raise OpError("OpPrereqError", message, "insufficient_resources")
    if not op.get("ignore_ipolicy"):
        _check_ipolicy(c, inst, new)
    return custom


def _check_ipolicy(c: Cluster, inst: dict[str, Any], be: dict[str, Any]) -> None:
    group = c.group_by_uuid(c.nodes[inst["pnode"]]["group.uuid"])
    ipolicy = group_ipolicy(c, group)
    found: list[str] = []
    for memory in (be["maxmem"], be["minmem"]):
        spec = Spec(
            name=inst["name"], template=inst["disk_template"], memory=memory, vcpus=be["vcpus"],
            spindle_use=be.get("spindle_use", 1), disk_sizes=list(inst["disk.sizes"]),
            nic_count=len(inst["nic.macs"]), networks=[],
        )  # fmt: skip
        found += [v for v in policy_violations(ipolicy, spec) if v not in found]
    if found:
        shown = {k: (group or {}).get(k) for k in ("name", "ndparams", "diskparams", "ipolicy", "serial_no")}
        message = f"Instance allocation to group {shown} ({(group or {}).get('name')}) violates policy: "
        raise OpError("OpPrereqError", message + ", ".join(found), "wrong_input")


def _osparams(inst: dict[str, Any], op: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """_ProcessOsParams: public and private parameters merged (`default` removes), checked by the OS."""
    public, private = op.get("osparams") or {}, op.get("osparams_private") or {}
    if not public and not private:
        return None
    repeated = sorted(set(public) & set(private))
    if repeated:
        raise OpError("OpPrereqError", f"OS parameters repeated multiple times: {', '.join(repeated)}", None)
    new_public = oses.updated(inst.get("custom_osparams", {}), public)
    new_private = oses.updated(inst.get("osparams_private", {}), private)
    os_name = op["os_name"] if op.get("os_name") and not op.get("force") else inst["os"]
    oses.validate(os_name, {**new_public, **new_private}, inst["pnode"])
    return new_public, new_private


def _apply_beparams(c: Cluster, inst: dict[str, Any], custom: dict[str, Any]) -> None:
    beparams = {**c.info["beparams"]["default"], **custom}
    beparams["memory"] = beparams["maxmem"]
    inst["custom_beparams"], inst["beparams"] = custom, beparams

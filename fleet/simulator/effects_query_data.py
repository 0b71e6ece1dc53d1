"""The effect of OP_INSTANCE_QUERY_DATA (RAPI's /2/instances/N/info job), with LUInstanceQueryData's fields:
node groups, NICs as hook tuples, each disk with its logical id and (unless static) its status on the primary
and secondary nodes, parameters as set on the instance and as filled from the cluster."""

from __future__ import annotations

from typing import Any

from fleet.simulator import feedback
from fleet.simulator.effects import Context, effect, get_instance
from fleet.simulator.state import Cluster

# the hypervisor parameters that are cluster-wide only: not part of an instance's filled parameters
HV_GLOBALS = frozenset({"xen_cmd", "migration_port", "migration_mode", "migration_bandwidth"})
DRBD_MAJOR = 147
LV_MAJOR = 253
LDS_OKAY = 1


def _device(cluster: Cluster, inst: dict[str, Any], index: int) -> tuple[str, list[Any]]:
    """The block device path and logical id of one disk, as its template lays it out."""
    template, uuid = inst["disk_template"], inst["disk.uuids"][index]
    if template in ("file", "sharedfile"):
        key = "file_storage_dir" if template == "file" else "shared_file_storage_dir"
        base = cluster.info.get(key) or "/srv/ganeti/file-storage"
        path = f"{base}/{inst['name']}/{uuid}.{template}.disk{index}"
        return path, ["loop", path]
    vg = cluster.info.get("volume_group_name") or "xenvg"
    return f"/dev/{vg}/{uuid}.disk{index}", [vg, f"{uuid}.disk{index}"]


def _disk(cluster: Cluster, inst: dict[str, Any], index: int, static: bool) -> dict[str, Any]:
    size = inst["disk.sizes"][index]
    path, logical_id = _device(cluster, inst, index)
    common = {
        "mode": "rw",
        "size": size,
        "spindles": inst["disk.spindles"][index],
        "name": inst["disk.names"][index],
        "uuid": inst["disk.uuids"][index],
    }
    status = None if static else [path, None, None, None, None, False, LDS_OKAY]
    disk = {
        "iv_name": f"disk/{index}",
        "dev_type": inst["disk_template"],
        "logical_id": logical_id,
        "drbd_info": None,
        "pstatus": status,
        "sstatus": None,
        "children": [],
        **common,
    }
    if inst["disk_template"] == "drbd" and inst["snodes"]:
        port = 11000 + index
        device = [f"/dev/drbd{index}", DRBD_MAJOR, index, None, None, False, LDS_OKAY]
        disk["logical_id"] = [inst["pnode"], inst["snodes"][0], port, index, index, None]
        disk["drbd_info"] = {
            "primary_node": inst["pnode"],
            "primary_minor": index,
            "secondary_node": inst["snodes"][0],
            "secondary_minor": index,
            "port": port,
        }
        disk["pstatus"] = disk["sstatus"] = None if static else device
        lv = [path, None, None, None, None, False, LDS_OKAY]
        disk["children"] = [
            {**disk, "iv_name": "", "dev_type": "plain", "logical_id": logical_id, "drbd_info": None,
             "pstatus": None if static else lv, "sstatus": None if static else lv, "children": []},
        ]  # fmt: skip
    return disk


def _nics(cluster: Cluster, inst: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for i, mac in enumerate(inst["nic.macs"]):
        net_uuid = inst["nic.networks"][i]
        net = cluster.network_by_uuid(net_uuid) if net_uuid else None
        netinfo = {k: v for k, v in net.items() if not k.startswith("_")} if net else None
        rows.append(
            [
                inst["nic.names"][i],
                inst["nic.uuids"][i],
                inst["nic.ips"][i],
                mac,
                inst["nic.modes"][i],
                inst["nic.links"][i],
                inst.get("nic.vlans", [""] * len(inst["nic.macs"]))[i],
                net_uuid,
                netinfo,
            ]
        )
    return rows


def _run_state(inst: dict[str, Any], pnode: dict[str, Any]) -> str | None:
    if pnode["offline"]:
        return None
    if inst["oper_state"]:
        return "up"
    return "offline" if inst["admin_state"] == "offline" else "down"


def instance_data(cluster: Cluster, inst: dict[str, Any], static: bool) -> dict[str, Any]:
    """One instance's entry of the job's result."""
    pnode = cluster.nodes[inst["pnode"]]
    group = cluster.group_by_uuid(pnode["group.uuid"])
    snode_groups = [cluster.nodes[n]["group.uuid"] for n in inst["snodes"]]
    group_names = []
    for uuid in snode_groups:
        snode_group = cluster.group_by_uuid(uuid)
        group_names.append(snode_group["name"] if snode_group else None)
    beparams = {k: v for k, v in inst["beparams"].items() if k != "memory"}
    return {
        "name": inst["name"],
        "config_state": inst["admin_state"],
        "run_state": None if static else _run_state(inst, pnode),
        "pnode": inst["pnode"],
        "pnode_group_uuid": pnode["group.uuid"],
        "pnode_group_name": group["name"] if group else None,
        "snodes": list(inst["snodes"]),
        "snodes_group_uuids": snode_groups,
        "snodes_group_names": group_names,
        "os": inst["os"],
        "nics": _nics(cluster, inst),
        "disk_template": inst["disk_template"],
        "disks": [_disk(cluster, inst, i, static) for i in range(len(inst["disk.sizes"]))],
        "hypervisor": inst.get("hypervisor", "kvm"),
        "network_port": inst["network_port"],
        "hv_instance": inst["custom_hvparams"],
        "hv_actual": {k: v for k, v in inst["hvparams"].items() if k not in HV_GLOBALS},
        "be_instance": inst["custom_beparams"],
        "be_actual": beparams,
        "os_instance": inst.get("custom_osparams", {}),
        "os_actual": inst.get("osparams", {}),
        "serial_no": inst["serial_no"],
        "mtime": inst["mtime"],
        "ctime": inst["ctime"],
        "uuid": inst["uuid"],
    }


@effect("OP_INSTANCE_QUERY_DATA")
def query_data(ctx: Context, op: dict[str, Any]) -> dict[str, Any]:
    """Detailed data about the named instances (all when none are named), keyed by name."""
    c = ctx.cluster
    static = bool(op.get("static"))
    if not static:
        feedback.warning(ctx.log, "Non-static data requested, locks need to be acquired")
    names = op.get("instances") or []
    insts = [get_instance(c, {"instance_name": n}) for n in names] if names else list(c.instances.values())
    for inst in insts:
        if c.nodes[inst["pnode"]]["offline"]:
            feedback.warning(
                ctx.log,
                f"Primary node {inst['pnode']} is marked offline, returning static information only for"
                f" instance {inst['name']}",
            )
    return {
        inst["name"]: instance_data(c, inst, static or c.nodes[inst["pnode"]]["offline"]) for inst in insts
    }

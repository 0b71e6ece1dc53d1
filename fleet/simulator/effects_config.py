"""Effects of the remaining opcodes: instance modify and disks, nodes (with child jobs), groups, networks,
tags and the cluster."""

from __future__ import annotations

from typing import Any

from fleet.simulator.build import make_group, make_network
from fleet.simulator.effects import Context, OpError, effect, get_instance, get_node
from fleet.simulator.state import Cluster, disk_usage, new_uuid, node_role, now, touch


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


# -- nodes -------------------------------------------------------------------------------------------------


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


# -- groups, networks, tags, cluster -----------------------------------------------------------------------


def get_group(c: Cluster, name: Any) -> dict[str, Any]:
    """The group of that name, or Ganeti's unknown_entity error."""
    group = c.groups.get(name) if isinstance(name, str) else None
    if group is None:
        raise OpError("OpPrereqError", f"Node group '{name}' not found", "unknown_entity")
    return group


@effect("OP_GROUP_ADD")
def group_add(ctx: Context, op: dict[str, Any]) -> None:
    """Add a node group."""
    c, name = ctx.cluster, op["group_name"]
    if name in c.groups:
        raise OpError(
            "OpPrereqError",
            f"Desired group name '{name}' already exists as a node group (UUID: {c.groups[name]['uuid']})",
            "already_exists",
        )
    c.groups[name] = make_group(name, new_uuid(), now(), op.get("alloc_policy") or "preferred")


@effect("OP_GROUP_REMOVE")
def group_remove(ctx: Context, op: dict[str, Any]) -> None:
    """Remove an empty node group."""
    c = ctx.cluster
    group = get_group(c, op.get("group_name"))
    if group["node_list"]:
        raise OpError(
            "OpPrereqError",
            f"Group '{group['name']}' not empty, has the following nodes: {', '.join(group['node_list'])}",
            "wrong_state",
        )
    del c.groups[group["name"]]


@effect("OP_GROUP_SET_PARAMS")
def group_set_params(ctx: Context, op: dict[str, Any]) -> list[list[Any]]:
    """Change a group's allocation policy or parameters."""
    group = get_group(ctx.cluster, op.get("group_name"))
    changes = []
    if op.get("alloc_policy"):
        group["alloc_policy"] = op["alloc_policy"]
        changes.append(["alloc_policy", op["alloc_policy"]])
    for key in ("ndparams", "diskparams", "ipolicy"):
        if op.get(key):
            group[f"custom_{key}"] = {**group[f"custom_{key}"], **op[key]}
            group[key] = {**group[key], **op[key]}
            changes.append([key, op[key]])
    touch(group)
    return changes


@effect("OP_GROUP_RENAME")
def group_rename(ctx: Context, op: dict[str, Any]) -> str:
    """Rename a node group."""
    c = ctx.cluster
    group = get_group(c, op.get("group_name"))
    new = op["new_name"]
    if new in c.groups:
        raise OpError(
            "OpPrereqError", f"Desired new name '{new}' clashes with existing node group", "already_exists"
        )
    del c.groups[group["name"]]
    for net in c.networks.values():
        net["group_list"] = [[new if g == group["name"] else g, *rest] for g, *rest in net["group_list"]]
    group["name"] = new
    c.groups[new] = group
    touch(group)
    return str(new)


@effect("OP_GROUP_ASSIGN_NODES")
def group_assign_nodes(ctx: Context, op: dict[str, Any]) -> None:
    """Move nodes into a group."""
    c = ctx.cluster
    group = get_group(c, op.get("group_name"))
    for name in op.get("nodes") or []:
        node = get_node(c, name)
        old = c.group_by_uuid(node["group.uuid"])
        node["group.uuid"] = group["uuid"]
        touch(node)
        if old:
            c.refresh_group(old)
    c.refresh_group(group)


def get_network(c: Cluster, name: Any) -> dict[str, Any]:
    """The network of that name, or Ganeti's unknown_entity error."""
    net = c.networks.get(name) if isinstance(name, str) else None
    if net is None:
        raise OpError("OpPrereqError", f"Network '{name}' not found", "unknown_entity")
    return net


@effect("OP_NETWORK_ADD")
def network_add(ctx: Context, op: dict[str, Any]) -> None:
    """Add a network and its IP pool."""
    c, name = ctx.cluster, op["network_name"]
    if name in c.networks:
        raise OpError("OpPrereqError", f"Network name '{name}' already exists", "already_exists")
    try:
        net, pool = make_network(name, new_uuid(), op["network"], op.get("gateway"), now(), op.get("tags"))
    except ValueError as exc:
        raise OpError("OpPrereqError", f"Invalid network: {exc}", "wrong_input") from exc
    for ip in op.get("add_reserved_ips") or []:
        pool.reserve(ip, external=True)
    net.update(network6=op.get("network6"), gateway6=op.get("gateway6"), mac_prefix=op.get("mac_prefix"))
    c.networks[name], c.pools[name] = net, pool
    c.refresh_network(net)


@effect("OP_NETWORK_REMOVE")
def network_remove(ctx: Context, op: dict[str, Any]) -> None:
    """Remove a network no group is connected to."""
    c = ctx.cluster
    net = get_network(c, op.get("network_name"))
    if net["group_list"]:
        raise OpError(
            "OpPrereqError",
            f"Network '{net['name']}' is still connected to groups: "
            f"{', '.join(g[0] for g in net['group_list'])}",
            "wrong_state",
        )
    del c.networks[net["name"]], c.pools[net["name"]]


@effect("OP_NETWORK_SET_PARAMS")
def network_set_params(ctx: Context, op: dict[str, Any]) -> None:
    """Change a network's gateway, IPv6 settings or external reservations."""
    c = ctx.cluster
    net = get_network(c, op.get("network_name"))
    pool = c.pools[net["name"]]
    for key in ("gateway", "network6", "gateway6", "mac_prefix"):
        if op.get(key) is not None:
            net[key] = op[key]
    for ip in op.get("add_reserved_ips") or []:
        pool.reserve(ip, external=True)
    for ip in op.get("remove_reserved_ips") or []:
        pool.external[pool.index(ip)] = 0
    touch(net)
    c.refresh_network(net)


@effect("OP_NETWORK_CONNECT")
def network_connect(ctx: Context, op: dict[str, Any]) -> None:
    """Connect a network to a group with a mode, link and VLAN."""
    c = ctx.cluster
    net, group = get_network(c, op.get("network_name")), get_group(c, op.get("group_name"))
    if any(g[0] == group["name"] for g in net["group_list"]):
        return
    net["group_list"] = [
        *net["group_list"],
        [group["name"], op["network_mode"], op["network_link"], op.get("network_vlan") or ""],
    ]
    group["networks"] = [*group["networks"], net["uuid"]]
    touch(net)


@effect("OP_NETWORK_DISCONNECT")
def network_disconnect(ctx: Context, op: dict[str, Any]) -> None:
    """Disconnect a network from a group."""
    c = ctx.cluster
    net, group = get_network(c, op.get("network_name")), get_group(c, op.get("group_name"))
    net["group_list"] = [g for g in net["group_list"] if g[0] != group["name"]]
    group["networks"] = [u for u in group["networks"] if u != net["uuid"]]
    touch(net)


def tag_target(c: Cluster, kind: str, name: Any) -> dict[str, Any]:
    """The object whose tags an opcode changes."""
    if kind == "cluster":
        return c.info
    if kind == "instance":
        return get_instance(c, {"instance_name": name})
    if kind == "node":
        return get_node(c, name)
    if kind == "nodegroup":
        return get_group(c, name)
    return get_network(c, name)


@effect("OP_TAGS_SET")
def tags_set(ctx: Context, op: dict[str, Any]) -> None:
    """Add tags to an object."""
    obj = tag_target(ctx.cluster, op["kind"], op.get("name"))
    obj["tags"] = sorted(set(obj["tags"]) | set(op.get("tags") or []))
    touch(obj)


@effect("OP_TAGS_DEL")
def tags_del(ctx: Context, op: dict[str, Any]) -> None:
    """Remove tags from an object; every tag must be present."""
    obj = tag_target(ctx.cluster, op["kind"], op.get("name"))
    missing = sorted(set(op.get("tags") or []) - set(obj["tags"]))
    if missing:
        raise OpError(
            "OpPrereqError", f"Tag(s) {', '.join(repr(t) for t in missing)} not found", "unknown_entity"
        )
    obj["tags"] = [t for t in obj["tags"] if t not in set(op.get("tags") or [])]
    touch(obj)


@effect("OP_CLUSTER_SET_PARAMS")
def cluster_set_params(ctx: Context, op: dict[str, Any]) -> None:
    """Change cluster parameters (those the simulator knows)."""
    info = ctx.cluster.info
    for key in (
        "max_running_jobs",
        "max_tracked_jobs",
        "candidate_pool_size",
        "default_iallocator",
        "maintain_node_health",
        "mac_prefix",
    ):
        if op.get(key) is not None:
            info[key] = op[key]
    info["mtime"] = now()

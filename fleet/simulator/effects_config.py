"""Effects of the opcodes on groups, networks, tags and the cluster."""

from __future__ import annotations

import re
from typing import Any

from fleet.simulator.build import make_group, make_network
from fleet.simulator.effects import Context, OpError, effect, get_instance, get_node
from fleet.simulator.state import Cluster, new_uuid, now, touch


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
        # Ganeti names the nodes by UUID here, in its natural sort order
        uuids = nice_sort(ctx.cluster.nodes[n]["uuid"] for n in group["node_list"])
        raise OpError(
            "OpPrereqError",
            f"Group '{group['name']}' not empty, has the following nodes: {', '.join(uuids)}",
            "wrong_state",
        )
    del c.groups[group["name"]]


@effect("OP_GROUP_SET_PARAMS")
def group_set_params(ctx: Context, op: dict[str, Any]) -> list[list[Any]]:
    """Change a group's allocation policy or parameters, as LUGroupSetParams does: the result names only the
    new ndparams and diskparams (each as Python prints the group's own dict); a new allocation policy or
    ipolicy is applied without a word."""
    keys = ("ndparams", "diskparams", "alloc_policy", "hv_state", "disk_state", "ipolicy")
    if all(op.get(k) is None for k in keys):
        raise OpError("OpPrereqError", "Please pass at least one modification", "wrong_input")
    group = get_group(ctx.cluster, op.get("group_name"))
    changes: list[list[Any]] = []
    for key in ("ndparams", "diskparams", "ipolicy"):
        if op.get(key):
            group[f"custom_{key}"] = _updated(group[f"custom_{key}"], op[key])
            group[key] = _updated(group[key], op[key])
            if key != "ipolicy":
                changes.append([key, repr(group[f"custom_{key}"])])
    if op.get("alloc_policy"):
        group["alloc_policy"] = op["alloc_policy"]
    touch(group)
    return changes


def _updated(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Ganeti's GetUpdatedParams, one level deep for dict values (disk parameters per template)."""
    merged = dict(old)
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def nice_sort(values: Any) -> list[str]:
    """Ganeti's utils.NiceSort: numbers inside the strings compare as numbers."""

    def key(value: str) -> list[Any]:
        return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", value) if p]

    return sorted(values, key=key)


@effect("OP_GROUP_RENAME")
def group_rename(ctx: Context, op: dict[str, Any]) -> str:
    """Rename a node group."""
    c = ctx.cluster
    group = get_group(c, op.get("group_name"))
    new = op["new_name"]
    if new in c.groups:
        raise OpError(
            "OpPrereqError",
            f"Desired new name '{new}' clashes with existing node group (UUID: {c.groups[new]['uuid']})",
            "already_exists",
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
        raise OpError(
            "OpPrereqError",
            f"Desired network name '{name}' already exists as a network (UUID: {c.networks[name]['uuid']})",
            "already_exists",
        )
    for tag in op.get("tags") or []:
        validate_tag(tag)
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
        ctx.log(f" - WARNING: Network '{net['name']}' is already mapped to group '{group['name']}'")
        return
    net["group_list"] = [
        *net["group_list"],
        [group["name"], op["network_mode"], op["network_link"], op.get("network_vlan") or ""],
    ]
    group["networks"] = [*group["networks"], net["uuid"]]
    touch(group)  # Ganeti keeps the connection in the group's configuration, not the network's


@effect("OP_NETWORK_DISCONNECT")
def network_disconnect(ctx: Context, op: dict[str, Any]) -> None:
    """Disconnect a network from a group."""
    c = ctx.cluster
    net, group = get_network(c, op.get("network_name")), get_group(c, op.get("group_name"))
    if not any(g[0] == group["name"] for g in net["group_list"]):
        ctx.log(f" - WARNING: Network '{net['name']}' is not mapped to group '{group['name']}'")
        return
    net["group_list"] = [g for g in net["group_list"] if g[0] != group["name"]]
    group["networks"] = [u for u in group["networks"] if u != net["uuid"]]
    touch(group)


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


VALID_TAG = re.compile(r"^[\w.+*/:@-]+$")
MAX_TAG_LEN = 128
MAX_TAGS_PER_OBJ = 4096


def validate_tag(tag: Any) -> None:
    """Ganeti's `TaggableObject.ValidateTag`: a TagError for a bad tag."""
    if not isinstance(tag, str):
        raise OpError("TagError", "Invalid tag type (not a string)", None)
    if len(tag) > MAX_TAG_LEN:
        raise OpError("TagError", f"Tag too long (>{MAX_TAG_LEN} characters)", None)
    if not tag:
        raise OpError("TagError", "Tags cannot be empty", None)
    if not VALID_TAG.match(tag):
        raise OpError("TagError", "Tag contains invalid characters", None)


@effect("OP_TAGS_SET")
def tags_set(ctx: Context, op: dict[str, Any]) -> None:
    """Add tags to an object, after checking every tag; at most 4096 tags per object."""
    obj = tag_target(ctx.cluster, op["kind"], op.get("name"))
    new = list(op.get("tags") or [])
    for tag in new:
        validate_tag(tag)
    tags = set(obj["tags"])
    for tag in new:
        if len(tags) >= MAX_TAGS_PER_OBJ:
            raise OpError("OpExecError", "Error while setting tag: Too many tags", None)
        tags.add(tag)
    obj["tags"] = sorted(tags)
    touch(obj)


@effect("OP_TAGS_DEL")
def tags_del(ctx: Context, op: dict[str, Any]) -> None:
    """Remove tags from an object; every tag must be present."""
    obj = tag_target(ctx.cluster, op["kind"], op.get("name"))
    for tag in op.get("tags") or []:
        validate_tag(tag)
    missing = sorted(set(op.get("tags") or []) - set(obj["tags"]))
    if missing:
        raise OpError(
            "OpPrereqError", "Tag(s) " + ", ".join(f"'{t}'" for t in missing) + " not found", "unknown_entity"
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

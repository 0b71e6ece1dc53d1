"""What each opcode does to the cluster state: its locks, its duration, and its effect or its error.

Instance opcodes are here; node, group, network, tag and cluster opcodes are in `effects_config.py`. An effect
raises `OpError` (Ganeti's error class, message and ecode) when Ganeti's prerequisites would fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.simulator.build import mac_address, make_instance
from fleet.simulator.state import Cluster, disk_usage, new_uuid, now, touch

DURATIONS = {
    "OP_INSTANCE_CREATE": 90,
    "OP_INSTANCE_REMOVE": 15,
    "OP_INSTANCE_STARTUP": 8,
    "OP_INSTANCE_SHUTDOWN": 12,
    "OP_INSTANCE_REBOOT": 20,
    "OP_INSTANCE_REINSTALL": 60,
    "OP_INSTANCE_MIGRATE": 30,
    "OP_INSTANCE_FAILOVER": 25,
    "OP_INSTANCE_RENAME": 6,
    "OP_INSTANCE_SET_PARAMS": 5,
    "OP_INSTANCE_GROW_DISK": 20,
    "OP_INSTANCE_REPLACE_DISKS": 120,
    "OP_INSTANCE_RECREATE_DISKS": 60,
    "OP_INSTANCE_ACTIVATE_DISKS": 5,
    "OP_INSTANCE_DEACTIVATE_DISKS": 5,
    "OP_INSTANCE_QUERY_DATA": 1,
    "OP_BACKUP_PREPARE": 2,
    "OP_BACKUP_EXPORT": 120,
    "OP_NODE_POWERCYCLE": 30,
    "OP_INSTANCE_MULTI_ALLOC": 3,
}
DEFAULT_DURATION = 2.0


class OpError(Exception):
    """An opcode failure, as Ganeti reports it in `opresult`: [cls, [message, ecode]]."""

    def __init__(self, cls: str, message: str, ecode: str | None = "wrong_input") -> None:
        super().__init__(message)
        self.cls, self.message, self.ecode = cls, message, ecode


@dataclass
class Context:
    """What an effect may use: the cluster, job submission (for child jobs) and the opcode's log."""

    cluster: Cluster
    submit: Callable[[list[dict[str, Any]]], int]
    log: Callable[[str], None]


Effect = Callable[[Context, dict[str, Any]], Any]
EFFECTS: dict[str, Effect] = {}


def effect(op_id: str) -> Callable[[Effect], Effect]:
    """Register the effect of an opcode."""

    def register(fn: Effect) -> Effect:
        EFFECTS[op_id] = fn
        return fn

    return register


def summary(op: dict[str, Any]) -> str:
    """The job summary of an opcode, e.g. `INSTANCE_STARTUP(web1.example.org)`."""
    from fleet.simulator.opcodes import OPCODES

    name = op["OP_ID"][3:]
    field = OPCODES.get(op["OP_ID"], (None, ()))[0]
    value = op.get(field) if field else None
    if value is None:
        return name
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return f"{name}({value})"


def duration(op: dict[str, Any]) -> float:
    """How long an opcode takes on a real cluster, in seconds, before scaling."""
    if op.get("dry_run"):
        return 0.5
    return float(DURATIONS.get(op["OP_ID"], DEFAULT_DURATION))


def locks(cluster: Cluster, op: dict[str, Any]) -> set[str]:
    """The lock names an opcode holds while it runs."""
    op_id = op["OP_ID"]
    if op_id.startswith(("OP_INSTANCE_", "OP_BACKUP_")) and op.get("instance_name"):
        return {f"instance/{op['instance_name']}"}
    if op_id.startswith("OP_NODE_") or op_id == "OP_REPAIR_NODE_STORAGE":
        return {f"node/{op.get('node_name')}"}
    if op_id.startswith("OP_GROUP_"):
        return {f"nodegroup/{op.get('group_name')}"}
    if op_id.startswith("OP_NETWORK_"):
        return {f"network/{op.get('network_name')}"}
    if op_id.startswith("OP_TAGS_"):
        return {f"{op.get('kind')}/{op.get('name') or 'cluster'}"}
    return {"cluster"}


def apply(ctx: Context, op: dict[str, Any]) -> Any:
    """Apply an opcode's effect; return its result or raise OpError."""
    from fleet.simulator import effects_config  # noqa: F401  (registers the remaining effects)

    fn = EFFECTS.get(op["OP_ID"])
    return fn(ctx, op) if fn else None


def dry_run_result(cluster: Cluster, op: dict[str, Any]) -> Any:
    """The result of an opcode in dry-run mode: prerequisites only, so the state is unchanged."""
    if op["OP_ID"] == "OP_INSTANCE_CREATE":
        return _pick_nodes(cluster, op)
    return None


def get_instance(cluster: Cluster, op: dict[str, Any]) -> dict[str, Any]:
    """The instance an opcode names, or Ganeti's unknown_entity error."""
    name = op.get("instance_name")
    inst = cluster.instances.get(name) if isinstance(name, str) else None
    if inst is None:
        for full, candidate in cluster.instances.items():
            if isinstance(name, str) and full.startswith(name + "."):
                return candidate
        raise OpError("OpPrereqError", f"Instance '{name}' not known", "unknown_entity")
    return inst


def get_node(cluster: Cluster, name: Any) -> dict[str, Any]:
    """The node of that name (short names allowed), or Ganeti's unknown_entity error."""
    node = cluster.nodes.get(name) if isinstance(name, str) else None
    if node is None and isinstance(name, str):
        node = next((n for full, n in cluster.nodes.items() if full.startswith(name + ".")), None)
    if node is None:
        raise OpError("OpPrereqError", f"Node '{name}' not known", "unknown_entity")
    return node


def _check_memory(cluster: Cluster, node_name: str, needed: int, inst_name: str) -> None:
    node = cluster.nodes[node_name]
    free = node["mfree"] or 0
    if node["offline"]:
        raise OpError("OpPrereqError", f"Can't use offline node {node_name}", "wrong_state")
    if needed > free:
        raise OpError(
            "OpPrereqError",
            f"Not enough memory on node {node_name} for starting instance {inst_name}: needed {needed} MiB,"
            f" available {free} MiB",
            "insufficient_resources",
        )


def _pick_nodes(cluster: Cluster, op: dict[str, Any]) -> list[str]:
    template = op.get("disk_template") or cluster.info["enabled_disk_templates"][0]
    memory = int((op.get("beparams") or {}).get("maxmem") or (op.get("beparams") or {}).get("memory") or 128)
    if op.get("pnode"):
        pnode = get_node(cluster, op["pnode"])["name"]
        if template == "drbd":
            if not op.get("snode"):
                raise OpError(
                    "OpPrereqError", "The networked disk templates need a mirror node", "wrong_input"
                )
            snode = get_node(cluster, op["snode"])["name"]
            if snode == pnode:
                raise OpError("OpPrereqError", "The secondary node cannot be the primary node", "wrong_input")
            return [pnode, snode]
        return [pnode]
    usable = [
        n
        for n in cluster.nodes.values()
        if not (n["offline"] or n["drained"] or not n["vm_capable"])
        and (
            not op.get("group_name")
            or (cluster.groups.get(op["group_name"]) or {}).get("uuid") == n["group.uuid"]
        )
    ]
    usable.sort(key=lambda n: (-(n["mfree"] or 0), n["name"]))
    if not usable or (usable[0]["mfree"] or 0) < memory:
        raise OpError(
            "OpPrereqError",
            "Can't compute nodes using iallocator 'hail': Request failed: "
            "Group default (preferred): No valid allocation solutions",
            "insufficient_resources",
        )
    pnode = usable[0]
    if template != "drbd":
        return [pnode["name"]]
    peers = [n for n in usable[1:] if n["group.uuid"] == pnode["group.uuid"]]
    if not peers:
        raise OpError(
            "OpPrereqError",
            "Can't compute nodes using iallocator 'hail': not enough nodes for DRBD",
            "insufficient_resources",
        )
    return [pnode["name"], peers[0]["name"]]


def _nic(cluster: Cluster, spec: dict[str, Any], group_uuid: str) -> dict[str, Any]:
    net_name = spec.get("network")
    nic = {
        "mac": spec.get("mac"),
        "ip": spec.get("ip"),
        "mode": spec.get("mode") or "bridged",
        "link": spec.get("link") or "br0",
        "network": None,
        "uuid": new_uuid(),
        "vlan": spec.get("vlan") or "",
    }
    if nic["mac"] in (None, "auto", "generate"):
        nic["mac"] = mac_address(cluster.info["mac_prefix"], int(new_uuid()[:6], 16))
    if net_name:
        net = cluster.networks.get(net_name)
        if net is None:
            raise OpError("OpPrereqError", f"Network '{net_name}' not found", "unknown_entity")
        group = cluster.group_by_uuid(group_uuid)
        conn = next((c for c in net["group_list"] if group and c[0] == group["name"]), None)
        if conn is None:
            raise OpError(
                "OpPrereqError",
                f"Network '{net_name}' is not connected to the instance's group",
                "wrong_state",
            )
        nic.update(mode=conn[1], link=conn[2], vlan=conn[3], network=net["uuid"])
        pool = cluster.pools[net_name]
        if nic["ip"] == "pool":
            nic["ip"] = pool.take_free()
            if nic["ip"] is None:
                raise OpError(
                    "OpPrereqError", f"Network '{net_name}' has no free addresses", "insufficient_resources"
                )
        elif nic["ip"]:
            if pool.contains(nic["ip"]) and pool.is_reserved(nic["ip"]):
                raise OpError(
                    "OpPrereqError",
                    f"IP address {nic['ip']} already in use or does not belong to network {net_name}",
                    "already_exists",
                )
            if pool.contains(nic["ip"]):
                pool.reserve(nic["ip"])
    elif nic["ip"] == "pool":
        raise OpError("OpPrereqError", "if ip=pool, parameter network must be passed too", "wrong_input")
    return nic


def _release_ips(cluster: Cluster, inst: dict[str, Any]) -> None:
    for ip, net_uuid in zip(inst["nic.ips"], inst["nic.networks"], strict=True):
        net = cluster.network_by_uuid(net_uuid) if net_uuid else None
        if net is not None and ip:
            cluster.pools[net["name"]].release(ip)
            cluster.refresh_network(net)


@effect("OP_INSTANCE_CREATE")
def create(ctx: Context, op: dict[str, Any]) -> list[str]:
    """Add an instance: choose nodes, take IPs from the pools, start it if asked."""
    c = ctx.cluster
    name = op["instance_name"]
    if name in c.instances:
        raise OpError("OpPrereqError", f"Instance '{name}' is already in the cluster", "already_exists")
    nodes = _pick_nodes(c, op)
    be = op.get("beparams") or {}
    memory = int(be.get("maxmem") or be.get("memory") or c.info["beparams"]["default"]["maxmem"])
    vcpus = int(be.get("vcpus") or 1)
    if op.get("start", True):
        _check_memory(c, nodes[0], memory, name)
    group_uuid = c.nodes[nodes[0]]["group.uuid"]
    nics = [_nic(c, spec, group_uuid) for spec in op.get("nics") or []]
    sizes = [int(d.get("size", 0)) for d in op.get("disks") or []]
    template = op.get("disk_template") or c.info["enabled_disk_templates"][0]
    start = bool(op.get("start", True))
    inst = make_instance(
        c,
        name,
        new_uuid(),
        pnode=nodes[0],
        snodes=nodes[1:],
        template=template,
        disk_sizes=sizes,
        nics=nics,
        vcpus=vcpus,
        memory=memory,
        os_name=op.get("os_type") or "",
        tags=list(op.get("tags") or []),
        admin_state="up" if start else "down",
        running=start,
        network_port=c.next_port,
        ctime=now(),
        disk_uuids=[new_uuid() for _ in sizes],
    )
    c.next_port += 1
    c.instances[name] = inst
    c.refresh_nodes(nodes)
    for net in c.networks.values():
        if net["uuid"] in inst["nic.networks"]:
            c.refresh_network(net)
    ctx.log(f"* creating instance disks on {', '.join(nodes)}")
    return nodes


@effect("OP_INSTANCE_REMOVE")
def remove(ctx: Context, op: dict[str, Any]) -> None:
    """Remove an instance and give its IPs back."""
    c = ctx.cluster
    inst = get_instance(c, op)
    del c.instances[inst["name"]]
    c.forget(inst["name"])
    _release_ips(c, inst)
    c.refresh_nodes([inst["pnode"], *inst["snodes"]])


@effect("OP_INSTANCE_STARTUP")
def startup(ctx: Context, op: dict[str, Any]) -> None:
    """Start an instance, if its primary node has the memory."""
    c = ctx.cluster
    inst = get_instance(c, op)
    if inst["admin_state"] == "offline":
        raise OpError("OpPrereqError", f"Instance '{inst['name']}' is marked to be offline", "wrong_state")
    if not inst["oper_state"]:
        _check_memory(c, inst["pnode"], inst["beparams"]["maxmem"], inst["name"])
    admin = inst["admin_state"] if op.get("no_remember") else "up"
    c.set_instance_state(inst, admin, True)
    inst["disks_active"] = True
    c.refresh_node(inst["pnode"])


@effect("OP_INSTANCE_SHUTDOWN")
def shutdown(ctx: Context, op: dict[str, Any]) -> None:
    """Stop an instance."""
    c = ctx.cluster
    inst = get_instance(c, op)
    if inst["admin_state"] == "offline":
        raise OpError("OpPrereqError", f"Instance '{inst['name']}' is marked to be offline", "wrong_state")
    admin = inst["admin_state"] if op.get("no_remember") else "down"
    c.set_instance_state(inst, admin, False)
    c.refresh_node(inst["pnode"])


@effect("OP_INSTANCE_REBOOT")
def reboot(ctx: Context, op: dict[str, Any]) -> None:
    """Reboot an instance (a stopped one is started)."""
    c = ctx.cluster
    inst = get_instance(c, op)
    if inst["admin_state"] == "offline":
        raise OpError("OpPrereqError", f"Instance '{inst['name']}' is marked to be offline", "wrong_state")
    if not inst["oper_state"]:
        _check_memory(c, inst["pnode"], inst["beparams"]["maxmem"], inst["name"])
    c.set_instance_state(inst, "up", True)
    c.refresh_node(inst["pnode"])


@effect("OP_INSTANCE_REINSTALL")
def reinstall(ctx: Context, op: dict[str, Any]) -> None:
    """Reinstall the OS of a stopped instance."""
    inst = get_instance(ctx.cluster, op)
    if inst["oper_state"]:
        raise OpError(
            "OpPrereqError", f"Instance '{inst['name']}' is running, cannot reinstall", "wrong_state"
        )
    if op.get("os_type"):
        inst["os"] = op["os_type"]
    ctx.log(f"Running the instance OS create scripts on {inst['pnode']}")
    touch(inst)


def _move_primary(ctx: Context, op: dict[str, Any], verb: str) -> None:
    c = ctx.cluster
    inst = get_instance(c, op)
    template = inst["disk_template"]
    if template == "drbd":
        if op.get("target_node") and get_node(c, op["target_node"])["name"] != inst["snodes"][0]:
            raise OpError(
                "OpPrereqError",
                "Instances with disk template drbd cannot be migrated to arbitrary nodes",
                "wrong_input",
            )
        target = inst["snodes"][0]
        new_snodes = [inst["pnode"]]
    elif template in ("ext", "sharedfile", "rbd", "blockdev", "gluster", "diskless"):
        if op.get("target_node"):
            target = get_node(c, op["target_node"])["name"]
        else:
            peers = sorted(
                n["name"]
                for n in c.nodes.values()
                if n["name"] != inst["pnode"]
                and not n["offline"]
                and not n["drained"]
                and n["group.uuid"] == c.nodes[inst["pnode"]]["group.uuid"]
            )
            if not peers:
                raise OpError("OpPrereqError", "No target node available", "insufficient_resources")
            target = peers[0]
        new_snodes = []
    else:
        raise OpError(
            "OpPrereqError", f"Instance's disk layout '{template}' does not allow {verb}s", "wrong_state"
        )
    if inst["oper_state"]:
        _check_memory(c, target, inst["beparams"]["maxmem"], inst["name"])
    old = inst["pnode"]
    ctx.log(f"* {verb} instance {inst['name']} from {old} to {target}")
    inst["pnode"], inst["snodes"] = target, new_snodes
    touch(inst)
    c.refresh_nodes([old, target, *new_snodes])


@effect("OP_INSTANCE_MIGRATE")
def migrate(ctx: Context, op: dict[str, Any]) -> None:
    """Live-migrate an instance: DRBD swaps primary and secondary, shared storage moves to a target."""
    _move_primary(ctx, op, "migration")


@effect("OP_INSTANCE_FAILOVER")
def failover(ctx: Context, op: dict[str, Any]) -> None:
    """Fail an instance over to its secondary (or a target node for shared storage)."""
    _move_primary(ctx, op, "failover")


@effect("OP_INSTANCE_RENAME")
def rename(ctx: Context, op: dict[str, Any]) -> str:
    """Rename an instance."""
    c = ctx.cluster
    inst = get_instance(c, op)
    new = op["new_name"]
    if new in c.instances:
        raise OpError("OpPrereqError", f"Instance '{new}' is already in the cluster", "already_exists")
    del c.instances[inst["name"]]
    c.forget(inst["name"])
    inst["name"] = new
    touch(inst)
    c.instances[new] = inst
    c.refresh_nodes([inst["pnode"], *inst["snodes"]])
    return str(new)


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

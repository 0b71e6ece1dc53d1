"""Effects of the instance lifecycle opcodes: create, remove, start, stop, reboot, reinstall, move, rename."""

from __future__ import annotations

from typing import Any

from fleet.simulator import feedback, oses
from fleet.simulator.allocator import instance_spec, pick_nodes
from fleet.simulator.build import mac_address, make_instance
from fleet.simulator.effects import (
    INSTANCE_DOWN,
    INSTANCE_NOT_RUNNING,
    INSTANCE_ONLINE,
    Context,
    OpError,
    check_instance_state,
    check_memory,
    dry_run_check,
    effect,
    get_instance,
    get_node,
)
from fleet.simulator.effects_config import validate_tag
from fleet.simulator.state import Cluster, new_uuid, now, touch


def new_nic(cluster: Cluster, spec: dict[str, Any], group_uuid: str) -> dict[str, Any]:
    """A NIC from its parameters (a MAC generated, the network's mode and link, an IP from its pool)."""
    net_name = spec.get("network")
    default = cluster.info["nicparams"]["default"]  # what a NIC without its own parameters gets
    nic = {
        "mac": spec.get("mac"),
        "ip": spec.get("ip"),
        "mode": spec.get("mode") or default["mode"],
        "link": spec.get("link") or default["link"],
        "network": None,
        "uuid": new_uuid(),
        "vlan": spec.get("vlan") or default.get("vlan", ""),
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


def _given_nicparams(spec: dict[str, Any], nic: dict[str, Any]) -> dict[str, Any]:
    if nic["network"]:
        return {"mode": nic["mode"], "link": nic["link"], "vlan": nic["vlan"]}
    return {key: spec[key] for key in ("mode", "link", "vlan") if spec.get(key)}


def _release_ips(cluster: Cluster, inst: dict[str, Any]) -> None:
    for ip, net_uuid in zip(inst["nic.ips"], inst["nic.networks"], strict=True):
        net = cluster.network_by_uuid(net_uuid) if net_uuid else None
        if net is not None and ip:
            cluster.pools[net["name"]].release(ip)
            cluster.refresh_network(net)


def _check_disk_pools(template: str, disks: list[dict[str, Any]]) -> None:
    """Each disk may name its pool, as LUInstanceCreate's ComputeDisks checks: a volume group (``vg``) for
    the LVM templates, an ExtStorage ``provider`` for ``ext`` only, and for ``ext`` one is required."""
    for disk in disks:
        provider = disk.get("provider")
        if provider and template != "ext":
            raise OpError(
                "OpPrereqError",
                f"The 'provider' option is only valid for the ext disk template, not {template}",
                "wrong_input",
            )
        if template == "ext" and not provider:
            raise OpError("OpPrereqError", "Missing provider for template 'ext'", "wrong_input")
        if "vg" in disk and not (isinstance(disk["vg"], str) and disk["vg"]):
            raise OpError("OpPrereqError", f"Invalid disk vg {disk['vg']!r}", "wrong_input")


def _create_prereq(ctx: Context, op: dict[str, Any]) -> list[str]:
    """LUInstanceCreate's checks: a new name, valid tags, nodes (given or from hail) within the ipolicy,
    and the memory to start the instance if asked; returns the nodes."""
    c = ctx.cluster
    name = op["instance_name"]
    if name in c.instances:
        raise OpError("OpPrereqError", f"Instance '{name}' is already in the cluster", "already_exists")
    for tag in op.get("tags") or []:
        validate_tag(tag)
    _check_disk_pools(op.get("disk_template") or c.info["enabled_disk_templates"][0], op.get("disks") or [])
    nodes = pick_nodes(c, op)
    if not op.get("pnode"):
        ctx.log(
            f" - INFO: Selected nodes for instance {name} via iallocator"
            f" {op.get('iallocator') or c.info.get('default_iallocator') or 'hail'}: {', '.join(nodes)}"
        )
    if op.get("start", True):
        check_memory(c, nodes[0], instance_spec(c, op).memory, name)
    osparams = {**(op.get("osparams") or {}), **(op.get("osparams_private") or {})}
    if op.get("os_type") and osparams:  # the simulator knows the parameters of its own OS definitions only
        oses.validate(op["os_type"], osparams, nodes[0])
    return nodes


@dry_run_check("OP_INSTANCE_CREATE")
def create_dry_run(ctx: Context, op: dict[str, Any]) -> list[str]:
    """A dry-run creation answers the UUIDs of the nodes it would use."""
    return [ctx.cluster.nodes[n]["uuid"] for n in _create_prereq(ctx, op)]


@effect("OP_INSTANCE_CREATE")
def create(ctx: Context, op: dict[str, Any]) -> list[str]:
    """Add an instance: choose nodes, take IPs from the pools, start it if asked."""
    c = ctx.cluster
    name = op["instance_name"]
    start = bool(op.get("start", True))
    if op.get("no_install") and start:
        feedback.info(ctx.log, "No-installation mode selected, disabling startup")
        op = {**op, "start": False}
        start = False
    nodes = _create_prereq(ctx, op)
    spec = instance_spec(c, op)
    memory, vcpus = spec.memory, spec.vcpus
    group_uuid = c.nodes[nodes[0]]["group.uuid"]
    nics = [new_nic(c, spec, group_uuid) for spec in op.get("nics") or []]
    sizes = [int(d.get("size", 0)) for d in op.get("disks") or []]
    template = op.get("disk_template") or c.info["enabled_disk_templates"][0]
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
    oses.set_osparams(inst, op.get("osparams") or {}, op.get("osparams_private") or {})
    # Ganeti keeps the NIC parameters a NIC was given (those of its network, if any) and the disk names
    inst["custom_nicparams"] = [
        _given_nicparams(spec, nic) for spec, nic in zip(op.get("nics") or [], nics, strict=True)
    ]
    inst["disk.names"] = [d.get("name") for d in op.get("disks") or []]
    c.instances[name] = inst
    c.refresh_nodes(nodes)
    for net in c.networks.values():
        if net["uuid"] in inst["nic.networks"]:
            c.refresh_network(net)
    feedback.created(ctx.log, name, sizes, install=not op.get("no_install"), start=start)
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
    check_instance_state(c, inst, INSTANCE_ONLINE)
    running = inst["oper_state"]
    live = inst["oper_ram"], inst["oper_vcpus"]
    if not running:
        check_memory(c, inst["pnode"], inst["beparams"]["maxmem"], inst["name"])
    admin = inst["admin_state"] if op.get("no_remember") else "up"
    c.set_instance_state(inst, admin, True)
    if running:  # a running instance is not restarted: its live values stay those it was started with
        inst["oper_ram"], inst["oper_vcpus"] = live
    inst["disks_active"] = True
    c.refresh_node(inst["pnode"])


@effect("OP_INSTANCE_SHUTDOWN")
def shutdown(ctx: Context, op: dict[str, Any]) -> None:
    """Stop an instance."""
    c = ctx.cluster
    inst = get_instance(c, op)
    if not op.get("force"):
        check_instance_state(c, inst, INSTANCE_ONLINE)
    admin = inst["admin_state"] if op.get("no_remember") else "down"
    c.set_instance_state(inst, admin, False)
    c.refresh_node(inst["pnode"])


@effect("OP_INSTANCE_REBOOT")
def reboot(ctx: Context, op: dict[str, Any]) -> None:
    """Reboot an instance (a stopped one is started). A soft reboot of a running one keeps its hypervisor
    process, and with it the memory and vCPUs it started with (KVM restarts the command line it saved);
    hard and full ones start a new process, with the parameters as they are now."""
    c = ctx.cluster
    inst = get_instance(c, op)
    check_instance_state(c, inst, INSTANCE_ONLINE)
    kept = (inst["oper_ram"], inst["oper_vcpus"]) if inst["oper_state"] else None
    if not inst["oper_state"]:
        check_memory(c, inst["pnode"], inst["beparams"]["maxmem"], inst["name"])
        feedback.info(ctx.log, f"Instance {inst['name']} was already stopped, starting now")
    c.set_instance_state(inst, "up", True)
    if kept is not None and op.get("reboot_type") == "soft":
        inst["oper_ram"], inst["oper_vcpus"] = kept
    c.refresh_node(inst["pnode"])


@effect("OP_INSTANCE_REINSTALL")
def reinstall(ctx: Context, op: dict[str, Any]) -> None:
    """LUInstanceReinstall: a stopped instance with disks, the target OS checked with the instance's OS
    parameters merged with the given ones; the instance then keeps exactly the given public parameters and
    no private ones (see `oses`)."""
    c = ctx.cluster
    inst = get_instance(c, op)
    if c.nodes[inst["pnode"]]["offline"]:
        message = f"Instance primary node offline, cannot reinstall: {inst['pnode']}"
        raise OpError("OpPrereqError", message, "wrong_state")
    if not inst["disk.sizes"]:
        raise OpError("OpPrereqError", f"Instance '{inst['name']}' has no disks", "wrong_input")
    check_instance_state(c, inst, INSTANCE_DOWN, "cannot reinstall")
    given = op.get("osparams") or {}
    merged = {
        **oses.updated(inst.get("custom_osparams", {}), given),
        **oses.updated(inst.get("osparams_private", {}), op.get("osparams_private") or {}),
    }
    oses.validate(op.get("os_type") or inst["os"], merged, inst["pnode"])
    if op.get("os_type"):
        ctx.log(f"Changing OS scripts to '{op['os_type']}'...")
        inst["os"] = op["os_type"]
    oses.set_osparams(inst, given, op.get("osparams_private") or {})
    feedback.info(ctx.log, "Running instance OS create scripts...")
    touch(inst)


EXT_MIRROR = ("ext", "sharedfile", "rbd", "blockdev", "gluster", "diskless")


def _move_primary(ctx: Context, op: dict[str, Any], failover: bool) -> None:
    """TLMigrateInstance: checks, the target (the DRBD secondary, or a node from hail for shared storage),
    the fallback from migration to failover, and the log lines of the move."""
    c = ctx.cluster
    inst = get_instance(c, op)
    name, up = inst["name"], inst["admin_state"] == "up"
    fallback = not failover and bool(op.get("allow_failover"))
    if not up and fallback:
        feedback.info(ctx.log, "Instance is marked down or offline, fallback allowed, switching to failover")
        failover = True
    template = inst["disk_template"]
    if template == "drbd":
        if op.get("iallocator") or (
            op.get("target_node") and get_node(c, op["target_node"])["name"] != inst["snodes"][0]
        ):
            raise OpError(
                "OpPrereqError",
                f"Instances with disk types drbd cannot be {'failed over' if failover else 'migrated'} to"
                " arbitrary nodes (neither an iallocator nor a target node can be passed)",
                "wrong_input",
            )
        target = inst["snodes"][0]
        new_snodes = [inst["pnode"]]
    elif template in EXT_MIRROR:
        target = _ext_target(ctx, inst, op)
        new_snodes = []
    else:
        verb = "failovers" if failover else "migrations"
        raise OpError(
            "OpPrereqError", f"Instance's disk layout '{template}' does not allow {verb}", "wrong_state"
        )
    if not failover or up:
        check_memory(c, target, inst["beparams"]["minmem"], name)
    else:
        feedback.info(ctx.log, "Not checking memory on the secondary node as instance will not be started")
    if not failover and inst["beparams"].get("always_failover"):
        feedback.info(ctx.log, "Instance configured to always failover; fallback to failover")
        failover = True
    if not failover and not inst["oper_state"]:
        if not fallback:
            message = f"Can't migrate, please use failover: Instance {name} is not running"
            raise OpError("OpPrereqError", message, "wrong_state")
        feedback.info(ctx.log, "Can't migrate, instance offline, fallback to failover")
        failover = True
    old = inst["pnode"]
    if failover:
        feedback.failed_over(ctx.log, inst, old, target, external=template in EXT_MIRROR)
    else:
        feedback.migrated(ctx.log, name, old, target)
    inst["pnode"], inst["snodes"] = target, new_snodes
    touch(inst)
    c.refresh_nodes([old, target, *new_snodes])


def _ext_target(ctx: Context, inst: dict[str, Any], op: dict[str, Any]) -> str:
    """The target of an externally mirrored instance: the given node, or hail's choice in the group."""
    c = ctx.cluster
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
            raise OpError(
                "OpPrereqError",
                "Can't compute nodes using iallocator 'hail': Request failed: Can't find any good node: ",
                "insufficient_resources",
            )
        target = peers[0]
        allocator = op.get("iallocator") or c.info.get("default_iallocator") or "hail"
        feedback.info(
            ctx.log, f"Selected nodes for instance {inst['name']} via iallocator {allocator}: {target}"
        )
    if target == inst["pnode"]:
        message = f"Cannot migrate instance {inst['name']} to its primary ({target})"
        raise OpError("OpPrereqError", message, "wrong_state")
    return str(target)


@effect("OP_INSTANCE_MIGRATE")
def migrate(ctx: Context, op: dict[str, Any]) -> None:
    """Live-migrate an instance: DRBD swaps primary and secondary, shared storage moves to a target."""
    _move_primary(ctx, op, failover=False)


@effect("OP_INSTANCE_FAILOVER")
def failover(ctx: Context, op: dict[str, Any]) -> None:
    """Fail an instance over to its secondary (or a target node for shared storage)."""
    _move_primary(ctx, op, failover=True)


@effect("OP_INSTANCE_RENAME")
def rename(ctx: Context, op: dict[str, Any]) -> str:
    """LUInstanceRename, in Ganeti's order: the IP check needs the name check; the instance; the new name
    resolved (name_check) and its address free (ip_check); no other instance of that name; then, only then,
    an online primary node and a stopped instance."""
    c = ctx.cluster
    if op.get("ip_check", True) and not op.get("name_check", True):
        raise OpError("OpPrereqError", "IP address check requires a name check", "wrong_input")
    inst = get_instance(c, op)
    new = op["new_name"]
    if op.get("name_check", True):
        new = _resolve(ctx, new, ip_check=op.get("ip_check", True))
    if new != inst["name"] and new in c.instances:
        raise OpError("OpPrereqError", f"Instance '{new}' is already in the cluster", "already_exists")
    if c.nodes[inst["pnode"]]["offline"]:
        raise OpError("OpPrereqError", f"Can't use offline node: {inst['pnode']}", "wrong_state")
    check_instance_state(c, inst, INSTANCE_NOT_RUNNING, "cannot rename")
    del c.instances[inst["name"]]
    c.forget(inst["name"])
    inst["name"] = new
    touch(inst)
    c.instances[new] = inst
    c.refresh_nodes([inst["pnode"], *inst["snodes"]])
    return str(new)


def _resolve(ctx: Context, name: str, *, ip_check: bool) -> str:
    """`CheckHostnameSane` in a simulated world whose resolver knows the nodes' names: a short name resolves
    to the full one, and a node's address answers on noded's port, so an IP check finds it in use."""
    full = next((n for n in ctx.cluster.nodes if n == name or n.startswith(name + ".")), None)
    if full is None:
        message = f"The given name ({name}) does not resolve: Name or service not known"
        raise OpError("OpPrereqError", message, "resolver_error")
    if full != name:
        feedback.info(ctx.log, f"Resolved given name '{name}' to '{full}'")
    if ip_check:
        address = ctx.cluster.nodes[full]["pip"]
        raise OpError(
            "OpPrereqError", f"IP {address} of instance {full} already in use", "resource_not_unique"
        )
    return full

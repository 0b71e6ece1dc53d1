"""The state of a simulated cluster: Ganeti-shaped dicts for groups, nodes, instances and networks.

Each object is a plain dict holding its bulk RAPI fields under their query2 names (plus a few more query2
fields, such as `hypervisor` or `nic.vlans`), so that bulk replies are a projection and query2 a lookup.
Dicts held inside objects (`beparams`, `hvparams`, ...) may be shared between objects and are never mutated in
place: a change replaces them. Whoever changes an object calls `touch()` to bump its `serial_no`, which keys
the serialization cache of bulk replies.
"""

from __future__ import annotations

import ipaddress
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

I_FIELDS = [
    "name",
    "admin_state",
    "os",
    "pnode",
    "snodes",
    "disk_template",
    "nic.ips",
    "nic.macs",
    "nic.modes",
    "nic.uuids",
    "nic.names",
    "nic.links",
    "nic.networks",
    "nic.networks.names",
    "nic.bridges",
    "network_port",
    "disk.sizes",
    "disk.spindles",
    "disk_usage",
    "disk.uuids",
    "disk.names",
    "beparams",
    "hvparams",
    "oper_state",
    "oper_ram",
    "oper_vcpus",
    "status",
    "custom_hvparams",
    "custom_beparams",
    "custom_nicparams",
    "ctime",
    "mtime",
    "uuid",
    "serial_no",
    "tags",
]
N_FIELDS = [
    "name",
    "offline",
    "master_candidate",
    "drained",
    "dtotal",
    "dfree",
    "sptotal",
    "spfree",
    "mtotal",
    "mnode",
    "mfree",
    "pinst_cnt",
    "sinst_cnt",
    "ctotal",
    "cnos",
    "cnodes",
    "csockets",
    "pip",
    "sip",
    "role",
    "pinst_list",
    "sinst_list",
    "master_capable",
    "vm_capable",
    "ndparams",
    "group.uuid",
    "ctime",
    "mtime",
    "uuid",
    "serial_no",
    "tags",
]
G_FIELDS = [
    "alloc_policy",
    "name",
    "node_cnt",
    "node_list",
    "ipolicy",
    "custom_ipolicy",
    "diskparams",
    "custom_diskparams",
    "ndparams",
    "custom_ndparams",
    "ctime",
    "mtime",
    "uuid",
    "serial_no",
    "tags",
]
NET_FIELDS = [
    "name",
    "network",
    "gateway",
    "network6",
    "gateway6",
    "mac_prefix",
    "free_count",
    "reserved_count",
    "map",
    "group_list",
    "inst_list",
    "external_reservations",
    "ctime",
    "mtime",
    "uuid",
    "serial_no",
    "tags",
]
NODE_LIVE_FIELDS = ("dtotal", "dfree", "sptotal", "spfree", "mtotal", "mnode", "mfree", "ctotal", "cnos")
NODE_LIVE_FIELDS_ALL = (*NODE_LIVE_FIELDS, "cnodes", "csockets", "bootid")
ROLE_WORDS = {"M": "master", "C": "master-candidate", "R": "regular", "D": "drained", "O": "offline"}
DRBD_META_MIB = 128
LOCAL_DISK_TEMPLATES = frozenset({"drbd", "plain"})
MEMORY_STATUSES = frozenset({"running", "ERROR_up", "ERROR_wrongnode", "ERROR_nodedown", "ERROR_nodeoffline"})


def now() -> float:
    """The current time as Ganeti stores ctime/mtime: float epoch seconds."""
    return time.time()


def new_uuid() -> str:
    """A fresh random UUID string, as Ganeti gives new objects."""
    return str(uuid.uuid4())


def touch(obj: dict[str, Any], when: float | None = None) -> None:
    """Record a change of a config object: bump its serial number and its mtime."""
    obj["serial_no"] = obj.get("serial_no", 0) + 1
    obj["mtime"] = when if when is not None else now()


def node_role(node: dict[str, Any]) -> str:
    """The one-letter role of a node (M, C, R, D or O), as the bulk `role` field gives it."""
    if node.get("master"):
        return "M"
    if node["offline"]:
        return "O"
    if node["drained"]:
        return "D"
    if node["master_candidate"]:
        return "C"
    return "R"


def disk_usage(template: str, sizes: list[int]) -> int:
    """The disk space an instance takes on a node, in MiB, DRBD metadata included."""
    if template == "drbd":
        return sum(sizes) + DRBD_META_MIB * len(sizes)
    if template in ("diskless",):
        return 0
    return sum(sizes)


def instance_status(admin_state: str, running: bool, pnode: dict[str, Any] | None) -> str:
    """The `status` field, from the administrative state and whether the instance really runs."""
    if admin_state == "offline":
        return "ADMIN_offline"
    if pnode is not None and pnode["offline"]:
        return "ERROR_nodeoffline"
    if admin_state == "up":
        return "running" if running else "ERROR_down"
    return "ERROR_up" if running else "ADMIN_down"


@dataclass
class Network:
    """The IP pool of a network: which addresses instances and the outside world have reserved."""

    net: ipaddress.IPv4Network
    reservations: bytearray
    external: bytearray

    @classmethod
    def create(cls, cidr: str, gateway: str | None) -> Network:
        """A pool with the network and broadcast addresses, and the gateway, reserved externally."""
        net = ipaddress.IPv4Network(cidr)
        size = net.num_addresses
        pool = cls(net, bytearray(size), bytearray(size))
        pool.external[0] = 1
        pool.external[size - 1] = 1
        if gateway:
            pool.external[pool.index(gateway)] = 1
        return pool

    def index(self, address: str) -> int:
        """The offset of an address in the network; ValueError if it is outside."""
        offset = int(ipaddress.IPv4Address(address)) - int(self.net.network_address)
        if not 0 <= offset < self.net.num_addresses:
            raise ValueError(f"{address} is not in {self.net}")
        return offset

    def contains(self, address: str) -> bool:
        """Whether the address lies in this network."""
        try:
            self.index(address)
        except ValueError:
            return False
        return True

    def is_reserved(self, address: str) -> bool:
        """Whether the address is taken by an instance or reserved externally."""
        i = self.index(address)
        return bool(self.reservations[i] or self.external[i])

    def reserve(self, address: str, external: bool = False) -> None:
        """Mark one address as taken."""
        (self.external if external else self.reservations)[self.index(address)] = 1

    def release(self, address: str) -> None:
        """Give an instance's address back to the pool."""
        if self.contains(address):
            self.reservations[self.index(address)] = 0

    def take_free(self) -> str | None:
        """Reserve and return the first free address, or None when the pool is full."""
        i = 0
        while (i := self.reservations.find(0, i)) >= 0:
            if not self.external[i]:
                self.reservations[i] = 1
                return str(self.net.network_address + i)
            i += 1
        return None

    def fields(self) -> dict[str, Any]:
        """The pool's query fields: free and reserved counts, the map and external reservations."""
        used = [a or b for a, b in zip(self.reservations, self.external, strict=True)]
        reserved = sum(used)
        base = self.net.network_address
        ext = [str(base + i) for i, flag in enumerate(self.external) if flag]
        return {
            "free_count": len(used) - reserved,
            "reserved_count": reserved,
            "map": "".join("X" if flag else "." for flag in used),
            "external_reservations": ", ".join(ext),
        }


@dataclass
class Cluster:
    """One simulated Ganeti cluster: its config objects, and the caches derived from them."""

    name: str
    info: dict[str, Any]
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    networks: dict[str, dict[str, Any]] = field(default_factory=dict)
    pools: dict[str, Network] = field(default_factory=dict)
    filters: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_port: int = 11000
    _bulk_cache: dict[str, tuple[int, bytes]] = field(default_factory=dict, repr=False)

    # -- lookups ---------------------------------------------------------------------------------------------

    def group_by_uuid(self, group_uuid: str) -> dict[str, Any] | None:
        """The group with this UUID, or None."""
        for group in self.groups.values():
            if group["uuid"] == group_uuid:
                return group
        return None

    def network_by_uuid(self, net_uuid: str) -> dict[str, Any] | None:
        """The network with this UUID, or None."""
        for net in self.networks.values():
            if net["uuid"] == net_uuid:
                return net
        return None

    def master(self) -> str:
        """The master node's name."""
        return str(self.info["master"])

    # -- derived fields --------------------------------------------------------------------------------------

    def refresh_node(self, name: str) -> None:
        """Recompute a node's instance lists, role and live memory/disk figures from the instances on it."""
        node = self.nodes[name]
        prim = sorted(i["name"] for i in self.instances.values() if i["pnode"] == name)
        sec = sorted(i["name"] for i in self.instances.values() if name in i["snodes"])
        self._set_node_instances(node, prim, sec)

    def refresh_nodes(self, names: list[str] | None = None) -> None:
        """Recompute the derived fields of the given nodes (all when None) in one pass over the instances."""
        targets = set(self.nodes) if names is None else {n for n in names if n in self.nodes}
        prim: dict[str, list[str]] = {n: [] for n in targets}
        sec: dict[str, list[str]] = {n: [] for n in targets}
        for inst in self.instances.values():
            if inst["pnode"] in prim:
                prim[inst["pnode"]].append(inst["name"])
            for snode in inst["snodes"]:
                if snode in sec:
                    sec[snode].append(inst["name"])
        for n in targets:
            self._set_node_instances(self.nodes[n], sorted(prim[n]), sorted(sec[n]))

    def _set_node_instances(self, node: dict[str, Any], prim: list[str], sec: list[str]) -> None:
        node["pinst_list"], node["sinst_list"] = prim, sec
        node["pinst_cnt"], node["sinst_cnt"] = len(prim), len(sec)
        node["role"] = node_role(node)
        live = node["_live"]
        used_mem = 0
        used_disk = 0
        for iname in prim:
            inst = self.instances[iname]
            if inst["status"] in MEMORY_STATUSES:
                used_mem += inst["beparams"]["maxmem"]
            if inst["disk_template"] in LOCAL_DISK_TEMPLATES:
                used_disk += inst["disk_usage"]
        for iname in sec:
            inst = self.instances[iname]
            if inst["disk_template"] == "drbd":
                used_disk += inst["disk_usage"]
        live["mfree"] = max(0, live["mtotal"] - live["mnode"] - used_mem)
        live["dfree"] = max(0, live["dtotal"] - used_disk)
        live["spfree"] = max(0, live["sptotal"] - len(prim) - len(sec)) if live["sptotal"] else 0
        down = node["offline"] or not node["vm_capable"]
        for key in NODE_LIVE_FIELDS_ALL:
            node[key] = None if down else live.get(key)

    def refresh_group(self, group: dict[str, Any]) -> None:
        """Recompute a group's node list and count."""
        members = sorted(n["name"] for n in self.nodes.values() if n["group.uuid"] == group["uuid"])
        group["node_list"], group["node_cnt"] = members, len(members)

    def refresh_network(self, net: dict[str, Any]) -> None:
        """Recompute a network's pool figures and its instance list."""
        net.update(self.pools[net["name"]].fields())
        net["inst_list"] = sorted(
            i["name"] for i in self.instances.values() if net["uuid"] in (i["nic.networks"] or [])
        )

    def set_instance_state(self, inst: dict[str, Any], admin_state: str, running: bool) -> None:
        """Change an instance's administrative and operational state, keeping the live fields consistent."""
        inst["admin_state"] = admin_state
        inst["admin_up"] = admin_state == "up"
        inst["oper_state"] = running
        inst["oper_ram"] = inst["beparams"]["maxmem"] if running else None
        inst["oper_vcpus"] = inst["beparams"]["vcpus"] if running else None
        inst["status"] = instance_status(admin_state, running, self.nodes.get(inst["pnode"]))
        touch(inst)

    # -- serialization -------------------------------------------------------------------------------------

    def instance_bulk_json(self, inst: dict[str, Any]) -> bytes:
        """One instance's bulk reply, serialized once per serial number."""
        cached = self._bulk_cache.get(inst["name"])
        if cached is not None and cached[0] == inst["serial_no"]:
            return cached[1]
        data = orjson.dumps({k: inst[k] for k in I_FIELDS})
        self._bulk_cache[inst["name"]] = (inst["serial_no"], data)
        return data

    def instances_bulk_json(self) -> bytes:
        """The whole `/2/instances?bulk=1` reply, sorted by name, from the per-instance cache."""
        return (
            b"["
            + b",".join(self.instance_bulk_json(self.instances[n]) for n in sorted(self.instances))
            + b"]"
        )

    def forget(self, name: str) -> None:
        """Drop a removed or renamed instance from the serialization cache."""
        self._bulk_cache.pop(name, None)


def project(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """The bulk view of an object: the given fields only."""
    return {k: obj.get(k) for k in fields}

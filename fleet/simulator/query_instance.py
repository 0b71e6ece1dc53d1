"""query2 instance fields, compiled once per request into one getter per field.

A query for thousands of instances asks the same fields of each: deciding how to compute a field (a plain key
of the instance dict, a parameter, an indexed disk or NIC value, a field of the primary node's group) is done
once per request, and a row is then one fetch of its plain values plus a call per other field. Nothing is
cached across requests, so every answer shows the state at the moment it is asked, whatever changed and
whether or not `serial_no` moved (Ganeti changes run states and live fields without bumping it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from fleet.simulator.state import Cluster

RS_NORMAL, RS_UNKNOWN, RS_NODATA, RS_UNAVAIL, RS_OFFLINE = 0, 1, 2, 3, 4

# Instance fields from the hypervisor of the primary node: no data while that node is offline, unavailable
# while the instance does not run.
LIVE_INSTANCE_FIELDS = frozenset({"oper_state", "oper_ram", "oper_vcpus"})
# Legacy single-value fields that Ganeti reports unavailable when the value is missing (no such disk or NIC,
# no IP address, no console port).
UNAVAIL_WHEN_NONE = frozenset(
    {
        "ip",
        "mac",
        "bridge",
        "nic_mode",
        "nic_link",
        "nic.mode",
        "nic.link",
        "nic.bridge",
        "sda_size",
        "sdb_size",
        "network_port",
    }
)
_INDEXED = re.compile(r"^(disk|nic)\.(\w+)/(\d+)$")
_PLURALS = {
    "size": "sizes",
    "ip": "ips",
    "mac": "macs",
    "mode": "modes",
    "link": "links",
    "uuid": "uuids",
    "name": "names",
    "network": "networks",
    "bridge": "bridges",
    "vlan": "vlans",
    "spindles": "spindles",
    "network.name": "networks.names",
}
_MISSING = object()

Inst = dict[str, Any]
Raw = Callable[[Inst], tuple[int, Any]]
PairGetter = Callable[[Inst], list[Any]]
"""A compiled field: the `[status, value]` pair of one object (value None unless the status is normal)."""


def _first(key: str) -> Callable[[Inst], Any]:
    return lambda inst: inst[key][0] if inst[key] else None


def _second(key: str) -> Callable[[Inst], Any]:
    return lambda inst: inst[key][1] if len(inst[key]) > 1 else None


# Fields computed from other keys of the instance dict alone.
_SIMPLE: dict[str, Callable[[Inst], Any]] = {
    "disk.count": lambda inst: len(inst["disk.sizes"]),
    "nic.count": lambda inst: len(inst["nic.macs"]),
    "disk.size": lambda inst: inst["disk.sizes"],
    "disk.sizes": lambda inst: inst["disk.sizes"],
    "vcpus": lambda inst: inst["beparams"]["vcpus"],
    "nic.mode": _first("nic.modes"),
    "nic.link": _first("nic.links"),
    "nic.bridge": _first("nic.bridges"),
    "ip": _first("nic.ips"),
    "mac": _first("nic.macs"),
    "bridge": _first("nic.bridges"),
    "nic_mode": _first("nic.modes"),
    "nic_link": _first("nic.links"),
    "sda_size": _first("disk.sizes"),
    "sdb_size": _second("disk.sizes"),
    "serial_no": lambda inst: inst["serial_no"],
    "admin_state_source": lambda inst: inst.get("admin_state_source", "admin"),
}


def _indexed(kind: str, attr: str, idx: int) -> Raw:
    plural = _PLURALS.get(attr)
    key = f"{kind}.{plural}"

    def get(inst: Inst) -> tuple[int, Any]:
        values = inst.get(key) if plural else None
        if values is None or idx >= len(values) or values[idx] is None:
            return RS_UNAVAIL, None
        return RS_NORMAL, values[idx]

    return get


def _params(key: str, param: str) -> Raw:
    def get(inst: Inst) -> tuple[int, Any]:
        params = inst[key]
        return (RS_NORMAL, params[param]) if param in params else (RS_UNAVAIL, None)

    return get


def _computed(cluster: Cluster, name: str, groups: dict[str, dict[str, Any]]) -> Raw:
    """How a field not held under its own name in the instance dict is computed (for every instance)."""
    nodes = cluster.nodes
    if name in ("pnode.group", "pnode.group.uuid"):
        key = "name" if name == "pnode.group" else "uuid"

        def pnode_group(inst: Inst) -> tuple[int, Any]:
            pnode = nodes.get(inst["pnode"])
            if not pnode:
                return RS_UNAVAIL, None
            group = groups.get(pnode["group.uuid"])
            return RS_NORMAL, group[key] if group else None

        return pnode_group
    if name in ("snodes.group", "snodes.group.uuid"):
        key = "name" if name == "snodes.group" else "uuid"
        return lambda inst: (RS_NORMAL, [groups[nodes[s]["group.uuid"]][key] for s in inst["snodes"]])
    if name.startswith("be/"):
        return _params("beparams", name[3:])
    if name.startswith("hv/"):
        return _params("hvparams", name[3:])
    if name.startswith("osparams/") or name.startswith("custom_"):
        return lambda inst: (RS_UNAVAIL, None)
    simple = _SIMPLE.get(name)
    if simple is not None:
        return lambda inst: (RS_NORMAL, simple(inst))
    if name == "console":
        return lambda inst: (RS_NORMAL, console(cluster, inst))
    if name == "pnode.uuid":

        def pnode_uuid(inst: Inst) -> tuple[int, Any]:
            pnode = nodes.get(inst["pnode"])
            return RS_NORMAL, pnode["uuid"] if pnode else None

        return pnode_uuid
    if name == "snodes.uuid":
        return lambda inst: (RS_NORMAL, [nodes[s]["uuid"] for s in inst["snodes"]])
    m = _INDEXED.match(name)
    if m:
        return _indexed(m.group(1), m.group(2), int(m.group(3)))
    if name.startswith("nic.network.name/"):
        return _indexed("nic", "network.name", int(name.rsplit("/", 1)[1]))
    return lambda inst: (RS_UNAVAIL, None)


def instance_getter(cluster: Cluster, name: str, groups: dict[str, dict[str, Any]]) -> PairGetter:
    """The compiled getter of one instance field; `groups` maps group UUIDs to groups.

    A key of the instance dict under the field's own name wins (as a plain value); other fields are computed.
    Legacy single values report unavailable when missing, and live fields no data while the primary node is
    offline and unavailable while the instance is down.
    """
    computed = _computed(cluster, name, groups)
    direct = not name.startswith("_")
    unavail_when_none = name in UNAVAIL_WHEN_NONE
    live = name in LIVE_INSTANCE_FIELDS
    nodes = cluster.nodes

    def raw(inst: Inst) -> tuple[int, Any]:
        value = inst.get(name, _MISSING) if direct else _MISSING
        return computed(inst) if value is _MISSING else (RS_NORMAL, value)

    if not unavail_when_none and not live:
        if not direct:
            return lambda inst: _pair(*computed(inst))

        def plain(inst: Inst) -> list[Any]:
            value = inst.get(name, _MISSING)
            if value is _MISSING:
                status, value = computed(inst)
                return [status, value if status == RS_NORMAL else None]
            return [RS_NORMAL, value]

        return plain

    def checked(inst: Inst) -> list[Any]:
        status, value = raw(inst)
        if status == RS_NORMAL and value is None and unavail_when_none:
            return [RS_UNAVAIL, None]
        if live:
            pnode = nodes.get(inst["pnode"])
            if pnode is None or pnode["offline"]:
                return [RS_NODATA, None]
            if value is None:
                return [RS_UNAVAIL, None]
        return _pair(status, value)

    return checked


def row_builder(
    cluster: Cluster, sample: Inst, names: list[str | None], getters: list[PairGetter]
) -> Callable[[Inst], list[Any]]:
    """The row of `[status, value]` pairs of an instance, field i from `getters[i]` (`names[i]` is the field's
    name, None for an unknown field); `sample` is one of the instances the rows are for.

    Most fields of most queries are the plain value of the key of their name: every such value of a row is
    fetched at once, and a getter runs only where it may answer otherwise (a computed field, a missing key, a
    value of None, a live field while the primary node is down).
    """
    keys: list[str | None] = []
    fixups: list[tuple[int, PairGetter]] = []  # always from the getter
    checks: list[tuple[int, PairGetter, bool]] = []  # from the getter when None, or when live and node down
    for i, (name, get) in enumerate(zip(names, getters, strict=True)):
        if name is None or name.startswith("_") or name not in sample:
            keys.append(None)
            fixups.append((i, get))
            continue
        keys.append(name)
        if name in LIVE_INSTANCE_FIELDS or name in UNAVAIL_WHEN_NONE:
            checks.append((i, get, name in LIVE_INSTANCE_FIELDS))
    direct = [k for k in keys if k is not None]
    if not direct:
        return lambda obj: [get(obj) for get in getters]
    # a field with a getter takes the place of the first plain key, then its pair replaces that value
    fetch = itemgetter(*(k or direct[0] for k in keys), direct[0])  # two keys at least: always a tuple
    normal = (RS_NORMAL,) * len(keys)
    online = {name for name, node in cluster.nodes.items() if not node["offline"]}

    def build(obj: Inst) -> list[Any]:
        try:
            row: list[Any] = list(zip(normal, fetch(obj), strict=False))  # zip stops at the extra key
        except KeyError:  # an instance shaped unlike the sample: every field from its getter
            return [get(obj) for get in getters]
        for i, get in fixups:
            row[i] = get(obj)
        if checks:
            down = obj["pnode"] not in online
            for i, get, live in checks:
                if row[i][1] is None or (live and down):
                    row[i] = get(obj)
        return row

    return build


def _pair(status: int, value: Any) -> list[Any]:
    return [status, value if status == RS_NORMAL else None]


def console(cluster: Cluster, inst: Inst) -> dict[str, Any] | None:
    """The console dict of a running instance (KVM rules), or None when it is not running."""
    if not inst["oper_state"]:
        return None
    hv = inst["hvparams"]
    pnode = cluster.nodes[inst["pnode"]]
    if hv.get("serial_console"):
        return {
            "instance": inst["name"],
            "kind": "ssh",
            "host": pnode["name"],
            "port": pnode["ndparams"].get("ssh_port", 22),
            "user": "root",
            "command": ["/usr/lib/ganeti/tools/kvm-console-wrapper", "/usr/bin/socat", inst["name"]],
        }
    port = inst["network_port"]
    if hv.get("vnc_bind_address") and port and port > 5900:
        return {
            "instance": inst["name"],
            "kind": "vnc",
            "host": hv["vnc_bind_address"],
            "port": port,
            "display": port - 5900,
        }
    return {
        "instance": inst["name"],
        "kind": "msg",
        "message": f"No serial shell for instance {inst['name']}",
    }

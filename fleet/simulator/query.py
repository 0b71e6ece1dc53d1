"""query2: the field catalogue, field values with their result statuses, and the filter language.

`run_query(cluster, jobs, resource, fields, qfilter)` returns the `{"fields", "data"}` reply of
`/2/query/<resource>`; a bad filter raises `QueryError`, which the handler turns into a 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from fleet.simulator.catalogue import FIELDS
from fleet.simulator.state import ROLE_WORDS, Cluster

RS_NORMAL, RS_UNKNOWN, RS_NODATA, RS_UNAVAIL, RS_OFFLINE = 0, 1, 2, 3, 4
MAX_NESTING = 10
RESOURCES = frozenset(FIELDS)
CATALOGUE: dict[str, dict[str, dict[str, str]]] = {
    res: {name: {"name": name, "title": title, "kind": kind, "doc": doc} for name, title, kind, doc in defs}
    for res, defs in FIELDS.items()
}
HOSTNAME_FIELDS = {"instance": {"name", "pnode", "snodes"}, "node": {"name"}, "export": {"node"}}
_INDEXED = re.compile(r"^(disk|nic)\.(\w+)/(\d+)$")
_MISSING = object()

Getter = Callable[[dict[str, Any]], Any]


class QueryError(Exception):
    """A query that Ganeti would reject: unknown resource, bad filter; with the HTTP status RAPI answers.

    luxid's ParameterError for a filter on an unknown field reaches RAPI's HTTP server uncaught: a 500.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def field_defs(resource: str, names: list[str] | None) -> list[dict[str, str]]:
    """The definitions of the requested fields (all, sorted, when None); unknown names get kind `unknown`."""
    cat = CATALOGUE[resource]
    if names is None:
        return list(cat.values())
    return [
        cat.get(n) or {"name": n, "title": n, "kind": "unknown", "doc": f"Unknown field '{n}'"} for n in names
    ]


# -- values ------------------------------------------------------------------------------------------------


def _indexed(obj: dict[str, Any], kind: str, attr: str, idx: int) -> tuple[int, Any]:
    plural = {
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
    }.get(attr)
    values = obj.get(f"{kind}.{plural}") if plural else None
    if values is None or idx >= len(values) or values[idx] is None:
        return RS_UNAVAIL, None
    return RS_NORMAL, values[idx]


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


def _instance_value(cluster: Cluster, inst: dict[str, Any], name: str) -> tuple[int, Any]:
    status, value = _instance_raw(cluster, inst, name)
    if status == RS_NORMAL and value is None and name in UNAVAIL_WHEN_NONE:
        return RS_UNAVAIL, None
    if name in LIVE_INSTANCE_FIELDS:
        pnode = cluster.nodes.get(inst["pnode"])
        if pnode is None or pnode["offline"]:
            return RS_NODATA, None
        if value is None:
            return RS_UNAVAIL, None
    return status, value


def _instance_raw(cluster: Cluster, inst: dict[str, Any], name: str) -> tuple[int, Any]:
    value = inst.get(name, _MISSING)
    if value is not _MISSING and not name.startswith("_"):
        return RS_NORMAL, value
    pnode = cluster.nodes.get(inst["pnode"])
    if name in ("pnode.group", "pnode.group.uuid") and pnode:
        group = cluster.group_by_uuid(pnode["group.uuid"])
        return RS_NORMAL, (group["name"] if name == "pnode.group" else group["uuid"]) if group else None
    if name in ("snodes.group", "snodes.group.uuid"):
        out = []
        for s in inst["snodes"]:
            group = cluster.group_by_uuid(cluster.nodes[s]["group.uuid"])
            out.append(group["name"] if name == "snodes.group" else group["uuid"])
        return RS_NORMAL, out
    if name.startswith("be/"):
        return (RS_NORMAL, inst["beparams"][name[3:]]) if name[3:] in inst["beparams"] else (RS_UNAVAIL, None)
    if name.startswith("hv/"):
        return (RS_NORMAL, inst["hvparams"][name[3:]]) if name[3:] in inst["hvparams"] else (RS_UNAVAIL, None)
    if name.startswith("osparams/") or name.startswith("custom_"):
        return RS_UNAVAIL, None
    simple = {
        "disk.count": lambda: len(inst["disk.sizes"]),
        "nic.count": lambda: len(inst["nic.macs"]),
        "disk.size": lambda: inst["disk.sizes"],
        "vcpus": lambda: inst["beparams"]["vcpus"],
        "nic.mode": lambda: inst["nic.modes"][0] if inst["nic.modes"] else None,
        "nic.link": lambda: inst["nic.links"][0] if inst["nic.links"] else None,
        "nic.bridge": lambda: inst["nic.bridges"][0] if inst["nic.bridges"] else None,
        "ip": lambda: inst["nic.ips"][0] if inst["nic.ips"] else None,
        "mac": lambda: inst["nic.macs"][0] if inst["nic.macs"] else None,
        "bridge": lambda: inst["nic.bridges"][0] if inst["nic.bridges"] else None,
        "nic_mode": lambda: inst["nic.modes"][0] if inst["nic.modes"] else None,
        "nic_link": lambda: inst["nic.links"][0] if inst["nic.links"] else None,
        "sda_size": lambda: inst["disk.sizes"][0] if inst["disk.sizes"] else None,
        "sdb_size": lambda: inst["disk.sizes"][1] if len(inst["disk.sizes"]) > 1 else None,
        "console": lambda: console(cluster, inst),
        "serial_no": lambda: inst["serial_no"],
        "pnode.uuid": lambda: pnode["uuid"] if pnode else None,
        "snodes.uuid": lambda: [cluster.nodes[s]["uuid"] for s in inst["snodes"]],
        "admin_state_source": lambda: inst.get("admin_state_source", "admin"),
        "disk.sizes": lambda: inst["disk.sizes"],
    }
    if name in simple:
        return RS_NORMAL, simple[name]()
    m = _INDEXED.match(name)
    if m:
        return _indexed(inst, m.group(1), m.group(2), int(m.group(3)))
    if name.startswith("nic.network.name/"):
        return _indexed(inst, "nic", "network.name", int(name.rsplit("/", 1)[1]))
    return RS_UNAVAIL, None


def console(cluster: Cluster, inst: dict[str, Any]) -> dict[str, Any] | None:
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


def _node_value(cluster: Cluster, node: dict[str, Any], name: str) -> tuple[int, Any]:
    live = (
        "dtotal",
        "dfree",
        "sptotal",
        "spfree",
        "mtotal",
        "mnode",
        "mfree",
        "ctotal",
        "cnos",
        "cnodes",
        "csockets",
        "bootid",
    )
    if name in live and (node["offline"] or not node["vm_capable"]):
        return (RS_OFFLINE if node["offline"] else RS_UNAVAIL), None
    if name in node and not name.startswith("_"):
        return RS_NORMAL, node[name]
    if name in ("group", "group.name"):
        group = cluster.group_by_uuid(node["group.uuid"])
        return RS_NORMAL, group["name"] if group else None
    if name.startswith("ndp/"):
        key = name[4:]
        return (RS_NORMAL, node["ndparams"][key]) if key in node["ndparams"] else (RS_UNAVAIL, None)
    if name == "role_word":
        return RS_NORMAL, ROLE_WORDS[node["role"]]
    if name in ("custom_ndparams",):
        return RS_NORMAL, {}
    return RS_UNAVAIL, None


def _group_value(cluster: Cluster, group: dict[str, Any], name: str) -> tuple[int, Any]:
    if name in group:
        return RS_NORMAL, group[name]
    members = group["node_list"]
    if name in ("pinst_cnt", "pinst_list"):
        insts = sorted(i["name"] for i in cluster.instances.values() if i["pnode"] in members)
        return RS_NORMAL, insts if name == "pinst_list" else len(insts)
    if name == "networks":
        return RS_NORMAL, [
            net["name"] for net in cluster.networks.values() if net["uuid"] in group["networks"]
        ]
    return RS_UNAVAIL, None


def _network_value(cluster: Cluster, net: dict[str, Any], name: str) -> tuple[int, Any]:
    if name in net:
        return RS_NORMAL, net[name]
    if name == "group_cnt":
        return RS_NORMAL, len(net["group_list"])
    if name == "inst_cnt":
        return RS_NORMAL, len(net["inst_list"])
    return RS_UNAVAIL, None


def _plain_value(_cluster: Cluster, obj: dict[str, Any], name: str) -> tuple[int, Any]:
    if name in obj:
        return RS_NORMAL, obj[name]
    return RS_UNAVAIL, None


VALUE_FUNCS: dict[str, Callable[[Cluster, dict[str, Any], str], tuple[int, Any]]] = {
    "instance": _instance_value,
    "node": _node_value,
    "group": _group_value,
    "network": _network_value,
    "job": _plain_value,
    "filter": _plain_value,
    "lock": _plain_value,
    "export": _plain_value,
}


# -- the filter language -----------------------------------------------------------------------------------


def _short_match(value: Any, wanted: Any) -> bool:
    return value == wanted or (
        isinstance(value, str) and isinstance(wanted, str) and value.startswith(wanted + ".")
    )


def compile_filter(resource: str, qfilter: Any, known: set[str]) -> tuple[Callable[[Getter], bool], set[str]]:
    """Compile a query2 filter into a predicate over a field getter; also return the fields it reads."""
    used: set[str] = set()
    hostnames = HOSTNAME_FIELDS.get(resource, set())

    def field(name: Any) -> str:
        if not isinstance(name, str) or name not in known:
            raise QueryError(f"Can't find field named '{name}'", 500)
        used.add(name)
        return name

    def comp(f: Any, depth: int) -> Callable[[Getter], bool]:
        if depth > MAX_NESTING:
            raise QueryError("Filter nested too deeply")
        if not isinstance(f, list) or not f:
            raise QueryError("Filter must be a non-empty list")
        op, args = f[0], f[1:]
        if not isinstance(op, str):
            raise QueryError("Filter operator must be a string")
        if op in ("|", "&"):
            subs = [comp(a, depth + 1) for a in args]
            if op == "|":
                return lambda get: any(s(get) for s in subs)
            return lambda get: all(s(get) for s in subs)
        if op == "!":
            if len(args) != 1:
                raise QueryError("Operator '!' takes exactly one operand")
            sub = comp(args[0], depth + 1)
            return lambda get: not sub(get)
        if op == "?":
            if len(args) != 1:
                raise QueryError("Operator '?' takes exactly one operand")
            name = field(args[0])
            return lambda get: bool(get(name))
        if op not in ("==", "=", "!=", "<", "<=", ">", ">=", "=~", "=[]"):
            raise QueryError(f"Unknown operator '{op}'")
        if len(args) != 2:
            raise QueryError(f"Operator '{op}' takes exactly two operands")
        name, rhs = field(args[0]), args[1]
        return _binary(op, name, rhs, name in hostnames)

    return comp(qfilter, 0), used


def _binary(op: str, name: str, rhs: Any, hostname: bool) -> Callable[[Getter], bool]:
    if op == "=~":
        if not isinstance(rhs, str):
            raise QueryError("Regular expression must be a string")
        try:
            rx = re.compile(rhs)
        except re.error as exc:
            raise QueryError(f"Invalid regular expression '{rhs}': {exc}") from exc

        def regex(get: Getter) -> bool:
            value = get(name)
            return isinstance(value, str) and rx.search(value) is not None

        return regex
    if op == "=[]":

        def contains(get: Getter) -> bool:
            value = get(name)
            if not isinstance(value, list):
                return False
            return any(_short_match(v, rhs) for v in value) if hostname else rhs in value

        return contains
    if op in ("==", "=", "!="):
        negate = op == "!="

        def equal(get: Getter) -> bool:
            value = get(name)
            same = _short_match(value, rhs) if hostname else value == rhs
            return same != negate

        return equal
    cmp: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }

    def order(get: Getter) -> bool:
        value = get(name)
        try:
            return value is not None and cmp[op](value, rhs)
        except TypeError:
            return False

    return order


# -- running a query ---------------------------------------------------------------------------------------


def objects_for(cluster: Cluster, resource: str, extra: dict[str, Iterable[dict[str, Any]]]) -> list[Any]:
    """The objects a query runs over, sorted as Ganeti sorts them."""
    if resource == "instance":
        return [cluster.instances[n] for n in sorted(cluster.instances)]
    if resource == "node":
        return [cluster.nodes[n] for n in sorted(cluster.nodes)]
    if resource == "group":
        return [cluster.groups[n] for n in sorted(cluster.groups)]
    if resource == "network":
        return [cluster.networks[n] for n in sorted(cluster.networks)]
    if resource == "filter":
        return list(cluster.filters.values())
    return list(extra.get(resource, []))


def run_query(
    cluster: Cluster,
    resource: str,
    fields: list[str],
    qfilter: Any,
    extra: dict[str, Iterable[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The reply of a query2 request: field definitions, and one row of [status, value] pairs per object."""
    if resource not in RESOURCES:
        raise QueryError(f"Resource '{resource}' is not available via query")
    defs = field_defs(resource, fields)
    known = set(CATALOGUE[resource])
    value_of = VALUE_FUNCS[resource]
    predicate = None
    if qfilter is not None:
        predicate, _ = compile_filter(resource, qfilter, known)
    rows = []
    for obj in objects_for(cluster, resource, extra or {}):
        if predicate is not None:

            def get(name: str, obj: dict[str, Any] = obj) -> Any:
                status, value = value_of(cluster, obj, name)
                return value if status == RS_NORMAL else None

            if not predicate(get):
                continue
        row = []
        for d in defs:
            if d["kind"] == "unknown":
                row.append([RS_UNKNOWN, None])
            else:
                status, value = value_of(cluster, obj, d["name"])
                row.append([status, value if status == RS_NORMAL else None])
        rows.append(row)
    return {"fields": defs, "data": rows}

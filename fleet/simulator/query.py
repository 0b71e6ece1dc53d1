"""query2: the field catalogue, field values with their result statuses, and the filter language.

`run_query(cluster, resource, fields, qfilter, extra)` returns the JSON `{"fields", "data"}` reply of
`/2/query/<resource>`; a bad filter raises `QueryError`, which the handler turns into a 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from fleet.simulator.catalogue import FIELDS
from fleet.simulator.query_instance import (
    RS_NORMAL,
    RS_OFFLINE,
    RS_UNAVAIL,
    RS_UNKNOWN,
    PairGetter,
    instance_getter,
    row_builder,
)
from fleet.simulator.state import ROLE_WORDS, Cluster

MAX_NESTING = 10
ROWS_PER_CHUNK = 20  # rows encoded per call
RESOURCES = frozenset(FIELDS)
CATALOGUE: dict[str, dict[str, dict[str, str]]] = {
    res: {name: {"name": name, "title": title, "kind": kind, "doc": doc} for name, title, kind, doc in defs}
    for res, defs in FIELDS.items()
}
HOSTNAME_FIELDS = {"instance": {"name", "pnode", "snodes"}, "node": {"name"}, "export": {"node"}}

Getter = Callable[[str], Any]
"""A field's value for one object by field name (None unless its status is normal), as filters read it."""


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
    members = set(group["node_list"])
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


# Resources other than instances: few objects, each field computed by name.
VALUE_FUNCS: dict[str, Callable[[Cluster, dict[str, Any], str], tuple[int, Any]]] = {
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
                return _any_equal(args, hostnames) or (lambda get: any(s(get) for s in subs))
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


def _any_equal(args: list[Any], hostnames: set[str]) -> Callable[[Getter], bool] | None:
    """`|` of string equalities on one field (how clients ask for objects by name) as a set lookup, or None.

    Equivalent to trying each: a hostname field also matches a wanted short name followed by a dot, so every
    part of the value before a dot is looked up too. Non-string values match no string: the same answer.
    """
    if not args or not all(
        isinstance(a, list) and len(a) == 3 and a[0] in ("==", "=") and isinstance(a[2], str) for a in args
    ):
        return None
    name = args[0][1]
    if any(a[1] != name for a in args):
        return None
    wanted = frozenset(a[2] for a in args)
    hostname = name in hostnames

    def member(get: Getter) -> bool:
        value = get(name)
        if not isinstance(value, str):
            return False
        if value in wanted:
            return True
        if hostname:
            dot = value.find(".")
            while dot >= 0:
                if value[:dot] in wanted:
                    return True
                dot = value.find(".", dot + 1)
        return False

    return member


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


def objects_for(cluster: Cluster, resource: str, extra: Mapping[str, Iterable[dict[str, Any]]]) -> list[Any]:
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


def _getters(cluster: Cluster, resource: str, defs: list[dict[str, str]]) -> dict[str, PairGetter]:
    """One compiled getter per distinct field name, for every object of the query."""
    if resource == "instance":
        groups = {g["uuid"]: g for g in cluster.groups.values()}
        return {d["name"]: instance_getter(cluster, d["name"], groups) for d in defs}
    value_of = VALUE_FUNCS[resource]

    def generic(name: str) -> PairGetter:
        def get(obj: dict[str, Any]) -> list[Any]:
            status, value = value_of(cluster, obj, name)
            return [status, value if status == RS_NORMAL else None]

        return get

    return {d["name"]: generic(d["name"]) for d in defs}


def _unknown(_obj: dict[str, Any]) -> list[Any]:
    return [RS_UNKNOWN, None]


def run_query(
    cluster: Cluster,
    resource: str,
    fields: list[str],
    qfilter: Any,
    extra: Mapping[str, Iterable[dict[str, Any]]] | None = None,
) -> bytes:
    """The JSON reply of a query2 request: field definitions, and one row of [status, value] pairs per object.

    Every value is computed from the state as it is now; the work of choosing how to compute each field is
    done once per request rather than once per object.
    """
    if resource not in RESOURCES:
        raise QueryError(f"Resource '{resource}' is not available via query")
    defs = field_defs(resource, fields)
    known = set(CATALOGUE[resource])
    predicate = None
    used: set[str] = set()
    if qfilter is not None:
        predicate, used = compile_filter(resource, qfilter, known)
    wanted = [d for d in defs if d["kind"] != "unknown"]
    getters = _getters(cluster, resource, [*wanted, *(CATALOGUE[resource][n] for n in used)])
    row_getters = [_unknown if d["kind"] == "unknown" else getters[d["name"]] for d in defs]
    objects = objects_for(cluster, resource, extra or {})
    if predicate is not None:
        test = predicate

        def keep(obj: dict[str, Any]) -> bool:
            return test(lambda name: getters[name](obj)[1])

        objects = [obj for obj in objects if keep(obj)]
    if resource == "instance" and objects:
        names = [None if d["kind"] == "unknown" else d["name"] for d in defs]
        build = row_builder(cluster, objects[0], names, row_getters)
    else:

        def build(obj: dict[str, Any]) -> list[Any]:
            return [get(obj) for get in row_getters]

    # Rows are encoded a few at a time and then freed: thousands held as objects at once would set the
    # garbage collector scanning the whole cluster state again and again; one call per row costs more.
    chunks = [
        orjson.dumps([build(obj) for obj in objects[start : start + ROWS_PER_CHUNK]])[1:-1]
        for start in range(0, len(objects), ROWS_PER_CHUNK)
    ]
    return b'{"fields":' + orjson.dumps(defs) + b',"data":[' + b",".join(chunks) + b"]}"

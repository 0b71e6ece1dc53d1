"""query2: the field catalogue, field values with their result statuses, and the filter language.

`run_query(cluster, resource, fields, qfilter, extra)` returns the JSON `{"fields", "data"}` reply of
`/2/query/<resource>`; a request Ganeti refuses raises `QueryError` with the HTTP status RAPI answers. The
filter language itself is in `qlang.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import orjson

from fleet.simulator import qlang
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

ROWS_PER_CHUNK = 20  # rows encoded per call
RESOURCES = frozenset(FIELDS)
CATALOGUE: dict[str, dict[str, dict[str, str]]] = {
    res: {name: {"name": name, "title": title, "kind": kind, "doc": doc} for name, title, kind, doc in defs}
    for res, defs in FIELDS.items()
}
HOSTNAME_FIELDS = {"instance": {"name", "pnode", "snodes"}, "node": {"name"}, "export": {"node"}}


class QueryError(Exception):
    """A query that Ganeti would reject, with the HTTP status RAPI answers: 502 for a request luxid cannot
    parse (a malformed filter), 500 for luxid's ParameterError (a filter on an unknown field or on values of
    the wrong type), which reaches RAPI's HTTP server uncaught."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


# query types luxid knows but answers only through opcodes, by their Haskell names
OPCODE_ONLY = {"os": "QROs", "cluster": "QRCluster"}


def unparsable(request: list[Any], error: str) -> QueryError:
    """luxid cannot read the request: RAPI passes that on as a 502."""
    return QueryError(
        f"Failed to parse request: Cannot convert value '{json.dumps(request)}', error: {error}", 502
    )


def unknown_resource(resource: str, request: list[Any], what: str = "Query") -> QueryError:
    """The refusal of a query (`what`="Query") or field list ("QueryFields") on a resource outside query2."""
    if resource in OPCODE_ONLY:
        return QueryError(f"{what} 'ItemTypeOpCode {OPCODE_ONLY[resource]}' not supported", 500)
    return unparsable(request, f"Can't parse value '{resource}' as neitherQueryTypeLuxi nor QueryTypeOp")


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


# network fields luxid reports as unavailable rather than null when the network has none
NETWORK_OPTIONAL = frozenset({"gateway", "network6", "gateway6", "mac_prefix"})


def _network_value(cluster: Cluster, net: dict[str, Any], name: str) -> tuple[int, Any]:
    if name in NETWORK_OPTIONAL and net.get(name) is None:
        return RS_UNAVAIL, None
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


def _check_requested(cluster: Cluster, resource: str, qfilter: Any) -> None:
    """luxid looks up each instance a name-only filter asks for: an unknown one is a 500 for the whole
    query (seen on Ganeti 3.0.2; ``["&", filter]`` asks the same without the lookup)."""
    names = qlang.requested_names(qfilter) if resource == "instance" else None
    if not names:
        return
    known = cluster.instances
    for name in names:
        if not isinstance(name, str) or not (
            name in known or any(qlang.short_match(other, name) for other in known)
        ):
            raise QueryError(f"('Instance name {name} not found', 'unknown_entity')", 500)


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
        raise unknown_resource(resource, [resource, fields, qfilter])
    defs = field_defs(resource, fields)
    known = set(CATALOGUE[resource])
    predicate = None
    used: set[str] = set()
    if qfilter is not None:
        try:
            qlang.parse(qfilter)
        except qlang.FilterParseError as exc:
            request = json.dumps([resource, fields, qfilter])
            raise QueryError(
                f"Failed to parse request: Cannot convert value '{request}', error: {exc}", 502
            ) from None
        try:
            predicate, used = qlang.compile_filter(qfilter, known, HOSTNAME_FIELDS.get(resource, set()))
        except qlang.UnknownField as exc:
            raise QueryError(str(exc), 500) from None
        _check_requested(cluster, resource, qfilter)
    wanted = [d for d in defs if d["kind"] != "unknown"]
    getters = _getters(cluster, resource, [*wanted, *(CATALOGUE[resource][n] for n in used)])
    row_getters = [_unknown if d["kind"] == "unknown" else getters[d["name"]] for d in defs]
    objects = objects_for(cluster, resource, extra or {})
    if predicate is not None:
        test = predicate

        def keep(obj: dict[str, Any]) -> bool:
            return test(lambda name: getters[name](obj))

        try:
            objects = [obj for obj in objects if keep(obj)]
        except qlang.FilterEvalError as exc:
            raise QueryError(str(exc), 500) from None
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

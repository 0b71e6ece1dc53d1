"""Handlers of the cluster-wide resources: root, version, info, features, OS, tags, query2 and filters."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fleet.simulator import oses
from fleet.simulator.base import Ctx, HttpError
from fleet.simulator.query import RESOURCES, QueryError, field_defs, run_query, unknown_resource

FEATURES = ["instance-create-reqv1", "instance-reinstall-reqv1", "node-migrate-reqv1", "node-evac-res1"]
TAG_KINDS = {"instances": "instance", "nodes": "node", "groups": "nodegroup", "networks": "network"}


def root(ctx: Ctx) -> None:
    """GET / and /2: null."""
    return None


def version(ctx: Ctx) -> int:
    """GET /version: the RAPI version, 2."""
    return 2


def info(ctx: Ctx) -> dict[str, Any]:
    """GET /2/info: the cluster dict."""
    return ctx.cluster.info


def features(ctx: Ctx) -> list[str]:
    """GET /2/features."""
    return FEATURES


def os_list(ctx: Ctx) -> list[str]:
    """GET /2/os: every variant of the OS definitions every node has."""
    return oses.os_names()


def redistribute_config(ctx: Ctx) -> int:
    """PUT /2/redistribute-config."""
    return ctx.submit("OP_CLUSTER_REDIST_CONF", {}, {})


def modify_cluster(ctx: Ctx) -> int:
    """PUT /2/modify: OP_CLUSTER_SET_PARAMS (`compression_tools` is forbidden over RAPI)."""
    body = ctx.body_dict()
    if "compression_tools" in body:
        raise HttpError(403, "The parameter compression_tools cannot be set via RAPI")
    return ctx.submit("OP_CLUSTER_SET_PARAMS", body, {})


# -- tags --------------------------------------------------------------------------------------------------


def _tag_owner(ctx: Ctx) -> tuple[str, str | None, dict[str, Any] | None]:
    if not ctx.items:
        return "cluster", None, ctx.cluster.info
    kind = TAG_KINDS[ctx.items[0]]
    name = ctx.items[1]
    c = ctx.cluster
    table = {"instance": c.instances, "node": c.nodes, "nodegroup": c.groups, "network": c.networks}[kind]
    return kind, name, table.get(name)


def get_tags(ctx: Ctx) -> list[str]:
    """GET .../tags: the object's tags."""
    _kind, _name, obj = _tag_owner(ctx)
    if obj is None:
        raise HttpError(404)
    return list(obj["tags"])


def _tags_job(ctx: Ctx, op_id: str) -> int:
    kind, name, _obj = _tag_owner(ctx)
    tags = [t for t in ctx.query.getall("tag", []) if t]  # blank values are dropped, as by parse_qs
    return ctx.submit(op_id, {}, {"kind": kind, "name": name, "tags": list(tags), "dry_run": ctx.dry_run()})


def put_tags(ctx: Ctx) -> int:
    """PUT .../tags?tag=a&tag=b: a job adding the tags (the body is ignored)."""
    return _tags_job(ctx, "OP_TAGS_SET")


def delete_tags(ctx: Ctx) -> int:
    """DELETE .../tags?tag=a: a job removing the tags."""
    return _tags_job(ctx, "OP_TAGS_DEL")


# -- query2 ------------------------------------------------------------------------------------------------


def _split_fields(raw: str) -> list[str]:
    return [f.strip() for f in raw.split(",") if f.strip()]


def _query(ctx: Ctx, fields: Any, qfilter: Any) -> bytes:
    resource = ctx.items[0]
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise HttpError(400, "The 'fields' parameter should be a list of strings")
    extra = {"job": ctx.rt.queue.jobs.values(), "lock": ctx.rt.queue.locks.rows(), "export": []}
    try:
        return run_query(ctx.cluster, resource, fields, qfilter, extra)
    except QueryError as exc:
        raise HttpError(exc.status, str(exc)) from None


def query_get(ctx: Ctx) -> bytes:
    """GET /2/query/R?fields=a,b: every object, no filter."""
    raw = ctx.str_arg("fields")
    if raw is None:
        raise HttpError(400, "Missing 'fields' query argument")
    return _query(ctx, _split_fields(raw), None)


def query_put(ctx: Ctx) -> bytes:
    """PUT /2/query/R with {fields, qfilter} (or the legacy `filter`)."""
    body = ctx.body_dict()
    if "fields" in body:
        fields = body["fields"]
    else:
        raw = ctx.str_arg("fields")
        if raw is None:
            raise HttpError(400, "Missing 'fields' query argument")
        fields = _split_fields(raw)
    qfilter = body.get("qfilter")
    if qfilter is None:
        qfilter = body.get("filter")
    return _query(ctx, fields, qfilter)


def query_fields(ctx: Ctx) -> dict[str, Any]:
    """GET /2/query/R/fields[?fields=a,b]: field definitions."""
    resource = ctx.items[0]
    raw = ctx.str_arg("fields")
    names = _split_fields(raw) if raw is not None else None
    if resource not in RESOURCES:
        error = unknown_resource(resource, [resource, names], "QueryFields")
        raise HttpError(error.status, str(error))
    return {"fields": field_defs(resource, names)}


# -- job filters -------------------------------------------------------------------------------------------

FILTER_KEYS = {"priority": 0, "predicates": [], "action": "CONTINUE", "reason": []}
ACTIONS = ("ACCEPT", "PAUSE", "REJECT", "CONTINUE")
PREDICATES = ("jobid", "opcode", "reason")
BINARY = ("==", "<", "<=", ">", ">=", "=~", "=[]")


def _unparsable(error: str) -> HttpError:
    """luxid's refusal of a rule it cannot deserialise, which RAPI passes on as a 502."""
    return HttpError(502, f"Failed to parse request: {error}")


def _normalise(f: Any) -> Any:
    """A query filter as luxid stores it: `=` becomes `==` and `a != b` becomes `!(a == b)`."""
    if not isinstance(f, list) or not f or not isinstance(f[0], str):
        raise _unparsable(f"Invalid filter: {f!r}")
    op, args = f[0], f[1:]
    if op in ("&", "|"):
        return [op, *(_normalise(a) for a in args)]
    if op == "!" and len(args) == 1:
        return ["!", _normalise(args[0])]
    if op == "?" and len(args) == 1:
        return ["?", args[0]]
    if op in (*BINARY, "=", "!="):
        if len(args) != 2:
            raise _unparsable(
                f"Cannot deserialise field/value pair, expected [fieldname, value] but got {args!r}"
            )
        if op == "!=":
            return ["!", ["==", *args]]
        return ["==" if op == "=" else op, *args]
    raise _unparsable(f"Unknown filter operand '{op}'")


def _predicates(value: Any) -> list[list[Any]]:
    if not isinstance(value, list):
        raise _unparsable(f"Invalid predicates: {value!r}")
    out = []
    for pred in value:
        if not (isinstance(pred, list) and len(pred) == 2 and pred[0] in PREDICATES):
            name = pred[0] if isinstance(pred, list) and pred else pred
            raise _unparsable(
                f"malformed FilterPredicate: bad parameter list for '{name}' predicate: {pred[1:]!r}"
                if isinstance(pred, list)
                else f"malformed FilterPredicate: {pred!r}"
            )
        out.append([pred[0], _normalise(pred[1])])
    return out


def _filter_rule(ctx: Ctx, rule_uuid: str) -> dict[str, Any]:
    body = ctx.body
    if not isinstance(body, dict):
        raise HttpError(400, "Invalid body contents, not a dictionary")
    unknown = set(body) - set(FILTER_KEYS)
    if unknown:
        raise HttpError(
            400,
            f"Invalid body parameters: filter rule doesn't support the parameter(s) "
            f"{', '.join(sorted(unknown))}",
        )
    values = {**FILTER_KEYS, **body}
    action = values["action"]
    if not (
        action in ACTIONS or (isinstance(action, list) and len(action) == 2 and action[0] == "RATE_LIMIT")
    ):
        raise HttpError(400, f"Invalid filter action {action!r}")
    if not isinstance(values["priority"], int) or values["priority"] < 0:
        raise HttpError(400, "Invalid filter priority")
    reason = [*values["reason"], ["luxid", "", time.time_ns()]]
    return {
        "uuid": rule_uuid,
        "watermark": ctx.rt.queue.next_id - 1,
        "priority": values["priority"],
        "predicates": _predicates(values["predicates"]),
        "action": action,
        "reason_trail": reason,
    }


def list_filters(ctx: Ctx) -> list[Any]:
    """GET /2/filters: uuids and URIs sorted by uuid, or full rules with bulk=1."""
    rules = sorted(ctx.cluster.filters.values(), key=lambda r: r["uuid"])
    if ctx.bool_arg("bulk"):
        return rules
    return [{"uuid": r["uuid"], "uri": f"/2/filters/{r['uuid']}"} for r in rules]


def add_filter(ctx: Ctx) -> str:
    """POST /2/filters: add a rule, return its uuid."""
    rule = _filter_rule(ctx, str(uuid.uuid4()))
    ctx.cluster.filters[rule["uuid"]] = rule
    ctx.rt.queue.schedule()
    return str(rule["uuid"])


def get_filter(ctx: Ctx) -> dict[str, Any]:
    """GET /2/filters/U."""
    rule = ctx.cluster.filters.get(ctx.items[0])
    if rule is None:
        raise HttpError(404)
    return rule


def replace_filter(ctx: Ctx) -> str:
    """PUT /2/filters/U: create or replace the rule under that uuid."""
    rule = _filter_rule(ctx, ctx.items[0])
    ctx.cluster.filters[rule["uuid"]] = rule
    ctx.rt.queue.schedule()
    return str(rule["uuid"])


def delete_filter(ctx: Ctx) -> None:
    """DELETE /2/filters/U."""
    if ctx.cluster.filters.pop(ctx.items[0], None) is None:
        raise HttpError(404)
    ctx.rt.queue.schedule()
    return None

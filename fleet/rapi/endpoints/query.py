"""query2: `/2/query/<resource>` with explicit fields and a filter, and `/2/query/<resource>/fields`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from fleet.rapi.models import FieldDef, QueryResult, parse_fields
from fleet.rapi.wire import Call, path, query

Resource = Literal["instance", "node", "group", "network", "job", "export", "lock", "filter"]
QueryFilter = list[Any]
"""A query2 filter as nested lists, e.g. `["&", ["=~", "name", "^web"], ["==", "status", "running"]]`;
`fleet.rapi.qfilter` builds them."""


def _fields_arg(fields: Sequence[str]) -> str:
    if isinstance(fields, str):
        raise TypeError("fields must be a sequence of names, not a string")
    if not fields:
        raise ValueError("a query needs at least one field")
    return ",".join(fields)


def run(resource: Resource, fields: Sequence[str], qfilter: QueryFilter | None = None) -> Call[QueryResult]:
    """PUT /2/query/R with `{"fields", "qfilter"}`: the rows matching the filter (needs `read`)."""
    _fields_arg(fields)
    return Call(
        "PUT", path("query", resource), QueryResult.parse, body={"fields": list(fields), "qfilter": qfilter}
    )


def get(resource: Resource, fields: Sequence[str]) -> Call[QueryResult]:
    """GET /2/query/R?fields=a,b: every row, unfiltered."""
    return Call("GET", path("query", resource), QueryResult.parse, query(("fields", _fields_arg(fields))))


def fields(resource: Resource, names: Sequence[str] | None = None) -> Call[list[FieldDef]]:
    """GET /2/query/R/fields: the definitions of the named fields, or of all of them."""
    params = query(("fields", None if names is None else _fields_arg(names)))
    return Call("GET", path("query", resource, "fields"), parse_fields, params)

"""Job-queue filter rules (`/2/filters`): list, read, add, replace, delete; synchronous, not jobs."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from fleet.rapi.wire import Call, as_dict, as_str, dicts, ignore, names_of, path

FilterAction = str | builtins.list[Any]
"""`ACCEPT`, `PAUSE`, `REJECT`, `CONTINUE` or `["RATE_LIMIT", n]`."""


def list() -> Call[builtins.list[str]]:
    """GET /2/filters: the uuids of the filter rules, in insertion order."""
    return Call("GET", "/2/filters", names_of("uuid"))


def bulk() -> Call[builtins.list[dict[str, Any]]]:
    """GET /2/filters?bulk=1: every rule (`uuid watermark priority predicates action reason_trail`)."""
    return Call("GET", "/2/filters", dicts, (("bulk", "1"),))


def get(uuid: str) -> Call[dict[str, Any]]:
    """GET /2/filters/U: one rule (NotFound if unknown)."""
    return Call("GET", path("filters", uuid), as_dict)


def _rule(
    priority: int, predicates: Sequence[Any], action: FilterAction, reason: Sequence[Any]
) -> dict[str, object]:
    return {
        "priority": priority,
        "predicates": builtins.list(predicates),
        "action": action,
        "reason": builtins.list(reason),
    }


def add(
    *,
    priority: int = 0,
    predicates: Sequence[Any] = (),
    action: FilterAction = "CONTINUE",
    reason: Sequence[Any] = (),
) -> Call[str]:
    """POST /2/filters: add a rule; returns its uuid."""
    return Call("POST", "/2/filters", as_str, body=_rule(priority, predicates, action, reason))


def replace(
    uuid: str,
    *,
    priority: int = 0,
    predicates: Sequence[Any] = (),
    action: FilterAction = "CONTINUE",
    reason: Sequence[Any] = (),
) -> Call[str]:
    """PUT /2/filters/U: create or replace the rule with this uuid; returns the uuid."""
    return Call("PUT", path("filters", uuid), as_str, body=_rule(priority, predicates, action, reason))


def delete(uuid: str) -> Call[None]:
    """DELETE /2/filters/U."""
    return Call("DELETE", path("filters", uuid), ignore)

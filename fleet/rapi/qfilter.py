"""Builders for query2 filters (reference §4.9), so callers write `and_(eq("status", "running"), ...)`
instead of nesting lists by hand. The result is the plain list the server expects."""

from __future__ import annotations

from typing import Any

Filter = list[Any]


def and_(*filters: Filter) -> Filter:
    """All of the filters hold."""
    return ["&", *filters]


def or_(*filters: Filter) -> Filter:
    """At least one of the filters holds."""
    return ["|", *filters]


def not_(qfilter: Filter) -> Filter:
    """The filter does not hold."""
    return ["!", qfilter]


def true(field: str) -> Filter:
    """The field's value is true (non-empty, non-zero)."""
    return ["?", field]


def eq(field: str, value: Any) -> Filter:
    """`field == value`; on hostname fields Ganeti also matches the short name."""
    return ["==", field, value]


def ne(field: str, value: Any) -> Filter:
    """`field != value`."""
    return ["!=", field, value]


def lt(field: str, value: Any) -> Filter:
    """`field < value`."""
    return ["<", field, value]


def le(field: str, value: Any) -> Filter:
    """`field <= value`."""
    return ["<=", field, value]


def gt(field: str, value: Any) -> Filter:
    """`field > value`."""
    return [">", field, value]


def ge(field: str, value: Any) -> Filter:
    """`field >= value`."""
    return [">=", field, value]


def regex(field: str, pattern: str) -> Filter:
    """An unanchored PCRE search of `pattern` in the field (flags inline, e.g. `(?i)`)."""
    return ["=~", field, pattern]


def contains(field: str, value: Any) -> Filter:
    """A list field (tags, snodes, ...) contains the value."""
    return ["=[]", field, value]


def any_of(field: str, values: list[Any]) -> Filter:
    """The field equals one of the values (an `or` of `==`)."""
    return or_(*(eq(field, v) for v in values))

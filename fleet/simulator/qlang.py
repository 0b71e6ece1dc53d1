"""query2's filter language as luxid (Ganeti 3.0's Haskell query code) reads and evaluates it.

Two stages with their own failures, as in Ganeti:
- parsing (`Query/Language.hs`): an unknown operator, a wrong number of operands, a value that is neither a
  string nor an integer, a bad regular expression. luxid cannot even read the request, and RAPI answers 502
  "Failed to parse request: ..." (`FilterParseError`).
- evaluation (`Query/Filter.hs`), per object: a field whose value is not available (an instance that is not
  running has no `oper_ram`, a disk index past the last disk) lets every comparison pass, so a negated one
  fails; comparing values of different types, `?` on a non-boolean or `=[]` on a non-list is a ParameterError
  that reaches RAPI uncaught: 500 (`FilterEvalError`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_NESTING = 10
BINARY = ("==", "=", "!=", "<", "<=", ">", ">=", "=~", "=[]")
RS_NORMAL = 0

Pair = list[Any]  # [result status, value]
PairOf = Callable[[str], Pair]
"""A field's [status, value] for one object, by field name."""
Predicate = Callable[[PairOf], bool]


class FilterParseError(Exception):
    """A filter luxid cannot deserialise (RAPI: 502)."""


class FilterEvalError(Exception):
    """A filter that fails on an object's values (RAPI: 500)."""


class UnknownField(Exception):
    """A filter naming a field the resource lacks (RAPI: 500 "Can't find field named ...")."""


def encode(value: Any) -> str:
    """JSON as Ganeti's Haskell code prints it in messages: compact."""
    return json.dumps(value, separators=(",", ":"))


def _filter_value(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FilterParseError(
            f"Cannot deserialise filter value, expecting string or integer, got {encode(value)}"
        )
    return value


def _shown(value: str | int) -> str:
    """Haskell's `show` of a filter value."""
    return f"QuotedString {json.dumps(value)}" if isinstance(value, str) else f"NumericValue {value}"


def parse(qfilter: Any, depth: int = 0) -> Any:
    """Check a filter's syntax as luxid deserialises it; returns it unchanged."""
    if depth > MAX_NESTING:
        raise FilterParseError("Filter nested too deeply")
    if not isinstance(qfilter, list) or not qfilter or not isinstance(qfilter[0], str):
        raise FilterParseError(
            f"Cannot deserialise filter: expected array [string, args], got {encode(qfilter)}"
        )
    op, args = qfilter[0], qfilter[1:]
    if op in ("&", "|"):
        for sub in args:
            parse(sub, depth + 1)
    elif op == "!":
        if len(args) != 1:
            raise FilterParseError(
                f"Cannot deserialise filter: expected ['!', filter], got {encode(qfilter)}"
            )
        parse(args[0], depth + 1)
    elif op == "?":
        if len(args) != 1 or not isinstance(args[0], str):
            raise FilterParseError(f"Cannot deserialise filter: expected ['?', field], got {encode(qfilter)}")
    elif op in BINARY:
        if len(args) != 2 or not isinstance(args[0], str):
            raise FilterParseError(
                f"Cannot deserialise field/value pair, expected [fieldname, value] but got {encode(args)}"
            )
        value = _filter_value(args[1])
        if op == "=~":
            try:
                re.compile(str(value))
            except re.error as exc:
                raise FilterParseError(f'({exc.pos or 0},"{exc.msg}")') from exc
    else:
        raise FilterParseError(f"Unknown filter operand '{op}'")
    return qfilter


def requested_names(qfilter: Any, field: str = "name") -> list[Any] | None:
    """luxid's ``requestedNames``: the names a filter asks for when it is only equalities on the name field,
    alone or in (nested) ors; None for any other filter. luxid looks these up one by one, so an unknown one
    fails the whole query."""
    if not isinstance(qfilter, list) or not qfilter:
        return None
    op, args = qfilter[0], qfilter[1:]
    if op == "|":
        names: list[Any] = []
        for sub in args:
            found = requested_names(sub, field)
            if found is None:
                return None
            names.extend(found)
        return names
    if op in ("=", "==") and len(args) == 2 and args[0] == field:
        return [args[1]]
    return None


def short_match(value: str, wanted: str) -> bool:
    """A hostname field also matches a short name: `web1` is `web1.example.org`."""
    return value == wanted or value.startswith(wanted + ".")


def compile_filter(qfilter: Any, known: set[str], hostnames: set[str]) -> tuple[Predicate, set[str]]:
    """A parsed filter as a predicate over an object's field pairs; also the fields it reads."""
    used: set[str] = set()

    def field(name: str) -> str:
        if name not in known:
            raise UnknownField(f"Can't find field named '{name}'")
        used.add(name)
        return name

    def comp(f: list[Any]) -> Predicate:
        op, args = f[0], f[1:]
        if op in ("|", "&"):
            subs = [comp(a) for a in args]
            if op == "|":
                return _any_equal(args, hostnames) or (lambda get: any(s(get) for s in subs))
            return lambda get: all(s(get) for s in subs)
        if op == "!":
            sub = comp(args[0])
            return lambda get: not sub(get)
        if op == "?":
            return _available(field(args[0]), _true)
        name = field(args[0])
        if op == "!=":
            # luxid reads `!=` as the negation of `==`: a value that is not available fails it
            equal = _available(name, _binary("==", args[1], name in hostnames))
            return lambda get: not equal(get)
        return _available(name, _binary(op, args[1], name in hostnames))

    return comp(qfilter), used


def _available(name: str, test: Callable[[Any], bool]) -> Predicate:
    """Ganeti's wrapGetter: a value that is not available passes."""

    def check(get: PairOf) -> bool:
        status, value = get(name)
        return True if status != RS_NORMAL else test(value)

    return check


def _true(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FilterEvalError(f"Unexpected value '{encode(value)}' in boolean context")
    return value


def _comparable(value: Any, rhs: str | int) -> bool:
    if isinstance(rhs, str):
        return isinstance(value, str)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _binary(op: str, rhs: str | int, hostname: bool) -> Callable[[Any], bool]:
    if op == "=~":
        rx = re.compile(str(rhs))

        def regex(value: Any) -> bool:
            if not isinstance(value, str):
                raise FilterEvalError(
                    f"Invalid field value used in regexp matching, expecting string but got '{encode(value)}'"
                )
            return rx.search(value) is not None

        return regex
    if op == "=[]":
        return _contains(rhs, hostname)
    compare: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "==": lambda a, b: a == b or (hostname and short_match(a, b)),
    }
    compare["="] = compare["=="]
    test = compare[op]

    def binary(value: Any) -> bool:
        if not _comparable(value, rhs):
            raise FilterEvalError(
                f"Invalid types in comparison, trying to compare {encode(value)} with '{_shown(rhs)}'"
            )
        return test(value, rhs)

    return binary


def _contains(rhs: str | int, hostname: bool) -> Callable[[Any], bool]:
    kind = "String" if isinstance(rhs, str) else "Integer"

    def contains(value: Any) -> bool:
        if not isinstance(value, list):
            raise FilterEvalError(f"Cannot convert value '{encode(value)}', error: Unable to read list")
        for item in value:
            if not _comparable(item, rhs) or isinstance(item, float):
                raise FilterEvalError(f"Cannot convert value '{encode(item)}', error: Unable to read {kind}")
        if hostname and isinstance(rhs, str):
            return any(short_match(v, rhs) for v in value)
        return rhs in value

    return contains


def _any_equal(args: list[Any], hostnames: set[str]) -> Predicate | None:
    """`|` of string equalities on one field (how clients ask for objects by name) as a set lookup, or None.

    Equivalent to trying each: a hostname field also matches a wanted short name followed by a dot, so every
    part of the value before a dot is looked up too.
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
    first = args[0][2]

    def member(get: PairOf) -> bool:
        status, value = get(name)
        if status != RS_NORMAL:
            return True
        if not isinstance(value, str):
            raise FilterEvalError(
                f"Invalid types in comparison, trying to compare {encode(value)} with '{_shown(first)}'"
            )
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

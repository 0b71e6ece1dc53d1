"""Values no parameter should crash on, and what each kind of parameter answers to each: quoting,
wildcards, control, direction and non-ASCII characters, other scripts' digits, huge and negative numbers,
empty sort keys, very long values."""

from __future__ import annotations

from fleet.api import urls as api_urls
from fleet.inventory.filtersets import (
    ChoicesFilter,
    ClusterFilterSet,
    FigureFilter,
    InstanceFilterSet,
    NamesFilter,
    NetworkFilterSet,
    NodeFilterSet,
    NodeGroupFilterSet,
    SortFilter,
    TextFilter,
    TruthFilter,
)
from fleet.jobs.filtersets import JobFilterSet
from fleet.operations.filtersets import OperationFilterSet
from fleet.requests.filtersets import SshKeyFilterSet

# What each kind of parameter answers to each value: 200 (results) or 400 (an error naming it). PAST: a page
# number that exists or not (the pages show the last page, the API answers 404 past it). One row per value,
# one column per kind: text, names, choice, figure, truth, sort, page, page_size.
PAST = 0
KINDS = ("text", "names", "choice", "figure", "truth", "sort", "page", "page_size")
TABLE: list[tuple[str, tuple[int, int, int, int, int, int, int, int]]] = [
    ("", (200, 200, 200, 200, 200, 200, 200, 200)),
    (" ", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("'", (200, 200, 400, 400, 400, 400, 400, 400)),
    ('"', (200, 200, 400, 400, 400, 400, 400, 400)),
    ("%", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("_", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("\\", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("' OR 1=1 --", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("\x00", (400, 400, 400, 400, 400, 400, 400, 400)),
    ("a\x00b", (400, 400, 400, 400, 400, 400, 400, 400)),
    ("\x1b[31m", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("\u200f", (200, 200, 400, 400, 400, 400, 400, 400)),  # a right-to-left mark
    ("\u202eevil", (200, 200, 400, 400, 400, 400, 400, 400)),  # a right-to-left override
    ("\ufffd\ufffd", (200, 200, 400, 400, 400, 400, 400, 400)),  # what undecodable bytes become
    ("ünïcode δοκιμή", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("😀", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("<script>alert(1)</script>", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("[]", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("{}", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("null", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("maybe", (200, 200, 400, 400, 400, 400, 400, 400)),
    (",", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("name,", (200, 200, 400, 400, 400, 400, 400, 400)),  # an empty sort key
    (",,", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("0", (200, 200, 400, 200, 200, 400, 400, 400)),
    ("1", (200, 200, 400, 200, 200, 400, 200, 400)),
    ("2", (200, 200, 400, 200, 400, 400, PAST, 400)),
    ("3", (200, 200, 400, 200, 400, 400, PAST, 400)),
    ("20", (200, 200, 400, 200, 400, 400, PAST, 200)),
    ("true", (200, 200, 400, 400, 200, 400, 400, 400)),
    ("FALSE", (200, 200, 400, 400, 200, 400, 400, 400)),
    ("last", (200, 200, 400, 400, 400, 400, 200, 400)),
    ("-1", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("-0", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("+2", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("2_0", (200, 200, 400, 400, 400, 400, 400, 400)),  # Python's int() reads it as 20
    ("\uff12\uff10", (200, 200, 400, 400, 400, 400, 400, 400)),  # fullwidth digits
    ("\u0662\u0660", (200, 200, 400, 400, 400, 400, 400, 400)),  # Arabic-Indic digits
    ("1.5", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("1e999", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("NaN", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("Infinity", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("0x10", (200, 200, 400, 400, 400, 400, 400, 400)),
    ("9" * 40, (200, 200, 400, 400, 400, 400, 400, 400)),
    ("-" + "9" * 20, (200, 200, 400, 400, 400, 400, 400, 400)),
    ("a" * 201, (400, 200, 400, 400, 400, 400, 400, 400)),  # text is at most 200 characters
    ("a" * 254, (400, 400, 400, 400, 400, 400, 400, 400)),  # a name at most 253
    ("a" * 10_000, (400, 400, 400, 400, 400, 400, 400, 400)),
]
NASTY = [value for value, _ in TABLE]


def kind(filterset: type, param: str) -> str:
    """Which column of TABLE a list's parameter answers by."""
    if param in PAGE_PARAMS:
        return param
    found = filterset.base_filters[param]
    for cls, name in KIND_OF_FILTER:
        if isinstance(found, cls):
            return name
    raise AssertionError(f"{filterset.__name__}.{param}: a filter of a kind TABLE does not cover")


def expected(filterset: type, param: str, value: str) -> int:
    """The status TABLE gives ``value`` of ``param`` (PAST for a page number that may be past the end)."""
    column = KINDS.index(kind(filterset, param))
    return dict(TABLE)[value][column]


def one_param_per_kind(filterset: type) -> list[str]:
    """A parameter of each kind the list has: each gets every value of TABLE."""
    chosen: dict[str, str] = {}
    for param in params(filterset):
        chosen.setdefault(kind(filterset, param), param)
    return list(chosen.values())


SAMPLE = ["", "\x00", "1", "true", "a" * 254]
"""The values every other parameter gets: enough to tell its kind apart."""


PAGE_PARAMS = ["page", "page_size"]

LISTS = {
    "/": InstanceFilterSet,
    "/clusters/": ClusterFilterSet,
    "/nodes/": NodeFilterSet,
    "/jobs/": JobFilterSet,
    "/audit/": OperationFilterSet,
}

API_LISTS = {
    "/api/instances/": InstanceFilterSet,
    "/api/clusters/": ClusterFilterSet,
    "/api/nodes/": NodeFilterSet,
    "/api/groups/": NodeGroupFilterSet,
    "/api/networks/": NetworkFilterSet,
    "/api/jobs/": JobFilterSet,
    "/api/operations/": OperationFilterSet,
    "/api/ssh-keys/": SshKeyFilterSet,
}
assert {f"/api/{prefix}/" for prefix, _, _ in api_urls.router.registry} == set(API_LISTS)


def params(filterset: type) -> list[str]:
    return [*filterset.base_filters, *PAGE_PARAMS]


KIND_OF_FILTER = (
    (TextFilter, "text"),
    (NamesFilter, "names"),
    (ChoicesFilter, "choice"),
    (FigureFilter, "figure"),
    (TruthFilter, "truth"),
    (SortFilter, "sort"),
)

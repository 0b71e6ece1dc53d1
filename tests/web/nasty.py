"""Values no parameter should crash on: quoting, wildcards, control and non-ASCII characters, huge numbers."""

from __future__ import annotations

from fleet.api import urls as api_urls
from fleet.inventory.filtersets import (
    ClusterFilterSet,
    InstanceFilterSet,
    NetworkFilterSet,
    NodeFilterSet,
    NodeGroupFilterSet,
)
from fleet.jobs.filtersets import JobFilterSet
from fleet.operations.filtersets import OperationFilterSet

NASTY = [
    "'",
    '"',
    "%",
    "_",
    "\\",
    "' OR 1=1 --",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "ünïcode δοκιμή",
    "😀",
    "<script>alert(1)</script>",
    "9" * 40,
    "-1",
    "-0",
    "1e999",
    "NaN",
    "Infinity",
    "0x10",
    "1.5",
    " ",
    "a" * 5000,
    "[]",
    "{}",
    "null",
    "last",
]

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
}
assert {f"/api/{prefix}/" for prefix, _, _ in api_urls.router.registry} == set(API_LISTS)


def params(filterset: type) -> list[str]:
    return [*filterset.base_filters, *PAGE_PARAMS]

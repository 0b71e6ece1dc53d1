"""query2's filter language at its edges (what luxid cannot parse, values that are not available, values of
the wrong type), resources outside query2, and bulk fields of instances and networks."""

from __future__ import annotations

import html
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.official import batch, call, facts, http, job, ok, succeeded
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance


def _query(target: RapiTarget, body: dict[str, Any], resource: str = "instance") -> tuple[int, Any]:
    with http(target) as client:
        reply = client.put(f"/2/query/{resource}", json=body)
    data = reply.json()
    if reply.status_code != 200:
        return reply.status_code, html.unescape(data["message"])
    return 200, data["data"]


@pytest.mark.parametrize(
    ("qfilter", "error"),
    [
        (["~~", "name", "x"], "Unknown filter operand '~~'"),
        (["=", "name"], 'Cannot deserialise field/value pair, expected [fieldname, value] but got ["name"]'),
        ("name", 'Cannot deserialise filter: expected array [string, args], got "name"'),
        (["!", "name"], 'Cannot deserialise filter: expected array [string, args], got "name"'),
        (
            ["=", "admin_state", True],
            "Cannot deserialise filter value, expecting string or integer, got true",
        ),
        (["=", "name", None], "Cannot deserialise filter value, expecting string or integer, got null"),
        (["=~", "name", "("], None),
        (["~~", "nosuchfield", 1], "Unknown filter operand '~~'"),  # before the field is looked up
    ],
)
def test_filters_luxid_cannot_parse_are_502(target: RapiTarget, qfilter: Any, error: str | None) -> None:
    status, message = _query(target, {"fields": ["name"], "qfilter": qfilter})
    request = json.dumps(["instance", ["name"], qfilter])
    assert status == 502
    assert message.startswith(f"Failed to parse request: Cannot convert value '{request}', error: ")
    if error is not None:
        assert message.endswith(f", error: {error}")


@pytest.fixture(scope="module")
def pair(module_target: RapiTarget) -> Iterator[tuple[str, str]]:
    """A running and a stopped instance of this module's own (diskless: quick to make), which its tests only
    query."""
    target = module_target
    f = facts(target)
    unique = uuid.uuid4().hex[:8]
    running, stopped = f"conf-{unique}-up.example.test", f"conf-{unique}-down.example.test"
    steps = [
        job("CreateInstance", "create", name, "diskless", [], [{}], os=f.os, name_check=False, ip_check=False,
            start=start, pnode=f.nodes[0], beparams={"maxmem": 64, "minmem": 64, "vcpus": 1})
        for name, start in ((running, True), (stopped, False))
    ]  # fmt: skip
    for report in batch(target, steps):
        succeeded(report)
    yield running, stopped
    batch(target, [job("DeleteInstance", running), job("DeleteInstance", stopped)])


def _mine(names: tuple[str, str], *conditions: Any) -> list[Any]:
    return ["&", ["|", *(["=", "name", n] for n in names)], *conditions]


def test_unavailable_values_pass_every_comparison(module_target: RapiTarget, pair: tuple[str, str]) -> None:
    target = module_target
    running, stopped = pair

    def matching(*conditions: Any) -> list[str]:
        status, rows = _query(target, {"fields": ["name"], "qfilter": _mine(pair, *conditions)})
        assert status == 200, rows
        return sorted(row[0][1] for row in rows)

    assert matching(["=", "oper_ram", 64]) == sorted(pair)  # the stopped one has no oper_ram: it passes
    assert matching(["<", "oper_ram", 1]) == [stopped]
    assert matching(["!", ["<", "oper_ram", 1]]) == [running]
    assert matching(["!=", "oper_ram", 1]) == [running]  # `!=` is the negation of `==`
    assert matching(["!=", "oper_ram", 64]) == []
    assert matching(["=", "disk.size/3", 10]) == sorted(pair)  # no such disk: not available either
    assert matching(["?", "oper_state"]) == [running]
    status, rows = _query(target, {"fields": ["name", "oper_ram"], "qfilter": _mine(pair)})
    assert status == 200
    assert sorted(rows) == sorted([[[0, running], [0, 64]], [[0, stopped], [3, None]]])


def test_values_of_the_wrong_type_are_500(module_target: RapiTarget, pair: tuple[str, str]) -> None:
    target = module_target
    running, stopped = pair
    cases = [
        (
            ["=", "name", 1],
            f"Invalid types in comparison, trying to compare \"{running}\" with 'NumericValue 1'",
        ),
        (
            ["=", "oper_ram", "64"],
            "Invalid types in comparison, trying to compare 64 with 'QuotedString \"64\"'",
        ),
        (["?", "name"], f"Unexpected value '\"{running}\"' in boolean context"),
        (["=[]", "name", "x"], f"Cannot convert value '\"{running}\"', error: Unable to read list"),
        (["=", "nosuchfield", 1], "Can't find field named 'nosuchfield'"),
    ]
    for condition, error in cases:
        qfilter = ["&", ["=", "name", running], condition]
        assert _query(target, {"fields": ["name"], "qfilter": qfilter}) == (500, error)
    # the same comparison on the stopped instance meets no value, so no error
    qfilter = ["&", ["=", "name", stopped], ["=", "oper_ram", "64"]]
    assert _query(target, {"fields": ["name"], "qfilter": qfilter}) == (200, [[[0, stopped]]])


@pytest.mark.parametrize(
    ("resource", "status", "error"),
    [
        ("os", 500, "Query 'ItemTypeOpCode QROs' not supported"),
        ("cluster", 500, "Query 'ItemTypeOpCode QRCluster' not supported"),
        (
            "extstorage",
            502,
            'Failed to parse request: Cannot convert value \'["extstorage", ["name"], null]\', error: Can\'t'
            " parse value 'extstorage' as neitherQueryTypeLuxi nor QueryTypeOp",
        ),
    ],
)
def test_resources_outside_query2(target: RapiTarget, resource: str, status: int, error: str) -> None:
    assert _query(target, {"fields": ["name"]}, resource) == (status, error)
    with http(target) as client:
        reply = client.get(f"/2/query/{resource}/fields")
    expected = error.replace("Query '", "QueryFields '").replace('["name"], null]', "null]")
    assert (reply.status_code, html.unescape(reply.json()["message"])) == (status, expected)


def test_bulk_fields_of_instances_networks_and_os(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    group = next(iter(f.groups))
    net, name = f"net-{unique}", f"conf-{unique}.example.test"
    disks = [{"size": 64}, {"size": 32, "name": "data"}]
    nics = [{"network": net, "ip": "pool"}, {}]
    r = batch(
        target,
        [
            job("CreateNetwork", net, "10.99.0.0/28", gateway="10.99.0.1", add_reserved_ips="10.99.0.5",
                tags="a"),
            job("ConnectNetwork", net, group, "bridged", f.nic_link),
            call("GetNetwork", net),
            job("CreateInstance", "create", name, "file", disks, nics, os=f.os, name_check=False,
                ip_check=False, start=False, pnode=f.nodes[0], beparams={"maxmem": 64, "vcpus": 1}),
            call("GetInstances", bulk=True),
            call("GetNetworks", bulk=True),
            call("Query", "network", ["name", "gateway", "network6", "gateway6", "mac_prefix", "inst_cnt"],
                 ["=", "name", net]),
            call("GetOperatingSystems"),
            job("DeleteInstance", name),
            job("DisconnectNetwork", net, group),
            job("DeleteNetwork", net),
        ],
    )  # fmt: skip
    for index in (0, 1, 3, 8, 9, 10):
        succeeded(r[index])
    inst = next(i for i in ok(r[4]) if i["name"] == name)
    assert inst["disk.sizes"] == [64, 32] and inst["disk.names"] == [None, "data"]
    assert inst["custom_nicparams"] == [{"mode": "bridged", "link": f.nic_link, "vlan": ""}, {}]
    assert inst["nic.ips"] == ["10.99.0.2", None] and inst["nic.networks.names"] == [net, None]
    assert inst["nic.links"] == [f.nic_link, f.nic_link] and inst["nic.bridges"] == [f.nic_link, f.nic_link]
    (network,) = (n for n in ok(r[5]) if n["name"] == net)
    assert network["serial_no"] == ok(r[2])["serial_no"] == 1  # the connection is the group's change
    assert network["group_list"] == [[group, "bridged", f.nic_link, ""]] and network["inst_list"] == [name]
    assert (network["free_count"], network["reserved_count"]) == (11, 5)
    assert network["map"] == "XXX..X.........X"
    assert network["external_reservations"] == "10.99.0.0, 10.99.0.1, 10.99.0.5, 10.99.0.15"
    assert ok(r[6])["data"] == [[[0, net], [0, "10.99.0.1"], [3, None], [3, None], [3, None], [0, 1]]]
    assert ok(r[7]) == sorted(ok(r[7])) and f.os in ok(r[7])

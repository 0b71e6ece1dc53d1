"""query2 answers follow the state at once: after any change, the very next answer shows it.

The worker syncs with three instance queries (every instance in full, the change markers of every instance,
and instances in full by name); each is asked twice before a change, so that an answer kept from an earlier
request would be there to go stale. The changes cover jobs that bump `serial_no` (startup, shutdown, tags,
modify, rename) and one that changes instances without it (their primary node going offline).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fleet.rapi.fields import INSTANCE_FIELDS
from tests.conftest import Simulated
from tests.simulator.helpers import client, instances, ok, wait_job
from tests.targets import RapiTarget

FULL = [*INSTANCE_FIELDS, "beparams", "custom_beparams"]  # the worker's fields, and parameter dicts
MARKERS = ["name", "uuid", "serial_no", "mtime", "status", "oper_state", "oper_ram", "oper_vcpus", "pnode"]
Row = dict[str, list[Any]]


@pytest.fixture
def cl(fresh_simulator: Callable[..., Simulated]) -> httpx.Client:
    return client(fresh_simulator().targets[0])


def _rows(cl: httpx.Client, fields: list[str], qfilter: list[Any] | None = None) -> dict[str, Row]:
    """Each row of a query2 answer by instance name, as {field: [status, value]} (`name` comes first)."""
    result = ok(cl.put("/2/query/instance", json={"fields": fields, "qfilter": qfilter}))
    return {row[0][1]: dict(zip(fields, row, strict=True)) for row in result["data"]}


def _views(cl: httpx.Client, name: str) -> tuple[Row, Row, Row]:
    """The instance's row in the full answer, in the markers, and in a full answer asked for by name."""
    full, markers = _rows(cl, FULL), _rows(cl, MARKERS)
    by_name = _rows(cl, FULL, ["|", ["=", "name", name]])
    assert list(by_name) == [name]
    return full[name], markers[name], by_name[name]


def _warm(cl: httpx.Client, name: str) -> tuple[Row, Row, Row]:
    _views(cl, name)
    return _views(cl, name)


def _job(cl: httpx.Client, resp: httpx.Response) -> None:
    job = wait_job(cl, ok(resp))
    assert job["status"] == "success", job["opresult"]


def _pick(cl: httpx.Client, status: str) -> dict[str, Any]:
    master = ok(cl.get("/2/info"))["master"]
    return next(i for i in instances(cl).values() if i["status"] == status and i["pnode"] != master)


def test_startup_and_shutdown_show_at_once(cl: httpx.Client) -> None:
    inst = _pick(cl, "ADMIN_down")
    name, maxmem, vcpus = inst["name"], inst["beparams"]["maxmem"], inst["beparams"]["vcpus"]
    for row in _warm(cl, name):
        assert row["status"] == [0, "ADMIN_down"] and row["oper_state"] == [0, False]
        assert row["oper_ram"] == [3, None] and row["oper_vcpus"] == [3, None]
    _job(cl, cl.put(f"/2/instances/{name}/startup"))
    for row in _warm(cl, name):
        assert row["status"] == [0, "running"] and row["oper_state"] == [0, True]
        assert row["oper_ram"] == [0, maxmem] and row["oper_vcpus"] == [0, vcpus]
        assert row["serial_no"][1] > inst["serial_no"]
    full, _, _ = _views(cl, name)
    assert full["admin_state"] == [0, "up"] and full["disks_active"] == [0, True]
    _job(cl, cl.put(f"/2/instances/{name}/shutdown", json={}))
    for row in _views(cl, name):
        assert row["status"] == [0, "ADMIN_down"] and row["oper_ram"] == [3, None]


def test_tags_show_at_once(cl: httpx.Client) -> None:
    name = _pick(cl, "running")["name"]
    before = _warm(cl, name)
    _job(cl, cl.put(f"/2/instances/{name}/tags", params={"tag": "fresh:tag"}))
    full, markers, by_name = _views(cl, name)
    assert "fresh:tag" in full["tags"][1] and "fresh:tag" in by_name["tags"][1]
    assert markers["serial_no"][1] > before[1]["serial_no"][1]
    _job(cl, cl.delete(f"/2/instances/{name}/tags", params={"tag": "fresh:tag"}))
    full, _, by_name = _views(cl, name)
    assert "fresh:tag" not in full["tags"][1] and "fresh:tag" not in by_name["tags"][1]


def test_modify_shows_in_plain_computed_and_live_fields(cl: httpx.Client) -> None:
    inst = _pick(cl, "running")
    name, vcpus = inst["name"], inst["beparams"]["vcpus"]
    _warm(cl, name)
    _job(cl, cl.put(f"/2/instances/{name}/modify", json={"beparams": {"vcpus": vcpus + 1}}))
    full, markers, by_name = _views(cl, name)
    for row in (full, by_name):
        assert row["beparams"][1]["vcpus"] == vcpus + 1 and row["custom_beparams"][1]["vcpus"] == vcpus + 1
        assert row["vcpus"] == [0, vcpus + 1]  # computed from beparams
    for row in (full, markers, by_name):
        assert row["oper_vcpus"] == [0, vcpus]  # live: as Ganeti, the new count applies at the next start
    _job(cl, cl.post(f"/2/instances/{name}/reboot", params={"type": "soft"}))
    for row in _views(cl, name):
        assert row["oper_vcpus"] == [0, vcpus]  # the same hypervisor process: KVM keeps its command line
    _job(cl, cl.post(f"/2/instances/{name}/reboot", params={"type": "hard"}))
    for row in _views(cl, name):
        assert row["oper_vcpus"] == [0, vcpus + 1]


def test_rename_shows_at_once(cl: httpx.Client) -> None:
    old = _pick(cl, "ADMIN_down")["name"]
    new = "renamed-fresh.example.org"
    _warm(cl, old)
    _job(
        cl,
        cl.put(f"/2/instances/{old}/rename", json={"new_name": new, "name_check": False, "ip_check": False}),
    )
    full, markers = _rows(cl, FULL), _rows(cl, MARKERS)
    assert old not in full and old not in markers
    assert full[new]["name"] == [0, new] and markers[new]["name"] == [0, new]
    # names alone are looked up, as luxid does: the old one is not found (conformance: test_query_names)
    gone = cl.put("/2/query/instance", json={"fields": ["name"], "qfilter": ["|", ["=", "name", old]]})
    assert gone.status_code == 500 and f"Instance name {old} not found" in gone.text
    assert _rows(cl, FULL, ["&", ["|", ["=", "name", old]]]) == {}
    assert list(_rows(cl, FULL, ["|", ["=", "name", new]])) == [new]


def test_node_offline_shows_without_a_serial_bump(cl: httpx.Client) -> None:
    """Ganeti changes the run state and live fields of an instance without bumping its serial_no."""
    inst = _pick(cl, "running")
    name, pnode = inst["name"], inst["pnode"]
    before = _warm(cl, name)
    _job(cl, cl.put(f"/2/nodes/{pnode}/role", json="offline"))
    for old, row in zip(before, _views(cl, name), strict=True):
        assert row["serial_no"] == old["serial_no"]
        assert row["status"] == [0, "ERROR_nodeoffline"]
        assert row["oper_state"] == [2, None] and row["oper_ram"] == [2, None]  # no data from the node
    _job(cl, cl.put(f"/2/nodes/{pnode}/role", json="regular"))
    for row in _views(cl, name):
        assert row["status"] == [0, "running"] and row["oper_state"] == [0, True]


def test_query_agrees_with_bulk_for_every_instance(simulator: list[RapiTarget]) -> None:
    """Every field the bulk list also has, for every instance, read through query2 as the worker asks."""
    with client(simulator[0], "read") as http:
        bulk = instances(http)
        rows = _rows(http, FULL)
    shared = [f for f in FULL if f in next(iter(bulk.values()))]
    assert len(shared) > 25 and set(rows) == set(bulk)
    for name, row in rows.items():
        for field in shared:
            status, value = row[field]
            assert value == bulk[name][field], (name, field)
            assert status == (0 if value is not None else 3), (name, field)

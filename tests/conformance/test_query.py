"""query2 (/2/query/<resource>) through the official client and raw requests, ported from qa_rapi.py."""

from __future__ import annotations

import pytest

from tests.conformance.official import batch, call, create, facts, http, job, ok, succeeded
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance

RESOURCES = ("instance", "node", "group", "network", "job", "export", "lock", "filter")


def test_fields_catalogue(target: RapiTarget) -> None:
    steps = [call("QueryFields", what) for what in RESOURCES]
    steps += [
        call("QueryFields", what, fields=["name", "no_such_field", "uuid"]) for what in ("node", "group")
    ]
    r = batch(target, steps)
    for what, report in zip(RESOURCES, r, strict=False):
        fields = ok(report)["fields"]
        assert fields, what
        assert all(set(fd) == {"name", "title", "kind", "doc"} for fd in fields), what
        # the whole catalogue, requested again field by field, comes back complete and in the requested order
    for report in r[len(RESOURCES) :]:
        fields = ok(report)["fields"]
        assert [fd["name"] for fd in fields] == ["name", "no_such_field", "uuid"]
        assert fields[1]["kind"] == "unknown"


def test_full_field_list_in_requested_order(target: RapiTarget) -> None:
    (catalogue,) = batch(target, [call("QueryFields", "node")])
    names = [fd["name"] for fd in ok(catalogue)["fields"]]
    wanted = list(reversed(names))
    (reply,) = batch(target, [call("Query", "node", wanted)])
    assert [fd["name"] for fd in ok(reply)["fields"]] == wanted
    assert all(len(row) == len(wanted) for row in ok(reply)["data"])


def test_get_needs_fields_trims_whitespace_and_keeps_duplicates(target: RapiTarget) -> None:
    with http(target) as c:
        assert c.get("/2/query/node").status_code == 400
        reply = c.get("/2/query/node", params={"fields": " name , role ,name"})
    assert reply.status_code == 200
    body = reply.json()
    assert [fd["name"] for fd in body["fields"]] == ["name", "role", "name"]
    assert all(row[0] == row[2] for row in body["data"])


def test_unknown_field_and_unavailable_values(target: RapiTarget) -> None:
    f = facts(target)
    (reply,) = batch(target, [call("Query", "node", ["name", "no_such_field"], ["==", "name", f.master])])
    body = ok(reply)
    assert body["fields"][1]["kind"] == "unknown"
    assert body["data"] == [[[0, f.master], [1, None]]]


def test_master_filter(target: RapiTarget) -> None:
    f = facts(target)
    (reply,) = batch(target, [call("Query", "node", ["name", "master", "role"], ["?", "master"])])
    assert ok(reply)["data"] == [[[0, f.master], [0, True], [0, "M"]]]


def test_instance_filters(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    up, down = f"conf-{unique}-up.example.test", f"conf-{unique}-down.example.test"
    fields = ["name", "status", "tags", "nic.ip/3", "oper_ram"]
    r = batch(
        target,
        [
            create(up, f, tags=[f"conf:{unique}"]),
            create(down, f, start=False),
            call("Query", "instance", fields, ["=~", "name", f"^conf-{unique}-"]),
            call("Query", "instance", ["name"], ["&", ["=~", "name", unique], ["==", "status", "running"]]),
            call("Query", "instance", ["name"], ["=[]", "tags", f"conf:{unique}"]),
            call("Query", "instance", ["name"], ["|", ["==", "name", up], ["==", "name", down]]),
            call(
                "Query",
                "instance",
                ["name"],
                ["&", ["=~", "name", unique], ["!", ["==", "status", "running"]]],
            ),
            call("Query", "instance", ["name"], ["==", "name", f"conf-{unique}-up"]),  # short name matches
            job("DeleteInstance", up),
            job("DeleteInstance", down),
        ],
    )
    succeeded(r[0])
    succeeded(r[1])
    rows = {row[0][1]: row for row in ok(r[2])["data"]}
    assert set(rows) == {up, down}
    assert rows[up][1] == [0, "running"] and rows[down][1] == [0, "ADMIN_down"]
    assert rows[up][2] == [0, [f"conf:{unique}"]]
    assert rows[up][3] == [3, None]  # nic 3 of 1: unavailable
    assert rows[up][4] == [0, 64] and rows[down][4][0] != 0  # no oper_ram while down

    def names(i: int) -> list[str]:
        return [row[0][1] for row in ok(r[i])["data"]]

    assert names(3) == [up]
    assert names(4) == [up]
    assert sorted(names(5)) == sorted([up, down])
    assert names(6) == [down]
    assert names(7) == [up]
    succeeded(r[8])
    succeeded(r[9])


def test_query_jobs_and_locks_with_put(target: RapiTarget) -> None:
    (jobs,) = batch(target, [call("GetJobs")])
    newest = max(int(j) for j in ok(jobs))
    r = batch(
        target,
        [
            call("Query", "job", ["id", "status", "summary"], ["==", "id", newest]),
            call("Query", "lock", ["name", "mode", "owner", "pending"]),
        ],
    )
    (row,) = ok(r[0])["data"]
    assert row[0] == [0, newest] and row[1][0] == 0
    assert [fd["name"] for fd in ok(r[1])["fields"]] == ["name", "mode", "owner", "pending"]

"""Behaviours checked against a real Ganeti 3.0.2 daemon: tag syntax, state checks, dry runs, the job wait
errors, filter rules as luxid stores them, node evacuation and migration, live query2 statuses, allocation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Simulated, start_simulated
from tests.simulator.helpers import client, instances, ok, wait_job


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulated]:
    simulated = start_simulated(Path(tmp_path_factory.mktemp("parity")))
    try:
        yield simulated
    finally:
        simulated.stop()


@pytest.fixture
def cl(sim: Simulated) -> Iterator[httpx.Client]:
    with client(sim.targets[0]) as http:
        yield http


def _job(cl: httpx.Client, resp: httpx.Response) -> dict[str, Any]:
    return wait_job(cl, ok(resp))


def _create_body(name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "__version__": 1, "mode": "create", "instance_name": name, "disk_template": "plain",
        "disks": [{"size": 1024}], "nics": [{}], "os_type": "debootstrap+default",
        "beparams": {"maxmem": 512, "vcpus": 1}, "name_check": False, "ip_check": False,
    }  # fmt: skip
    body.update(extra)
    return body


def test_tag_syntax_is_checked_by_the_job(cl: httpx.Client) -> None:
    job = _job(cl, cl.put("/2/tags", params={"tag": "bad tag with spaces"}))
    assert job["status"] == "error"
    assert job["opresult"] == [["TagError", ["Tag contains invalid characters"]]]
    node = next(iter(ok(cl.get("/2/nodes"))))["id"]
    job = _job(cl, cl.put(f"/2/nodes/{node}/tags", params={"tag": "x" * 129}))
    assert job["opresult"] == [["TagError", ["Tag too long (>128 characters)"]]]
    job = _job(cl, cl.delete("/2/tags", params={"tag": "a b"}))
    assert job["opresult"] == [["TagError", ["Tag contains invalid characters"]]]
    job = _job(cl, cl.put("/2/tags", params={"tag": ""}))  # a blank value is dropped, as by parse_qs
    assert job["status"] == "success" and job["ops"][0]["tags"] == []
    job = _job(cl, cl.put("/2/tags", params={"tag": ["ok:tag@1", "fine/+*.-"]}))
    assert job["status"] == "success"
    assert {"ok:tag@1", "fine/+*.-"} <= set(ok(cl.get("/2/tags")))


def test_rename_refused_while_marked_up(cl: httpx.Client) -> None:
    inst = next(i for i in instances(cl).values() if i["admin_state"] == "up")
    body = {"new_name": "renamed.example.org", "name_check": False, "ip_check": False}  # else: resolver_error
    job = _job(cl, cl.put(f"/2/instances/{inst['name']}/rename", json=body))
    assert job["opresult"] == [
        ["OpPrereqError", [f"Instance '{inst['name']}' is marked to be up, cannot rename", "wrong_state"]]
    ]
    assert inst["name"] in instances(cl)


def test_dry_run_create_answers_node_uuids_and_creates_nothing(cl: httpx.Client) -> None:
    nodes = {n["name"]: n["uuid"] for n in ok(cl.get("/2/nodes", params={"bulk": 1}))}
    job = _job(cl, cl.post("/2/instances", params={"dry-run": 1}, json=_create_body("dry.example.org")))
    assert job["status"] == "success", job["opresult"]
    (uuids,) = job["opresult"]
    assert len(uuids) == 1 and uuids[0] in nodes.values()
    assert "dry-run mode requested" in job["oplog"][0][-1][3]
    assert "dry.example.org" not in instances(cl)


def test_wait_on_an_unknown_job_or_without_a_body_is_a_server_error(cl: httpx.Client) -> None:
    resp = cl.request("GET", "/2/jobs/987654/wait", json={"fields": ["status"]})
    assert resp.status_code == 500 and resp.json()["message"] == "Can&#x27;t load job file"
    resp = cl.get("/2/jobs/987654/wait")
    assert resp.status_code == 500
    resp = cl.request("GET", "/2/jobs/987654/wait", json={"previous_job_info": None})
    assert resp.status_code == 400
    assert resp.json()["message"] == "Required parameter &#x27;fields&#x27; is missing"


def test_filters_listed_by_uuid_and_stored_as_luxid_does(cl: httpx.Client) -> None:
    rule = {
        "priority": 5,
        "predicates": [["reason", ["=", "reason", "x"]], ["opcode", ["&", ["!=", "OP_ID", "OP_TEST"]]]],
        "reason": [["me", "why", 1]],
    }
    uuids = [ok(cl.post("/2/filters", json=rule)) for _ in range(4)]
    listed = [f["uuid"] for f in ok(cl.get("/2/filters"))]
    assert listed == sorted(listed) and set(uuids) <= set(listed)
    stored = ok(cl.get(f"/2/filters/{uuids[0]}"))
    assert stored["predicates"] == [
        ["reason", ["==", "reason", "x"]],
        ["opcode", ["&", ["!", ["==", "OP_ID", "OP_TEST"]]]],
    ]
    assert stored["reason_trail"][0] == ["me", "why", 1] and stored["reason_trail"][1][0] == "luxid"
    resp = cl.post("/2/filters", json={"predicates": [["opcode", ["and", ["=", "a", 1]]]]})
    assert resp.status_code == 502 and "Unknown filter operand" in resp.json()["message"]
    for u in uuids:
        assert ok(cl.delete(f"/2/filters/{u}")) is None


def test_evacuate_all_and_remote_node_rules(cl: httpx.Client) -> None:
    nodes = ok(cl.get("/2/nodes", params={"bulk": 1}))
    node, other = nodes[0]["name"], nodes[1]["name"]
    job = _job(cl, cl.post(f"/2/nodes/{node}/evacuate", json={"mode": "all", "iallocator": "hail"}))
    (err,) = job["opresult"]
    assert err[0] == "OpPrereqError" and err[1][1] == "wrong_input" and "primary or secondary" in err[1][0]
    job = _job(cl, cl.post(f"/2/nodes/{node}/evacuate", json={"mode": "primary-only", "remote_node": other}))
    assert job["opresult"] == [
        [
            "OpPrereqError",
            ["Without the use of an iallocator only secondary instances can be evacuated", "wrong_input"],
        ]
    ]


def test_node_migrate_spawns_one_migration_per_primary(cl: httpx.Client) -> None:
    node = max(ok(cl.get("/2/nodes", params={"bulk": 1})), key=lambda n: n["pinst_cnt"])
    job = _job(cl, cl.post(f"/2/nodes/{node['name']}/migrate", json={"mode": "live"}))
    assert job["status"] == "success"
    (result,) = job["opresult"]
    assert len(result["jobs"]) == node["pinst_cnt"] and all(done is True for done, _ in result["jobs"])
    children = [wait_job(cl, child) for _, child in result["jobs"]]
    assert sorted(c["ops"][0]["instance_name"] for c in children) == sorted(node["pinst_list"])
    for child in children:
        op = child["ops"][0]
        assert op["OP_ID"] == "OP_INSTANCE_MIGRATE" and op["mode"] == "live"
        assert op["comment"] == "Submitted by OP_NODE_MIGRATE"


def test_evacuate_primaries_moves_them_and_reports_what_cannot_move(cl: httpx.Client) -> None:
    insts = instances(cl)
    drbd = next(i for i in insts.values() if i["disk_template"] == "drbd")
    node = drbd["pnode"]
    stuck = sorted(
        i["name"] for i in insts.values() if i["pnode"] == node and i["disk_template"] in ("plain", "file")
    )
    if stuck:
        job = _job(
            cl, cl.post(f"/2/nodes/{node}/evacuate", json={"mode": "primary-only", "iallocator": "hail"})
        )
        (err,) = job["opresult"]
        assert err[0] == "OpExecError" and err[1][0].startswith("Unable to evacuate instances ")
        assert all(f"{n} (Instances of type " in err[1][0] for n in stuck)
        for name in stuck:
            assert _job(cl, cl.delete(f"/2/instances/{name}"))["status"] == "success"
    job = _job(cl, cl.post(f"/2/nodes/{node}/evacuate", json={"mode": "primary-only", "iallocator": "hail"}))
    assert job["status"] == "success", job["opresult"]
    children = [wait_job(cl, child) for _, child in job["opresult"][0]["jobs"]]
    assert children and all(c["status"] == "success" for c in children), [c["opresult"] for c in children]
    moved = ok(cl.get(f"/2/instances/{drbd['name']}"))
    assert moved["pnode"] != node and moved["snodes"] == [node]


def test_live_fields_of_a_stopped_instance_are_unavailable(cl: httpx.Client) -> None:
    fields = ["name", "status", "oper_ram", "oper_vcpus", "oper_state", "sdb_size", "disk.name/0", "nic.ip/7"]
    rows = ok(cl.put("/2/query/instance", json={"fields": fields}))["data"]
    by_status = {row[1][1]: row for row in rows}
    stopped, running = by_status["ADMIN_down"], by_status["running"]
    assert stopped[2:5] == [[3, None], [3, None], [0, False]]
    assert running[2][0] == 0 and running[2][1] > 0 and running[3][0] == 0 and running[4] == [0, True]
    assert all(row[5:] == [[3, None]] * 3 or row[5][0] == 0 for row in rows)
    assert all(row[6] == [3, None] and row[7] == [3, None] for row in rows)


def test_allocation_follows_hail_and_the_ipolicy(cl: httpx.Client) -> None:
    ipolicy = ok(cl.get("/2/info"))["ipolicy"]
    hi = ipolicy["minmax"][0]["max"]
    big = {"maxmem": hi["memory-size"] + 4, "vcpus": 1}  # hail fails every node on the policy: FailMem
    job = _job(cl, cl.post("/2/instances", json=_create_body("big.example.org", beparams=big)))
    (err,) = job["opresult"]
    assert err[0] == "OpPrereqError" and err[1][1] == "insufficient_resources"
    assert err[1][0].startswith("Can't compute nodes using iallocator 'hail': Request failed: Group ")
    assert "No valid allocation solutions, failure reasons: FailMem: " in err[1][0]
    node = next(n for n in ok(cl.get("/2/nodes", params={"bulk": 1})) if not n["offline"])
    many = {"maxmem": 512, "vcpus": hi["cpu-count"] + 1}
    job = _job(
        cl, cl.post("/2/instances", json=_create_body("cpu.example.org", beparams=many, pnode=node["name"]))
    )
    (err,) = job["opresult"]
    assert err[1][1] == "wrong_input" and "violates policy: cpu-count value" in err[1][0]
    assert f"is not in range [{ipolicy['minmax'][0]['min']['cpu-count']}, {hi['cpu-count']}]" in err[1][0]
    body = _create_body("mirror.example.org", disk_template="drbd")
    job = _job(cl, cl.post("/2/instances", json=body))
    assert job["status"] == "success", job["opresult"]
    pnode, snode = job["opresult"][0]
    groups = {n["name"]: n["group.uuid"] for n in ok(cl.get("/2/nodes", params={"bulk": 1}))}
    assert pnode != snode and groups[pnode] == groups[snode]
    assert "via iallocator" in " ".join(entry[3] for entry in job["oplog"][0])

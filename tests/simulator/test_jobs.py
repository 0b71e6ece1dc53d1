"""The job queue: lifecycle, effects on the state, locks, cancel, long poll, child jobs."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import Simulated
from tests.simulator.helpers import client, instances, ok, wait_job, wait_status


@pytest.fixture
def sim(fresh_simulator: Callable[..., Simulated]) -> Simulated:
    return fresh_simulator()


@pytest.fixture
def cl(sim: Simulated) -> httpx.Client:
    return client(sim.targets[0])


def _pick(cl: httpx.Client, **wanted: Any) -> dict[str, Any]:
    return next(i for i in instances(cl).values() if all(i[k] == v for k, v in wanted.items()))


def test_write_on_missing_instance_fails_in_the_job(cl: httpx.Client) -> None:
    job_id = ok(cl.put("/2/instances/nope.example.org/startup"))
    assert isinstance(job_id, int)
    job = wait_job(cl, job_id)
    assert job["status"] == "error" and job["opstatus"] == ["error"]
    assert job["opresult"][0] == [
        "OpPrereqError",
        ["Instance 'nope.example.org' not known", "unknown_entity"],
    ]
    assert job["summary"] == ["INSTANCE_STARTUP(nope.example.org)"]


def test_startup_and_shutdown_change_state_and_memory(cl: httpx.Client) -> None:
    inst = _pick(cl, status="ADMIN_down")
    node_before = ok(cl.get(f"/2/nodes/{inst['pnode']}"))
    job = wait_job(cl, ok(cl.put(f"/2/instances/{inst['name']}/startup")))
    assert job["status"] == "success", job["opresult"]
    assert job["received_ts"] <= job["start_ts"] <= job["end_ts"]
    assert job["oplog"] == [[]]  # LUInstanceStartup writes no log line
    after = ok(cl.get(f"/2/instances/{inst['name']}"))
    assert (
        after["status"] == "running"
        and after["admin_state"] == "up"
        and after["oper_ram"] == inst["beparams"]["maxmem"]
    )
    assert after["serial_no"] > inst["serial_no"]
    node_after = ok(cl.get(f"/2/nodes/{inst['pnode']}"))
    assert node_after["mfree"] == node_before["mfree"] - inst["beparams"]["maxmem"]
    job = wait_job(cl, ok(cl.put(f"/2/instances/{inst['name']}/shutdown", json={})))
    assert job["status"] == "success"
    assert ok(cl.get(f"/2/instances/{inst['name']}"))["status"] == "ADMIN_down"
    assert ok(cl.get(f"/2/nodes/{inst['pnode']}"))["mfree"] == node_before["mfree"]


def test_create_takes_ip_from_pool_then_remove_gives_it_back(cl: httpx.Client) -> None:
    net = ok(cl.get("/2/networks", params={"bulk": 1}))[0]
    body = {
        "__version__": 1, "mode": "create", "instance_name": "new1.example.org", "disk_template": "plain",
        "disks": [{"size": 1024}], "nics": [{"network": net["name"], "ip": "pool"}],
        "os_type": "debootstrap+default", "beparams": {"maxmem": 512, "vcpus": 1}, "name_check": False,
        "ip_check": False, "tags": ["fleet:user:t1"],
    }  # fmt: skip
    job = wait_job(cl, ok(cl.post("/2/instances", json=body)))
    assert job["status"] == "success", job["opresult"]
    pnode = job["opresult"][0][0]
    inst = ok(cl.get("/2/instances/new1.example.org"))
    assert inst["pnode"] == pnode and inst["status"] == "running" and inst["tags"] == ["fleet:user:t1"]
    assert ipaddress.ip_address(inst["nic.ips"][0]) in ipaddress.ip_network(net["network"])
    assert inst["nic.networks.names"] == [net["name"]]
    net_after = ok(cl.get(f"/2/networks/{net['name']}"))
    assert net_after["free_count"] == net["free_count"] - 1
    assert "new1.example.org" in net_after["inst_list"]
    assert "new1.example.org" in ok(cl.get(f"/2/nodes/{pnode}"))["pinst_list"]
    # creating it again fails in the job
    again = wait_job(cl, ok(cl.post("/2/instances", json=body)))
    assert again["opresult"][0][1][1] == "already_exists"
    assert wait_job(cl, ok(cl.delete("/2/instances/new1.example.org")))["status"] == "success"
    assert cl.get("/2/instances/new1.example.org").status_code == 404
    assert ok(cl.get(f"/2/networks/{net['name']}"))["free_count"] == net["free_count"]


def test_migrate_swaps_drbd_nodes(cl: httpx.Client) -> None:
    inst = _pick(cl, disk_template="drbd", status="running")
    job = wait_job(cl, ok(cl.put(f"/2/instances/{inst['name']}/migrate", json={})))
    assert job["status"] == "success", job["opresult"]
    after = ok(cl.get(f"/2/instances/{inst['name']}"))
    assert (after["pnode"], after["snodes"]) == (inst["snodes"][0], [inst["pnode"]])


def test_reinstall_is_a_three_opcode_job(cl: httpx.Client) -> None:
    inst = _pick(cl, status="running")
    job = wait_job(cl, ok(cl.post(f"/2/instances/{inst['name']}/reinstall", json={"os": "image+debian-12"})))
    assert [op["OP_ID"] for op in job["ops"]] == [
        "OP_INSTANCE_SHUTDOWN",
        "OP_INSTANCE_REINSTALL",
        "OP_INSTANCE_STARTUP",
    ]
    assert job["opstatus"] == ["success"] * 3
    after = ok(cl.get(f"/2/instances/{inst['name']}"))
    assert after["os"] == "image+debian-12" and after["status"] == "running"
    no_start = ok(cl.post(f"/2/instances/{inst['name']}/reinstall", json={"start": False}))
    assert len(wait_job(cl, no_start)["ops"]) == 2


def test_failure_marks_later_opcodes(cl: httpx.Client) -> None:
    job = wait_job(cl, ok(cl.post("/2/instances/nope.example.org/reinstall", json={})))
    assert job["opstatus"] == ["error", "error", "error"]
    assert job["opresult"][1] == ["OpExecError", ["Preceding opcode failed"]]


def test_lock_holds_later_job_waiting_then_cancel(cl: httpx.Client) -> None:
    inst = _pick(cl, disk_template="drbd", status="running")
    name = inst["name"]
    long_job = ok(cl.post(f"/2/instances/{name}/replace-disks", json={"mode": "replace_auto"}))  # 1.2 s
    wait_status(cl, long_job, "running")
    held = ok(cl.put(f"/2/instances/{name}/shutdown", json={}))
    other = next(n for n, i in instances(cl).items() if n != name and i["status"] == "running")
    free = ok(cl.post(f"/2/instances/{other}/reboot"))  # a reboot locks its instance only
    wait_status(cl, held, "waiting")
    assert wait_job(cl, free)["status"] == "success"  # another instance is not held
    assert ok(cl.get(f"/2/jobs/{held}"))["status"] == "waiting"
    assert ok(cl.delete(f"/2/jobs/{long_job}")) == [
        False,
        "Job no longer waiting, can't cancel (informed it anyway)",
    ]
    assert ok(cl.delete(f"/2/jobs/{held}")) == [True, "Job successfully cancelled"]
    job = wait_job(cl, held)
    assert job["status"] == "canceled" and job["opresult"] == ["Job canceled by request"]
    assert wait_job(cl, long_job)["status"] == "success"
    assert ok(cl.get(f"/2/instances/{name}"))["status"] == "running"  # the canceled shutdown never ran
    assert ok(cl.delete(f"/2/jobs/{long_job}")) == [False, f"Job {long_job} not found in queue"]
    assert ok(cl.delete("/2/jobs/99999")) == [False, "Job 99999 not found in queue"]


def test_max_running_jobs_keeps_jobs_queued_and_cancel_dequeues(cl: httpx.Client) -> None:
    assert wait_job(cl, ok(cl.put("/2/modify", json={"max_running_jobs": 1})))["status"] == "success"
    names = sorted(instances(cl))
    first = ok(cl.post(f"/2/instances/{names[0]}/replace-disks", json={"mode": "replace_auto"}))
    second = ok(cl.put(f"/2/instances/{names[1]}/startup"))
    wait_status(cl, first, "running")
    assert ok(cl.get(f"/2/jobs/{second}"))["status"] == "queued"
    assert ok(cl.delete(f"/2/jobs/{second}")) == [True, f"Dequeued job {second}"]
    dequeued = ok(cl.get(f"/2/jobs/{second}"))
    assert dequeued["status"] == "canceled" and dequeued["opresult"] == [None]  # luxid's cancelQueuedJob


def test_priority_orders_queued_jobs(cl: httpx.Client) -> None:
    assert wait_job(cl, ok(cl.put("/2/modify", json={"max_running_jobs": 1})))["status"] == "success"
    names = sorted(instances(cl))
    blocker = ok(cl.post(f"/2/instances/{names[0]}/replace-disks", json={"mode": "replace_auto"}))
    low = ok(cl.put(f"/2/instances/{names[1]}/modify", json={"beparams": {"vcpus": 1}, "priority": 10}))
    high = ok(cl.put(f"/2/instances/{names[2]}/modify", json={"beparams": {"vcpus": 1}, "priority": -10}))
    wait_job(cl, blocker)
    low_job, high_job = wait_job(cl, low), wait_job(cl, high)
    assert high_job["start_ts"] <= low_job["start_ts"]


def test_wait_long_poll(cl: httpx.Client) -> None:
    inst = _pick(cl, status="running")
    job_id = ok(cl.post(f"/2/instances/{inst['name']}/replace-disks", json={"mode": "replace_auto"}))
    status = ok(cl.get(f"/2/jobs/{job_id}"))["status"]
    started = time.monotonic()
    reply = ok(
        cl.request(
            "GET",
            f"/2/jobs/{job_id}/wait",
            json={"fields": ["status"], "previous_job_info": [status], "previous_log_serial": None},
        )
    )
    assert time.monotonic() - started < 5
    assert set(reply) == {"job_info", "log_entries"}
    final = wait_job(cl, job_id)
    reply = ok(
        cl.request(
            "GET",
            f"/2/jobs/{job_id}/wait",
            json={"fields": ["status", "opresult"], "previous_job_info": None, "previous_log_serial": 0},
        )
    )
    assert reply["job_info"] == [final["status"], final["opresult"]]
    assert [e[0] for e in reply["log_entries"]] == sorted(e[0] for e in reply["log_entries"])
    unknown = cl.request("GET", "/2/jobs/99999/wait", json={"fields": ["status"]})
    assert unknown.status_code == 500  # Ganeti 3.0.2: "Can't load job file"


def test_node_evacuate_returns_child_jobs(cl: httpx.Client) -> None:
    nodes = ok(cl.get("/2/nodes", params={"bulk": 1}))
    node = max(nodes, key=lambda n: n["sinst_cnt"])
    job = wait_job(cl, ok(cl.post(f"/2/nodes/{node['name']}/evacuate", json={"mode": "secondary-only"})))
    assert job["status"] == "success"
    children = job["opresult"][0]["jobs"]
    assert len(children) == node["sinst_cnt"] and all(ok_ is True for ok_, _ in children)
    for _, child in children:
        assert wait_job(cl, child)["status"] == "success"
    assert ok(cl.get(f"/2/nodes/{node['name']}"))["sinst_cnt"] == 0


def test_tags_from_query_string(cl: httpx.Client) -> None:
    name = sorted(instances(cl))[0]
    job = wait_job(cl, ok(cl.put(f"/2/instances/{name}/tags", params={"tag": ["a:b", "c"]})))
    assert job["status"] == "success"
    assert {"a:b", "c"} <= set(ok(cl.get(f"/2/instances/{name}/tags")))
    wait_job(cl, ok(cl.delete(f"/2/instances/{name}/tags", params={"tag": "c"})))
    tags = ok(cl.get(f"/2/instances/{name}/tags"))
    assert "a:b" in tags and "c" not in tags


def test_node_role_takes_a_bare_string(cl: httpx.Client) -> None:
    node = next(n for n in ok(cl.get("/2/nodes", params={"bulk": 1})) if n["role"] != "M")
    job = wait_job(cl, ok(cl.put(f"/2/nodes/{node['name']}/role", json="drained")))
    assert job["status"] == "success"
    assert ok(cl.get(f"/2/nodes/{node['name']}"))["role"] == "D"
    assert cl.put(f"/2/nodes/{node['name']}/role", json="master").status_code == 400


def test_query_jobs_and_archived_hidden(fresh_simulator: Callable[..., Simulated]) -> None:
    sim = fresh_simulator("--archive-age", "0")
    cl = client(sim.targets[0])
    job_id = ok(cl.put("/2/instances/nope.example.org/startup"))
    wait_job(cl, job_id)
    result = ok(cl.put("/2/query/job", json={"fields": ["id", "status"], "qfilter": ["==", "id", job_id]}))
    assert result["data"] == [[[0, job_id], [0, "error"]]]
    deadline = time.monotonic() + 5
    while any(j["id"] == job_id for j in ok(cl.get("/2/jobs"))):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert ok(cl.get(f"/2/jobs/{job_id}"))["status"] == "error"  # still readable once archived

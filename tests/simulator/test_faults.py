"""Faults injected at start, through the control endpoint and through `fleet simulate fault`."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import Simulated
from tests.simulator.helpers import client, ok, tls, wait_job


@pytest.fixture
def sim(fresh_simulator: Callable[..., Simulated]) -> Simulated:
    return fresh_simulator("--fault", "tiny2:latency=0.3")


def _fault(sim: Simulated, cluster: str, **settings: object) -> dict[str, object]:
    return ok(httpx.put(f"{sim.control_url}/clusters/{cluster}/faults", json=settings))


def test_latency_from_start_only_on_that_cluster(sim: Simulated) -> None:
    fast, slow = client(sim.targets[0]), client(sim.targets[1])
    started = time.monotonic()
    ok(fast.get("/version"))
    assert time.monotonic() - started < 0.3
    started = time.monotonic()
    ok(slow.get("/version"))
    assert time.monotonic() - started >= 0.3


def test_error_rate_and_status(sim: Simulated) -> None:
    _fault(sim, "tiny1", error_rate=1, error_status=502)
    resp = client(sim.targets[0]).get("/2/info")
    assert resp.status_code == 502 and resp.json()["code"] == 502
    ok(httpx.delete(f"{sim.control_url}/clusters/tiny1/faults"))
    ok(client(sim.targets[0]).get("/2/info"))


def test_blackhole_times_out_and_reset_drops(sim: Simulated) -> None:
    _fault(sim, "tiny1", blackhole=True)
    with pytest.raises(httpx.ReadTimeout):
        client(sim.targets[0], timeout=0.5).get("/2/info")
    _fault(sim, "tiny1", blackhole=False, reset_rate=1)
    with pytest.raises(httpx.TransportError):
        client(sim.targets[0]).get("/2/info")
    assert httpx.put(f"{sim.control_url}/clusters/tiny1/faults", json={"nope": 1}).status_code == 400


def test_failing_stuck_and_early_archived_jobs(sim: Simulated) -> None:
    cl = client(sim.targets[0])
    name = ok(cl.get("/2/instances"))[0]["id"]
    _fault(sim, "tiny1", fail_jobs=1)
    job = wait_job(cl, ok(cl.put(f"/2/instances/{name}/modify", json={"beparams": {"vcpus": 1}})))
    assert job["status"] == "error" and job["opresult"][0][0] == "OpExecError"
    _fault(sim, "tiny1", fail_jobs=0, stuck_jobs=True)
    stuck = ok(cl.put(f"/2/instances/{name}/modify", json={"beparams": {"vcpus": 1}}))
    time.sleep(0.5)
    assert ok(cl.get(f"/2/jobs/{stuck}"))["status"] == "running"
    _fault(sim, "tiny1", stuck_jobs=False, archive_early=True)
    assert wait_job(cl, stuck)["status"] == "success"
    time.sleep(0.1)
    assert stuck not in [j["id"] for j in ok(cl.get("/2/jobs"))]


def test_master_failover_through_the_cli(sim: Simulated) -> None:
    target = sim.targets[0]
    master = ok(client(target).get("/2/info"))["master"]
    out = subprocess.run(
        [sys.executable, "-c", "from fleet.cli.main import main; main()", "simulate", "fault", "tiny1",
         "--failover", "--control-url", sim.control_url],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert "127.0.2.1" in out
    with pytest.raises(httpx.ConnectError):
        client(target).get("/2/info")
    moved = httpx.Client(base_url=f"https://127.0.2.1:{target.port}", verify=tls(target))
    info = ok(moved.get("/2/info"))
    assert info["master"] != master


def test_cli_sets_and_clears_faults(sim: Simulated) -> None:
    cmd = [
        sys.executable,
        "-c",
        "from fleet.cli.main import main; main()",
        "simulate",
        "fault",
        "tiny1",
        "--control-url",
        sim.control_url,
    ]
    out = subprocess.run(
        [*cmd, "--latency", "0.2", "--error-rate", "0.5"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert '"latency": 0.2' in out and '"error_rate": 0.5' in out
    faults = ok(httpx.get(f"{sim.control_url}/clusters/tiny1/faults"))
    assert faults["latency"] == 0.2
    subprocess.run([*cmd, "--clear"], capture_output=True, text=True, timeout=30, check=True)
    assert ok(httpx.get(f"{sim.control_url}/clusters/tiny1/faults"))["latency"] == 0
    unknown = subprocess.run(
        [*cmd[:5], "nope", *cmd[6:], "--latency", "1"], capture_output=True, text=True, timeout=30
    )
    assert unknown.returncode != 0 and "nope" in unknown.stderr

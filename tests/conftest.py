"""Fixtures shared by the whole suite: a real `fleet simulate` process serving RAPI over real TLS."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleet.simulator.process import SimulatorProcess, start_simulator
from tests.targets import RapiTarget


@dataclass
class Simulated:
    """A simulator process as the tests see it: its clusters as RapiTargets."""

    process: SimulatorProcess
    targets: list[RapiTarget]

    @property
    def control_url(self) -> str:
        return self.process.control_url

    @property
    def state_dir(self) -> Path:
        return self.process.state_dir

    def stop(self) -> None:
        self.process.stop()


def start_simulated(state_dir: Path, *args: str, time_scale: float = 0.01) -> Simulated:
    """Start `fleet simulate` (the tiny profile unless told otherwise) and describe its clusters."""
    if "--profile" not in args:
        args = (*args, "--profile", "tiny")
    proc = start_simulator(state_dir, *args, time_scale=time_scale)
    targets = [
        RapiTarget(
            name=r["name"], host=r["host"], port=r["port"], fingerprint=r["fingerprint"],
            cert_file=r["cert_file"],
            username=r["username"], password=r["password"], reader=r["reader"],
            reader_password=r["reader_password"],
        )
        for r in proc.clusters
    ]  # fmt: skip
    return Simulated(proc, targets)


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RapiTarget]]:
    """A tiny simulated fleet shared by the session's read-only tests: one RapiTarget per cluster."""
    sim = start_simulated(tmp_path_factory.mktemp("simulator"))
    try:
        yield sim.targets
    finally:
        sim.stop()


@pytest.fixture
def fresh_simulator(tmp_path: Path) -> Iterator[Callable[..., Simulated]]:
    """A factory of simulators owned by one test (for tests that change state or inject faults)."""
    started: list[Simulated] = []

    def start(*args: str, time_scale: float = 0.01) -> Simulated:
        state_dir = tmp_path / f"sim{len(started)}"
        state_dir.mkdir()
        sim = start_simulated(state_dir, *args, time_scale=time_scale)
        started.append(sim)
        return sim

    try:
        yield start
    finally:
        for sim in started:
            sim.stop()


REAL_GANETI_SH = Path(__file__).parent / "conformance" / "real_ganeti.sh"
REAL_GANETI_ENV = "FLEET_REAL_GANETI"


@pytest.fixture(scope="session")
def real_ganeti() -> Iterator[RapiTarget]:
    """A real three-node Ganeti 3.0 cluster (fake hypervisor, nodes as namespace containers), brought up once
    per session by real_ganeti.sh.

    Only with FLEET_REAL_GANETI=1 (needs root). A cluster that was already up is reused and left up; one
    this fixture brought up is torn down at the end unless FLEET_REAL_GANETI_KEEP=1. A failed bring-up fails
    the tests that need it rather than skipping them.
    """
    if os.environ.get(REAL_GANETI_ENV) != "1":
        pytest.skip(
            f"no real Ganeti cluster: set {REAL_GANETI_ENV}=1 (as root) to bring one up with real_ganeti.sh"
        )
    was_up = subprocess.run([REAL_GANETI_SH, "status"], check=False).returncode == 0
    if not was_up:
        started = time.monotonic()
        up = subprocess.run([REAL_GANETI_SH, "up"], capture_output=True, text=True, timeout=600, check=False)
        if up.returncode != 0:
            pytest.fail(f"real_ganeti.sh up failed (rc {up.returncode}):\n{up.stdout}\n{up.stderr}")
        print(f"\nreal Ganeti up in {time.monotonic() - started:.1f} s")
    described = subprocess.run([REAL_GANETI_SH, "target"], capture_output=True, text=True, check=False)
    if described.returncode != 0:
        pytest.fail(f"real_ganeti.sh target failed:\n{described.stderr}")
    target = RapiTarget(**json.loads(described.stdout))
    _seed(target)
    yield target
    if not was_up and os.environ.get("FLEET_REAL_GANETI_KEEP") != "1":
        subprocess.run([REAL_GANETI_SH, "down"], capture_output=True, timeout=600, check=False)


# The first real-cluster test that found the cluster no longer answering, and why. A cluster that has stopped
# answering makes every later test wait out its timeout (two minutes each, dozens of tests), so those fail at
# once instead, naming the test that saw it go.
_real_ganeti_gone: list[str] = []
_GONE_SIGNS = ("Timeout (>", "no answer in time", "detected death of job", "connection refused")
_GANETI_LOGS = ("jobs.log", "luxi-daemon.log", "rapi-daemon.log", "node-daemon.log")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "teardown" or not report.failed or _real_ganeti_gone:
        return
    if item.get_closest_marker("real_ganeti") is None or call.excinfo is None:
        return
    text = str(call.excinfo.value)
    if any(sign in text for sign in _GONE_SIGNS):
        _real_ganeti_gone.append(f"{item.nodeid}: {text.splitlines()[0] if text else call.excinfo.typename}")
        report.sections.append(("real Ganeti daemons, last lines", _ganeti_log_tails()))


@pytest.fixture(autouse=True)
def _real_ganeti_still_answers(request: pytest.FixtureRequest) -> None:
    if _real_ganeti_gone and request.node.get_closest_marker("real_ganeti") is not None:
        pytest.fail(f"the real Ganeti cluster stopped answering in {_real_ganeti_gone[0]}", pytrace=False)


def _ganeti_log_tails(lines: int = 15) -> str:
    """The last lines of each node's Ganeti daemon logs, for a cluster that stopped answering."""
    state = Path(os.environ.get("GNT_NS_STATE", "/var/tmp/fleet-real-ganeti"))
    parts = []
    for log in sorted(state.glob("node*/var-log-ganeti/*.log")):
        if log.name in _GANETI_LOGS:
            tail = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"== {log.relative_to(state)}\n" + "\n".join(tail))
    return "\n".join(parts) or f"no Ganeti logs under {state}"


SEED = {  # name: (disk template, disks, started)
    "seed-running.example.test": ("file", [{"size": 128}], True),
    "seed-stopped.example.test": ("diskless", [], False),
}


def _seed(target: RapiTarget) -> None:
    """Give a new real cluster something to read: one running and one stopped instance (idempotent)."""
    import ssl

    import httpx

    verify = ssl.create_default_context(cafile=target.cert_file)
    verify.check_hostname = False
    with httpx.Client(
        base_url=target.url, verify=verify, auth=(target.username, target.password), timeout=60
    ) as http:
        existing = {i["id"] for i in http.get("/2/instances").json()}
        for name, (template, disks, start) in SEED.items():
            if name in existing:
                continue
            body = {
                "__version__": 1, "mode": "create", "instance_name": name, "disk_template": template,
                "disks": disks, "nics": [{}], "os_type": "noop", "name_check": False, "ip_check": False,
                "start": start, "beparams": {"maxmem": 64, "minmem": 64, "vcpus": 1},
            }  # fmt: skip
            job_id = http.post("/2/instances", json=body).json()
            deadline = time.monotonic() + 120
            while http.get(f"/2/jobs/{job_id}").json()["status"] not in ("success", "error", "canceled"):
                if time.monotonic() > deadline:
                    pytest.fail(f"seeding the real cluster: job {job_id} did not end")
                time.sleep(0.2)

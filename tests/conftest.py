"""Fixtures shared by the whole suite: a real `fleet simulate` process serving RAPI over real TLS."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.targets import RapiTarget

START_TIMEOUT = 30.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class SimulatorProcess:
    """A running `fleet simulate`: its targets, its control endpoint and its state directory."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    targets: list[RapiTarget]
    control_url: str

    def stop(self) -> None:
        """SIGTERM, then wait (kill if it does not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_simulator(state_dir: Path, *args: str, time_scale: float = 0.01) -> SimulatorProcess:
    """Start `fleet simulate` on free ports and wait until every cluster listens."""
    port, control = free_port("127.0.1.1"), free_port()
    cmd = [
        sys.executable, "-c", "from fleet.cli.main import main; main()", "simulate",
        "--port", str(port), "--control-port", str(control), "--state-dir", str(state_dir),
        "--time-scale", str(time_scale), *args,
    ]  # fmt: skip
    if "--profile" not in args:
        cmd += ["--profile", "tiny"]
    log = open(state_dir / "simulator.log", "wb")  # noqa: SIM115 (kept open for the process's life)
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    deadline = time.monotonic() + START_TIMEOUT
    while not (state_dir / "control.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"simulator did not start: {(state_dir / 'simulator.log').read_text()}")
        time.sleep(0.05)
    rows = json.loads((state_dir / "clusters.json").read_text())
    targets = [
        RapiTarget(
            name=r["name"], host=r["host"], port=r["port"], fingerprint=r["fingerprint"],
            cert_file=r["cert_file"],
            username=r["username"], password=r["password"], reader=r["reader"],
            reader_password=r["reader_password"],
        )
        for r in rows
    ]  # fmt: skip
    return SimulatorProcess(proc, state_dir, targets, f"http://127.0.0.1:{control}")


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RapiTarget]]:
    """A tiny simulated fleet shared by the session's read-only tests: one RapiTarget per cluster."""
    sim = start_simulator(tmp_path_factory.mktemp("simulator"))
    try:
        yield sim.targets
    finally:
        sim.stop()


@pytest.fixture
def fresh_simulator(tmp_path: Path) -> Iterator[Callable[..., SimulatorProcess]]:
    """A factory of simulators owned by one test (for tests that change state or inject faults)."""
    started: list[SimulatorProcess] = []

    def start(*args: str, time_scale: float = 0.01) -> SimulatorProcess:
        state_dir = tmp_path / f"sim{len(started)}"
        state_dir.mkdir()
        sim = start_simulator(state_dir, *args, time_scale=time_scale)
        started.append(sim)
        return sim

    try:
        yield start
    finally:
        for sim in started:
            sim.stop()

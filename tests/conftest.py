"""Fixtures shared by the whole suite: a real `fleet simulate` process serving RAPI over real TLS."""

from __future__ import annotations

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

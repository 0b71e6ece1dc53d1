"""Targets of the conformance suite: the simulator and, when asked for, a real Ganeti cluster on this
machine."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.targets import RapiTarget

REAL_GANETI_SH = Path(__file__).with_name("real_ganeti.sh")
REAL_GANETI_ENV = "FLEET_REAL_GANETI"
SIMULATOR_MISSING = "tests/conftest.py provides no `simulator` fixture (the simulator is not there yet)"


@pytest.fixture(scope="session")
def real_ganeti() -> Iterator[RapiTarget]:
    """A real single-node Ganeti 3.0 cluster (fake hypervisor), brought up once per session by real_ganeti.sh.

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
    yield RapiTarget(**json.loads(described.stdout))
    if not was_up and os.environ.get("FLEET_REAL_GANETI_KEEP") != "1":
        subprocess.run([REAL_GANETI_SH, "down"], capture_output=True, timeout=600, check=False)


def _simulated(request: pytest.FixtureRequest) -> RapiTarget:
    try:
        targets: list[RapiTarget] = request.getfixturevalue("simulator")
    except pytest.FixtureLookupError:
        pytest.skip(SIMULATOR_MISSING)
    return targets[0]


TARGETS = [
    pytest.param("simulator", id="simulator"),
    pytest.param("real_ganeti", id="real", marks=pytest.mark.real_ganeti),
]


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> RapiTarget:
    """Each conformance test runs once against the simulator and once against the real cluster."""
    if request.param == "simulator":
        return _simulated(request)
    real: RapiTarget = request.getfixturevalue("real_ganeti")
    return real


@pytest.fixture
def sim_target(request: pytest.FixtureRequest) -> RapiTarget:
    """For checks that only make sense on a generated fleet (several nodes, plausible htools results)."""
    return _simulated(request)


@pytest.fixture
def unique() -> str:
    """A short random token for names created by one test."""
    return uuid.uuid4().hex[:8]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.conformance)

"""Targets of the conformance suite: the simulator and, when asked for, a real Ganeti cluster on this
machine."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.targets import RapiTarget

SIMULATOR_MISSING = "tests/conftest.py provides no `simulator` fixture (the simulator is not there yet)"


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

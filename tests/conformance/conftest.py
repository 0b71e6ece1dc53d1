"""Targets of the conformance suite: the simulator and, when asked for, a real Ganeti cluster on this
machine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.targets import RapiTarget

SIMULATOR_MISSING = "tests/conftest.py provides no `start_simulated` (the simulator is not there yet)"
# The conformance checks compare what jobs do and answer, never how long they take (the queued jobs they look
# at are held by filters or dependencies): their simulator runs jobs at a thousandth of the durations it
# models (a create takes 90 ms), not at the hundredth the rest of the suite uses.
TIME_SCALE = 0.001


@pytest.fixture(scope="session")
def quick_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RapiTarget]]:
    """The simulator the conformance suite checks, shared by its modules, its jobs' durations scaled down."""
    try:
        from tests.conftest import start_simulated
    except ImportError:
        pytest.skip(SIMULATOR_MISSING)
    sim = start_simulated(tmp_path_factory.mktemp("conformance-simulator"), time_scale=TIME_SCALE)
    try:
        yield sim.targets
    finally:
        sim.stop()


def _simulated(request: pytest.FixtureRequest) -> RapiTarget:
    targets: list[RapiTarget] = request.getfixturevalue("quick_simulator")
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


@pytest.fixture(scope="module", params=TARGETS)
def module_target(request: pytest.FixtureRequest) -> RapiTarget:
    """`target` for a module's shared objects: the module's tests run against the simulator, then against
    the real cluster, so that a module-scoped fixture is made once per target."""
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

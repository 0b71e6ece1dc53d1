"""Fixtures for the RAPI client tests: the clusters to test against and the sync/async drivers.

Integration tests take `target` (shared, read-only use) or `writable` (a cluster the module may change). Both
are parametrized over the simulator and, under the `real_ganeti` marker, a real Ganeti 3.0.2 daemon when a
`real_ganeti` fixture provides one; the same test functions then run against both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from fleet.rapi import AsyncRapiClient, CaFile, Credentials, Pin, RapiClient, Timeouts
from fleet.rapi.transport import Trust
from fleet.rapi.wire import Call, Flow
from tests.conftest import start_simulated
from tests.targets import RapiTarget

TARGETS = ["simulator", pytest.param("real_ganeti", marks=pytest.mark.real_ganeti)]


def _real(request: pytest.FixtureRequest, name: str) -> RapiTarget:
    try:
        target: RapiTarget = request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        pytest.skip("no real Ganeti cluster is available to these tests")
    return target


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> RapiTarget:
    """A cluster for tests that only read (and submit jobs that change nothing others rely on)."""
    if request.param == "simulator":
        simulated: list[RapiTarget] = request.getfixturevalue("simulator")
        return simulated[0]
    return _real(request, "real_ganeti")


@pytest.fixture(scope="module")
def own_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RapiTarget]]:
    """A simulator owned by one test module, which may change its state freely. The write tests follow
    every job to its end and look at what it did, never at how long it took: a thousandth of the job
    durations the simulator models (a create takes 90 ms)."""
    sim = start_simulated(tmp_path_factory.mktemp("rapi-sim"), time_scale=0.001)
    try:
        yield sim.targets
    finally:
        sim.stop()


@pytest.fixture(params=TARGETS)
def writable(request: pytest.FixtureRequest) -> RapiTarget:
    """A cluster this test module may change."""
    if request.param == "simulator":
        own: list[RapiTarget] = request.getfixturevalue("own_simulator")
        return own[0]
    return _real(request, "real_ganeti")


def credentials(target: RapiTarget, who: str | None) -> Credentials | None:
    """The writer's, the reader's or no credentials."""
    if who == "write":
        return Credentials(target.username, target.password)
    if who == "read":
        return Credentials(target.reader, target.reader_password)
    return None


class Driver:
    """Runs calls and flows against a target with the sync or the async client, so one test covers both."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return self.kind

    def call(
        self,
        target: RapiTarget,
        call: Call[Any],
        *,
        who: str | None = "write",
        trust: Trust | None = None,
        creds: Credentials | None = None,
        timeouts: Timeouts | None = None,
    ) -> Any:
        """One call with a fresh client."""
        return self._go(target, call, who, trust, creds, timeouts)

    def run(self, target: RapiTarget, flow: Flow[Any], *, who: str | None = "write") -> Any:
        """One flow with a fresh client."""
        return self._go(target, flow, who, None, None, None)

    def _go(
        self,
        target: RapiTarget,
        work: Any,
        who: str | None,
        trust: Trust | None,
        creds: Credentials | None,
        timeouts: Timeouts | None,
    ) -> Any:
        options: dict[str, Any] = {
            "trust": trust or Pin(target.fingerprint),
            "credentials": creds or credentials(target, who),
            "timeouts": timeouts or Timeouts(connect=5, read=30, long_poll=20),
        }
        if self.kind == "sync":
            with RapiClient.connect(target.url, **options) as client:
                return client.call(work) if isinstance(work, Call) else client.run(work)

        async def main() -> Any:
            async with AsyncRapiClient.connect(target.url, **options) as client:
                return await client.call(work) if isinstance(work, Call) else await client.run(work)

        return asyncio.run(main())


@pytest.fixture(params=["sync", "async"])
def driver(request: pytest.FixtureRequest) -> Driver:
    """The sync or the async client."""
    return Driver(request.param)


def side_by_side(scenario: Callable[[Driver, RapiTarget], None]) -> Callable[[RapiTarget], None]:
    """Turn `scenario(driver, writable)` into a test that runs it with the sync and the async client at once.

    Each run works on its own objects (named after `driver.kind`). A real cluster takes a second or two per
    job and runs jobs on different objects in parallel, so the two runs together take little longer than one.
    """

    def test(writable: RapiTarget) -> None:
        with ThreadPoolExecutor(max_workers=2) as pool:
            runs = [pool.submit(scenario, Driver(kind), writable) for kind in ("sync", "async")]
            for run in runs:
                run.result()

    test.__name__ = scenario.__name__
    test.__qualname__ = scenario.__qualname__
    test.__doc__ = scenario.__doc__
    return test


def ca_trust(target: RapiTarget) -> Trust:
    """Trust the target through its certificate file instead of the pin."""
    return CaFile(str(Path(target.cert_file)))

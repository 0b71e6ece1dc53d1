"""Pinning, timeouts and server-side failures against the simulator's real TLS server and injected faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from fleet.rapi import Pin, Timeouts, cluster, errors, instances
from tests.rapi.conftest import Driver
from tests.targets import RapiTarget


def test_wrong_pin_is_refused(driver: Driver, simulator: list[RapiTarget]) -> None:
    target = simulator[0]
    with pytest.raises(errors.CertificateMismatch, match="does not match the pinned"):
        driver.call(target, cluster.info(), trust=Pin("00" * 32))


def test_black_holed_cluster_times_out(driver: Driver, fresh_simulator: Callable[..., Any]) -> None:
    sim = fresh_simulator("--fault", "tiny1:blackhole")
    black, healthy = sim.targets[0], sim.targets[1]
    started = time.monotonic()
    with pytest.raises(errors.Timeout):
        driver.call(black, cluster.info(), timeouts=Timeouts(connect=0.5, read=0.5, long_poll=0.5))
    assert time.monotonic() - started < 5
    assert (
        driver.call(healthy, cluster.info())["name"] == healthy.name
    )  # one cluster down costs the other nothing


@pytest.mark.parametrize(("status", "cls"), [(503, errors.Unavailable), (500, errors.ServerError)])
def test_injected_5xx_maps_to_its_class(
    driver: Driver, fresh_simulator: Callable[..., Any], status: int, cls: type[errors.HttpError]
) -> None:
    sim = fresh_simulator("--fault", f"tiny1:error_rate=1,error_status={status}")
    with pytest.raises(cls) as info:
        driver.call(sim.targets[0], instances.list())
    assert info.value.status == status

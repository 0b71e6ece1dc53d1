"""Fixtures for the worker tests: clusters registered from simulator targets, and one-shot worker runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from fleet.inventory.models import Cluster
from fleet.sync.leases import for_database
from fleet.sync.loop import ClusterLoop, LoopSettings
from fleet.sync.worker import Worker, WorkerSettings
from tests.targets import RapiTarget


def register(target: RapiTarget, *, timeout: float = 10.0, offline: bool = False) -> Cluster:
    """A Cluster row for a simulated cluster, as `fleet cluster add` stores it."""
    cluster = Cluster(
        name=target.name,
        rapi_url=target.url,
        rapi_username=target.username,
        rapi_fingerprint=target.fingerprint,
        rapi_timeout=timeout,
        offline=offline,
    )
    cluster.set_rapi_password(target.password)
    cluster.save()
    return cluster


def run_once(job_timeout: float = 30.0) -> dict[int, ClusterLoop]:
    """`fleet worker --once`, in process: one pass of every cluster, then the unfinished jobs to their end."""
    settings = WorkerSettings(loop=LoopSettings(interval=1.0, max_backoff=2.0))

    async def main() -> dict[int, ClusterLoop]:
        return await Worker(settings, for_database()).run_once(job_timeout=job_timeout)

    return asyncio.run(main())


def set_faults(control_url: str, cluster: str, **faults: object) -> None:
    """Set faults of a simulated cluster through the simulator's control endpoint."""
    response = httpx.put(f"{control_url}/clusters/{cluster}/faults", json=faults, timeout=10)
    response.raise_for_status()


def simulator_counts(control_url: str) -> dict[str, int]:
    """Instances per cluster, as the simulator itself reports them."""
    response = httpx.get(f"{control_url}/clusters", timeout=10)
    response.raise_for_status()
    return {row["name"]: row["instances"] for row in response.json()}


@pytest.fixture
def registered() -> Callable[..., Cluster]:
    return register

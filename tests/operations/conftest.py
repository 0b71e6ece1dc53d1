"""Fixtures for the operation tests: a synced instance and its owner with a worker running, and the worker
fixtures of tests/sync."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from fleet.inventory.models import Cluster, Instance
from fleet.sync.loop import LoopSettings
from fleet.sync.worker import WorkerSettings
from tests.conftest import Simulated
from tests.sync.conftest import Running, register, running_worker, wait_for

__all__ = ["running_worker"]  # a fixture, used by name

FAST = WorkerSettings(loop=LoopSettings(interval=600.0, job_poll=0.2, submit_grace=1.0), job_scan=0.2)
"""A worker that polls the job queue five times a second and gives an unanswered submit a second."""


@dataclass
class Owned:
    sim: Simulated
    instance: Instance
    owner: User


@pytest.fixture
def owned(
    fresh_simulator: Callable[..., Simulated], running_worker: Callable[[WorkerSettings], Running]
) -> Owned:
    """A simulated cluster synced by a running worker (FAST), one of its running instances, and the account
    its user tag names (made after the sync)."""
    sim = fresh_simulator(time_scale=0.05)
    cluster = register(sim.targets[0])
    running_worker(FAST)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    instance = (
        Instance.objects.filter(cluster=cluster, status="running", owners__kind="user")
        .select_related("cluster")
        .order_by("name")
        .first()
    )
    assert instance is not None
    owner = User.objects.create_user(instance.owners.get(kind="user").name, password="secret-password-1")
    return Owned(sim, instance, owner)

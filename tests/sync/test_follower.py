"""Job following with a running worker: a job Fleet submitted is followed to its end and what it touched is
resynced at once, long before the next full pass."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from fleet.inventory.models import Cluster, Instance
from fleet.jobs import lifecycle
from fleet.jobs.models import Job
from fleet.rapi import Credentials, Pin, RapiClient, instances
from fleet.sync.loop import LoopSettings
from fleet.sync.worker import WorkerSettings
from tests.conftest import Simulated
from tests.sync.conftest import Running, register, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def shut_down_through_fleet(
    sim: Simulated, running_worker: Callable[[WorkerSettings], Running], settings: WorkerSettings
) -> tuple[Cluster, Instance, Job]:
    """With a worker of ``settings`` running, shut down a running instance as Fleet does (submit, record the
    Job row); return once the job row is final."""
    target = sim.targets[0]
    cluster = register(target)
    running_worker(settings)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    victim = Instance.objects.filter(cluster=cluster, status="running").order_by("name").first()
    assert victim is not None
    with RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    ) as client:
        job_id = client.call(instances.shutdown(victim.name, reason="test"))
        row = lifecycle.submitted(cluster, job_id, requester=None, reason="test", instance=victim)
        wait_for(lambda: Job.objects.get(pk=row.pk).is_final)
    return cluster, victim, Job.objects.get(pk=row.pk)


def test_a_followed_job_end_resyncs_what_it_touched(
    fresh_simulator: Callable[..., Simulated], running_worker: Callable[[WorkerSettings], Running]
) -> None:
    # Full passes every 10 minutes: within this test only the follower can bring the change in.
    settings = WorkerSettings(loop=LoopSettings(interval=600.0), job_scan=0.2)
    cluster, victim, job = shut_down_through_fleet(fresh_simulator(time_scale=0.2), running_worker, settings)
    assert job.status == "success"
    assert job.ended_at is not None
    assert job.log == []  # Ganeti 3.0 writes no log line for a shutdown
    wait_for(lambda: Instance.objects.get(pk=victim.pk).status == "ADMIN_down", timeout=5)
    assert Cluster.objects.get(pk=cluster.pk).last_sync_stats["seen"]["instances"] > 0


def test_a_job_fleet_records_is_followed_without_waiting_for_a_scan(
    fresh_simulator: Callable[..., Simulated], running_worker: Callable[[WorkerSettings], Running]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the announcement of a recorded job is PostgreSQL's NOTIFY")
    # No scan after the first (which finds no loop yet) and no full pass: only the announcement that
    # lifecycle.submitted sends can bring the job to the worker.
    settings = WorkerSettings(loop=LoopSettings(interval=600.0), job_scan=600.0)
    _, victim, job = shut_down_through_fleet(fresh_simulator(time_scale=0.2), running_worker, settings)
    assert job.status == "success"
    wait_for(lambda: Instance.objects.get(pk=victim.pk).status == "ADMIN_down", timeout=5)

"""How the worker fails: a bug of Fleet's is logged with its traceback and not taken for the cluster's
health, followers back off whatever fails, a loop that died is started again, replaced clients are closed
even while a job is followed, and `fleet worker --once` tells cron that a pass failed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from fleet.cli.worker import worker
from fleet.inventory.models import Cluster, ClusterHealth
from fleet.jobs.models import Job
from fleet.sync import loop as loop_module
from fleet.sync.clients import Clients
from fleet.sync.connect import Connection
from fleet.sync.loop import ClusterLoop, LoopSettings
from fleet.sync.worker import WorkerSettings
from tests.conftest import Simulated
from tests.sync.conftest import Running, register, run_once, set_faults, wait_for
from tests.sync.test_job_queue import requests_served

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_bug_in_fleet_is_logged_and_not_the_clusters_health(
    fresh_simulator: Callable[..., Simulated],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cluster = register(fresh_simulator().targets[0])

    def broken(*args: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(loop_module, "_full_step", broken)
    with caplog.at_level(logging.ERROR, logger="fleet.sync"):
        loops = run_once()
    cluster.refresh_from_db()
    assert cluster.health != ClusterHealth.UNREACHABLE
    assert cluster.last_error.startswith("internal error") and "ZeroDivisionError" in cluster.last_error
    assert any(record.exc_info and record.exc_info[0] is ZeroDivisionError for record in caplog.records)
    outcome = loops[cluster.pk].last_outcome
    assert outcome is not None and not outcome.ok
    check = CliRunner().invoke(worker, ["--check"])
    assert check.exit_code == 1 and "internal error" in check.stderr


def test_once_exits_non_zero_when_a_pass_failed(fresh_simulator: Callable[..., Simulated]) -> None:
    sim = fresh_simulator()
    good, bad = sim.targets
    register(good)
    register(bad, timeout=1.0)
    set_faults(sim.control_url, bad.name, blackhole=True)
    result = CliRunner().invoke(worker, ["--once", "--job-timeout", "5"])
    assert result.exit_code == 1, result.output
    assert f"{bad.name}: failed" in result.output and f"{good.name}: ok" in result.output
    set_faults(sim.control_url, bad.name, blackhole=False)
    assert CliRunner().invoke(worker, ["--once", "--job-timeout", "5"]).exit_code == 0


def test_a_follower_backs_off_while_the_cluster_fails(
    fresh_simulator: Callable[..., Simulated], running_worker: Callable[[WorkerSettings], Running]
) -> None:
    sim = fresh_simulator()
    target = sim.targets[0]
    cluster = register(target)
    settings = WorkerSettings(loop=LoopSettings(interval=600.0, job_poll=0.2, max_backoff=60.0), job_scan=0.2)
    running_worker(settings)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    set_faults(sim.control_url, target.name, error_rate=1.0, error_status=502)
    Job.objects.create(cluster=cluster, job_id=4242)  # unfinished: followed at the next scan
    time.sleep(0.5)
    before = requests_served(sim, target.name)
    time.sleep(6.0)
    served = requests_served(sim, target.name) - before
    # Without backoff: a long poll a second and a poll every 0.2 s, 36 requests in 6 s.
    assert served <= 10, served
    set_faults(sim.control_url, target.name, error_rate=0.0)


def test_a_loop_that_died_is_started_again(
    fresh_simulator: Callable[..., Simulated],
    running_worker: Callable[[WorkerSettings], Running],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cluster = register(fresh_simulator().targets[0])
    real_run = ClusterLoop.run
    died: list[int] = []

    async def dies_once(self: ClusterLoop) -> None:
        if not died:
            died.append(self.cluster_id)
            raise RuntimeError("a bug")
        await real_run(self)

    monkeypatch.setattr(ClusterLoop, "run", dies_once)
    running_worker(WorkerSettings(loop=LoopSettings(interval=600.0), lease_period=0.3))
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    assert died == [cluster.pk]


def test_a_replaced_client_is_closed_once_the_job_it_follows_lets_go() -> None:
    def connection(url: str) -> Connection:
        return Connection(1, "c1", url, "00" * 32, "", "", 5.0, offline=False)

    async def main() -> None:
        clients = Clients()
        await clients.set(connection("https://127.0.0.1:5080"))
        old = clients.current
        assert old is not None
        with clients.using(old):  # a follower's long poll
            await clients.set(connection("https://127.0.0.1:5081"))
            assert clients.current is not old
            assert not old.transport._client.is_closed  # type: ignore[attr-defined]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert old.transport._client.is_closed  # type: ignore[attr-defined]
        assert clients.open_count == 1
        await clients.set(connection("https://127.0.0.1:5082"))  # nothing holds the current one
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert clients.open_count == 1
        await clients.close()
        assert clients.open_count == 0

    asyncio.run(main())

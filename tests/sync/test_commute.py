"""A cluster loop's writes commute: reads that began in one order and are written in another leave the rows
of the newest read. Each test drives one interleaving by hand (read, change the cluster, read again, then
write in a chosen order) against the simulator over real HTTPS."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from fleet.inventory.models import Cluster, Instance
from fleet.rapi import instances
from fleet.sync.database import Database
from fleet.sync.fetch import fetch_full
from fleet.sync.loop import ClusterLoop, LoopSettings
from fleet.sync.messages import NamesRead, PassRead
from tests.conftest import Simulated
from tests.sync.conftest import register, run_once
from tests.sync.test_snapshot import rapi

pytestmark = pytest.mark.django_db(transaction=True)

T = TypeVar("T")


@pytest.fixture
def synced(fresh_simulator: Callable[..., Simulated]) -> tuple[Simulated, Cluster]:
    sim = fresh_simulator()
    cluster = register(sim.targets[0])
    run_once()
    return sim, cluster


def drive(steps: Callable[[ClusterLoop], Awaitable[T]], cluster: Cluster) -> T:
    """Run ``steps`` with a loop of the cluster (not running: the test writes its messages itself)."""

    async def main() -> T:
        loop = ClusterLoop(cluster.pk, Database(1, urgent_thread=False), asyncio.Semaphore(1), LoopSettings())
        try:
            return await steps(loop)
        finally:
            await loop.stop()
            await loop.reads.clients.close()
            loop.db.close()

    return asyncio.run(main())


def running_instance(cluster: Cluster) -> Instance:
    instance = Instance.objects.filter(cluster=cluster, status="running").order_by("name").first()
    assert instance is not None
    return instance


def act(sim: Simulated, call: object) -> None:
    with rapi(sim) as client:
        client.wait_for_job(client.call(call))  # type: ignore[arg-type]


def test_a_pass_that_read_before_a_job_ended_does_not_undo_the_jobs_resync(
    synced: tuple[Simulated, Cluster],
) -> None:
    sim, cluster = synced
    victim = running_instance(cluster)

    async def steps(loop: ClusterLoop) -> None:
        before = await loop.reads.full()  # reads the instance running
        assert isinstance(before, PassRead)
        act(sim, instances.shutdown(victim.name))
        after = await loop.reads.names({victim.name})
        assert isinstance(after, NamesRead)
        await loop.handle(after)
        await loop.handle(before)  # written last, read first

    drive(steps, cluster)
    assert Instance.objects.get(pk=victim.pk).status == "ADMIN_down"


def test_a_resync_older_than_the_last_pass_is_dropped(synced: tuple[Simulated, Cluster]) -> None:
    sim, cluster = synced
    victim = running_instance(cluster)

    async def steps(loop: ClusterLoop) -> None:
        early = await loop.reads.names({victim.name})  # running
        act(sim, instances.shutdown(victim.name))
        later = await loop.reads.full()  # stopped
        await loop.handle(later)
        await loop.handle(early)

    drive(steps, cluster)
    assert Instance.objects.get(pk=victim.pk).status == "ADMIN_down"


def test_two_jobs_on_one_instance_leave_the_state_after_the_second(synced: tuple[Simulated, Cluster]) -> None:
    sim, cluster = synced
    victim = running_instance(cluster)

    async def steps(loop: ClusterLoop) -> None:
        act(sim, instances.add_tags(victim.name, ["first:job"]))
        after_first = await loop.reads.names({victim.name})
        act(sim, instances.add_tags(victim.name, ["second:job"]))
        after_second = await loop.reads.names({victim.name})
        await loop.handle(after_second)
        await loop.handle(after_first)

    drive(steps, cluster)
    tags = Instance.objects.get(pk=victim.pk).tags
    assert "first:job" in tags and "second:job" in tags


def test_an_instance_a_job_destroyed_is_not_brought_back_by_an_older_pass(
    synced: tuple[Simulated, Cluster],
) -> None:
    sim, cluster = synced
    victim = Instance.objects.filter(cluster=cluster).order_by("name").last()
    assert victim is not None

    async def steps(loop: ClusterLoop) -> None:
        await loop.reads.names(())  # connects
        assert loop.reads.clients.current is not None
        # A pass that reads every instance in full (the first, or one after many changes) still has it.
        first = await fetch_full(loop.reads.clients.current, markers=False)
        before = PassRead(loop.reads.now(), first, None, first.latency, 10.0)
        act(sim, instances.delete(victim.name))
        gone = await loop.reads.names({victim.name})
        await loop.handle(gone)
        exists = Instance.objects.filter(cluster=cluster, name=victim.name).exists
        assert not await asyncio.to_thread(exists)
        await loop.handle(before)

    drive(steps, cluster)
    assert not Instance.objects.filter(cluster=cluster, name=victim.name).exists()


def test_either_order_gives_the_same_rows(fresh_simulator: Callable[..., Simulated]) -> None:
    """The same two reads, written in both orders against the same starting rows, give the same rows."""
    sim = fresh_simulator()
    cluster = register(sim.targets[0])
    run_once()
    victim = running_instance(cluster)

    def columns() -> list[tuple[object, ...]]:
        return list(
            Instance.objects.filter(cluster=cluster)
            .order_by("name")
            .values_list("name", "status", "admin_state", "tags", "memory", "primary_node__name")
        )

    async def reads(loop: ClusterLoop) -> tuple[PassRead, NamesRead]:
        full = await loop.reads.full()
        act(sim, instances.shutdown(victim.name))
        act(sim, instances.add_tags(victim.name, ["after:pass"]))
        names = await loop.reads.names({victim.name})
        assert isinstance(full, PassRead) and isinstance(names, NamesRead)
        return full, names

    full, names = drive(reads, cluster)
    outcomes = []
    for order in ((full, names), (names, full)):
        Instance.objects.filter(pk=victim.pk).update(status="running", tags=[], synced_at=None, serial_no=0)

        async def write(loop: ClusterLoop, order: tuple[PassRead | NamesRead, ...] = order) -> None:
            for message in order:
                await loop.handle(message)

        drive(write, cluster)
        outcomes.append(columns())
    assert outcomes[0] == outcomes[1]
    row = Instance.objects.get(pk=victim.pk)
    assert row.status == "ADMIN_down" and "after:pass" in row.tags

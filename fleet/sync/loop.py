"""One cluster's loop: full passes at a fixed cadence, backoff after failures, resyncs after followed jobs.

Everything the worker writes about a cluster goes through its loop, one step at a time: full passes, the
final state of followed jobs and the resyncs they trigger. So two writes of the same cluster never overlap,
by construction. The RAPI requests run on the event loop; parsing and database writes run on the worker's
database threads (``fleet.sync.database``), so that a slow cluster, or a large one, holds up no other cluster.

A full pass has two steps (``fleet.sync.fetch``): the markers and live fields of every instance, compared
with the stored rows, then the full records of only the instances that changed, written in one transaction
with everything else. When a followed job ends, its follower records the final job and reads what it
touched at once, beside whatever the loop is doing (reads never conflict); the loop writes what was read at
once, between the writes of a full pass in progress (and again after it, since the pass may have read those
objects before the job ended), on a database thread of its own, so that it never queues behind other
clusters' passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import transaction
from django.utils import timezone

from fleet.rapi import AsyncRapiClient, RapiError
from fleet.rapi import Job as RapiJob
from fleet.rapi.errors import JobNotFound
from fleet.sync import follower, health, snapshot
from fleet.sync.connect import Connection
from fleet.sync.database import Database
from fleet.sync.fetch import FETCH_ALL_ABOVE, Fetched, fetch_full, fetch_instances, fetch_partial

__all__ = ["ClusterLoop", "LoopSettings"]

log = logging.getLogger("fleet.sync")

DEFAULT_INTERVAL = 10.0
"""Seconds between full passes: a pass at rest sends REQUESTS_PER_FULL_PASS (6) requests, so a cluster at
rest sees about 0.6 requests per second, and a change made outside Fleet shows up within 10 s."""


@dataclass(frozen=True)
class LoopSettings:
    """The cadence of the loops."""

    interval: float = DEFAULT_INTERVAL
    max_backoff: float = 300.0  # seconds between attempts at most, however long a cluster has been failing
    follow_limit: int = 10  # long polls at once per cluster; other unfinished jobs wait their turn


def _plan_step(cluster_id: int, fetched: Fetched) -> tuple[snapshot.Snapshot, set[str]]:
    """Parse a full pass's first answers; return them and the names of the instances that changed."""
    snap = fetched.parse()
    assert snap.instance_markers is not None
    return snap, snapshot.changed_instances(cluster_id, snap.instance_markers)


def _pass_start(cluster_id: int) -> tuple[snapshot.JobCursor, bool]:
    """What a full pass needs to know first: the job cursor, and whether any instance is stored."""
    return snapshot.job_cursor(cluster_id), snapshot.has_instances(cluster_id)


def _full_step(
    cluster_id: int,
    first: snapshot.Snapshot | Fetched,
    details: Fetched | None,
    outcome_start: dt.datetime,
    latency: float,
    timeout: float,
) -> snapshot.Stats:
    """Parse what is left of a full pass's answers, write the pass and record the cluster's health, in one
    transaction: ``first`` is the parsed first step and ``details`` the instance records that followed, or
    ``first`` holds every answer of a one-step pass (and ``details`` is None)."""
    if isinstance(first, Fetched):
        snap = first.parse()
    else:
        assert details is not None
        snap = replace(first, instances=details.instances())
    snap = replace(snap, read_from=outcome_start)  # rows a job's resync wrote since are newer: kept
    now = timezone.now()
    with transaction.atomic():
        stats = snapshot.apply(cluster_id, snap, now)
        outcome = health.Outcome(outcome_start, timezone.now(), latency=latency, stats=stats.as_dict())
        health.record(cluster_id, outcome, timeout)
    return stats


def _partial_step(cluster_id: int, fetched: Fetched) -> snapshot.Stats:
    return snapshot.apply(cluster_id, fetched.parse(), timezone.now())


@dataclass(frozen=True)
class _Touched:
    """What a follower read of the instances its job touched, once the job had ended; ``started`` is the
    loop's clock when the read began."""

    names: frozenset[str]
    fetched: Fetched
    started: float


class ClusterLoop:
    """The loop of one cluster: see the module docstring."""

    def __init__(
        self,
        cluster_id: int,
        db: Database,
        gate: asyncio.Semaphore,
        settings: LoopSettings,
        clock: Callable[[], float] = time.monotonic,
        fetch_gate: asyncio.Semaphore | None = None,
    ) -> None:
        self.cluster_id = cluster_id
        self.name = f"cluster {cluster_id}"
        self.db = db
        self.gate = gate  # bounds how many clusters parse and write at once (memory)
        self.fetch_gate = fetch_gate  # bounds how many clusters read every instance in full at once (memory)
        self.settings = settings
        self.clock = clock
        self.failures = 0
        self.passes = 0
        self.rows_written = 0  # by full passes, ever: the worker refreshes statistics after many
        self.last_outcome: health.Outcome | None = None
        self._connection: Connection | None = None
        self._client: AsyncRapiClient | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._dirty: set[str] = set()
        self._dirty_all = False
        self._touched: list[_Touched] = []  # read by followers, written by the loop (one writer per cluster)
        self._passed_at = -math.inf  # the clock when the last successful full pass began
        self._writing = asyncio.Lock()  # held by every write of the cluster: they never overlap
        self._followed: dict[int, asyncio.Task[None]] = {}
        self._follow_gate = asyncio.Semaphore(settings.follow_limit)
        self._clients_to_close: list[AsyncRapiClient] = []

    # Used by the worker ------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Full passes at a fixed cadence, resyncs in between, until :meth:`stop`."""
        next_full = self.clock()
        try:
            while not self._stopping.is_set():
                await self._sleep_until(next_full)
                if self._stopping.is_set():
                    break
                if (self._dirty or self._touched) and not self._dirty_all:
                    await self.resync()  # a followed job's end goes before the next full pass
                elif self.clock() >= next_full or self._dirty_all:
                    started = self.clock()
                    ok = await self._full_pass_and_resyncs()
                    if ok:
                        self._passed_at = started
                    delay = health.backoff(self.failures, self.settings.interval, self.settings.max_backoff)
                    next_full = (started if ok else self.clock()) + delay
        finally:
            await self._shutdown()

    async def stop(self) -> None:
        """Finish the step in progress, stop following jobs (their rows stay unfinished), and return."""
        self._stopping.set()
        self._wake.set()

    def follow(self, job_id: int) -> None:
        """Follow the job to its end unless it is followed already."""
        if job_id in self._followed or self._stopping.is_set():
            return
        self._followed[job_id] = asyncio.create_task(self._follow(job_id), name=f"follow {job_id}")
        log.info("%s: following job %d", self.name, job_id)

    async def wait_followed(self, timeout: float) -> None:
        """Wait until every followed job ended (or ``timeout`` seconds passed)."""
        tasks = list(self._followed.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def drain(self) -> None:
        """Resync what finished jobs touched, then stop and close (the end of a one-shot run)."""
        if self._dirty_all:
            await self.full_pass()
        elif self._dirty:
            await self.resync()
        self._stopping.set()
        await self._shutdown()

    # Passes -----------------------------------------------------------------------------------------------

    async def full_pass(self) -> bool:
        """Fetch everything, write what changed, record health. Returns whether it succeeded."""
        started_at = timezone.now()
        self._dirty_all = False
        dirty, self._dirty = self._dirty, set()
        try:
            connection = await self._connect()
            if connection is None or connection.offline:
                return True
            assert self._client is not None
            cursor, stored = await self.db.run(_pass_start, self.cluster_id)
            # A pass that reads every instance in full (the first one, or one where most changed) holds the
            # fetch gate until it has written them: that bounds how many clusters' full records the worker
            # holds at once, as answers waiting for a database thread or parsed.
            async with contextlib.AsyncExitStack() as in_full:
                first: snapshot.Snapshot | Fetched
                details: Fetched | None = None
                if not stored:  # nothing stored to compare with: every instance in full, at once
                    await in_full.enter_async_context(self.fetch_gate or contextlib.nullcontext())
                    fetched = first = await fetch_full(self._client, cursor, markers=False)
                else:
                    fetched = await fetch_full(self._client, cursor)
                    plan, changed = await self.db.run(_plan_step, self.cluster_id, fetched)
                    assert plan.instance_markers is not None
                    if len(changed) > min(FETCH_ALL_ABOVE, len(plan.instance_markers) // 2):
                        plan = replace(plan, instance_markers=None)  # most changed: read all in full
                        await in_full.enter_async_context(self.fetch_gate or contextlib.nullcontext())
                        details = await fetch_instances(self._client, None)
                    else:
                        details = await fetch_instances(self._client, changed)
                    first = plan
                async with self.gate, self._writing:
                    stats = await self.db.run(
                        _full_step,
                        self.cluster_id,
                        first,
                        details,
                        started_at,
                        fetched.latency,
                        connection.timeout,
                    )
        except Exception as exc:  # every failure is recorded as the cluster's health, then backed off
            self._dirty |= dirty
            self.failures += 1
            outcome = health.Outcome(started_at, timezone.now(), error=health.describe(exc))
            self.last_outcome = outcome
            log.warning("%s: sync failed (%d in a row): %s", self.name, self.failures, outcome.error)
            await self._record_failure(outcome)
            return False
        self.failures = 0
        self.passes += 1
        self.rows_written += stats.writes
        self.last_outcome = health.Outcome(started_at, timezone.now(), latency=fetched.latency)
        log.info("%s: synced, %d rows written", self.name, stats.writes)
        return True

    async def resync(self) -> None:
        """Write what followed jobs touched: the instances their followers read once the job ended (and
        every node, group and network), then read and write the rest of the dirty names."""
        names, self._dirty = self._dirty, set()
        touched, self._touched = self._touched, []
        try:
            for read in touched:
                names -= read.names
            for read in self._fresh(touched):
                await self._write_read(read)
            if not names:
                return
            if self._client is None:
                connection = await self._connect(urgent=True)
                if connection is None or connection.offline or self._client is None:
                    return
            fetched = await fetch_partial(self._client, names)
            await self.db.urgent(_partial_step, self.cluster_id, fetched)
        except Exception as exc:  # the next full pass covers what this one missed
            names |= {name for read in touched for name in read.names}
            log.warning("%s: resync of %s failed: %s", self.name, sorted(names), health.describe(exc))
            self._dirty_all = True

    async def _full_pass_and_resyncs(self) -> bool:
        """A full pass, with what followed jobs touched written meanwhile (between the pass's writes), and
        again after it: the pass may have read those objects before the job ended."""
        passing = asyncio.create_task(self.full_pass())
        written: list[_Touched] = []
        while not passing.done():
            self._wake.clear()
            if not self._touched:  # checked after the clear: a read queued while writing is not missed
                waking = asyncio.create_task(self._wake.wait())
                await asyncio.wait({passing, waking}, return_when=asyncio.FIRST_COMPLETED)
                waking.cancel()
            reads, self._touched = self._fresh(self._touched), []
            for read in reads:
                try:
                    await self._write_read(read)
                except Exception as exc:  # written again after the pass
                    log.warning("%s: resync of %s failed: %s", self.name, sorted(read.names), exc)
            written += reads
        self._touched = written + self._touched
        return passing.result()

    def _fresh(self, reads: list[_Touched]) -> list[_Touched]:
        """The reads worth writing, oldest first: one from before the last full pass began is older than
        what that pass wrote (the pass saw its job's effects), and is dropped."""
        fresh = [read for read in reads if read.started >= self._passed_at]
        return sorted(fresh, key=lambda read: read.started)

    async def _write_read(self, read: _Touched) -> None:
        async with self._writing:
            await self.db.urgent(_partial_step, self.cluster_id, read.fetched)  # small: not under the gate

    # Following --------------------------------------------------------------------------------------------

    async def _follow(self, job_id: int) -> None:
        delay = 1.0
        try:
            async with self._follow_gate:
                while not self._stopping.is_set():
                    client = self._client
                    if client is None:
                        await self._pause(delay)
                        continue
                    try:
                        job = await client.wait_for_job(job_id, check=False)
                    except JobNotFound as exc:
                        await self.db.urgent(follower.record_gone, self.cluster_id, job_id, str(exc))
                        return
                    except RapiError as exc:
                        log.info("%s: following job %d: %s", self.name, job_id, health.describe(exc))
                        await self._pause(delay)
                        delay = min(delay * 2, self.settings.max_backoff)
                        continue
                    if await self._ended(client, job):
                        log.info("%s: job %d ended: %s", self.name, job_id, job.status)
                        return
                    await self._pause(delay)  # the database failed: wait, and ask the cluster again
        finally:
            self._followed.pop(job_id, None)

    async def _ended(self, client: AsyncRapiClient, job: RapiJob) -> bool:
        """Record the final job and, meanwhile, read what it touched (a user waits for both); hand what
        was read to the loop, which writes it. False if the database failed."""
        guess = follower.touched(job.ops)  # the opcodes name the instances, as a rule
        early = asyncio.create_task(self._read_touched(client, guess)) if guess else None
        try:
            what = await self.db.urgent(follower.record_final, self.cluster_id, job, timezone.now())
            if what is follower.EVERYTHING:
                self._dirty_all = True
            else:
                if early is not None and guess is not None and what <= guess:
                    read = await early
                else:
                    read = await self._read_touched(client, what)
                self._dirty |= what
                if read is not None:  # else the loop's resync reads them
                    self._touched.append(read)
            self._wake.set()
            return True
        except Exception as exc:  # the database failed
            log.error("%s: cannot record job %d: %s", self.name, job.id, exc)
            return False
        finally:
            if early is not None:
                early.cancel()

    async def _read_touched(self, client: AsyncRapiClient, names: frozenset[str]) -> _Touched | None:
        """The instances named (and every node, group and network), read now; None if the cluster failed."""
        started = self.clock()
        try:
            return _Touched(names, await fetch_partial(client, names), started)
        except Exception as exc:
            log.info("%s: reading %s: %s", self.name, sorted(names), health.describe(exc))
            return None

    # Helpers ----------------------------------------------------------------------------------------------

    async def _connect(self, urgent: bool = False) -> Connection | None:
        """Read the cluster's row; (re)build the client when its connection settings changed."""
        run = self.db.urgent if urgent else self.db.run
        connection = await run(Connection.load, self.cluster_id)
        if connection is not None:
            self.name = connection.name
        if connection != self._connection:
            if self._client is not None:
                self._clients_to_close.append(self._client)
            self._client = connection.async_client() if connection is not None else None
            self._connection = connection
            await self._close_old_clients()
        return connection

    async def _close_old_clients(self) -> None:
        if self._followed:
            return  # a long poll may still use them; closed at shutdown
        clients, self._clients_to_close = self._clients_to_close, []
        for client in clients:
            await client.aclose()

    async def _record_failure(self, outcome: health.Outcome) -> None:
        timeout = self._connection.timeout if self._connection else 0.0
        with contextlib.suppress(Exception):  # the database may be what failed; the log has the error
            await self.db.run(health.record, self.cluster_id, outcome, timeout)

    async def _sleep_until(self, deadline: float) -> None:
        """Sleep until ``deadline`` (monotonic), or until woken by a finished job or :meth:`stop`."""
        if self._dirty or self._dirty_all or self._touched:
            return
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, deadline - self.clock()))

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _shutdown(self) -> None:
        for task in list(self._followed.values()):
            task.cancel()
        await asyncio.gather(*self._followed.values(), return_exceptions=True)
        if self._client is not None:
            self._clients_to_close.append(self._client)
            self._client = None
        await self._close_old_clients()

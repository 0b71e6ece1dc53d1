"""One cluster's loop: full passes at a fixed cadence, backoff after failures, resyncs after followed jobs.

Everything the worker writes about a cluster goes through its loop, one step at a time: full passes, the
final state of followed jobs and the resyncs they trigger. So two writes of the same cluster never overlap,
by construction. The RAPI requests run on the event loop; parsing and database writes run on the worker's
database threads (:class:`Database`), so that a slow cluster, or a large one, holds up no other cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from django.db import close_old_connections, connections, transaction
from django.utils import timezone

from fleet.rapi import AsyncRapiClient, RapiError
from fleet.rapi.errors import JobNotFound
from fleet.sync import follower, health, snapshot
from fleet.sync.connect import Connection
from fleet.sync.fetch import Fetched, fetch_full, fetch_partial

__all__ = ["ClusterLoop", "Database", "LoopSettings"]

log = logging.getLogger("fleet.sync")
P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_INTERVAL = 10.0
"""Seconds between full passes: a pass sends REQUESTS_PER_FULL_PASS (6) requests, so a cluster at rest sees
about 0.6 requests per second, and a change made outside Fleet shows up within 10 s."""


@dataclass(frozen=True)
class LoopSettings:
    """The cadence of the loops."""

    interval: float = DEFAULT_INTERVAL
    max_backoff: float = 300.0  # seconds between attempts at most, however long a cluster has been failing
    follow_limit: int = 10  # long polls at once per cluster; other unfinished jobs wait their turn


class Database:
    """Runs ORM work on a few threads of its own, never on the event loop.

    Each thread keeps its Django connection; a connection that broke is replaced before the next call. On
    SQLite one thread does everything (SQLite has one writer at a time anyway).
    """

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fleet-db")
        self.threads = threads

    @classmethod
    def for_default(cls, threads: int = 4) -> Database:
        """One thread on SQLite, ``threads`` otherwise."""
        return cls(1 if connections["default"].vendor == "sqlite" else threads)

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` on a database thread."""

        def call() -> T:
            close_old_connections()
            return func(*args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        """Close the threads' connections and stop the threads."""
        for _ in range(self.threads):
            self._pool.submit(connections.close_all)
        self._pool.shutdown(wait=True)


def _full_step(
    cluster_id: int, fetched: Fetched, outcome_start: dt.datetime, latency: float, timeout: float
) -> snapshot.Stats:
    """Parse a full pass's answers, write them and record the cluster's health, in one transaction."""
    snap = fetched.parse()
    now = timezone.now()
    with transaction.atomic():
        stats = snapshot.apply(cluster_id, snap, now)
        outcome = health.Outcome(outcome_start, timezone.now(), latency=latency, stats=stats.as_dict())
        health.record(cluster_id, outcome, timeout)
    return stats


def _partial_step(cluster_id: int, fetched: Fetched) -> snapshot.Stats:
    return snapshot.apply(cluster_id, fetched.parse(), timezone.now())


class ClusterLoop:
    """The loop of one cluster: see the module docstring."""

    def __init__(
        self,
        cluster_id: int,
        db: Database,
        gate: asyncio.Semaphore,
        settings: LoopSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cluster_id = cluster_id
        self.name = f"cluster {cluster_id}"
        self.db = db
        self.gate = gate  # bounds how many clusters parse and write at once (memory)
        self.settings = settings
        self.clock = clock
        self.failures = 0
        self.passes = 0
        self.last_outcome: health.Outcome | None = None
        self._connection: Connection | None = None
        self._client: AsyncRapiClient | None = None
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._dirty: set[str] = set()
        self._dirty_all = False
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
                if self.clock() >= next_full or self._dirty_all:
                    started = self.clock()
                    ok = await self.full_pass()
                    delay = health.backoff(self.failures, self.settings.interval, self.settings.max_backoff)
                    next_full = (started if ok else self.clock()) + delay
                elif self._dirty:
                    await self.resync()
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
            cursor = await self.db.run(snapshot.job_cursor, self.cluster_id)
            fetched = await fetch_full(self._client, cursor)
            async with self.gate:
                stats = await self.db.run(
                    _full_step, self.cluster_id, fetched, started_at, fetched.latency, connection.timeout
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
        self.last_outcome = health.Outcome(started_at, timezone.now(), latency=fetched.latency)
        log.info("%s: synced, %d rows written", self.name, stats.writes)
        return True

    async def resync(self) -> None:
        """Fetch and write the instances that followed jobs touched (and all nodes, groups and networks)."""
        names, self._dirty = self._dirty, set()
        try:
            connection = await self._connect()
            if connection is None or connection.offline or self._client is None:
                return
            fetched = await fetch_partial(self._client, names)
            async with self.gate:
                await self.db.run(_partial_step, self.cluster_id, fetched)
        except Exception as exc:  # the next full pass covers what this one missed
            log.warning("%s: resync of %s failed: %s", self.name, sorted(names), health.describe(exc))
            self._dirty_all = True

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
                        await self.db.run(follower.record_gone, self.cluster_id, job_id, str(exc))
                        return
                    except RapiError as exc:
                        log.info("%s: following job %d: %s", self.name, job_id, health.describe(exc))
                        await self._pause(delay)
                        delay = min(delay * 2, self.settings.max_backoff)
                        continue
                    try:
                        what = await self.db.run(follower.record_final, self.cluster_id, job, timezone.now())
                    except Exception as exc:  # the database failed: wait, and ask the cluster again
                        log.error("%s: cannot record job %d: %s", self.name, job_id, exc)
                        await self._pause(delay)
                        continue
                    log.info("%s: job %d ended: %s", self.name, job_id, job.status)
                    if what is follower.EVERYTHING:
                        self._dirty_all = True
                    else:
                        self._dirty |= what
                    self._wake.set()
                    return
        finally:
            self._followed.pop(job_id, None)

    # Helpers ----------------------------------------------------------------------------------------------

    async def _connect(self) -> Connection | None:
        """Read the cluster's row; (re)build the client when its connection settings changed."""
        connection = await self.db.run(Connection.load, self.cluster_id)
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
        if self._dirty or self._dirty_all:
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

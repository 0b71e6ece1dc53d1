"""The worker: one loop per cluster it holds a lease on, the job follower's scan, and a clean drain.

``Worker.run()`` runs until ``stop()`` (the CLI calls it on SIGTERM and SIGINT): every lease period it
claims clusters (``fleet.sync.leases``), starts a loop for each cluster it gained and stops those it lost,
gave up, or that were removed or marked offline. A job Fleet submits is followed by its cluster's loop as
soon as the process that recorded it announces it (PostgreSQL's LISTEN/NOTIFY); every second the worker
also looks for unfinished Job rows of its clusters, which finds the jobs of a restart, those recorded
without an announcement (SQLite, a job Ganeti submitted as a child) and those announced while the
listener was reconnecting. A loop that died (a bug) is logged with its traceback and started again.
Beside the clusters, the mail task (``fleet.sync.mail``) sends the outbox every few seconds.
``Worker.run_once()`` does one full pass and one poll of the job queue of every cluster, then follows the
unfinished jobs to their end and resyncs what they touched, then sends the mail that is due:
deterministic, for tests and cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import psycopg
from django.db import connections

from fleet.inventory import maintenance
from fleet.inventory.models import Cluster
from fleet.jobs.lifecycle import SUBMITTED_CHANNEL
from fleet.notify import courier
from fleet.operations import lifecycle as operations
from fleet.operations.announce import DUE_CHANNEL
from fleet.sync import follower
from fleet.sync.database import Database
from fleet.sync.leases import Leases
from fleet.sync.loop import ClusterLoop, LoopSettings
from fleet.sync.mail import MailTask

__all__ = ["Worker", "WorkerSettings"]

log = logging.getLogger("fleet.sync")


@dataclass(frozen=True)
class WorkerSettings:
    """How the worker paces itself; the loops' own settings are in ``loop``."""

    loop: LoopSettings = field(default_factory=LoopSettings)
    lease_period: float = 10.0  # seconds; a dead worker's clusters are taken over within one period
    job_scan: float = 1.0  # seconds between scans for unfinished Job rows
    # Clusters parsed and written at once, PostgreSQL only. Parsing holds the GIL, so two keep the database
    # and Python busy side by side; each more holds another cluster's records (memory) for no speed.
    parallel_writes: int = 2
    # Clusters between the start of reading every instance in full and the end of writing them (memory
    # bound): those written, and as many read meanwhile.
    parallel_full_fetches: int = 4
    mail_interval: float = 5.0  # seconds between passes of the outbox (a queued mail waits at most this)


ANALYZE_AFTER = 1_000
"""Rows written by full passes (a first sync, a large change) after which the read model is analyzed."""


def _contactable_clusters() -> dict[int, str]:
    """The clusters a worker may sync, by pk, with their names (for the log)."""
    return dict(Cluster.objects.filter(offline=False).order_by("pk").values_list("pk", "name"))


class Worker:
    """See the module docstring."""

    def __init__(self, settings: WorkerSettings, leases: Leases, db: Database | None = None) -> None:
        self.settings = settings
        self.leases = leases
        self.db = db or Database.for_default(settings.parallel_writes)
        self.gate = asyncio.Semaphore(max(1, self.db.threads))
        self.fetch_gate = asyncio.Semaphore(max(1, settings.parallel_full_fetches))
        self.loops: dict[int, ClusterLoop] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self._analyzed_at = 0  # rows the loops had written when statistics were last refreshed
        self.mail = MailTask(settings.mail_interval)
        self.mail_pass: courier.Pass | None = None  # what run_once's mail pass did

    def stop(self) -> None:
        """Drain: finish the steps in progress, then return from :meth:`run`."""
        self._stopping.set()

    async def run(self) -> None:
        """Sync the clusters this worker holds until :meth:`stop`."""
        scanner = asyncio.create_task(self._scan_jobs(), name="job scan")
        listener = asyncio.create_task(self._listen_jobs(), name="job listener")
        mailer = asyncio.create_task(self.mail.run(self._stopping), name="mail")
        try:
            while not self._stopping.is_set():
                await self._supervise()
                await self._analyze_after_many_writes(self.loops.values())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.lease_period)
        finally:
            scanner.cancel()
            listener.cancel()
            mailer.cancel()
            await asyncio.gather(scanner, listener, mailer, return_exceptions=True)
            await self._stop_loops(list(self.loops))
            await asyncio.to_thread(self.mail.close)
            await asyncio.to_thread(self.leases.close)
            self.db.close()

    async def run_once(self, job_timeout: float = 60.0) -> dict[int, ClusterLoop]:
        """One full pass of every cluster held, then follow unfinished jobs to their end and resync."""
        try:
            wanted = await self.db.run(_contactable_clusters)
            claim = await asyncio.to_thread(self.leases.claim, list(wanted))
            loops = {
                cid: ClusterLoop(cid, self.db, self.gate, self.settings.loop, fetch_gate=self.fetch_gate)
                for cid in sorted(claim.held)
            }
            await asyncio.gather(*(loop.full_pass() for loop in loops.values()))
            await asyncio.gather(*(loop.poll_jobs() for loop in loops.values() if loop.reads.clients.current))
            for cluster_id, operation_id in await self.db.run(operations.due, list(loops)):
                if loops[cluster_id].reads.clients.current is not None:  # else it waits for the next run
                    await loops[cluster_id].submit_now(operation_id)
            await self._analyze_after_many_writes(loops.values())
            for cluster_id, job_id in await self.db.run(follower.pending_jobs, list(loops)):
                loops[cluster_id].follow(job_id)
            await asyncio.gather(*(loop.wait_followed(job_timeout) for loop in loops.values()))
            await asyncio.gather(*(loop.drain() for loop in loops.values()))
            self.mail_pass = await self.mail.once()
            return loops
        finally:
            await asyncio.to_thread(self.mail.close)
            await asyncio.to_thread(self.leases.close)
            self.db.close()

    # Supervision ------------------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            wanted = await self.db.run(_contactable_clusters)
            claim = await asyncio.to_thread(self.leases.claim, list(wanted))
        except Exception as exc:  # the database is down: keep what runs, try again next period
            log.error("cannot claim clusters: %s", exc)
            return
        gone = [cid for cid in self.loops if cid not in claim.held or cid in claim.surplus]
        await self._stop_loops(gone)
        for cluster_id, task in list(self._tasks.items()):
            if task.done():  # only a bug ends a loop before it is stopped
                error = None if task.cancelled() else task.exception()
                name = self.loops[cluster_id].name
                log.error("%s: its loop died; starting it again", name, exc_info=error)
                del self._tasks[cluster_id], self.loops[cluster_id]
        if claim.surplus:
            await asyncio.to_thread(self.leases.release, claim.surplus)
        for cluster_id in sorted(claim.held - claim.surplus):
            if cluster_id not in self.loops:
                self._start_loop(cluster_id, wanted.get(cluster_id, f"cluster {cluster_id}"))

    def _start_loop(self, cluster_id: int, name: str) -> None:
        loop = ClusterLoop(cluster_id, self.db, self.gate, self.settings.loop, fetch_gate=self.fetch_gate)
        loop.name = name
        self.loops[cluster_id] = loop
        self._tasks[cluster_id] = asyncio.create_task(loop.run(), name=name)
        log.info("%s: syncing (cluster %d)", name, cluster_id)

    async def _stop_loops(self, cluster_ids: Sequence[int]) -> None:
        for cluster_id in cluster_ids:
            await self.loops[cluster_id].stop()
        tasks = [self._tasks.pop(cid) for cid in cluster_ids]
        await asyncio.gather(*tasks, return_exceptions=True)
        for cluster_id in cluster_ids:
            log.info("%s: stopped syncing (cluster %d)", self.loops.pop(cluster_id).name, cluster_id)

    async def _analyze_after_many_writes(self, loops: Iterable[ClusterLoop]) -> None:
        """Refresh PostgreSQL's statistics once the loops have written many rows since the last time: until
        autovacuum does it (minutes later), the planner takes a freshly filled table for an empty one, and
        the instance list reads every row instead of one page."""
        written = sum(loop.rows_written for loop in loops)
        self._analyzed_at = min(self._analyzed_at, written)  # loops stopped since take their count along
        if written - self._analyzed_at < ANALYZE_AFTER:
            return
        try:
            await self.db.run(maintenance.analyze)
        except Exception as exc:  # the database is down: try again next period
            log.error("cannot analyze the read model: %s", exc)
            return
        self._analyzed_at = written

    async def _scan_jobs(self) -> None:
        while True:
            try:
                due = await self.db.urgent(operations.due, list(self.loops))
                pending = await self.db.urgent(follower.pending_jobs, list(self.loops))
            except Exception as exc:  # the database is down: try again at the next scan
                log.error("cannot read pending operations and unfinished jobs: %s", exc)
                due, pending = [], []
            for cluster_id, operation_id in due:
                loop = self.loops.get(cluster_id)
                if loop is not None:
                    loop.submit(operation_id)
            for cluster_id, job_id in pending:
                loop = self.loops.get(cluster_id)
                if loop is not None:
                    loop.follow(job_id)
            await asyncio.sleep(self.settings.job_scan)

    async def _listen_jobs(self) -> None:
        """Follow each job announced by ``fleet.jobs.lifecycle.submitted`` at once (PostgreSQL only)."""
        database = connections["default"]
        if database.vendor != "postgresql":
            return
        # Django's parameters, less its synchronous cursor class and adapters.
        params = {
            key: value
            for key, value in database.get_connection_params().items()
            if key not in ("cursor_factory", "context")
        }
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(**params, autocommit=True) as listening:
                    await listening.execute(f"LISTEN {SUBMITTED_CHANNEL}")
                    await listening.execute(f"LISTEN {DUE_CHANNEL}")
                    async for note in listening.notifies():
                        self._announced(note.channel, note.payload)
            except (psycopg.Error, OSError) as exc:  # the scan finds the jobs meanwhile
                log.warning("cannot listen for submitted jobs: %s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.lease_period)

    def _announced(self, channel: str, payload: str) -> None:
        try:
            cluster_id, number = (int(part) for part in payload.split())
        except ValueError:
            log.warning("ignoring a malformed announcement on %s: %r", channel, payload)
            return
        loop = self.loops.get(cluster_id)
        if loop is None:  # another worker holds the cluster, and heard it too
            return
        if channel == DUE_CHANNEL:
            loop.submit(number)
        else:
            loop.follow(number)

"""The worker: one loop per cluster it holds a lease on, the job follower's scan, and a clean drain.

``Worker.run()`` runs until ``stop()`` (the CLI calls it on SIGTERM and SIGINT): every lease period it
claims clusters (``fleet.sync.leases``), starts a loop for each cluster it gained and stops those it lost,
gave up, or that were removed or marked offline; every second it looks for unfinished Job rows of its
clusters and has their loops follow them. ``Worker.run_once()`` does one full pass of every cluster, then
follows the unfinished jobs to their end and resyncs what they touched: deterministic, for tests and cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from fleet.inventory.models import Cluster
from fleet.sync import follower
from fleet.sync.leases import Leases
from fleet.sync.loop import ClusterLoop, Database, LoopSettings

__all__ = ["Worker", "WorkerSettings"]

log = logging.getLogger("fleet.sync")


@dataclass(frozen=True)
class WorkerSettings:
    """How the worker paces itself; the loops' own settings are in ``loop``."""

    loop: LoopSettings = field(default_factory=LoopSettings)
    lease_period: float = 10.0  # seconds; a dead worker's clusters are taken over within one period
    job_scan: float = 1.0  # seconds between scans for unfinished Job rows
    parallel_writes: int = 4  # clusters parsed and written at once (memory bound), PostgreSQL only
    parallel_full_fetches: int = 8  # clusters reading every instance in full at once (memory bound)


def _contactable_clusters() -> list[int]:
    return list(Cluster.objects.filter(offline=False).order_by("pk").values_list("pk", flat=True))


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

    def stop(self) -> None:
        """Drain: finish the steps in progress, then return from :meth:`run`."""
        self._stopping.set()

    async def run(self) -> None:
        """Sync the clusters this worker holds until :meth:`stop`."""
        scanner = asyncio.create_task(self._scan_jobs(), name="job scan")
        try:
            while not self._stopping.is_set():
                await self._supervise()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self.settings.lease_period)
        finally:
            scanner.cancel()
            await asyncio.gather(scanner, return_exceptions=True)
            await self._stop_loops(list(self.loops))
            await asyncio.to_thread(self.leases.close)
            self.db.close()

    async def run_once(self, job_timeout: float = 60.0) -> dict[int, ClusterLoop]:
        """One full pass of every cluster held, then follow unfinished jobs to their end and resync."""
        try:
            wanted = await self.db.run(_contactable_clusters)
            claim = await asyncio.to_thread(self.leases.claim, wanted)
            loops = {
                cid: ClusterLoop(cid, self.db, self.gate, self.settings.loop, fetch_gate=self.fetch_gate)
                for cid in sorted(claim.held)
            }
            await asyncio.gather(*(loop.full_pass() for loop in loops.values()))
            for cluster_id, job_id in await self.db.run(follower.pending_jobs, list(loops)):
                loops[cluster_id].follow(job_id)
            await asyncio.gather(*(loop.wait_followed(job_timeout) for loop in loops.values()))
            await asyncio.gather(*(loop.drain() for loop in loops.values()))
            return loops
        finally:
            await asyncio.to_thread(self.leases.close)
            self.db.close()

    # Supervision ------------------------------------------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            wanted = await self.db.run(_contactable_clusters)
            claim = await asyncio.to_thread(self.leases.claim, wanted)
        except Exception as exc:  # the database is down: keep what runs, try again next period
            log.error("cannot claim clusters: %s", exc)
            return
        gone = [cid for cid in self.loops if cid not in claim.held or cid in claim.surplus]
        await self._stop_loops(gone)
        if claim.surplus:
            await asyncio.to_thread(self.leases.release, claim.surplus)
        for cluster_id in sorted(claim.held - claim.surplus):
            if cluster_id not in self.loops:
                self._start_loop(cluster_id)

    def _start_loop(self, cluster_id: int) -> None:
        loop = ClusterLoop(cluster_id, self.db, self.gate, self.settings.loop, fetch_gate=self.fetch_gate)
        self.loops[cluster_id] = loop
        self._tasks[cluster_id] = asyncio.create_task(loop.run(), name=f"cluster {cluster_id}")
        log.info("syncing cluster %d", cluster_id)

    async def _stop_loops(self, cluster_ids: Sequence[int]) -> None:
        for cluster_id in cluster_ids:
            await self.loops[cluster_id].stop()
        tasks = [self._tasks.pop(cid) for cid in cluster_ids]
        await asyncio.gather(*tasks, return_exceptions=True)
        for cluster_id in cluster_ids:
            del self.loops[cluster_id]
            log.info("stopped syncing cluster %d", cluster_id)

    async def _scan_jobs(self) -> None:
        while True:
            try:
                pending = await self.db.urgent(follower.pending_jobs, list(self.loops))
            except Exception as exc:  # the database is down: try again at the next scan
                log.error("cannot read unfinished jobs: %s", exc)
                pending = []
            for cluster_id, job_id in pending:
                loop = self.loops.get(cluster_id)
                if loop is not None:
                    loop.follow(job_id)
            await asyncio.sleep(self.settings.job_scan)

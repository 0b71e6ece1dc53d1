"""What a cluster's loop reads, each read turned into a message for its inbox (``fleet.sync.messages``).

:class:`Reads` holds what talking to one cluster takes (its RAPI clients, the job queue's cursor, the jobs
whose long poll runs) and does every read the loop asks for: full passes, polls of the job queue, the
instances a job touched, and the long polls that follow jobs to their end. It writes nothing: only the loop
does (``fleet.sync.loop``). A read that fails becomes a message too, never an exception.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable, Collection
from dataclasses import replace

from fleet.operations.lifecycle import Attempt
from fleet.rapi import RapiError, errors
from fleet.rapi.errors import JobNotFound
from fleet.rapi.models import CancelResult
from fleet.sync import health, queue, snapshot
from fleet.sync.clients import Clients
from fleet.sync.connect import Connection
from fleet.sync.database import Database
from fleet.sync.fetch import FETCH_ALL_ABOVE, Fetched, fetch_full, fetch_instances, fetch_jobs, fetch_partial
from fleet.sync.messages import (
    Answered,
    JobEnded,
    JobGone,
    JobsRead,
    Message,
    NamesRead,
    PassFailed,
    PassRead,
    ReadFailed,
    SubmitFailed,
    Submitted,
)

__all__ = ["JOB_QUEUE", "Offline", "Reads"]

log = logging.getLogger("fleet.sync")

JOB_QUEUE = "the job queue"  # what a ReadFailed of a poll says it read


class Offline(Exception):
    """The cluster is marked offline, its row is gone, or it was never reached: it is not contacted."""


def _plan_step(cluster_id: int, fetched: Fetched) -> tuple[snapshot.Snapshot, set[str]]:
    """Parse a full pass's first answers; return them and the names of the instances that changed."""
    snap = fetched.parse()
    assert snap.instance_markers is not None
    plan = snapshot.plan_instances(cluster_id, snap.instance_markers)
    return replace(snap, instances_at_rest=plan.at_rest), plan.changed


@contextlib.asynccontextmanager
async def _holding(gate: asyncio.Semaphore) -> AsyncIterator[asyncio.Semaphore]:
    """Acquire ``gate`` for a read whose message keeps it (the loop releases it once written); released
    here only if the read fails."""
    await gate.acquire()
    try:
        yield gate
    except BaseException:
        gate.release()
        raise


def _surely_not_submitted(exc: BaseException) -> bool:
    """Whether a failed submit surely made no job: nothing was sent, or Ganeti answered that it took none.
    A timeout, a dropped connection or a gateway error may come after the job was made."""
    if isinstance(exc, errors.ConnectTimeout | errors.CertificateMismatch):
        return True
    if isinstance(exc, errors.HttpError):
        return exc.status < 500 or exc.status in (500, 501, 503)
    return not isinstance(exc, RapiError)  # a bug of Fleet's building the request: nothing went out


class Reads:
    """See the module docstring."""

    def __init__(
        self,
        cluster_id: int,
        db: Database,
        fetch_gate: asyncio.Semaphore | None,
        now: Callable[[], dt.datetime],
        follow_limit: int,
        max_backoff: float,
    ) -> None:
        self.cluster_id = cluster_id
        self.name = f"cluster {cluster_id}"
        self.db = db
        # Bounds how many clusters' whole instance lists (or whole job queues) are held at once, from their
        # read to the end of their write (memory); a read that takes it passes it on in its message.
        self.fetch_gate = fetch_gate or asyncio.Semaphore()
        self.now = now
        self.max_backoff = max_backoff
        self.clients = Clients()
        self.cursor: queue.Cursor | None = None
        self.waiting: set[int] = set()  # followed jobs whose long poll runs (the others are polled)
        self._follow_gate = asyncio.Semaphore(follow_limit)

    async def connect(self) -> Connection | None:
        """Read the cluster's row; (re)build the client when its connection settings changed."""
        connection = await self.db.run(Connection.load, self.cluster_id)
        if connection is not None:
            self.name = connection.name
        await self.clients.set(connection)
        return connection

    async def full(self) -> PassRead | PassFailed:
        """A full pass: every instance's markers, then the full records of those that changed (every one
        when nothing is stored or most changed: then the message holds the fetch gate)."""
        read_at = self.now()
        try:
            connection = await self.connect()
            client = self.clients.current
            if connection is None or client is None:
                return PassFailed(read_at, Offline())
            stored = await self.db.run(snapshot.has_instances, self.cluster_id)
            with self.clients.using(client):
                if not stored:  # nothing stored to compare with: every instance in full, at once
                    async with _holding(self.fetch_gate) as gate:
                        fetched = await fetch_full(client, markers=False)
                        return PassRead(read_at, fetched, None, fetched.latency, connection.timeout, gate)
                fetched = await fetch_full(client)
                plan, changed = await self.db.run(_plan_step, self.cluster_id, fetched)
                assert plan.instance_markers is not None
                if len(changed) > min(FETCH_ALL_ABOVE, len(plan.instance_markers) // 2):
                    plan = replace(plan, instance_markers=None)  # most changed: read all in full
                    async with _holding(self.fetch_gate) as gate:
                        details = await fetch_instances(client, None)
                        return PassRead(read_at, plan, details, fetched.latency, connection.timeout, gate)
                details = await fetch_instances(client, changed)
                return PassRead(read_at, plan, details, fetched.latency, connection.timeout)
        except Exception as exc:
            return PassFailed(read_at, exc)

    async def jobs(self) -> JobsRead | ReadFailed:
        """A poll of the job queue: the jobs after the cursor, and the unfinished ones no long poll waits
        for. The first reads the whole queue, days of history: it holds the fetch gate like a full read
        of every instance, so that the first syncs of other clusters go first."""
        client = self.clients.current
        read_at = self.now()
        try:
            if client is None:
                raise Offline("no connection yet")
            if self.cursor is None:
                self.cursor = await self.db.run(queue.cursor, self.cluster_id)
            with self.clients.using(client):
                if self.cursor.last_id is None:
                    async with _holding(self.fetch_gate) as gate:
                        return JobsRead(read_at, await fetch_jobs(client, self.cursor, self.waiting), gate)
                return JobsRead(read_at, await fetch_jobs(client, self.cursor, self.waiting))
        except Exception as exc:
            return ReadFailed(JOB_QUEUE, exc)

    async def names(self, names: Collection[str]) -> NamesRead | ReadFailed:
        """The named instances (and every node, group and network), read now."""
        read_at = self.now()
        try:
            if self.clients.current is None:
                await self.connect()
            client = self.clients.current
            if client is None:
                raise Offline("the cluster is offline")
            with self.clients.using(client):
                return NamesRead(read_at, frozenset(names), await fetch_partial(client, names))
        except Exception as exc:
            return ReadFailed(", ".join(sorted(names)), exc)

    async def submit(self, attempt: Attempt) -> Submitted | Answered | SubmitFailed:
        """Send a claimed operation's call: the job id Ganeti gave (for a cancel, its answer), or why there is
        none (or may be none)."""
        client = self.clients.current
        if client is None:
            return SubmitFailed(attempt.operation_id, Offline("the cluster is not connected"), certain=True)
        try:
            with self.clients.using(client):
                answer = await client.call(attempt.call)
            if isinstance(answer, CancelResult):
                return Answered(attempt.operation_id, answer.ok, answer.message)
            return Submitted(attempt.operation_id, answer)
        except Exception as exc:
            return SubmitFailed(attempt.operation_id, exc, certain=_surely_not_submitted(exc))

    async def follow(self, job_id: int, post: Callable[[Message], None], stopping: asyncio.Event) -> None:
        """Long-poll the job until it ends, then ``post`` it; back off while the cluster fails."""
        delay = 1.0
        async with self._follow_gate:
            while not stopping.is_set():
                client = self.clients.current
                if client is not None:
                    self.waiting.add(job_id)
                    try:
                        with self.clients.using(client):
                            job = await client.wait_for_job(job_id, check=False)
                        post(JobEnded(job))
                        return
                    except JobNotFound as exc:
                        post(JobGone(job_id, str(exc)))
                        return
                    except RapiError as exc:
                        log.warning("%s: following job %d: %s", self.name, job_id, health.describe(exc))
                    finally:
                        self.waiting.discard(job_id)
                with contextlib.suppress(TimeoutError):  # no client yet, or the cluster failed
                    await asyncio.wait_for(stopping.wait(), timeout=delay)
                delay = min(delay * 2, self.max_backoff)

"""One cluster's loop: an actor that alone writes what the cluster says, from the messages in its inbox.

Reads run beside the loop and post what they read (``fleet.sync.messages``):

- a **poll of the job queue** every ``job_poll`` seconds (one small request, empty at rest): every change to
  a Ganeti object goes through a job, whoever submits it, so a job seen ended makes the loop read again at
  once what it changed (the instances it names; a full pass for node, group, network and cluster jobs);
- **followers** long-poll the unfinished jobs (``/2/jobs/N/wait``), so that the end of a job seen running is
  seen the moment it comes;
- a **full pass** every ``interval`` seconds, for what changes without a job (a node that dies, a VM shut
  down from inside): the markers and live fields of every instance, then the full records of those that
  changed (``fleet.sync.fetch``).

Operations waiting to be submitted (``fleet.operations``) are claimed, sent and their answers written by a
task each (:meth:`ClusterLoop.submit`): they touch no row of the read model, so they need not wait behind a
full pass. The reads themselves are ``fleet.sync.reads``. The loop handles one message at a time, on the
worker's database threads (``fleet.sync.database``). Every read carries the time it began, and a write
leaves alone the rows a newer read wrote (``fleet.sync.diff``); what only the loop can know, it keeps: the
instances a newer read found gone (an older full pass must not bring them back) and when the last full pass
read (an older read of a few instances is dropped). So the writes commute: the order in which reads end
changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import time
from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from fleet.jobs.targets import EVERYTHING
from fleet.operations import lifecycle as operations
from fleet.sync import DEFAULT_INTERVAL, DEFAULT_JOB_POLL, follower, health, queue, snapshot
from fleet.sync.database import Database
from fleet.sync.fetch import Fetched
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
from fleet.sync.reads import JOB_QUEUE, Offline, Reads

__all__ = ["ClusterLoop", "LoopSettings"]

log = logging.getLogger("fleet.sync")

MANY_ENDED = 20  # jobs ended unseen in one poll (a worker back after a while): a full pass reads it all
CLOCK_SKEW = dt.timedelta(minutes=5)  # how far a cluster's clock may be behind the worker's


@dataclass(frozen=True)
class LoopSettings:
    """The cadence of the loops. At rest a cluster sees one request per ``job_poll`` seconds and
    ``REQUESTS_PER_FULL_PASS`` (5) per ``interval``: about 0.6 per second by default."""

    interval: float = DEFAULT_INTERVAL  # seconds between full passes
    job_poll: float = DEFAULT_JOB_POLL  # seconds between polls of the job queue
    max_backoff: float = 300.0  # seconds between attempts at most, however long a cluster has been failing
    follow_limit: int = 10  # long polls at once per cluster; other unfinished jobs are polled meanwhile
    submit_grace: float = 30.0  # seconds Ganeti may take to make a job of a submit that got no answer


def _full_step(cluster_id: int, read: PassRead, deleted_since: frozenset[str]) -> snapshot.Stats:
    """Parse what is left of a full pass's answers, write the pass and record the cluster's health, in one
    transaction."""
    if isinstance(read.first, Fetched):
        snap = read.first.parse()
    else:
        assert read.details is not None
        snap = replace(read.first, instances=read.details.instances())
    snap = replace(snap, deleted_since=deleted_since)
    with transaction.atomic():
        stats = snapshot.apply(cluster_id, snap, read.read_at)
        outcome = health.Outcome(read.read_at, timezone.now(), latency=read.latency, stats=stats.as_dict())
        health.record(cluster_id, outcome, read.timeout)
    return stats


def _partial_step(cluster_id: int, read: NamesRead) -> snapshot.Stats:
    return snapshot.apply(cluster_id, read.fetched.parse(), read.read_at)


def _jobs_step(cluster_id: int, read: JobsRead) -> queue.Recorded:
    records = read.fetched.records()
    try:
        return queue.record(cluster_id, records, timezone.now())
    except IntegrityError:  # Fleet recorded one of these jobs meanwhile (lifecycle.submitted): read it now
        return queue.record(cluster_id, records, timezone.now())


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
        now: Callable[[], dt.datetime] = timezone.now,
    ) -> None:
        self.cluster_id = cluster_id
        self.db = db
        self.gate = gate  # bounds how many clusters parse and write at once (memory)
        self.reads = Reads(cluster_id, db, fetch_gate, now, settings.follow_limit, settings.max_backoff)
        self.settings = settings
        self.clock = clock
        self.now = now
        self.failures = 0
        self.passes = 0
        self.rows_written = 0  # by full passes, ever: the worker refreshes statistics after many
        self.last_outcome: health.Outcome | None = None
        self._inbox: asyncio.Queue[Message | None] = asyncio.Queue()  # None wakes the loop to stop
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()  # reads and followers in flight
        self._followed: dict[int, asyncio.Task[None]] = {}
        self._full_read_at: dt.datetime | None = None  # when the last full pass written began reading
        self._deleted: dict[str, dt.datetime] = {}  # instances partial reads found gone, and when
        self._next_full = -math.inf
        self._full_wanted = False  # a job changed more than instances, or a read failed: a pass at once
        self._next_poll = -math.inf
        self._poll_failures = 0
        self._write_failures = 0
        self._passing: asyncio.Task[None] | None = None  # the full pass being read
        self._submitting: set[int] = (
            set()
        )  # operations claimed or being claimed, until their answer is written
        self._uncertain: dict[int, dt.datetime] | None = (
            None  # sent without an answer, and when; read at start
        )

    # Used by the worker ------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Polls, full passes and what followers post, until :meth:`stop`."""
        try:
            while not self._stopping.is_set():
                await self._start_due_reads()
                message = await self._receive(self._next_deadline())
                if message is not None:
                    await self.handle(message)
        finally:
            await self._shutdown()

    async def stop(self) -> None:
        """Finish the message in progress, stop following jobs (their rows stay unfinished), and return."""
        self._stopping.set()
        self._inbox.put_nowait(None)

    def follow(self, job_id: int) -> None:
        """Follow the job to its end unless it is followed already."""
        if job_id in self._followed or self._stopping.is_set():
            return
        self._followed[job_id] = self._spawn(self._follow(job_id), f"follow {job_id}")
        log.info("%s: following job %d", self.name, job_id)

    def submit(self, operation_id: int) -> None:
        """Submit the pending operation beside the loop, unless it is being submitted already.

        A submit writes only its operation and the Job row Fleet records for it (as any process may), never
        the read model: it does not wait in the inbox behind this cluster's full pass."""
        if operation_id in self._submitting or self._stopping.is_set() or self.reads.clients.current is None:
            return  # not connected yet: the worker's next scan offers it again
        self._submitting.add(operation_id)
        self._spawn(self.submit_now(operation_id), f"submit {operation_id}")

    async def submit_now(self, operation_id: int) -> None:
        """Claim the operation, send its call and record the answer."""
        try:
            attempt = await self.db.urgent(operations.claim, operation_id, self.now())
            if attempt is not None:  # else another worker, or an earlier scan, has it
                await self._answered(await self.reads.submit(attempt))
        except Exception:  # the database failed: it stays pending (or uncertain), the next scan sees it
            log.exception("%s: cannot submit operation %d", self.name, operation_id)
        finally:
            self._submitting.discard(operation_id)

    async def wait_followed(self, timeout: float) -> None:
        """Wait until every followed job ended (or ``timeout`` seconds passed)."""
        tasks = list(self._followed.values())
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def drain(self) -> None:
        """Stop following jobs, write what the reads in flight post (and a full pass if a job asked for
        one), then stop and close: the end of a one-shot run."""
        for task in list(self._followed.values()):
            task.cancel()
        while self._tasks or not self._inbox.empty() or self._full_wanted:
            if not self._inbox.empty():
                message = self._inbox.get_nowait()
                if message is not None:
                    await self.handle(message)
            elif self._tasks:
                await asyncio.wait(set(self._tasks), return_when=asyncio.FIRST_COMPLETED)
            elif self.failures == 0:
                self._full_wanted = False
                await self.full_pass()
            else:
                break
        self._stopping.set()
        await self._shutdown()

    # Reads -------------------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The cluster's name, once its row was read (for the log)."""
        return self.reads.name

    @name.setter
    def name(self, value: str) -> None:
        self.reads.name = value

    async def full_pass(self) -> bool:
        """Read and write one full pass now, record health. Returns whether it succeeded."""
        await self.handle(await self.reads.full())
        return self.last_outcome is not None and self.last_outcome.ok

    async def poll_jobs(self) -> None:
        """Read and write one poll of the job queue now (after a full pass, which connects)."""
        await self.handle(await self.reads.jobs())

    # Writes: only here, one message at a time --------------------------------------------------------------

    async def handle(self, message: Message) -> None:
        """Write what ``message`` carries; a failure to write is logged and backed off, never raised."""
        try:
            await self._handle(message)
            self._write_failures = 0
        except Exception as exc:  # the database failed, or a bug of Fleet's: not the cluster's health
            log.exception("%s: cannot write %s", self.name, type(message).__name__)
            # What was read is lost: a full pass reads it again, soon but later each time this fails.
            self._write_failures += 1
            retry = self.clock() + self._delay(self._write_failures, self.settings.job_poll)
            self._next_full = min(self._next_full, retry)
            if isinstance(message, PassRead):
                self.last_outcome = health.Outcome(message.read_at, self.now(), error=health.describe(exc))
                with contextlib.suppress(Exception):  # the database may be what failed
                    await self.db.run(health.record_internal, self.cluster_id, self.last_outcome)
        if isinstance(message, JobsRead) or (isinstance(message, ReadFailed) and message.what == JOB_QUEUE):
            self._next_poll = self.clock() + self._delay(self._poll_failures, self.settings.job_poll)

    async def _handle(self, message: Message) -> None:
        if isinstance(message, PassRead):
            await self._write_pass(message)
        elif isinstance(message, PassFailed):
            await self._pass_failed(message)
        elif isinstance(message, JobsRead):
            await self._write_jobs(message)
        elif isinstance(message, NamesRead):
            await self._write_names(message)
        elif isinstance(message, ReadFailed):
            log.warning("%s: reading %s failed: %s", self.name, message.what, health.describe(message.error))
            if message.what == JOB_QUEUE:
                self._poll_failures += 1
            else:
                self._full_wanted = True  # a full pass covers what it missed
        elif isinstance(message, JobEnded):
            what, news = await self.db.urgent(follower.record_final, self.cluster_id, message.job, self.now())
            if self.reads.cursor is not None:
                self.reads.cursor.advance([message.job.id], (), [message.job.id])
            log.info("%s: job %d ended: %s", self.name, message.job.id, message.job.status)
            if news:
                self._changed(what)
        elif isinstance(message, JobGone):
            await self.db.urgent(follower.record_gone, self.cluster_id, message.job_id, message.message)
            if self.reads.cursor is not None:
                self.reads.cursor.unfinished.discard(message.job_id)

    async def _answered(self, answer: Submitted | SubmitFailed | Answered) -> None:
        """Write what the cluster answered a submit."""
        operation_id = answer.operation_id
        if isinstance(answer, Submitted):
            await self.db.urgent(operations.submitted, operation_id, answer.job_id, self.now())
            log.info("%s: operation %d submitted as job %d", self.name, operation_id, answer.job_id)
            if self.reads.cursor is not None:
                self.reads.cursor.unfinished.add(answer.job_id)
            self.follow(answer.job_id)
        elif isinstance(answer, Answered):
            await self.db.urgent(operations.answered, operation_id, answer.ok, answer.message, self.now())
            log.info("%s: operation %d answered: %s", self.name, operation_id, answer.message or answer.ok)
        elif answer.certain:
            why = health.describe(answer.error)
            await self.db.urgent(operations.not_submitted, operation_id, why, self.now())
            log.warning("%s: operation %d not submitted: %s", self.name, operation_id, why)
        else:
            why = health.describe(answer.error)
            await self.db.urgent(operations.uncertain, operation_id, why)
            log.warning("%s: operation %d: no answer to its submit: %s", self.name, operation_id, why)
            if self._uncertain is not None:
                self._uncertain[operation_id] = self.now()

    async def _expire_uncertain(self, read_at: dt.datetime) -> None:
        """After a poll of the queue written: the operations sent without an answer long enough before that
        poll began, whose job it did not find, were not submitted."""
        if self._uncertain is None:
            self._uncertain = await self.db.urgent(operations.uncertain_since, self.cluster_id)
        grace = dt.timedelta(seconds=self.settings.submit_grace)
        expired = {op: sent for op, sent in self._uncertain.items() if sent < read_at - grace}
        if expired:
            await self.db.urgent(operations.expire_unmatched, expired, self.now())
            for operation_id in expired:
                del self._uncertain[operation_id]

    async def _write_jobs(self, read: JobsRead) -> None:
        self._poll_failures = 0  # the cluster answered; a failure to write is the database's
        cursor = self.reads.cursor
        assert cursor is not None  # each poll reads it first
        try:
            if read.fetched.empty:  # the poll of a cluster at rest: nothing to write
                cursor.advance((), (), ())  # an empty queue read whole: from now on, only what is new
                await self._expire_uncertain(read.read_at)
                return
            run = self.db.run if read.in_full else self.db.urgent  # the queue's history waits its turn
            recorded = await run(_jobs_step, self.cluster_id, read)
        finally:
            if read.in_full is not None:
                read.in_full.release()
        await self._expire_uncertain(read.read_at)
        cursor.advance(recorded.seen, recorded.unfinished, [job_id for job_id, *_ in recorded.ended])
        for job_id in recorded.unfinished:
            self.follow(job_id)
        # The first poll reads the whole queue, its history included: what ended before the last full pass
        # began reading (give or take the cluster's clock) is in what that pass wrote.
        since = self._full_read_at - CLOCK_SKEW if self._full_read_at else None
        changes = [what for _, what, end in recorded.ended if not (since and end and end < since)]
        if len(changes) > MANY_ENDED or EVERYTHING in changes:
            self._changed(EVERYTHING)
        else:
            self._changed(frozenset().union(*changes))

    async def _write_pass(self, read: PassRead) -> None:
        try:
            if self._full_read_at is not None and read.read_at <= self._full_read_at:
                return  # an older full pass than the one written
            deleted = frozenset(name for name, at in self._deleted.items() if at > read.read_at)
            async with self.gate:
                stats = await self.db.run(_full_step, self.cluster_id, read, deleted)
        finally:
            if read.in_full is not None:
                read.in_full.release()
        self._full_read_at = read.read_at
        self._deleted = {name: at for name, at in self._deleted.items() if at > read.read_at}
        self.failures = 0
        self.passes += 1
        self.rows_written += stats.writes
        self.last_outcome = health.Outcome(read.read_at, self.now(), latency=read.latency)
        level = logging.INFO if stats.writes else logging.DEBUG  # a pass at rest is no news
        log.log(level, "%s: synced, %d rows written", self.name, stats.writes)

    async def _pass_failed(self, failed: PassFailed) -> None:
        if isinstance(failed.error, Offline):
            self.last_outcome = None
            return
        self.failures += 1
        outcome = health.Outcome(failed.read_at, self.now(), error=health.describe(failed.error))
        self.last_outcome = outcome
        self._next_full = max(self._next_full, self.clock() + self._delay(self.failures))
        with contextlib.suppress(Exception):  # the database may be what failed; the log has the error
            if health.is_cluster_failure(failed.error):
                log.warning("%s: sync failed (%d in a row): %s", self.name, self.failures, outcome.error)
                await self.db.run(health.record, self.cluster_id, outcome, self._timeout())
            else:  # a bug of Fleet's, or its database: not the cluster's health
                log.error("%s: sync failed", self.name, exc_info=failed.error)
                await self.db.run(health.record_internal, self.cluster_id, outcome)

    async def _write_names(self, read: NamesRead) -> None:
        if self._full_read_at is not None and read.read_at < self._full_read_at:
            return  # the full pass written since began later: it saw what this read saw, or newer
        stats = await self.db.urgent(_partial_step, self.cluster_id, read)
        for name in stats.gone:
            self._deleted[name] = read.read_at

    def _changed(self, what: queue.Touched) -> None:
        """A job ended that changed ``what``: read it again (a full pass for EVERYTHING)."""
        if what is EVERYTHING:
            self._full_wanted = True
        elif what:
            self._read_soon(what)

    def _read_soon(self, names: Collection[str]) -> None:
        self._post(self.reads.names(names), "read " + ", ".join(sorted(names))[:60])

    # Scheduling -------------------------------------------------------------------------------------------

    async def _start_due_reads(self) -> None:
        now = self.clock()
        if (now >= self._next_full or self._full_wanted) and not _running(self._passing):
            self._full_wanted = False
            self._next_full = now + self.settings.interval  # a failure puts it off further
            self._passing = self._post(self.reads.full(), "full pass")
        if self._may_poll() and now >= self._next_poll:
            self._next_poll = math.inf  # until what it read is written
            self._post(self.reads.jobs(), "job poll")

    def _may_poll(self) -> bool:
        """Polls wait until the first full pass is written (a first sync goes first, the queue's history
        after it), and while the cluster is failing."""
        return (
            self.failures == 0 and self._full_read_at is not None and self.reads.clients.current is not None
        )

    def _next_deadline(self) -> float:
        full = math.inf if _running(self._passing) else -math.inf if self._full_wanted else self._next_full
        return min(full, self._next_poll if self._may_poll() else math.inf)

    def _post(self, reading: Coroutine[Any, Any, Message], name: str) -> asyncio.Task[None]:
        """Run a read beside the loop; what it read goes to the inbox."""

        async def post() -> None:
            self._inbox.put_nowait(await reading)

        return self._spawn(post(), name)

    async def _receive(self, deadline: float) -> Message | None:
        """The next message, or None at ``deadline`` (monotonic) or at :meth:`stop` (which posts None)."""
        try:
            async with asyncio.timeout(None if deadline == math.inf else max(0.0, deadline - self.clock())):
                return await self._inbox.get()
        except TimeoutError:
            return None

    def _delay(self, failures: int, base: float | None = None) -> float:
        return health.backoff(failures, base or self.settings.interval, self.settings.max_backoff)

    # Following --------------------------------------------------------------------------------------------

    async def _follow(self, job_id: int) -> None:
        try:
            await self.reads.follow(job_id, self._inbox.put_nowait, self._stopping)
        finally:
            self._followed.pop(job_id, None)

    # Helpers ----------------------------------------------------------------------------------------------

    def _timeout(self) -> float:
        connection = self.reads.clients.connection
        return connection.timeout if connection is not None else 0.0

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=f"{self.name}: {name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _shutdown(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.reads.clients.close()


def _running(task: asyncio.Task[None] | None) -> bool:
    return task is not None and not task.done()

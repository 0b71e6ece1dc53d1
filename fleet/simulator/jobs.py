"""The job queue of one cluster, like Ganeti's: statuses, locks, priorities, cancel, archive, long poll.

A job is a dict holding its query2 fields (`id status ops opstatus opresult oplog ...`). Up to
`max_running_jobs` jobs are started, by priority then id; each opcode waits (`waiting`) until it holds the
locks
on the objects it touches, runs for its scaled duration, then applies its effect on the cluster state.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from typing import Any

from fleet.simulator import effects
from fleet.simulator.faults import Faults
from fleet.simulator.state import Cluster

FINAL = frozenset({"success", "error", "canceled"})
WAIT_TIMEOUT = 10.0


def timestamp(when: float | None = None) -> list[int]:
    """A Ganeti timestamp: [seconds, microseconds]."""
    t = time.time() if when is None else when
    return [int(t), int((t - int(t)) * 1_000_000)]


def calc_status(opstatus: list[str]) -> str:
    """A job's status from its opcodes' statuses, by Ganeti's rules."""
    if all(s == "success" for s in opstatus):
        return "success"
    for s in opstatus:
        if s in ("error", "canceling", "canceled"):
            return s
    for s in reversed(opstatus):
        if s in ("waiting", "running"):
            return s
    return "queued"


class Canceled(Exception):
    """Raised in a job waiting for locks when it gets canceled."""


class LockManager:
    """Exclusive locks by name, granted all at once, in (priority, job id) order among the waiters."""

    def __init__(self) -> None:
        self.owners: dict[str, int] = {}
        self.waiters: list[tuple[int, int, frozenset[str], asyncio.Future[None]]] = []

    async def acquire(self, job_id: int, priority: int, names: frozenset[str]) -> None:
        """Wait until every lock in `names` is granted to the job."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (priority, job_id, names, fut)
        self.waiters.append(entry)
        self.waiters.sort(key=lambda w: (w[0], w[1]))
        self._grant()
        try:
            await fut
        except BaseException:
            if entry in self.waiters:
                self.waiters.remove(entry)
            elif fut.done() and not fut.cancelled():
                self.release(job_id, names)
            raise

    def release(self, job_id: int, names: frozenset[str]) -> None:
        """Give the locks back and grant them to whoever waits."""
        for name in names:
            if self.owners.get(name) == job_id:
                del self.owners[name]
        self._grant()

    def _grant(self) -> None:
        blocked: set[str] = set()
        for entry in list(self.waiters):
            _prio, job_id, names, fut = entry
            if not (names & blocked) and not any(n in self.owners for n in names):
                for n in names:
                    self.owners[n] = job_id
                self.waiters.remove(entry)
                if not fut.done():
                    fut.set_result(None)
            blocked |= names

    def rows(self) -> list[dict[str, Any]]:
        """The lock query rows: held locks and who waits for them."""
        pending: dict[str, list[int]] = {}
        for _p, job_id, names, _f in self.waiters:
            for n in names:
                pending.setdefault(n, []).append(job_id)
        rows = []
        for name in sorted(set(self.owners) | set(pending)):
            owner = self.owners.get(name)
            waits = pending.get(name, [])
            rows.append(
                {
                    "name": name,
                    "mode": "exclusive" if owner is not None else None,
                    "owner": [f"job/{owner}"] if owner is not None else None,
                    "pending": [["exclusive", [f"job/{j}" for j in waits]]] if waits else [],
                }
            )
        return rows


class JobQueue:
    """One cluster's jobs: submission, scheduling, execution, cancel, archive and change notification."""

    def __init__(self, cluster: Cluster, faults: Faults, time_scale: float, archive_age: float) -> None:
        self.cluster = cluster
        self.faults = faults
        self.time_scale = time_scale
        self.archive_age = archive_age
        self.jobs: dict[int, dict[str, Any]] = {}
        self.locks = LockManager()
        self.next_id = 1
        self.rng = random.Random(cluster.name)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._changed: dict[int, asyncio.Event] = {}
        self._cancel_requested: set[int] = set()

    # -- submission and scheduling -------------------------------------------------------------------------

    def submit(self, ops: list[dict[str, Any]]) -> int:
        """Queue a job of already validated opcodes; return its id."""
        job_id = self.next_id
        self.next_id += 1
        for i, op in enumerate(ops):
            op.setdefault("reason", [])
            op["reason"] = [
                *op["reason"],
                [f"gnt:opcode:{op['OP_ID'][3:].lower()}", f"job={job_id};index={i}", time.time_ns()],
            ]
        n = len(ops)
        job = {
            "id": job_id,
            "status": "queued",
            "ops": ops,
            "summary": [effects.summary(op) for op in ops],
            "opstatus": ["queued"] * n,
            "opresult": [None] * n,
            "oplog": [[] for _ in ops],
            "oppriority": [op.get("priority", 0) for op in ops],
            "opstart": [None] * n,
            "opexec": [None] * n,
            "opend": [None] * n,
            "priority": min(op.get("priority", 0) for op in ops),
            "received_ts": timestamp(),
            "start_ts": None,
            "end_ts": None,
            "archived": False,
            "_log_serial": 0,
        }
        self.jobs[job_id] = job
        self._changed[job_id] = asyncio.Event()
        self._schedule()
        return job_id

    def _running_count(self) -> int:
        return sum(1 for t in self._tasks.values() if not t.done())

    def _schedule(self) -> None:
        limit = int(self.cluster.info.get("max_running_jobs", 20))
        free = limit - self._running_count()
        if free <= 0:
            return
        queued = [j for j in self.jobs.values() if j["status"] == "queued" and j["id"] not in self._tasks]
        queued.sort(key=lambda j: (j["priority"], j["id"]))
        for job in queued[:free]:
            self._tasks[job["id"]] = asyncio.create_task(self._run(job))

    def _notify(self, job: dict[str, Any]) -> None:
        job["status"] = calc_status(job["opstatus"])
        event = self._changed.get(job["id"])
        if event is not None:
            event.set()
            self._changed[job["id"]] = asyncio.Event()

    def log(self, job: dict[str, Any], index: int, message: str) -> None:
        """Append a message to an opcode's log."""
        job["_log_serial"] += 1
        job["oplog"][index].append([job["_log_serial"], timestamp(), "message", message])
        self._notify(job)

    # -- execution -----------------------------------------------------------------------------------------

    async def _run(self, job: dict[str, Any]) -> None:
        try:
            await self._execute(job)
        finally:
            job["end_ts"] = timestamp()
            job["priority"] = min(job["oppriority"])
            self._notify(job)
            self._tasks.pop(job["id"], None)
            if self.faults.archive_early:
                job["archived"] = True
            self._schedule()

    async def _execute(self, job: dict[str, Any]) -> None:
        job["start_ts"] = timestamp()
        for i, op in enumerate(job["ops"]):
            if job["id"] in self._cancel_requested:
                self._finish_rest(job, i, "canceled", "Job canceled by request")
                return
            job["opstatus"][i] = "waiting"
            job["opstart"][i] = timestamp()
            self._notify(job)
            names = frozenset(effects.locks(self.cluster, op))
            try:
                await self.locks.acquire(job["id"], job["oppriority"][i], names)
            except asyncio.CancelledError:
                self._finish_rest(job, i, "canceled", "Job canceled by request")
                return
            try:
                job["opstatus"][i] = "running"
                job["opexec"][i] = timestamp()
                self._notify(job)
                ok = await self._run_op(job, i, op)
            finally:
                self.locks.release(job["id"], names)
                job["opend"][i] = timestamp()
            if not ok:
                self._finish_rest(job, i + 1, "error", ["OpExecError", ["Preceding opcode failed"]])
                return

    async def _run_op(self, job: dict[str, Any], i: int, op: dict[str, Any]) -> bool:
        self.log(job, i, f"{effects.summary(op)}: started")
        stuck = self.faults.stuck_jobs
        await asyncio.sleep(effects.duration(op) * self.time_scale)
        while stuck and self.faults.stuck_jobs:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.faults.changed.wait(), timeout=1.0)
        try:
            if self.rng.random() < self.faults.fail_jobs:
                raise effects.OpError("OpExecError", "Simulated failure of the job", None)
            if op.get("dry_run"):
                result = effects.dry_run_result(self.cluster, op)
            else:
                result = effects.apply(effects.Context(self.cluster, self.submit, self._logger(job, i)), op)
        except effects.OpError as err:
            job["opstatus"][i] = "error"
            detail = [err.message, err.ecode] if err.ecode else [err.message]
            job["opresult"][i] = [err.cls, detail]
            self.log(job, i, f"{err.cls}: {err.message}")
            return False
        job["opstatus"][i] = "success"
        job["opresult"][i] = result
        self._notify(job)
        return True

    def _logger(self, job: dict[str, Any], i: int) -> Callable[[str], None]:
        return lambda message: self.log(job, i, message)

    def _finish_rest(self, job: dict[str, Any], start: int, status: str, result: Any) -> None:
        for k in range(start, len(job["ops"])):
            job["opstatus"][k] = status
            job["opresult"][k] = result
        self._notify(job)

    # -- cancel, archive -----------------------------------------------------------------------------------

    def cancel(self, job_id: int) -> list[Any]:
        """Cancel a job as Ganeti does: dequeue if queued, abort if waiting, refuse if running or done."""
        job = self.jobs[job_id]
        status = job["status"]
        if status == "queued" and job_id not in self._tasks:
            self._finish_rest(job, 0, "canceled", "Job canceled by request")
            job["end_ts"] = timestamp()
            self._notify(job)
            return [True, f"Dequeued job {job_id}"]
        if status in ("queued", "waiting"):
            self._cancel_requested.add(job_id)
            for k, s in enumerate(job["opstatus"]):
                if s not in FINAL:
                    job["opstatus"][k] = "canceling"
            self._notify(job)
            task = self._tasks.get(job_id)
            if task is not None and status == "waiting":
                task.cancel()
            return [True, f"Job {job_id} will be canceled"]
        if status == "running":
            return [False, "Job no longer waiting, can't cancel (informed it anyway)"]
        return [False, f"Job {job_id} is no longer waiting in the queue"]

    def archive_old(self) -> None:
        """Archive the finished jobs older than the archive age."""
        limit = time.time() - self.archive_age
        for job in self.jobs.values():
            if not job["archived"] and job["status"] in FINAL and job["end_ts"] and job["end_ts"][0] < limit:
                job["archived"] = True

    def archive_finished(self) -> None:
        """Archive every finished job at once (the `archive_early` fault)."""
        for job in self.jobs.values():
            if job["status"] in FINAL:
                job["archived"] = True

    # -- reading -------------------------------------------------------------------------------------------

    def view(self, job: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        """The given fields of a job."""
        return {f: job.get(f) for f in fields}

    def log_entries(self, job: dict[str, Any], after: int) -> list[list[Any]]:
        """The job's log entries with a serial above `after`."""
        return [entry for oplog in job["oplog"] for entry in oplog if entry[0] > after]

    async def wait_for_change(
        self, job_id: int, fields: list[str], previous: list[Any] | None, log_serial: int | None
    ) -> dict[str, Any]:
        """Long-poll for a change of the given fields or new log entries, at most 10 s."""
        deadline = asyncio.get_running_loop().time() + WAIT_TIMEOUT
        after = log_serial or 0
        while True:
            job = self.jobs[job_id]
            info = [job.get(f) for f in fields]
            entries = self.log_entries(job, after)
            if job["status"] in FINAL or info != previous or entries:
                return {"job_info": info, "log_entries": entries}
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return {"job_info": info, "log_entries": []}
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed[job_id].wait(), timeout=remaining)

    async def close(self) -> None:
        """Stop every running job task."""
        for task in list(self._tasks.values()):
            task.cancel()
        for task in list(self._tasks.values()):
            with contextlib.suppress(BaseException):
                await task

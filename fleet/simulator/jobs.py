"""The job queue of one cluster, like Ganeti 3.0's: statuses, dependencies, filters, locks, cancel, long poll.

A job is a dict holding its query2 fields (`id status ops opstatus opresult oplog ...`). The scheduler
(`schedule`, with the rules of `jobfilters`) hands queued jobs to execution up to `max_running_jobs`; a job
whose dependencies are still queued or running stays `queued`, as luxid's `jobEligible` keeps it. Each opcode
then waits (`waiting`) for its dependencies' verdict and for its locks (`locks`), runs for its scaled duration
and applies its effect on the cluster state.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from typing import Any

from fleet.simulator import effects, jobfilters
from fleet.simulator.faults import Faults
from fleet.simulator.locks import LockManager, requests
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

    def load(self, jobs: list[dict[str, Any]]) -> None:
        """Take in finished jobs of the past (``fleet.simulator.history``); new ones get later ids."""
        for job in jobs:
            self.jobs[job["id"]] = job
            self._changed[job["id"]] = asyncio.Event()
        self.next_id = max([self.next_id - 1, *self.jobs]) + 1

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
        self.schedule()
        return job_id

    def _pending(self) -> list[dict[str, Any]]:
        """The queued jobs not handed to execution yet, by id."""
        return [j for j in self.jobs.values() if j["status"] == "queued" and j["id"] not in self._tasks]

    def _running(self) -> list[dict[str, Any]]:
        return [self.jobs[i] for i, t in self._tasks.items() if not t.done()]

    def _eligible(self, job: dict[str, Any]) -> bool:
        """Whether no job this one depends on is still queued or running (`jobEligible`)."""
        for op in job["ops"]:
            for dep in op.get("depends") or []:
                other = self.jobs.get(int(dep[0]))
                if other is not None and other["status"] not in FINAL:
                    return False
        return True

    def schedule(self) -> None:
        """One round of the scheduler (see `jobfilters`): reject, select, start up to `max_running_jobs`."""
        rules = list(self.cluster.filters.values())
        for job in jobfilters.rejected(rules, self._pending()):
            self._dequeue(job)
        running = self._running()
        free = int(self.cluster.info.get("max_running_jobs", 20)) - len(running)
        if free <= 0:
            return
        candidates = sorted(
            (j for j in self._pending() if self._eligible(j)), key=lambda j: (j["priority"], j["id"])
        )
        candidates = jobfilters.reason_rate_limit(running, candidates)
        for job in jobfilters.filter_jobs(rules, running, candidates)[:free]:
            self._tasks[job["id"]] = asyncio.create_task(self._run(job))

    def _dequeue(self, job: dict[str, Any]) -> None:
        """Cancel a job that never started, as luxid's `cancelQueuedJob` does (results stay null)."""
        now = timestamp()
        job["opstatus"] = ["canceled"] * len(job["ops"])
        job["opend"] = [now] * len(job["ops"])
        job["end_ts"] = now
        self._notify(job)
        asyncio.get_running_loop().call_soon(self.schedule)

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
            self.schedule()

    async def _execute(self, job: dict[str, Any]) -> None:
        job["start_ts"] = timestamp()
        for i, op in enumerate(job["ops"]):
            if job["id"] in self._cancel_requested:
                self._finish_rest(job, i, "canceled", "Job canceled by request")
                return
            job["opstatus"][i] = "waiting"
            job["opstart"][i] = timestamp()
            self._notify(job)
            names = requests(self.cluster, op)
            try:
                verdict = await self._dependencies(job, op)
                if verdict is None:
                    await self.locks.acquire(job["id"], job["oppriority"][i], names)
            except asyncio.CancelledError:
                verdict = "canceled"
            if verdict == "canceled":
                self._finish_rest(job, i, "canceled", "Job canceled by request")
                return
            if verdict is not None:
                job["opend"][i] = timestamp()
                self._finish_rest(job, i, "error", ["OpExecError", [verdict]])
                self._finish_rest(job, i + 1, "error", ["OpExecError", ["Preceding opcode failed"]])
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
        stuck = self.faults.stuck_jobs
        await asyncio.sleep(effects.duration(op) * self.time_scale)
        while stuck and self.faults.stuck_jobs:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.faults.changed.wait(), timeout=1.0)
        try:
            if self.rng.random() < self.faults.fail_jobs:
                raise effects.OpError("OpExecError", "Simulated failure of the job", None)
            ctx = effects.Context(self.cluster, self.submit, self._logger(job, i))
            result = effects.dry_run_result(ctx, op) if op.get("dry_run") else effects.apply(ctx, op)
        except effects.OpError as err:
            job["opstatus"][i] = "error"
            detail = [err.message, err.ecode] if err.ecode else [err.message]
            job["opresult"][i] = [err.cls, detail]  # Ganeti writes no log line for it
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

    async def _dependencies(self, job: dict[str, Any], op: dict[str, Any]) -> str | None:
        """Wait for an opcode's `depends` as Ganeti's dependency manager does.

        None lets the opcode go on; "canceled" cancels the job (a dependency was canceled and `canceled` is
        not an accepted status); any other string fails the opcode with that message.
        """
        for raw_id, wanted in op.get("depends") or []:
            dep_id = int(raw_id)
            if dep_id == job["id"]:
                return "Job can't depend on itself"
            while True:
                dep = self.jobs.get(dep_id)
                if dep is None:
                    return f"Dependency error: Job {dep_id} not found"
                if dep["status"] in FINAL:
                    break
                await self._changed[dep_id].wait()
            status = dep["status"]
            if status == "canceled" and "canceled" not in wanted:
                return "canceled"
            if wanted and status not in wanted:
                return (
                    f"Dependency job {dep_id} finished with status '{status}',"
                    f" not one of '{', '.join(wanted)}' as required"
                )
        return None

    # -- cancel, archive -----------------------------------------------------------------------------------

    async def cancel(self, job_id: int) -> list[Any]:
        """Cancel a job as luxid does: dequeue if not started, stop it while waiting, refuse once running."""
        job = self.jobs.get(job_id)
        if job is None or job["status"] in FINAL:
            return [False, f"Job {job_id} not found in queue"]
        if job_id not in self._tasks:
            self._dequeue(job)
            return [True, f"Dequeued job {job_id}"]
        if job["status"] not in ("queued", "waiting"):
            return [False, "Job no longer waiting, can't cancel (informed it anyway)"]
        self._cancel_requested.add(job_id)
        for k, s in enumerate(job["opstatus"]):
            if s not in FINAL:
                job["opstatus"][k] = "canceling"
        self._notify(job)
        task = self._tasks[job_id]
        task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(asyncio.shield(task), timeout=WAIT_TIMEOUT)
        if job["status"] == "canceled":
            return [True, "Job successfully cancelled"]
        # luxid names the status by its Haskell constructor
        return [
            False,
            f"Job exited before it could have been canceled, status JOB_STATUS_{job['status'].upper()}",
        ]

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
        """The given fields of a job (its opcodes' private parameters hidden, as Ganeti stores them)."""
        return {f: redacted(job["ops"]) if f == "ops" else job.get(f) for f in fields}

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


def redacted(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Opcodes as the job queue shows them: private OS parameters keep their names, not their values, and
    secret ones are not kept at all."""
    if not any(op.get("osparams_private") or op.get("osparams_secret") for op in ops):
        return ops
    shown = []
    for op in ops:
        op = dict(op)
        if op.get("osparams_private"):
            op["osparams_private"] = dict.fromkeys(op["osparams_private"])
        if op.get("osparams_secret"):
            op["osparams_secret"] = {}
        shown.append(op)
    return shown

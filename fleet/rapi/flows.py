"""Multi-step operations written once as flows (generators of calls), driven by the sync or the async client.

The job waiter follows `/2/jobs/N/wait` (the long poll): it reports each new log entry through a callback and,
once the job is final, reads the job and returns it, or raises JobFailed / JobCanceled.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from fleet.rapi.endpoints import jobs
from fleet.rapi.errors import JobNotFound, JobWaitTimeout, NotFound
from fleet.rapi.fields import JOB_WAIT_FIELDS
from fleet.rapi.models import FINAL_JOB_STATUSES, Job, LogEntry
from fleet.rapi.wire import Flow, job_id_arg, step

__all__ = ["LogCallback", "wait_for_job", "wait_for_job_tree", "wait_for_jobs"]

LogCallback = Callable[[int, LogEntry], None]
"""Called with the job id and each new log entry, in serial order."""


def wait_for_job(
    job_id: int | str,
    *,
    on_log: LogCallback | None = None,
    max_wait: float | None = None,
    check: bool = True,
) -> Flow[Job]:
    """Wait until the job is final and return it, with its results and logs.

    With `check` (the default) a failed job raises JobFailed (Ganeti's error class, message and ecode) and a
    canceled one JobCanceled; without it the final job is returned whatever its status. `max_wait` bounds the
    whole wait in seconds (JobWaitTimeout); each long poll is bounded by the transport's long-poll timeout.
    An unknown job raises JobNotFound.
    """
    jid = job_id_arg(job_id)
    deadline = None if max_wait is None else time.monotonic() + max_wait
    info: list[Any] | None = None
    serial: int | None = None
    status: Any = None
    while True:
        try:
            change = yield from step(jobs.wait_for_change(jid, JOB_WAIT_FIELDS, info, serial))
        except NotFound as exc:
            raise JobNotFound(jid, exc.message, exc.explain) from exc
        if change is not None:  # None: an older server's "nothing changed"
            serial = _report(jid, change.log_entries, serial, on_log)
            info = change.job_info
            status = info[0] if info else None
            if status is None:
                raise JobNotFound(jid)
            if status in FINAL_JOB_STATUSES:
                break
        if deadline is not None and time.monotonic() >= deadline:
            raise JobWaitTimeout(jid, f"job {jid} is still {status or 'pending'} after {max_wait:g} s")
    job = yield from step(jobs.get(jid))
    _report(jid, job.log, serial, on_log)
    return job.raise_for_status() if check else job


def wait_for_jobs(job_ids: Iterable[int | str], *, on_log: LogCallback | None = None) -> Flow[list[Job]]:
    """Wait for several jobs, one after the other, and return them all final, failed ones included."""
    done = []
    for job_id in job_ids:
        job = yield from wait_for_job(job_id, on_log=on_log, check=False)
        done.append(job)
    return done


def wait_for_job_tree(job_id: int | str, *, on_log: LogCallback | None = None) -> Flow[tuple[Job, list[Job]]]:
    """Wait for a job that submits child jobs (node evacuate/migrate, multi-alloc), then for its children.

    Raises if the parent fails; returns the parent and its children, final, whatever their status. Children
    that Ganeti could not submit are in `parent.submitted_jobs` with their error.
    """
    parent = yield from wait_for_job(job_id, on_log=on_log)
    child_ids = [s.job_id for s in parent.submitted_jobs if s.job_id is not None]
    children = yield from wait_for_jobs(child_ids, on_log=on_log)
    return parent, children


def _report(
    job_id: int, entries: Iterable[LogEntry], serial: int | None, on_log: LogCallback | None
) -> int | None:
    """Pass the entries newer than `serial` to the callback; return the newest serial seen."""
    for entry in sorted(entries, key=lambda e: e.serial):
        if serial is not None and entry.serial <= serial:
            continue
        serial = entry.serial
        if on_log is not None:
            on_log(job_id, entry)
    return serial

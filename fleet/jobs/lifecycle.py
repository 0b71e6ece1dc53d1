"""A Job row's lifecycle: created when Fleet submits, advanced by what Ganeti reports, closed at the end.

What Ganeti reports of a job (read by ``fleet.rapi``, handed over as a :class:`Report`) goes into the row
here; the caller fetches and saves. A final job never changes again, whatever arrives late.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router

from fleet.inventory.models import Cluster, Instance
from fleet.jobs.models import FINAL_STATUSES, Job, JobStatus

SUBMITTED_CHANNEL = "fleet_job_submitted"
"""The PostgreSQL channel on which :func:`submitted` announces each job it records (payload: the cluster's
pk and the job id, space-separated), so that the worker follows it at once rather than at its next scan."""


def submitted(
    cluster: Cluster,
    job_id: int,
    *,
    requester: AbstractBaseUser | None,
    reason: str,
    instance: Instance | None = None,
    summary: Sequence[str] = (),
) -> Job:
    """Record a job Fleet has just submitted (Ganeti gave ``job_id``), so that no restart can lose it, and
    announce it to the worker (on PostgreSQL)."""
    job, _ = Job.objects.update_or_create(
        cluster=cluster,
        job_id=job_id,
        defaults={"requester": requester, "reason": reason, "instance": instance, "summary": list(summary)},
    )
    connection = connections[router.db_for_write(Job)]
    if connection.vendor == "postgresql":  # delivered at commit, when the row is visible; else never
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [SUBMITTED_CHANNEL, f"{cluster.pk} {job_id}"])
    return job


@dataclass(frozen=True)
class Report:
    """What Ganeti reports of a job, already read: ``fleet.rapi.models.Job`` owns the grammar of Ganeti's
    job shapes (statuses, opresult, oplog, timestamps); the worker hands each job over as one of these."""

    status: str
    summary: list[str] = field(default_factory=list)
    op_ids: list[str] = field(default_factory=list)
    op_statuses: list[str] = field(default_factory=list)
    received_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    result: list[Any] = field(default_factory=list)
    error: tuple[str, str, str | None] | None = None  # class, message, Ganeti's ecode
    log: list[list[Any]] = field(default_factory=list)  # entries [serial, [s, us], type, text], as stored


def apply(job: Job, report: Report) -> list[str]:
    """Copy what Ganeti reports about the job into ``job``; returns the names of the fields that changed.
    A job already final is left alone."""
    if job.status in FINAL_STATUSES:
        return []
    values: dict[str, Any] = {
        "status": JobStatus(report.status),
        "summary": report.summary,
        "op_ids": report.op_ids,
        "op_statuses": report.op_statuses,
        "received_at": report.received_at,
        "started_at": report.started_at,
        "ended_at": report.ended_at,
    }
    if values["status"] in FINAL_STATUSES:
        values["result"] = report.result
    if report.error is not None:
        error_class, message, code = report.error
        values.update(error_class=error_class, error_message=message, error_code=code or "")
    changed = [name for name, value in values.items() if getattr(job, name) != value]
    for name in changed:
        setattr(job, name, values[name])
    if append_log(job, report.log):
        changed += ["log", "last_log_serial"]
    return changed


def log_text(message: Any) -> str:
    """A log entry's message as text. Ganeti's "message" entries are text; others (a remote import's
    progress, for one) carry a structure, written here as compact JSON rather than as Python's repr."""
    if isinstance(message, str):
        return message
    return json.dumps(message, sort_keys=True, separators=(", ", ": "), default=str)


def append_log(job: Job, entries: Iterable[Sequence[Any]]) -> bool:
    """Add the log entries ``[serial, [s, us], type, text]`` newer than what the job has; whether any were."""
    last = job.last_log_serial or 0
    new = sorted((list(entry) for entry in entries if entry[0] > last), key=lambda entry: entry[0])
    if not new:
        return False
    job.log = [*job.log, *new]
    job.last_log_serial = new[-1][0]
    return True

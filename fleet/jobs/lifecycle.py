"""A Job row's lifecycle: created when Fleet submits, advanced by what Ganeti reports, closed at the end.

Pure translation of Ganeti's job shapes (``GET /2/jobs/N``, ``/2/jobs/N/wait``) into the row; the caller
fetches and saves. A final job never changes again, whatever arrives late.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
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


def ganeti_time(value: Sequence[int] | None) -> dt.datetime | None:
    """Ganeti's ``[seconds, microseconds]`` as an aware UTC datetime; ``None`` stays ``None``."""
    if not value:
        return None
    seconds, microseconds = value
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) + dt.timedelta(microseconds=microseconds)


def status_from_opcodes(op_statuses: Sequence[str]) -> JobStatus:
    """A job's status from its opcodes' statuses, by Ganeti's rules (``CalcStatus``)."""
    if not op_statuses or all(status == JobStatus.SUCCESS for status in op_statuses):
        return JobStatus.SUCCESS if op_statuses else JobStatus.QUEUED
    for status in op_statuses:
        if status in (JobStatus.ERROR, JobStatus.CANCELING, JobStatus.CANCELED):
            return JobStatus(status)
    for status in reversed(op_statuses):
        if status in (JobStatus.WAITING, JobStatus.RUNNING):
            return JobStatus(status)
    return JobStatus.QUEUED


def apply_job_info(job: Job, info: Mapping[str, Any]) -> list[str]:
    """Copy what Ganeti reports about the job into ``job``; returns the names of the fields that changed.

    ``info`` holds any of a RAPI job object's keys (``status``, ``summary``, ``ops``, ``opstatus``,
    ``opresult``, ``oplog``, ``received_ts``, ``start_ts``, ``end_ts``). A job already final is left alone.
    """
    if job.status in FINAL_STATUSES:
        return []
    values: dict[str, Any] = {}
    if "status" in info:
        values["status"] = JobStatus(info["status"])
    elif "opstatus" in info:
        values["status"] = status_from_opcodes(info["opstatus"])
    if "summary" in info:
        values["summary"] = list(info["summary"])
    if "ops" in info:
        values["op_ids"] = [op.get("OP_ID", "") for op in info["ops"]]
    if "opstatus" in info:
        values["op_statuses"] = list(info["opstatus"])
    for key, field in (("received_ts", "received_at"), ("start_ts", "started_at"), ("end_ts", "ended_at")):
        if key in info:
            values[field] = ganeti_time(info[key])
    if values.get("status") in FINAL_STATUSES and "opresult" in info:
        values["result"] = list(info["opresult"] or [])
    if values.get("status") == JobStatus.ERROR and "opresult" in info:
        values.update(_error(info.get("opstatus") or [], info["opresult"]))
    changed = [field for field, value in values.items() if getattr(job, field) != value]
    for field in changed:
        setattr(job, field, values[field])
    if "oplog" in info:
        entries = [entry for per_opcode in info["oplog"] for entry in per_opcode]
        if append_log(job, entries):
            changed += ["log", "last_log_serial"]
    return changed


def append_log(job: Job, entries: Iterable[Sequence[Any]]) -> bool:
    """Add the log entries ``[serial, [s, us], type, text]`` newer than what the job has; whether any were."""
    last = job.last_log_serial or 0
    new = sorted((list(entry) for entry in entries if entry[0] > last), key=lambda entry: entry[0])
    if not new:
        return False
    job.log = [*job.log, *new]
    job.last_log_serial = new[-1][0]
    return True


def _error(op_statuses: Sequence[str], op_results: Sequence[Any]) -> dict[str, str]:
    """The error of the first failed opcode: ``[ErrorClass, [message, ecode]]`` in Ganeti's opresult."""
    for status, result in zip(op_statuses, op_results, strict=False):
        if status != JobStatus.ERROR or not isinstance(result, list) or len(result) != 2:
            continue
        error_class, details = result
        if isinstance(details, list):
            message = str(details[0]) if details else ""
            code = str(details[1]) if len(details) > 1 and details[1] is not None else ""
        else:
            message, code = str(details), ""
        return {"error_class": str(error_class), "error_message": message, "error_code": code}
    return {}

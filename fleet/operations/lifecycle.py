"""An operation's second half, as the worker drives it: claimed, submitted (or not), then following its job.

Everything here is database work with no I/O, called by the worker (its submits, the job queue's record
and the follower):

- :func:`due` and :func:`claim`: a pending operation is claimed once, by stamping ``attempted_at`` before its
  call is sent, so that it is sent at most once whatever crashes or how many workers run;
- :func:`submitted`, :func:`not_submitted`, :func:`uncertain`: what the submit's answer says;
- :func:`jobs_recorded`: a job seen on the cluster is matched to its operation by the mark in its reason trail
  (``fleet.operations.trail``), and each operation follows its job's status to the end; an operation of
  several jobs (``fleet.operations.calls.plans``) goes back to pending for its next one when a job succeeds;
- :func:`expire_unmatched`: an operation whose submit got no answer, and whose job no poll of the queue found
  (one that began well after the attempt), was not submitted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from fleet.jobs import lifecycle as job_lifecycle
from fleet.jobs.models import Job, JobStatus
from fleet.operations import calls, hooks, trail
from fleet.operations.announce import announce
from fleet.operations.models import OPEN_STATUSES, Operation, OperationStatus
from fleet.rapi import Call

__all__ = [
    "Attempt",
    "claim",
    "due",
    "expire_unmatched",
    "jobs_recorded",
    "not_submitted",
    "submitted",
    "uncertain",
    "uncertain_since",
]

NOT_SUBMITTED = "Not submitted: "  # how the error of an operation that never became a job begins


@dataclass(frozen=True)
class Attempt:
    """A claimed operation and the call that submits it."""

    operation_id: int
    call: Call[Any]
    attempted_at: dt.datetime


def due(cluster_ids: Collection[int]) -> list[tuple[int, int]]:
    """(cluster pk, operation pk) of these clusters' operations waiting to be submitted, oldest first."""
    if not cluster_ids:
        return []
    pending = Operation.objects.filter(
        status=OperationStatus.PENDING, attempted_at__isnull=True, cluster_id__in=list(cluster_ids)
    )
    return list(pending.order_by("pk").values_list("cluster_id", "pk"))


def claim(operation_id: int, now: dt.datetime) -> Attempt | None:
    """Stamp the operation as being sent, unless someone did already; the call to send, or None."""
    with transaction.atomic():
        stamped = Operation.objects.filter(
            pk=operation_id, status=OperationStatus.PENDING, attempted_at__isnull=True
        ).update(attempted_at=now, updated_at=now)
        if not stamped:
            return None
        operation = Operation.objects.get(pk=operation_id)
        try:
            call = calls.call_for(operation)
        except Exception as exc:  # a row no builder can send (a bug, or a kind from a newer Fleet)
            _end(operation, OperationStatus.FAILED, f"{NOT_SUBMITTED}Fleet cannot send it: {exc}", now)
            return None
    return Attempt(operation_id, call, now)


def submitted(operation_id: int, job_id: int, now: dt.datetime) -> Job | None:
    """Ganeti took the operation as job ``job_id``: record the job (to follow) and tie the operation to it."""
    with transaction.atomic():
        locked = Operation.objects.select_for_update(of=("self",))  # not the cluster's row (and PostgreSQL
        operation = locked.select_related("cluster").get(
            pk=operation_id
        )  # locks no outer join's nullable side)
        if operation.cluster is None:
            return None
        if job_id in operation.job_ids and job_id != operation.ganeti_job_id:
            return operation.job  # an earlier step's late answer: the queue's poll tied that job already
        job = job_lifecycle.submitted(
            operation.cluster,
            job_id,
            requester=operation.requester,
            reason=operation.reason,
            instance=operation.instance,
        )
        _tie(operation, job, now)
        operation.save()
    return job


def answered(operation_id: int, ok: bool, message: str, now: dt.datetime) -> None:
    """Ganeti answered an action that makes no job (a cancel) at once: the operation ends with it."""
    with transaction.atomic():
        operation = Operation.objects.select_for_update().get(pk=operation_id)
        if operation.status == OperationStatus.PENDING:
            status = OperationStatus.SUCCEEDED if ok else OperationStatus.FAILED
            _end(operation, status, "" if ok else message, now)


def not_submitted(operation_id: int, why: str, now: dt.datetime) -> None:
    """Ganeti refused the submit (or it could not be sent): the operation failed, no job exists."""
    with transaction.atomic():
        operation = Operation.objects.select_for_update().get(pk=operation_id)
        if operation.status == OperationStatus.PENDING and operation.ganeti_job_id is None:
            _end(operation, OperationStatus.FAILED, NOT_SUBMITTED + why, now)


def uncertain(operation_id: int, why: str) -> None:
    """The submit got no answer: Ganeti may or may not have taken it. Left pending, with what happened; the
    queue's polls find its job by the reason trail, or :func:`expire_unmatched` ends it."""
    Operation.objects.filter(
        pk=operation_id, status=OperationStatus.PENDING, ganeti_job_id__isnull=True
    ).update(
        error=f"The cluster did not answer the submit ({why}); looking for its job in the cluster's queue."
    )


def uncertain_since(cluster_id: int) -> dict[int, dt.datetime]:
    """The operations of a cluster sent without an answer, by pk, with when they were sent."""
    rows = Operation.objects.filter(
        cluster_id=cluster_id,
        status=OperationStatus.PENDING,
        attempted_at__isnull=False,
        ganeti_job_id__isnull=True,
    ).values_list("pk", "attempted_at")
    return dict(rows)


def expire_unmatched(sent: Mapping[int, dt.datetime], now: dt.datetime) -> int:
    """End as not submitted the operations sent at ``sent`` (by pk) still without a job: a poll of the queue
    that began after they were sent (and a grace for Ganeti to take them) found none. An operation sent
    again since (its next job) is left alone. How many ended."""
    ended = 0
    with transaction.atomic():
        for operation in Operation.objects.select_for_update().filter(
            pk__in=list(sent), status=OperationStatus.PENDING, ganeti_job_id__isnull=True
        ):
            if operation.attempted_at is None or operation.attempted_at > sent[operation.pk]:
                continue
            _end(
                operation,
                OperationStatus.FAILED,
                NOT_SUBMITTED + "the cluster did not answer, and holds no job of it.",
                now,
            )
            ended += 1
    return ended


def jobs_recorded(
    cluster_id: int, jobs: Sequence[Job], ops_of: Mapping[int, Sequence[Mapping[str, Any]]], now: dt.datetime
) -> None:
    """Job rows just written (each job's opcodes in ``ops_of`` by Ganeti job id, where first seen): tie the
    jobs that carry an operation's mark to it, and move every open operation on these jobs to its job's
    status. Part of the caller's transaction."""
    marked: dict[uuid.UUID, list[Job]] = {}
    for job in jobs:
        for mark in trail.operation_uuids(ops_of.get(job.job_id, ())):
            marked.setdefault(mark, []).append(job)
    if marked:
        for operation in Operation.objects.select_for_update().filter(
            cluster_id=cluster_id, uuid__in=list(marked), ganeti_job_id__isnull=True
        ):
            # The operation's job now: one it has not had yet (an earlier step's job carries the mark too).
            new = [job for job in marked[operation.uuid] if job.job_id not in operation.job_ids]
            if not new:
                continue
            _tie(operation, min(new, key=lambda job: job.job_id), now)
            _save_reopened(operation)
    marked_ids = {job.job_id for found in marked.values() for job in found}
    _match_unmarked(cluster_id, [job for job in jobs if job.job_id not in marked_ids], ops_of, now)
    by_id = {job.job_id: job for job in jobs}
    if not by_id:
        return
    for operation in Operation.objects.select_for_update().filter(
        cluster_id=cluster_id, ganeti_job_id__in=list(by_id), status__in=sorted(OPEN_STATUSES)
    ):
        if _follow(operation, by_id[operation.ganeti_job_id], now):
            operation.save()


UNMARKED_SKEW = dt.timedelta(seconds=5)  # a job Ganeti received this long before Fleet sent it is not its


def _match_unmarked(
    cluster_id: int, jobs: Sequence[Job], ops_of: Mapping[int, Sequence[Mapping[str, Any]]], now: dt.datetime
) -> None:
    """Tie the jobs that carry no mark (Ganeti builds a reinstall's opcodes without a reason trail) to the
    operation sent without an answer whose job they are, by what they do and when they came."""
    candidates = [job for job in jobs if ops_of.get(job.job_id)]
    if not candidates:
        return
    waiting = list(
        Operation.objects.select_for_update()
        .filter(
            cluster_id=cluster_id,
            status=OperationStatus.PENDING,
            attempted_at__isnull=False,
            ganeti_job_id__isnull=True,
            kind__in=calls.unmarked_kinds(),
        )
        .order_by("attempted_at")
    )
    if not waiting:
        return
    taken = set(
        Operation.objects.filter(
            cluster_id=cluster_id, ganeti_job_id__in=[job.job_id for job in candidates]
        ).values_list("ganeti_job_id", flat=True)
    )
    for operation in waiting:
        assert operation.attempted_at is not None
        for job in sorted(candidates, key=lambda job: job.job_id):
            if job.job_id in taken or job.job_id in operation.job_ids:
                continue
            if job.received_at is not None and job.received_at < operation.attempted_at - UNMARKED_SKEW:
                continue
            if calls.unmarked_match(operation, ops_of[job.job_id]):
                _tie(operation, job, now)
                _save_reopened(operation)
                taken.add(job.job_id)
                break


# Transitions ----------------------------------------------------------------------------------------------


def _tie(operation: Operation, job: Job, now: dt.datetime) -> None:
    operation.job = job
    operation.ganeti_job_id = job.job_id
    if job.job_id not in operation.job_ids:
        operation.job_ids = [*operation.job_ids, job.job_id]
    operation.submitted_at = operation.submitted_at or now
    operation.error = ""
    if job.requester_id is None and operation.requester_id is not None:  # seen on the queue before its id
        job.requester_id, job.reason, job.instance_id = (
            operation.requester_id,
            operation.reason,
            job.instance_id or operation.instance_id,
        )
        job.save(update_fields=["requester", "reason", "instance", "updated_at"])
    if operation.status in (OperationStatus.PENDING, OperationStatus.FAILED):
        operation.status = OperationStatus.SUBMITTED  # a failure was "not submitted": it was, after all
        operation.ended_at = None
    _follow(operation, job, now)


def _save_reopened(operation: Operation) -> None:
    """Save an operation tied late; if it would reopen while another operation is open on the instance, it
    keeps its job but stays ended (its job's end is recorded on the Job row all the same)."""
    try:
        with transaction.atomic():
            operation.save()
    except IntegrityError:
        Operation.objects.filter(pk=operation.pk).update(
            job=operation.job, ganeti_job_id=operation.ganeti_job_id
        )


_STATUS_OF_JOB = {
    JobStatus.QUEUED: OperationStatus.SUBMITTED,
    JobStatus.WAITING: OperationStatus.SUBMITTED,
    JobStatus.RUNNING: OperationStatus.RUNNING,
    JobStatus.CANCELING: OperationStatus.RUNNING,
    JobStatus.SUCCESS: OperationStatus.SUCCEEDED,
    JobStatus.ERROR: OperationStatus.FAILED,
    JobStatus.CANCELED: OperationStatus.FAILED,
}


def _follow(operation: Operation, job: Job, now: dt.datetime) -> bool:
    """Move ``operation`` to ``job``'s status, or on to its next job; whether it changed."""
    status = _STATUS_OF_JOB[JobStatus(job.status)]
    if status == operation.status:
        return False
    if status in OPEN_STATUSES:
        operation.status = status
        return True
    count = calls.step_count(operation)
    if status == OperationStatus.SUCCEEDED and operation.step + 1 < count:
        _next_step(operation)
        return True
    error = ""
    if job.status == JobStatus.ERROR:
        error = ": ".join(part for part in (job.error_class, job.error_message) if part) or "The job failed."
    elif job.status == JobStatus.CANCELED:
        error = "The job was canceled."
    if error and count > 1:
        error = f"Job {operation.step + 1} of {count} failed: {error}"
    _end(operation, status, error, job.ended_at or now, save=False)
    return True


def _next_step(operation: Operation) -> None:
    """The job of this step succeeded: the operation waits to submit its next one (its earlier jobs stay in
    ``job_ids``)."""
    operation.step += 1
    operation.status = OperationStatus.PENDING
    operation.attempted_at = None
    operation.job = None
    operation.ganeti_job_id = None
    operation.error = ""
    announce(operation)


def _end(
    operation: Operation, status: OperationStatus, error: str, now: dt.datetime, *, save: bool = True
) -> None:
    operation.status = status
    operation.error = error
    operation.ended_at = now
    if save:
        operation.save()
    hooks.ended(operation)

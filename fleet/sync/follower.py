"""Job following, the database side: the unfinished Job rows to follow, and a followed job's end recorded.

Job rows are the persistence: a job is followed as long as its row is unfinished, so a worker that restarts
(or was killed) finds the same rows and follows them again. The long poll of ``/2/jobs/N/wait`` itself is
``fleet.sync.reads``; the final job is recorded here with ``fleet.jobs.lifecycle``, and what it changed goes
back to the cluster's loop, which reads it again at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from fleet.jobs import lifecycle, targets
from fleet.jobs.models import Job, JobStatus
from fleet.operations import lifecycle as operations
from fleet.rapi import Job as RapiJob
from fleet.sync import queue

__all__ = ["pending_jobs", "record_final", "record_gone"]


def record_final(cluster_id: int, job: RapiJob, now: dt.datetime) -> tuple[queue.Touched, bool]:
    """Store the final state of a followed job, tie it to what its opcodes name, create rows for the child
    jobs it submitted (so that they are followed too); return what it changed, and whether its end is news
    (a poll of the queue may have recorded it first)."""
    with transaction.atomic():
        row = Job.objects.select_for_update().filter(cluster_id=cluster_id, job_id=job.id).first()
        if row is None:
            row = Job(cluster_id=cluster_id, job_id=job.id)
        news = not row.is_final
        untied = not row.op_ids
        lifecycle.apply(row, queue.report(job))
        found = queue.tie(cluster_id, [(row, job.ops)]) if untied else {}
        row.save()
        if untied:
            queue.save_targets(cluster_id, [(row, found[id(row)])])
        operations.jobs_recorded(cluster_id, [row], {row.job_id: job.ops} if untied else {}, now)
        for child in job.submitted_jobs:
            if child.job_id is not None:
                Job.objects.get_or_create(cluster_id=cluster_id, job_id=child.job_id)
        instance_name = row.instance.name if row.instance_id is not None and row.instance else None
    return targets.changed(job.ops, instance_name), news


def record_gone(cluster_id: int, job_id: int, message: str) -> None:
    """The cluster does not know the job (any more): close the row so that nobody waits for it forever."""
    with transaction.atomic():
        row = Job.objects.select_for_update().filter(cluster_id=cluster_id, job_id=job_id).first()
        if row is None or row.is_final:
            return
        row.status = JobStatus.ERROR
        row.error_class = "JobNotFound"
        row.error_message = message
        row.save(update_fields=["status", "error_class", "error_message", "updated_at"])
        operations.jobs_recorded(cluster_id, [row], {}, timezone.now())


def pending_jobs(cluster_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(cluster id, job id) of every unfinished job of these clusters, oldest first."""
    if not cluster_ids:
        return []
    return list(
        Job.objects.unfinished()
        .filter(cluster_id__in=list(cluster_ids))
        .order_by("job_id")
        .values_list("cluster_id", "job_id")
    )

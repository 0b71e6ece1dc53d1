"""Job following: drive each unfinished Job row to its end, then say what the job touched so it is resynced.

Job rows are the persistence: a job is followed as long as its row is unfinished, so a worker that restarts
(or was killed) finds the same rows and follows them again. Following is the long poll of
``/2/jobs/N/wait`` (``AsyncRapiClient.wait_for_job``); the final job is recorded with
``fleet.jobs.lifecycle`` and the names of the instances it acted on go back to the cluster's loop, which
resyncs them at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction

from fleet.jobs.lifecycle import apply_job_info
from fleet.jobs.models import Job, JobStatus
from fleet.rapi import Job as RapiJob
from fleet.sync.snapshot import job_info

__all__ = ["EVERYTHING", "Touched", "pending_jobs", "record_final", "record_gone", "touched"]

EVERYTHING = None
Touched = frozenset[str] | None
"""Instance names a job acted on, or EVERYTHING (None) when it may have changed more than instances."""

_INSTANCE_KEYS = ("instance_name", "new_name")
_OTHER_KEYS = ("node_name", "group_name", "network_name", "pnode", "snode", "target_node", "remote_node")
# Opcodes that act on one instance, and which nodes, groups and networks they touch is read again anyway
# (a resync fetches every node, group and network: a few rows). Anything else resyncs the whole cluster.
_INSTANCE_OPS_PREFIX = "OP_INSTANCE_"


def touched(ops: Iterable[Mapping[str, Any]], instance_name: str | None = None) -> Touched:
    """Which instances a job's opcodes changed; EVERYTHING for cluster, node, group or network opcodes."""
    names: set[str] = {instance_name} if instance_name else set()
    for op in ops:
        op_id = str(op.get("OP_ID", ""))
        if op_id == "OP_INSTANCE_MULTI_ALLOC":
            names.update(str(i["instance_name"]) for i in op.get("instances") or [] if i.get("instance_name"))
            continue
        if not op_id.startswith(_INSTANCE_OPS_PREFIX) and not op_id.startswith("OP_TAGS_"):
            return EVERYTHING
        if op_id.startswith("OP_TAGS_") and op.get("kind") != "instance":
            return EVERYTHING
        for key in _INSTANCE_KEYS:
            if op.get(key):
                names.add(str(op[key]))
        if op_id.startswith("OP_TAGS_") and op.get("name"):
            names.add(str(op["name"]))
    return frozenset(names) if names else EVERYTHING


def record_final(cluster_id: int, job: RapiJob, now: dt.datetime) -> Touched:
    """Store the final state of a followed job, create rows for the child jobs it submitted (so that they
    are followed too), and return what it touched."""
    with transaction.atomic():
        row = Job.objects.select_for_update().filter(cluster_id=cluster_id, job_id=job.id).first()
        if row is None:
            row = Job(cluster_id=cluster_id, job_id=job.id)
        apply_job_info(row, job_info(job))
        row.save()
        for child in job.submitted_jobs:
            if child.job_id is not None:
                Job.objects.get_or_create(cluster_id=cluster_id, job_id=child.job_id)
        instance_name = row.instance.name if row.instance_id is not None and row.instance else None
    return touched(job.ops, instance_name)


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

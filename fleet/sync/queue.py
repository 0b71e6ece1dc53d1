"""A cluster's job queue as the worker records it: what the poll asks for, and the Job rows it writes.

Every change to a Ganeti object goes through a job, whoever submits it (Fleet, a ``gnt-*`` command, the
watcher, another tool). The loop polls the queue every couple of seconds for the jobs newer than the last
one it saw and those it knows unfinished (one small query2 request, empty at rest); :func:`record` writes
them as Job rows, tied to the objects their opcodes name (``fleet.jobs.targets``), and says which jobs
ended with this record, so that the loop reads again what they changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from fleet.inventory.models import Instance
from fleet.jobs import lifecycle, targets
from fleet.jobs.models import FINAL_STATUSES, Job, JobTarget
from fleet.operations import lifecycle as operations
from fleet.rapi import Job as RapiJob
from fleet.sync import bulk

__all__ = ["Cursor", "Recorded", "cursor", "parsed", "record", "report", "save_targets", "tie"]

Touched = frozenset[str] | None  # instance names a job changed, or targets.EVERYTHING


@dataclass
class Cursor:
    """Which jobs the next poll asks for: those after ``last_id`` (all when None), and ``unfinished``."""

    last_id: int | None
    unfinished: set[int] = field(default_factory=set)

    def advance(self, seen: Iterable[int], unfinished: Iterable[int], ended: Iterable[int]) -> None:
        """Take in what a poll or a follower saw."""
        self.last_id = max([self.last_id or 0, *seen])  # Ganeti's job ids start at 1
        self.unfinished |= set(unfinished)
        self.unfinished -= set(ended)


def cursor(cluster_id: int) -> Cursor:
    """The cursor of a cluster, from its Job rows (at a loop's start)."""
    last = Job.objects.filter(cluster_id=cluster_id).aggregate(last=models.Max("job_id"))["last"]
    unfinished = Job.objects.unfinished().filter(cluster_id=cluster_id).values_list("job_id", flat=True)
    return Cursor(last, set(unfinished))


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` found: every job id it saw, those still unfinished, and those that ended with
    this record, each with what it changed and when it ended."""

    seen: list[int]
    unfinished: list[int]
    ended: list[tuple[int, Touched, dt.datetime | None]]


def record(cluster_id: int, records: Sequence[Mapping[str, Any]], now: dt.datetime) -> Recorded:
    """Write the jobs a poll read: new ones created, unfinished ones advanced, final ones left alone."""
    by_id = parsed(records)
    if not by_id:
        return Recorded([], [], [])
    with transaction.atomic():
        known = {job.job_id: job for job in Job.objects.filter(cluster_id=cluster_id, job_id__in=list(by_id))}
        new: list[Job] = []
        changed: list[Job] = []
        fields: set[str] = set()
        ended: list[tuple[int, Touched, dt.datetime | None]] = []
        untied: list[tuple[Job, Sequence[Any]]] = []
        for job_id, read in by_id.items():
            job = known.get(job_id)
            was_final = job is not None and job.status in FINAL_STATUSES
            had_ops = job is not None and bool(job.op_ids)
            if job is None:
                job = Job(cluster_id=cluster_id, job_id=job_id)
                lifecycle.apply(job, report(read))
                new.append(job)
            else:
                updated = lifecycle.apply(job, report(read))
                if updated:
                    job.updated_at = now  # bulk_update does not apply auto_now
                    changed.append(job)
                    fields.update(updated)
            if not had_ops and job.op_ids:
                untied.append((job, read.ops))
            if job.status in FINAL_STATUSES and not was_final:
                ended.append((job_id, targets.changed(read.ops), job.ended_at))
        found = tie(cluster_id, untied)
        for job, _ in untied:
            if job.pk is not None and job.instance_id is not None:  # a known job, tied now
                fields.add("instance")
                if job not in changed:
                    changed.append(job)
        Job.objects.bulk_create(new, batch_size=bulk.BATCH)
        if changed:
            Job.objects.bulk_update(changed, [*sorted(fields), "updated_at"], batch_size=bulk.BATCH)
        save_targets(cluster_id, [(job, found[id(job)]) for job, _ in untied])
        operations.jobs_recorded(cluster_id, [*new, *changed], {job.job_id: ops for job, ops in untied}, now)
    unfinished = [job_id for job_id, read in by_id.items() if not read.final]
    return Recorded(list(by_id), unfinished, ended)


def tie(cluster_id: int, jobs: Sequence[tuple[Job, Sequence[Any]]]) -> dict[int, set[targets.Target]]:
    """What each job's opcodes ``ops`` name, by ``id()`` of the Job; sets the Job's instance (unsaved)
    when they name exactly one instance that the read model holds."""
    found = {id(job): targets.targets(ops) for job, ops in jobs}
    single = {
        key: next(iter(names))
        for key, names in ((key, targets.instance_names(pairs)) for key, pairs in found.items())
        if len(names) == 1
    }
    ids = dict(
        Instance.objects.filter(cluster_id=cluster_id, name__in=set(single.values())).values_list(
            "name", "pk"
        )
    )
    for job, _ in jobs:
        if job.instance_id is None:
            job.instance_id = ids.get(single.get(id(job), ""))
    return found


def save_targets(cluster_id: int, jobs: Sequence[tuple[Job, set[targets.Target]]]) -> None:
    """The JobTarget rows of saved jobs."""
    JobTarget.objects.bulk_create(
        [
            JobTarget(job_id=job.pk, cluster_id=cluster_id, kind=kind, name=name)
            for job, pairs in jobs
            for kind, name in sorted(pairs)
        ],
        batch_size=bulk.BATCH,
        ignore_conflicts=True,
    )


def report(job: RapiJob) -> lifecycle.Report:
    """What the Job row takes of a job as ``fleet.rapi`` read it."""

    def at(value: float | None) -> dt.datetime | None:
        return None if value is None else dt.datetime.fromtimestamp(value, tz=dt.UTC)

    return lifecycle.Report(
        status=job.status,
        summary=job.summary,
        op_ids=[str(op.get("OP_ID", "")) for op in job.ops],
        op_statuses=job.opstatus,
        received_at=at(job.received_ts),
        started_at=at(job.start_ts),
        ended_at=at(job.end_ts),
        result=job.opresult,
        error=job.failure,
        log=[[entry.serial, _stored_time(entry.timestamp), entry.kind, entry.message] for entry in job.log],
    )


def _stored_time(value: float | None) -> list[int] | None:
    """A log entry's time as the Job row keeps it (``[s, us]``, Ganeti's, which the job page reads)."""
    if value is None:
        return None
    seconds = int(value)
    return [seconds, round((value - seconds) * 1e6)]


def parsed(records: Sequence[Mapping[str, Any]]) -> dict[int, RapiJob]:
    """The jobs of a poll's records by id; a record without an id or a status (gone meanwhile) is left out."""
    jobs: dict[int, RapiJob] = {}
    for record in records:
        if record.get("id") is None or not record.get("status"):
            continue
        job = RapiJob.parse(record)
        jobs[job.id] = job
    return jobs

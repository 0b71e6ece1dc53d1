"""The Job row: one Ganeti job of one cluster, with who asked for it through Fleet and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from fleet.inventory.models import Cluster, Instance
from fleet.jobs.targets import TargetKind


class JobStatus(models.TextChoices):
    """Ganeti's job (and opcode) statuses; the last three are final."""

    QUEUED = "queued", "Queued"
    WAITING = "waiting", "Waiting"
    RUNNING = "running", "Running"
    CANCELING = "canceling", "Canceling"
    SUCCESS = "success", "Succeeded"
    ERROR = "error", "Failed"
    CANCELED = "canceled", "Canceled"


FINAL_STATUSES = frozenset({JobStatus.SUCCESS, JobStatus.ERROR, JobStatus.CANCELED})
UNFINISHED_STATUSES = frozenset(set(JobStatus) - FINAL_STATUSES)


class JobQuerySet(models.QuerySet["Job"]):
    """Queries on jobs."""

    def unfinished(self) -> JobQuerySet:
        """Jobs the follower still has to drive to their end."""
        return self.exclude(status__in=FINAL_STATUSES)

    def on_instance(self, instance: Instance) -> JobQuerySet:
        """Jobs on ``instance``, whoever started them: tied to its row, or naming it in their opcodes."""
        named = JobTarget.objects.filter(
            cluster_id=instance.cluster_id, kind=TargetKind.INSTANCE, name=instance.name
        )
        return self.filter(models.Q(instance=instance) | models.Q(pk__in=named.values("job_id")))


class Job(models.Model):
    """A Ganeti job: its id on its cluster, its opcodes and status, its times, its log, and its outcome.

    Jobs submitted through Fleet carry the requester and the reason they gave; jobs seen on a cluster but
    started elsewhere (gnt-* commands, the watcher) have neither. ``fleet.jobs.lifecycle`` applies what
    Ganeti reports; this row only holds it.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="jobs")
    job_id = models.PositiveBigIntegerField("Ganeti job id")
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    summary = models.JSONField(
        default=list, blank=True, help_text='e.g. ["INSTANCE_REBOOT(web1.example.org)"]'
    )
    op_ids = models.JSONField(default=list, blank=True, help_text='e.g. ["OP_INSTANCE_REBOOT"]')
    op_statuses = models.JSONField(default=list, blank=True, help_text="Ganeti's opstatus, one per opcode.")

    received_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ganeti_jobs",
        help_text="Who asked for the job through Fleet; empty for jobs started outside Fleet.",
    )
    reason = models.TextField(
        blank=True, help_text="Why, as the requester gave it; also sent in Ganeti's reason trail."
    )
    instance = models.ForeignKey(
        Instance,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        help_text="The instance the job acts on, to resync when it ends.",
    )

    log = models.JSONField(
        default=list, blank=True, help_text="Ganeti's oplog entries: [serial, [s, us], type, text]."
    )
    last_log_serial = models.PositiveBigIntegerField(null=True, blank=True)
    result = models.JSONField(
        default=list, blank=True, help_text="Ganeti's opresult, one per opcode, once the job has ended."
    )
    error_class = models.CharField(max_length=64, blank=True, help_text="e.g. OpPrereqError")
    error_message = models.TextField(blank=True)
    error_code = models.CharField(max_length=32, blank=True, help_text="Ganeti's ecode, e.g. wrong_state")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-job_id"]
        constraints = [models.UniqueConstraint(fields=["cluster", "job_id"], name="job_unique_id")]
        indexes = [
            models.Index(fields=["status", "cluster"], name="job_status_idx"),
            models.Index(fields=["-received_at"], name="job_received_idx"),
        ]

    def __str__(self) -> str:
        return f"job {self.job_id} on {self.cluster_id} ({self.status})"

    @property
    def is_final(self) -> bool:
        """Whether Ganeti will change this job no more."""
        return self.status in FINAL_STATUSES


class JobTarget(models.Model):
    """One object a job acts on, by kind and name as its opcodes name it (``fleet.jobs.targets``).

    Names, not foreign keys: a job keeps its targets after an instance is renamed or destroyed, and a job
    seen on a cluster before the sync knows its object is tied to it all the same. ``cluster`` repeats the
    job's, so that "the jobs on this instance" is one index lookup.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="targets")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=16, choices=TargetKind.choices)
    name = models.CharField(max_length=253, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "kind", "name"], name="jobtarget_unique"),
        ]
        indexes = [models.Index(fields=["cluster", "kind", "name"], name="jobtarget_object_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}".strip()

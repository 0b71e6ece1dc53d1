"""The Operation row: an action someone asked Fleet to take, recorded before anything reaches a cluster.

It says what was asked (the kind, the target by cluster and instance name and uuid, the parameters), who
asked, from where, through which face and why, and moves through its states as the worker submits it and
follows its job. Names are copied, not only referenced, so that the row still says what happened after the
instance, the cluster or the account is gone: the rows are the audit log, and are never deleted.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from fleet.inventory.models import Cluster, Instance
from fleet.jobs.models import Job


class OperationKind(models.TextChoices):
    """What an operation does; each is one function of ``fleet.operations``."""

    START = "start", "Start"
    SHUTDOWN = "shutdown", "Shut down"
    REBOOT = "reboot", "Reboot"
    MIGRATE = "migrate", "Migrate"
    FAILOVER = "failover", "Fail over"
    REINSTALL = "reinstall", "Reinstall"
    RENAME = "rename", "Rename"
    DESTROY = "destroy", "Destroy"
    MODIFY = "modify", "Modify"
    OWNERS = "owners", "Change owners"
    LOCK = "lock", "Lock"
    UNLOCK = "unlock", "Unlock"
    ISOLATE = "isolate", "Isolate"
    DEISOLATE = "deisolate", "De-isolate"
    CANCEL_JOB = "cancel_job", "Cancel job"
    CONSOLE = "console", "Console"  # a console session (fleet.console): no Ganeti job
    CREATE = "create", "Create"  # a new instance (fleet.operations.creation): no instance row yet


class OperationStatus(models.TextChoices):
    """pending (recorded; the worker has not submitted it yet, or does not know whether Ganeti took it) →
    submitted (Ganeti gave a job id) → running → succeeded or failed; refused never reaches a cluster.
    An action that asks for a confirmation starts as awaiting (not due: the worker never sees it), becomes
    pending once confirmed, or expired when its link ran out unused."""

    AWAITING = "awaiting", "Awaiting confirmation"
    PENDING = "pending", "Pending"
    SUBMITTED = "submitted", "Submitted"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUSED = "refused", "Refused"
    EXPIRED = "expired", "Expired"


OPEN_STATUSES = frozenset({OperationStatus.PENDING, OperationStatus.SUBMITTED, OperationStatus.RUNNING})
ENDED_STATUSES = frozenset(set(OperationStatus) - OPEN_STATUSES - {OperationStatus.AWAITING})


class Via(models.TextChoices):
    """The face an operation was asked through."""

    WEB = "web", "Web"
    API = "api", "API"
    CLI = "cli", "CLI"


class OperationQuerySet(models.QuerySet["Operation"]):
    """Queries on operations."""

    def open(self) -> OperationQuerySet:
        """Operations not yet ended: pending, submitted or running."""
        return self.filter(status__in=OPEN_STATUSES)

    def on_instance(self, instance: Instance) -> OperationQuerySet:
        """Operations on ``instance``, by name: they stay after a rename or a destroy of the row."""
        return self.filter(cluster_id=instance.cluster_id, instance_name=instance.name)


class Operation(models.Model):
    """See the module docstring. ``fleet.operations.lifecycle`` moves it through :class:`OperationStatus`."""

    uuid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="Sent in the job's reason."
    )
    kind = models.CharField(max_length=16, choices=OperationKind.choices)
    status = models.CharField(max_length=16, choices=OperationStatus.choices, default=OperationStatus.PENDING)

    cluster = models.ForeignKey(Cluster, on_delete=models.SET_NULL, null=True, related_name="operations")
    cluster_name = models.CharField(max_length=253)
    instance = models.ForeignKey(
        Instance, on_delete=models.SET_NULL, null=True, blank=True, related_name="operations", db_index=False
    )
    instance_name = models.CharField(max_length=253, blank=True)
    instance_uuid = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True, help_text="What the action was asked to do.")

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="operations"
    )
    requester_name = models.CharField(max_length=150)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    via = models.CharField(max_length=8, choices=Via.choices, default=Via.WEB)
    reason = models.TextField(blank=True, help_text="Why, as the requester gave it.")
    idempotency_key = models.CharField(max_length=255, blank=True)

    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="operations")
    ganeti_job_id = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Ganeti's id of the job under way, or of the last one."
    )
    step = models.PositiveSmallIntegerField(
        default=0, help_text="Which of the operation's jobs is under way (from 0); most have one."
    )
    job_ids = models.JSONField(
        default=list, blank=True, help_text="Ganeti's ids of its jobs so far, in order."
    )
    error = models.TextField(blank=True, help_text="Why it was refused, or Ganeti's error when it failed.")
    conflict = models.BooleanField(
        default=False,
        help_text="Refused for the instance's state or what was under way on it, not the policy.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    attempted_at = models.DateTimeField(null=True, blank=True, help_text="When the worker sent it.")
    submitted_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OperationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A retried request with the same key is the same operation.
            models.UniqueConstraint(
                fields=["requester", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="operation_unique_idempotency_key",
            ),
            # One open operation per instance at a time: a second conflicting one is refused.
            models.UniqueConstraint(
                fields=["cluster", "instance_name"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES))
                & ~models.Q(instance_name="")
                & ~models.Q(kind=OperationKind.CANCEL_JOB),  # a cancel is how to stop what is under way
                name="operation_one_open_per_instance",
            ),
        ]
        indexes = [
            models.Index(fields=["cluster", "instance_name", "-created_at"], name="operation_instance_idx"),
            models.Index(fields=["status", "cluster"], name="operation_status_idx"),
            models.Index(fields=["cluster", "ganeti_job_id"], name="operation_job_idx"),
            models.Index(fields=["requester", "-created_at"], name="operation_requester_idx"),
            models.Index(fields=["-created_at"], name="operation_created_idx"),
        ]

    def __str__(self) -> str:
        target = self.instance_name or self.cluster_name
        return f"{self.get_kind_display()} {target} by {self.requester_name} ({self.status})"

    @property
    def is_open(self) -> bool:
        """Whether it may still change: pending, submitted or running."""
        return self.status in OPEN_STATUSES


class ConfirmedBy(models.TextChoices):
    """How an action that needs a confirmation was confirmed."""

    LINK = "link", "The mailed link"
    NAME = "name", "The instance's name, typed by an administrator"


class Confirmation(models.Model):
    """The second half of an action that must be confirmed (reinstall, rename, destroy): the operation
    waits as awaiting until its requester opens the mailed link and confirms (or an administrator types the
    instance's name, recorded here too). Only a hash of the link's token is kept; the link works once,
    for the requester, until ``expires_at``. ``shown`` is the instance as the request saw it: a link
    confirms nothing once the instance changed."""

    operation = models.OneToOneField(Operation, on_delete=models.CASCADE, related_name="confirmation")
    token_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the link's token.")
    expires_at = models.DateTimeField()
    shown = models.JSONField(default=dict, blank=True, help_text="The instance as the request saw it.")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.CharField(max_length=8, choices=ConfirmedBy.choices, blank=True)
    confirmed_from = models.GenericIPAddressField(null=True, blank=True)
    confirmed_via = models.CharField(max_length=8, choices=Via.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token_hash"], condition=~models.Q(token_hash=""), name="confirmation_unique_token"
            )
        ]

    def __str__(self) -> str:
        return f"confirmation of {self.operation}"


class FormerOwner(models.Model):
    """Who owned an instance, under each name Fleet knew it by, when a destroy of it was asked for: once
    that destroy succeeded, they still see the instance's operations and jobs from before its end (the
    policy's rule), though the instance, and with it its ownership tags, is gone."""

    operation = models.ForeignKey(Operation, on_delete=models.CASCADE, related_name="former_owners")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+", db_index=False)
    instance_name = models.CharField(max_length=253)
    kind = models.CharField(max_length=5)  # user or group, as fleet.access.tags.OwnerKind
    name = models.CharField(max_length=150)

    class Meta:
        indexes = [models.Index(fields=["cluster", "instance_name"], name="former_owner_instance_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} owned {self.instance_name}"

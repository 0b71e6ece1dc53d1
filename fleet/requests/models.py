"""The rows of getting a VM: a user's SSH keys (applications come next to them)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class SshKey(models.Model):
    """An OpenSSH public key in a user's profile, parsed on the way in (``fleet.requests.sshkeys``).

    The fingerprint is unique per user: the same key twice is refused, not stored twice.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ssh_keys")
    name = models.CharField(max_length=100, help_text="What the key is (the line's comment by default).")
    kind = models.CharField(max_length=32, help_text="The OpenSSH key type, e.g. ssh-ed25519.")
    bits = models.PositiveIntegerField()
    fingerprint = models.CharField(max_length=64, help_text="SHA256 fingerprint, as ssh-keygen -l prints it.")
    public_key = models.TextField(help_text="The key line as parsed: type, base64 data, comment.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "fingerprint"], name="requests_sshkey_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.fingerprint})"


class ApplicationStatus(models.TextChoices):
    """Where an application is: with the reviewers, on its way to a cluster, or done."""

    PENDING = "pending", "pending review"
    APPROVED = "approved", "approved"
    SUBMITTED = "submitted", "being created"
    SUCCEEDED = "succeeded", "created"
    FAILED = "failed", "failed"
    REFUSED = "refused", "refused"
    WITHDRAWN = "withdrawn", "withdrawn"


OPEN_STATUSES = (
    ApplicationStatus.PENDING,
    ApplicationStatus.APPROVED,
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.FAILED,
)
"""An open application holds its hostname: no other application and no new instance may take it."""


class Application(models.Model):
    """A user's request for a VM: what they ask for, then the reviewer's decision and placement.

    ``disks`` is the list the user asked for, the OS disk first: ``[{"storage_class": "fast", "size_gb": 10},
    ...]``, each class one of the operator's (``fleet.conf.storage``). Nothing reaches a cluster before a
    reviewer approves; the placement (cluster, node group, network, disk template) is the reviewer's.
    """

    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vm_applications"
    )
    hostname = models.CharField(max_length=253, help_text="The VM's name: a lower-case FQDN.")
    memory_mb = models.PositiveIntegerField()
    vcpus = models.PositiveSmallIntegerField()
    disks = models.JSONField(default=list, help_text="The OS disk first, then data disks: class and size.")
    os = models.CharField("OS", max_length=128, help_text="The Ganeti OS (variant) to install.")
    network = models.CharField(max_length=253, help_text="The name of the Ganeti network asked for.")
    organisation = models.CharField(max_length=200)
    comments = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True, help_text="The reviewer's word to the applicant.")
    cluster = models.ForeignKey(
        "inventory.Cluster", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    node_group = models.CharField(max_length=253, blank=True)
    disk_template = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True, help_text="Why the creation failed, as Ganeti said it.")
    operation = models.ForeignKey(
        "operations.Operation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The create of its last approval.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["hostname"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="requests_application_open_hostname_unique",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="requests_app_status")]

    def __str__(self) -> str:
        return f"{self.hostname} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

"""A Ganeti cluster Fleet manages: where its RAPI is, how to trust and log in to it, how its sync goes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator, URLValidator
from django.db import models

from fleet.inventory import credentials

FINGERPRINT_VALIDATOR = RegexValidator(
    re.compile(r"^[0-9a-f]{64}$"),
    "Give the SHA-256 fingerprint of the RAPI certificate (DER) as 64 lowercase hex digits, without colons.",
)


def normalize_fingerprint(value: str) -> str:
    """``AB:CD:...`` or ``abcd...`` as Fleet stores it: lowercase hex, no separators."""
    return value.replace(":", "").replace(" ", "").strip().lower()


class ClusterHealth(models.TextChoices):
    """How the last syncs of a cluster went, as shown to operators and checked by Icinga."""

    UNKNOWN = "unknown", "Not synced yet"
    HEALTHY = "healthy", "Healthy"
    DEGRADED = "degraded", "Degraded"  # reachable, but slow or answering only in part
    UNREACHABLE = "unreachable", "Unreachable"  # the last attempt failed; the worker backs off


class Cluster(models.Model):
    """One Ganeti cluster: its RAPI endpoint and credentials, operator flags, and the health of its sync.

    The RAPI password is stored only as a Fernet token (see ``fleet.inventory.credentials``); the certificate
    is trusted by its pinned SHA-256 fingerprint. ``drained`` and ``offline`` are Fleet's flags, not Ganeti's.
    The model never talks to the cluster: ``fleet.sync`` does, and writes the results here.
    """

    name = models.CharField(max_length=253, unique=True, help_text="The cluster name, as /2/info reports it.")
    rapi_url = models.CharField(
        "RAPI URL",
        max_length=300,
        validators=[URLValidator(schemes=["https"])],
        help_text="e.g. https://cluster.example.org:5080 (the port is honoured).",
    )
    rapi_username = models.CharField("RAPI user", max_length=150, blank=True)
    rapi_password_encrypted = models.TextField(
        "RAPI password (encrypted)", blank=True, editable=False, help_text="Fernet token; never the password."
    )
    rapi_fingerprint = models.CharField(
        "certificate fingerprint",
        max_length=64,
        validators=[FINGERPRINT_VALIDATOR],
        help_text="SHA-256 of the RAPI server certificate (DER), lowercase hex.",
    )
    rapi_timeout = models.FloatField(
        "RAPI timeout",
        default=30.0,
        validators=[MinValueValidator(0.5)],
        help_text="Seconds the sync waits for the cluster to connect or answer before it backs off.",
    )
    description = models.TextField(blank=True)
    drained = models.BooleanField(default=False, help_text="Drained: Fleet places no new VMs here.")
    offline = models.BooleanField(default=False, help_text="Offline: Fleet never contacts this cluster.")

    # What /2/info says about the cluster.
    uuid = models.UUIDField(null=True, blank=True)
    software_version = models.CharField(max_length=32, blank=True)
    master_node = models.CharField(max_length=253, blank=True)
    default_hypervisor = models.CharField(max_length=32, blank=True)
    enabled_hypervisors = models.JSONField(default=list, blank=True)
    enabled_disk_templates = models.JSONField(default=list, blank=True)
    os_names = models.JSONField(
        "OS names",
        default=list,
        blank=True,
        help_text="The OSes it offers, as /2/os lists them (name+variant).",
    )
    ipolicy = models.JSONField(
        null=True, blank=True, help_text="The cluster's instance policy (/2/info ipolicy): specs and limits."
    )
    tags = models.JSONField(default=list, blank=True)
    ctime = models.DateTimeField(null=True, blank=True)
    mtime = models.DateTimeField(null=True, blank=True)
    raw_info = models.JSONField(null=True, blank=True, help_text="The last /2/info reply (debugging only).")

    # Health of the sync, written by the worker.
    health = models.CharField(max_length=16, choices=ClusterHealth.choices, default=ClusterHealth.UNKNOWN)
    last_sync_at = models.DateTimeField(null=True, blank=True, help_text="End of the last successful sync.")
    last_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Start of the last sync attempt.")
    last_error = models.TextField(blank=True, help_text="Why the last attempt failed; empty after a success.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(
        null=True, blank=True, help_text="RAPI round trip of the last sync, in ms."
    )
    last_sync_duration_ms = models.FloatField(null=True, blank=True)
    last_sync_stats = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the last full sync saw per kind, and the rows it created, updated, deleted.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["health"], name="cluster_health_idx")]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Cluster {self.name} {self.rapi_url}>"

    def set_rapi_password(self, password: str) -> None:
        """Store ``password`` encrypted (an empty one clears it); call ``save()`` afterwards."""
        self.rapi_password_encrypted = credentials.encrypt(password) if password else ""

    def rapi_password(self) -> str:
        """The decrypted RAPI password ('' if none); raises ``CredentialError`` if the key cannot open it."""
        return credentials.decrypt(self.rapi_password_encrypted) if self.rapi_password_encrypted else ""

    def clean_fields(self, exclude: set[str] | None = None) -> None:
        self.rapi_fingerprint = normalize_fingerprint(self.rapi_fingerprint)
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        if self.rapi_password_encrypted and not self.rapi_username:
            raise ValidationError({"rapi_username": "A RAPI password needs a RAPI user."})

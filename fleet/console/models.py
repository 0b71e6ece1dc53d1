"""A console session (the token's row: claimed once by the proxy, with how it went) and a cluster's VNC
password."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from fleet.inventory import credentials
from fleet.inventory.models import Cluster
from fleet.operations.models import Operation


class Outcome(models.TextChoices):
    """How a session went, as the proxy found it; the console page shows it when the connection ends."""

    MINTED = "minted", "Waiting for the browser"
    CONNECTED = "connected", "Connected"
    ENDED = "ended", "Ended"
    EXPIRED = "expired", "The console link expired"
    REPLAYED = "replayed", "The console link was already used"
    UNREACHABLE = "unreachable", "The node could not be reached"
    TIMEOUT = "timeout", "The VNC server did not answer"
    REFUSED = "refused", "The VNC server refused the connection"


class ConsoleSession(models.Model):
    """One console token: who may use it, for which instance and where its VNC server is (as the cluster
    said just before the token was minted). ``claimed_at`` is set once, by the proxy that uses it; the
    Operation of kind console is its entry in the audit log."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    operation = models.OneToOneField(Operation, on_delete=models.CASCADE, related_name="console_session")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    instance_name = models.CharField(max_length=253)
    host = models.CharField(max_length=253, help_text="The VNC server's address, as the cluster gave it.")
    port = models.PositiveIntegerField()
    expires_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.MINTED)
    detail = models.TextField(blank=True, help_text="What the proxy saw, for the user and the audit log.")

    class Meta:
        indexes = [models.Index(fields=["cluster", "instance_name"], name="console_session_instance_idx")]

    def __str__(self) -> str:
        return f"console of {self.instance_name} for {self.user_id} ({self.outcome})"


class VncPassword(models.Model):
    """The password a cluster's VNC servers ask for (Ganeti's ``vnc_password_file``), encrypted at rest
    as the RAPI passwords are. The proxy answers the VNC server's challenge with it; browsers never see it."""

    cluster = models.OneToOneField(Cluster, on_delete=models.CASCADE, related_name="vnc_password")
    encrypted = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"VNC password of {self.cluster_id}"

    def set(self, password: str) -> None:
        self.encrypted = credentials.encrypt(password)

    def reveal(self) -> str:
        return credentials.decrypt(self.encrypted)

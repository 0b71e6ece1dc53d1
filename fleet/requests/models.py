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

"""The API token row: whose, what for, what it may do, until when, and only a hash of its secret."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from fleet.tokens import keys


class Scope(models.TextChoices):
    """What a token may do: read (GET, HEAD, OPTIONS), or read and write (every method)."""

    READ = "read", "read"
    WRITE = "write", "read and write"


class ApiToken(models.Model):
    """A key that acts as its user on the REST API, within its scope, until it expires or is revoked.

    Revoked tokens are kept (and hidden from their owner's list) so that a key presented after its
    revocation is told so, rather than that it does not exist.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    token_id = models.CharField(max_length=16, unique=True, help_text="Public start of the key.")
    secret_digest = models.CharField(max_length=64, help_text="SHA-256 of the key's secret, in hex.")
    name = models.CharField(max_length=100, help_text="What the token is for.")
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="tokens_user_live")]

    def __str__(self) -> str:
        return f"{self.shown_id} ({self.name})"

    @property
    def shown_id(self) -> str:
        """The start of the key, which tells tokens apart without revealing them."""
        return keys.shown_id(self.token_id)

    @property
    def can_write(self) -> bool:
        return self.scope == Scope.WRITE

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

"""The outbox and the archive (one table: a mail is queued, then sent or failed, and stays), and the admins'
notices waiting for their next digest."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class MailStatus(models.TextChoices):
    """Where a mail is: waiting for (another) attempt, delivered to the SMTP server, or given up."""

    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Mail(models.Model):
    """One mail, rendered when it was queued: what the worker sends, and what stays to be looked at.

    Rows are written by ``fleet.notify.mail`` in the caller's transaction (a rolled-back action queues
    nothing) and moved on by ``fleet.notify.outbox`` only.
    """

    to = models.JSONField(help_text='The recipients, e.g. ["alice@example.org"].')
    subject = models.TextField()
    body = models.TextField()
    html = models.TextField(blank=True, help_text="An HTML alternative of the body; empty if there is none.")
    template = models.CharField(max_length=100, help_text="The template it was rendered from.")
    status = models.CharField(max_length=8, choices=MailStatus.choices, default=MailStatus.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        default=timezone.now, help_text="When it is due; a worker sending it moves this ahead as its claim."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The worker's question, every few seconds: which queued mails are due (few, among many sent).
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(status="queued"), name="notify_mail_due"
            ),
            models.Index(fields=["created_at"], name="notify_mail_created"),  # pruning and listing
        ]

    def __str__(self) -> str:
        return f"{self.subject} (to {', '.join(self.to)}, {self.status})"


class AdminNotice(models.Model):
    """A line for the admins' next digest on its topic (e.g. one refused attempt)."""

    topic = models.CharField(max_length=100)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["topic", "id"], name="notify_notice_topic")]


class Digest(models.Model):
    """When the last digest of a topic was queued: the next one waits ``digest_minutes`` after it."""

    topic = models.CharField(max_length=100, unique=True)
    last_queued_at = models.DateTimeField()

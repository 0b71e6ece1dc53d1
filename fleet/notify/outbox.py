"""The outbox's life cycle, in the database only: which mails are due, who sends them, what came of it.

A sender *claims* due mails in a short transaction: it locks them (``SKIP LOCKED`` on PostgreSQL, so two
workers take different mails; SQLite has one writer at a time) and moves their next attempt ahead by a
hold long enough to send them, then commits and sends outside any transaction (a slow SMTP server never
holds a database lock). A sender that dies mid-batch leaves its mails to be claimed again when the hold
ends: delivery is at least once, never lost. A failed attempt is retried after 1 minute, doubling to at most
an hour; a mail not sent within a day of being queued, or refused for good by the server (a 5xx reply), is
marked failed and logged.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import F

from fleet.notify.models import Mail, MailStatus

log = logging.getLogger("fleet.notify")

RETRY_FIRST = datetime.timedelta(minutes=1)
RETRY_MAX = datetime.timedelta(hours=1)
GIVE_UP_AFTER = datetime.timedelta(days=1)
ERROR_MAX_LENGTH = 2000


def retry_delay(attempts: int) -> datetime.timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return min(RETRY_FIRST * 2 ** max(0, min(attempts - 1, 16)), RETRY_MAX)


def claim(now: datetime.datetime, *, limit: int, hold: datetime.timedelta) -> list[Mail]:
    """Take up to ``limit`` due mails for this sender, oldest due first, each with its attempt counted
    (none queued more than a day ago: :func:`expire` gives those up)."""
    due = Mail.objects.filter(
        status=MailStatus.QUEUED, next_attempt_at__lte=now, created_at__gt=now - GIVE_UP_AFTER
    )
    if not due.exists():  # the usual case: no transaction (on SQLite it would take the write lock)
        return []
    with transaction.atomic():
        mails = list(due.order_by("next_attempt_at", "pk").select_for_update(skip_locked=True)[:limit])
        Mail.objects.filter(pk__in=[mail.pk for mail in mails]).update(
            next_attempt_at=now + hold, attempts=F("attempts") + 1
        )
    for mail in mails:
        mail.attempts += 1
    return mails


def record_sent(mail: Mail, now: datetime.datetime) -> None:
    """The SMTP server accepted ``mail``: it moves to the archive."""
    Mail.objects.filter(pk=mail.pk, status=MailStatus.QUEUED).update(
        status=MailStatus.SENT, sent_at=now, last_error=""
    )


def record_failure(mail: Mail, now: datetime.datetime, error: str, *, permanent: bool = False) -> MailStatus:
    """An attempt at ``mail`` failed with ``error``: retry it later, or give up; returns its new status."""
    error = error[:ERROR_MAX_LENGTH]
    queued = Mail.objects.filter(pk=mail.pk, status=MailStatus.QUEUED)
    if permanent or now - mail.created_at >= GIVE_UP_AFTER:
        queued.update(status=MailStatus.FAILED, last_error=error)
        log.error(
            "mail %d to %s (%r) given up after %d attempts: %s",
            mail.pk, ", ".join(mail.to), mail.subject, mail.attempts, error,
        )  # fmt: skip
        return MailStatus.FAILED
    delay = retry_delay(mail.attempts)
    queued.update(next_attempt_at=now + delay, last_error=error)
    log.warning(
        "mail %d to %s: attempt %d failed, next in %d s: %s",
        mail.pk, ", ".join(mail.to), mail.attempts, delay.total_seconds(), error,
    )  # fmt: skip
    return MailStatus.QUEUED


def expire(now: datetime.datetime, reason: str) -> int:
    """Give up the queued mails older than a day (a confirmation link in them has expired too, and a mail
    server configured after a long while should not send stale mails); returns how many."""
    stale = Mail.objects.filter(status=MailStatus.QUEUED, created_at__lte=now - GIVE_UP_AFTER)
    if not stale.exists():  # the usual case: read, never write (SQLite's one writer is shared)
        return 0
    error = f"not sent within a day: {reason}"[:ERROR_MAX_LENGTH]
    count = stale.update(status=MailStatus.FAILED, last_error=error)
    if count:
        log.error("%d mails not sent within a day of being queued, given up: %s", count, reason)
    return count


def prune(now: datetime.datetime, retention_days: int) -> int:
    """Delete the sent and failed mails older than ``retention_days`` (0 keeps them all); returns how many."""
    if retention_days <= 0:
        return 0
    cutoff = now - datetime.timedelta(days=retention_days)
    old = Mail.objects.filter(created_at__lt=cutoff).exclude(status=MailStatus.QUEUED)
    if not old.exists():
        return 0
    deleted, _ = old.delete()
    return deleted

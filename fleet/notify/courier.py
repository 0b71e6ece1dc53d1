"""One sending pass, as the worker runs it every few seconds and `fleet worker --once` runs it once.

A pass queues the admins' digests that are due, gives up mails queued more than a day ago, then claims
and sends due mails in batches of ``BATCH`` (one SMTP connection each) until none is due or the server
cannot be reached, and finally prunes the archive. Without a mail server (``[mail] host`` unset) it
only queues digests, expires and prunes: the mails wait in the outbox. Blocking (database and SMTP): the
worker runs it on a thread of its own.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fleet.conf.mail import MailConfig
from fleet.notify import outbox, smtp
from fleet.notify.digest import queue_digests
from fleet.notify.models import MailStatus

log = logging.getLogger("fleet.notify")

BATCH = 10
MAX_BATCHES = 20  # per pass, so that a backlog of thousands does not keep one pass (and a drain) waiting
NO_SERVER = "no mail server configured ([mail] host)"


@dataclass
class Pass:
    """What one pass did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    digests: int = 0
    expired: int = 0
    pruned: int = 0

    def __str__(self) -> str:
        done = {name: getattr(self, name) for name in ("sent", "retrying", "failed", "digests", "expired")}
        return ", ".join(f"{count} {name}" for name, count in done.items() if count) or "nothing due"

    @property
    def busy(self) -> bool:
        """Whether anything was queued, sent or attempted."""
        return bool(self.sent or self.retrying or self.failed or self.digests or self.expired)


def hold(config: MailConfig, batch: int) -> datetime.timedelta:
    """How long a claim keeps a batch from other senders: time enough to connect and send every mail at
    the slowest the timeouts allow, with a minute to spare."""
    return datetime.timedelta(seconds=config.timeout * (4 + 3 * batch) + 60)


def deliver_due(
    config: MailConfig | None = None, now: datetime.datetime | None = None, *, batch: int = BATCH
) -> Pass:
    """Run one pass with ``config`` (the configured ``[mail]`` by default) as of ``now``."""
    config = config or settings.FLEET_MAIL
    now = now or timezone.now()
    result = Pass()
    result.digests = queue_digests(config, now)
    result.expired = outbox.expire(now, "the mail server did not take it" if config.enabled else NO_SERVER)
    due_by = max(now, timezone.now())  # the digests just queued are due too
    if config.enabled:
        for _ in range(MAX_BATCHES):
            mails = outbox.claim(due_by, limit=batch, hold=hold(config, batch))
            if not mails:
                break
            outcomes = smtp.deliver(config, mails)
            with transaction.atomic():  # one commit per batch
                unreachable = _record(outcomes, due_by, result)
            if unreachable or len(mails) < batch:
                break
    result.pruned = outbox.prune(now, config.retention_days)
    if result.busy:
        log.info("mail: %s", result)
    return result


def _record(outcomes: list[smtp.Outcome], now: datetime.datetime, result: Pass) -> bool:
    """Write each outcome; whether every mail failed to go (the server is down: stop for this pass)."""
    for outcome in outcomes:
        if outcome.error is None:
            outbox.record_sent(outcome.mail, now)
            result.sent += 1
        elif outbox.record_failure(outcome.mail, now, outcome.error, permanent=outcome.permanent) == (
            MailStatus.FAILED
        ):
            result.failed += 1
        else:
            result.retrying += 1
    return all(outcome.error is not None and not outcome.permanent for outcome in outcomes)

"""The admins' digests: the notices of each topic folded into one mail, at most every ``digest_minutes``.

The first notice on a quiet topic is mailed at the worker's next pass; later ones wait until
``digest_minutes`` after the previous digest and then go out together, the first ``DIGEST_LINES`` listed and
the rest counted. A flood of events therefore costs one row each and one mail per period, however large.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import Max

from fleet.conf.mail import MailConfig
from fleet.notify.mail import send
from fleet.notify.models import AdminNotice, Digest

log = logging.getLogger("fleet.notify")

DIGEST_LINES = 200
TEMPLATE = "admins_digest"
_NEVER = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def queue_digests(config: MailConfig, now: datetime.datetime) -> int:
    """Queue the digests that are due; returns how many."""
    queued = 0
    topics = AdminNotice.objects.order_by("topic").values_list("topic", flat=True).distinct()
    for topic in list(topics):
        queued += _queue_digest(config, topic, now)
    return queued


def _queue_digest(config: MailConfig, topic: str, now: datetime.datetime) -> int:
    period = datetime.timedelta(minutes=config.digest_minutes)
    Digest.objects.get_or_create(topic=topic, defaults={"last_queued_at": _NEVER})
    with transaction.atomic():
        state = Digest.objects.select_for_update().get(topic=topic)  # one worker per topic at a time
        if now - state.last_queued_at < period:
            return 0
        notices = AdminNotice.objects.filter(topic=topic)
        last = notices.aggregate(last=Max("id"))["last"]
        if last is None:  # another worker mailed them meanwhile
            return 0
        folded = notices.filter(id__lte=last)
        if not config.admins:
            dropped, _ = folded.delete()
            log.warning("%d notices on %s dropped: no admins to mail ([mail] admins)", dropped, topic)
            return 0
        count = folded.count()
        lines = [
            {"at": at, "text": text}
            for at, text in folded.order_by("id").values_list("created_at", "text")[:DIGEST_LINES]
        ]
        since = state.last_queued_at if state.last_queued_at > _NEVER else lines[0]["at"]
        send(
            TEMPLATE,
            to=list(config.admins),
            context={
                "topic": topic,
                "count": count,
                "lines": lines,
                "more": count - len(lines),
                "since": since,
                "minutes": config.digest_minutes,
            },
        )
        folded.delete()
        state.last_queued_at = now
        state.save(update_fields=["last_queued_at"])
    return 1

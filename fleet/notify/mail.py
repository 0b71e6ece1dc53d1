"""Queueing mail: what every other part of Fleet calls.

Each function only INSERTs, in the caller's transaction: a mail caused by an action that rolls back is
never sent, and a slow or dead mail server delays no request. The worker sends what is queued
(``fleet.notify.courier``), with retries.

- ``send("confirm_destroy", to=[user.email], context={...})``: one mail from a template of this package.
- ``send_to_admins(template, context)``: the same, to the admins of ``[mail] admins``.
- ``tell_admins("refused attempts", "alice from 192.0.2.7: destroy web1 (not an owner)")``: a line for the
  admins' next digest on that topic. At most one digest per topic is queued every ``digest_minutes``, listing
  what came since the last one, so a flood of events (a fuzzer's 10,000 refused requests) is one mail.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from fleet.notify.models import AdminNotice, Mail
from fleet.notify.render import render

__all__ = ["TOPIC_MAX_LENGTH", "send", "send_to_admins", "tell_admins"]

TOPIC_MAX_LENGTH = 100


def send(template: str, *, to: Sequence[str], context: Mapping[str, Any] | None = None) -> Mail:
    """Queue the mail ``template`` (``fleet/notify/templates/notify/<template>.txt``) rendered with
    ``context``, to the addresses ``to`` (one message: each recipient sees the others; queue one mail per
    user for mails that must not show other users' addresses). Raises ValueError for a bad address or
    template name, before anything is queued."""
    if isinstance(to, str):
        raise ValueError("to must be a list of addresses, not one string")
    recipients = [_address(item) for item in to]
    if not recipients:
        raise ValueError("a mail needs at least one recipient")
    rendered = render(template, context or {})
    return Mail.objects.create(
        to=recipients,
        subject=rendered.subject,
        body=rendered.body,
        html=rendered.html,
        template=template,
    )


def send_to_admins(template: str, context: Mapping[str, Any] | None = None) -> Mail | None:
    """Queue ``template`` to the admins; None (nothing queued) when no admins are configured."""
    admins = settings.FLEET_MAIL.admins
    if not admins:
        return None
    return send(template, to=list(admins), context=context)


def tell_admins(topic: str, text: str) -> AdminNotice | None:
    """Note ``text`` (one line) for the admins' next digest on ``topic``, a short plural noun phrase that
    titles the digest (``"refused attempts"``); None (nothing noted) when no admins are configured."""
    topic = " ".join(topic.split())
    if not topic or len(topic) > TOPIC_MAX_LENGTH:
        raise ValueError(f"a topic is 1 to {TOPIC_MAX_LENGTH} characters, not {len(topic)}")
    if not settings.FLEET_MAIL.admins:
        return None
    return AdminNotice.objects.create(topic=topic, text=" ".join(str(text).split()))


def _address(value: str) -> str:
    """A recipient as a header takes it: ``alice@example.org`` or ``Alice <alice@example.org>``."""
    text = str(value).strip()
    try:
        if "\n" in text or "\r" in text:
            raise ValidationError("line break")
        validate_email(parseaddr(text)[1])
    except ValidationError:
        raise ValueError(f"{value!r} is not a mail address") from None
    return text

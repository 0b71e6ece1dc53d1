"""Actions that are confirmed before they are due: reinstall, rename and destroy.

A request records its operation as *awaiting* (the worker submits only pending ones) with a
:class:`~fleet.operations.models.Confirmation`: a hash of a random token, an expiry, and what the request
saw of the instance. The token reaches the requester only, in a mail with a link to a confirmation page;
opening it (a GET) shows what will happen, and only a POST by the requester, logged in, before the expiry,
confirms: the policy, the instance's state and what is under way on it are checked again, the operation
becomes pending, and the confirmation records when, from where and through which face. A link works once;
an instance renamed, reinstalled elsewhere or destroyed since confirms nothing. An administrator may confirm
at once by typing the instance's name (``confirm``), which is recorded the same way. Requests left
unconfirmed end as expired (:func:`expire_due`, run by the worker), never submitted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from fleet.access import policy
from fleet.inventory.models import Instance
from fleet.notify import mail
from fleet.operations.announce import announce
from fleet.operations.core import Caller, Invalid, _conflict, _new, _refuse, _same_request, record
from fleet.operations.models import Confirmation, ConfirmedBy, Operation, OperationKind, OperationStatus

__all__ = [
    "CHECKS",
    "Checks",
    "NotConfirmed",
    "ask",
    "confirm_link",
    "describe",
    "expire_due",
    "find",
    "shown_now",
    "state_of",
]

TEMPLATE = "confirm_action"


@dataclass(frozen=True)
class Checks:
    """What an action that needs a confirmation is checked against, at the request and again at the
    confirmation: the policy's verb and the instance's state."""

    action: policy.Action
    state: Callable[[Instance, Mapping[str, Any]], str] | None = None  # why not now, from the parameters


CHECKS: dict[str, Checks] = {}
"""By operation kind; each action module registers its own (``fleet.operations.lifecycle_actions``)."""


class NotConfirmed(Exception):
    """A link that confirms nothing, and why; ``status`` is the HTTP answer (410 used or expired, 409 the
    instance changed or is busy, 403 no longer allowed)."""

    def __init__(self, message: str, status: int) -> None:
        self.status = status
        super().__init__(message)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def shown_now(instance: Instance) -> dict[str, Any]:
    """What a confirmation compares: the instance as it is now in the read model."""
    return {"uuid": str(instance.uuid or ""), "name": instance.name, "os": instance.os}


def ask(
    kind: OperationKind,
    instance: Instance,
    *,
    by: Caller,
    params: Mapping[str, Any],
    reason: str,
    confirm: str | None,
) -> Operation:
    """Record ``kind`` on ``instance``: pending at once for an administrator who typed its name as
    ``confirm``; otherwise awaiting the requester's confirmation, with the link mailed to them."""
    checks = CHECKS[kind]
    if confirm is not None:
        admin = policy.role_of(by.user) is policy.Role.ADMIN
        if (not admin or confirm != instance.name) and policy.decide(by.user, checks.action, instance):
            # refused and recorded, as an attempt: 403 for a non-administrator, 409 for a name mistyped
            why = (
                f"To confirm, type the instance's name, {instance.name}."
                if admin
                else "Only administrators confirm by typing the name; without it a link is mailed to you."
            )
            attempt = _new(kind, instance, by, dict(params), reason)
            earlier = _same_request(attempt, by)  # a retry gets the same answer (or its key's conflict)
            if earlier is not None:
                return earlier
            _refuse(attempt, why, conflict=admin)
    elif not getattr(by.user, "email", ""):
        raise Invalid({"email": "your account has no e-mail address to mail the confirmation link to"})
    # Recorded first, on its own: a refusal is part of the audit log, whatever follows.
    state = checks.state
    operation = record(
        kind, instance, by=by, action=checks.action, params=params, reason=reason,
        state=(lambda target: state(target, params)) if state else None, awaiting=confirm is None,
    )  # fmt: skip
    with transaction.atomic():
        if Confirmation.objects.filter(operation=operation).exists():
            return operation  # the same request again (its idempotency key): nothing more to send
        minutes = int(settings.FLEET_CONFIRM_MINUTES)
        now = timezone.now()
        confirmation = Confirmation(
            operation=operation, shown=shown_now(instance), expires_at=now + dt.timedelta(minutes=minutes)
        )
        if confirm is not None:
            _stamp(confirmation, by, ConfirmedBy.NAME, now)
            confirmation.save()
            return operation
        token = secrets.token_urlsafe(32)
        confirmation.token_hash = _hash(token)
        confirmation.save()
        _mail(operation, instance, token, confirmation.expires_at, minutes)
    return operation


def _mail(operation: Operation, instance: Instance, token: str, expires: dt.datetime, minutes: int) -> None:
    user = operation.requester
    assert user is not None
    link = str(settings.FLEET_SITE_URL).rstrip("/") + reverse("confirm-action", args=[token])
    mail.send(
        TEMPLATE,
        to=[user.email],
        context={
            "operation": operation,
            "action": operation.get_kind_display().lower(),
            "instance": instance.name,
            "cluster": operation.cluster_name,
            "what": describe(operation),
            "requester": operation.requester_name,
            "address": operation.client_address or "an unknown address",
            "via": operation.get_via_display(),
            "link": link,
            "expires": expires,
            "minutes": minutes,
        },
    )


def describe(operation: Operation) -> str:
    """What the operation will do, in a sentence for the mail and the confirmation page."""
    p = operation.params
    name = operation.instance_name
    if operation.kind == OperationKind.REINSTALL:
        kept = "cleared" if p.get("clear") else "kept"
        then = "started again" if p.get("start", True) else "left stopped"
        given = ", ".join(sorted(p.get("osparams") or {}))
        params = f"OS parameters {kept}" + (f" (sent: {given})" if given else "")
        return (
            f"Reinstall {name} with {p.get('os')} ({params}): its disks are overwritten, then it is {then}."
        )
    if operation.kind == OperationKind.RENAME:
        return f"Rename {name} to {p.get('new_name')}."
    if operation.kind == OperationKind.DESTROY:
        return f"Destroy {name} and its disks, for good."
    return f"{operation.get_kind_display()} {name}."


def find(token: str, user: Any) -> Confirmation:
    """The confirmation of ``token`` asked for by ``user``; LookupError for any other (a wrong token, or
    another user's: told alike, so that a link tells nothing to whoever else opens it)."""
    if not token or len(token) > 100 or not token.isascii():
        raise LookupError(token)
    found = (
        Confirmation.objects.select_related("operation", "operation__instance", "operation__cluster")
        .filter(token_hash=_hash(token), operation__requester_id=getattr(user, "pk", None))
        .first()
    )
    if found is None or not getattr(user, "is_active", False):
        raise LookupError(token)
    return found


def state_of(confirmation: Confirmation, now: dt.datetime | None = None) -> str:
    """Why the link confirms nothing now ("" when it still may), without changing anything."""
    operation = confirmation.operation
    if confirmation.confirmed_at is not None or operation.status not in (
        OperationStatus.AWAITING,
        OperationStatus.EXPIRED,
    ):
        return "This link was used already: each confirms once."
    if operation.status == OperationStatus.EXPIRED or (now or timezone.now()) >= confirmation.expires_at:
        return "This link has expired: nothing was done. Ask again for a new one."
    return ""


def confirm_link(token: str, *, by: Caller) -> Operation:
    """Confirm the action of ``token`` as ``by`` (its requester): the operation becomes pending. Raises
    LookupError (not theirs, or no such link), :class:`NotConfirmed` or :class:`Refused`."""
    now = timezone.now()
    with transaction.atomic():  # what ends the request here is kept: the NotConfirmed is raised after
        found = find(token, by.user)
        confirmation = Confirmation.objects.select_for_update().get(pk=found.pk)
        operation = Operation.objects.select_for_update().get(pk=confirmation.operation_id)
        confirmation.operation = operation
        spent = state_of(confirmation, now)
        changed = "" if spent else _changed(operation, confirmation)
        if spent and operation.status == OperationStatus.AWAITING:
            _expire(operation, confirmation, now)
        elif changed:
            operation.status = OperationStatus.REFUSED
            operation.error = changed
            operation.conflict = True
            operation.ended_at = now
            operation.save()
    if spent:
        raise NotConfirmed(spent, 410)
    if changed:
        raise NotConfirmed(changed, 409)
    return _go(operation, confirmation, by, now)


def _go(operation: Operation, confirmation: Confirmation, by: Caller, now: dt.datetime) -> Operation:
    """Check again, as at the request, and make the operation due."""
    instance = Instance.objects.select_related("cluster").get(pk=operation.instance_id)
    checks = CHECKS[operation.kind]
    decision = policy.decide(by.user, checks.action, instance)
    if not decision.allowed:
        _refuse(operation, decision.reason, visible=True)  # raises Refused, recorded
    why = (checks.state(instance, operation.params) if checks.state else "") or _conflict(instance)
    if why:  # not now: the link still works until it expires
        raise NotConfirmed(why, 409)
    try:
        with transaction.atomic():
            updated = Operation.objects.filter(pk=operation.pk, status=OperationStatus.AWAITING).update(
                status=OperationStatus.PENDING, updated_at=now
            )
            if not updated:
                raise NotConfirmed("This link was used already: each confirms once.", 410)
            operation.status = OperationStatus.PENDING
            _stamp(confirmation, by, ConfirmedBy.LINK, now)
            confirmation.save()
            announce(operation)
    except IntegrityError:  # another operation on the instance became open at the same moment
        why = _conflict(instance) or "Another operation started meanwhile; try again."
        raise NotConfirmed(why, 409) from None
    return operation


def _changed(operation: Operation, confirmation: Confirmation) -> str:
    """Why the instance is no longer the one the request was about ("" when it still is)."""
    instance = operation.instance
    name = operation.instance_name
    if instance is None:
        return f"{name} is gone since the request (destroyed, or renamed and read again): nothing was done."
    if shown_now(instance) != confirmation.shown:
        return f"{name} changed since the request (now {instance.name}, OS {instance.os}): nothing was done."
    return ""


def _stamp(confirmation: Confirmation, by: Caller, how: ConfirmedBy, now: dt.datetime) -> None:
    confirmation.confirmed_at = now
    confirmation.confirmed_by = how
    confirmation.confirmed_from = by.address or None
    confirmation.confirmed_via = by.via


def _expire(operation: Operation, confirmation: Confirmation, now: dt.datetime) -> None:
    operation.status = OperationStatus.EXPIRED
    operation.error = _expired_text(confirmation)
    operation.ended_at = now
    operation.save()


def _expired_text(confirmation: Confirmation) -> str:
    return f"Not confirmed before {confirmation.expires_at:%Y-%m-%d %H:%M %Z}: nothing was done."


def expire_due(now: dt.datetime | None = None) -> int:
    """End as expired the requests whose link ran out unconfirmed; how many. The worker runs it."""
    now = now or timezone.now()
    ended = 0
    with transaction.atomic():
        for confirmation in (
            Confirmation.objects.select_for_update(of=("self",))
            .select_related("operation")
            .filter(operation__status=OperationStatus.AWAITING, expires_at__lte=now)
        ):
            _expire(confirmation.operation, confirmation, now)
            ended += 1
    return ended

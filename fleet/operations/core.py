"""The write path's first half: validate → policy → record. Every action of ``fleet.operations`` ends here.

An action function checks its parameters (:class:`Invalid`, naming the field), then calls :func:`record`,
which asks the policy, refuses what conflicts with an operation or a job already open on the instance, and
writes the Operation row: pending, or refused with the reason (refusals are part of the audit log). Nothing
here talks to a cluster: the worker submits pending operations (``ClusterLoop.submit``), so that a slow or
dead cluster never holds up a request, and a crash between the request and the submit loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from fleet.access import policy
from fleet.inventory.models import Cluster, Instance
from fleet.jobs.models import Job
from fleet.notify import mail
from fleet.operations.announce import announce
from fleet.operations.models import Operation, OperationKind, OperationStatus, Via

__all__ = ["Caller", "Invalid", "KeyReused", "Refused", "record"]

MAX_REASON = 2000  # characters of a requester's reason
REFUSED_TOPIC = "refused attempts"
READ_ONLY = "This token may only read: acting needs a token with the 'read and write' scope."
NOT_FOUND = "No instance matches the given query."  # the same for "not yours" as for "no such instance"


@dataclass(frozen=True)
class Caller:
    """Who asks, from where, through which face, and the key that makes a retried request the same one."""

    user: AbstractBaseUser
    address: str | None = None
    via: Via = Via.WEB
    idempotency_key: str = ""
    read_only: bool = False  # a credential that may only read (a read token): its attempts are refused


class Invalid(ValueError):
    """A parameter is wrong; nothing was recorded. ``errors`` maps each field at fault to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))


class KeyReused(Invalid):
    """The idempotency key was used before for a different request; nothing was recorded."""


class Refused(PermissionDenied):
    """The action may not be taken; the refusal is recorded as ``operation`` and says why. ``conflict`` when
    the caller may take it, but not now (the instance's state, or something already under way on it)."""

    def __init__(self, operation: Operation, *, conflict: bool = False) -> None:
        self.operation = operation
        self.conflict = conflict
        super().__init__(operation.error)


Target = Instance | Job | Cluster
"""What an operation acts on: an instance, (to cancel it) a job, or (to create an instance) its cluster."""

StateCheck = Callable[[Any], str]
"""Why the target's state does not allow the action (as the read model has it), or ``""``."""


def record(
    kind: OperationKind,
    target: Target,
    *,
    by: Caller,
    action: policy.Action,
    params: Mapping[str, Any] | None = None,
    reason: str = "",
    state: StateCheck | None = None,
    awaiting: bool = False,
    done: bool = False,
    instance_name: str = "",
) -> Operation:
    """Record ``kind`` on ``target`` as asked ``by``: the pending Operation (``awaiting`` a confirmation,
    and so not yet due, when asked), or the one this idempotency key already recorded. Raises
    :class:`Refused` (recorded) or ``Http404`` (the caller may not see it).

    ``done``: the action is not a Ganeti job (opening a console): it is recorded as succeeded, never due to
    the worker, and what is under way on the instance does not stand in its way.

    ``instance_name``: for a cluster target, the instance the operation makes (a create): one open operation
    per name and cluster holds for it as for an instance's."""
    if len(reason) > MAX_REASON:
        raise Invalid({"reason": f"at most {MAX_REASON} characters"})
    if "\x00" in reason:
        raise Invalid({"reason": "must not contain NUL characters"})
    operation = _new(kind, target, by, dict(params or {}), reason, instance_name)
    again = _same_request(operation, by)
    if again is not None:
        return again
    decision = policy.decide(by.user, action, target)
    if by.read_only and decision.visible:
        decision = policy.Decision(False, READ_ONLY)
    if not decision.allowed:
        return _refuse(operation, decision.reason, visible=decision.visible)
    busy = _conflict(target) if isinstance(target, Instance) and not done else ""
    why = (state(target) if state else "") or busy
    if why:
        return _refuse(operation, why, conflict=True)
    if awaiting:
        operation.status = OperationStatus.AWAITING
    if done:
        operation.status = OperationStatus.SUCCEEDED
        operation.ended_at = timezone.now()
    try:
        with transaction.atomic():
            operation.save()
            if not awaiting and not done:
                announce(operation)
    except IntegrityError:
        # Another request recorded an operation on this instance, or with this key, at the same moment.
        again = _same_request(operation, by)
        if again is not None:
            return again
        why = _conflict(target) if isinstance(target, Instance) else ""
        operation = _new(kind, target, by, dict(params or {}), reason, instance_name)
        return _refuse(
            operation, why or "Another operation was recorded at the same moment; try again.", conflict=True
        )
    return operation


def _new(
    kind: OperationKind, target: Target, by: Caller, params: dict[str, Any], reason: str, name: str = ""
) -> Operation:
    if isinstance(target, Cluster):
        cluster, instance = target, None
    else:
        cluster, instance = target.cluster, target if isinstance(target, Instance) else target.instance
    return Operation(
        kind=kind,
        cluster_id=cluster.pk,
        cluster_name=cluster.name,
        instance=instance,
        instance_name=instance.name if instance is not None else name,
        instance_uuid=(instance.uuid or "") if instance is not None else "",
        params=params,
        requester=by.user,
        requester_name=by.user.get_username(),
        client_address=by.address or None,
        via=by.via,
        reason=reason,
        idempotency_key=by.idempotency_key,
    )


def _same_request(operation: Operation, by: Caller) -> Operation | None:
    """The operation this caller already recorded under its idempotency key, if any."""
    if not by.idempotency_key:
        return None
    earlier = Operation.objects.filter(requester=by.user, idempotency_key=by.idempotency_key).first()
    if earlier is None:
        return None
    asked = (operation.kind, operation.cluster_id, operation.instance_name, operation.params)
    if (earlier.kind, earlier.cluster_id, earlier.instance_name, earlier.params) != asked:
        raise KeyReused({"idempotency_key": f"already used for another request (operation {earlier.pk})"})
    if earlier.status == OperationStatus.REFUSED:  # the same request gets the same answer
        raise Refused(earlier, conflict=earlier.conflict)
    return earlier


def _conflict(instance: Instance) -> str:
    """What is already under way on the instance, if anything: an open operation or an unfinished job."""
    open_ = Operation.objects.open().on_instance(instance).exclude(kind=OperationKind.CANCEL_JOB).first()
    if open_ is not None:
        return (
            f"{instance.name} is busy: {open_.get_kind_display().lower()} by {open_.requester_name} "
            f"(operation {open_.pk}) is {open_.get_status_display().lower()}."
        )
    job = Job.objects.on_instance(instance).unfinished().order_by("job_id").first()
    if job is not None:
        what = ", ".join(job.summary) or "a job"
        return f"{instance.name} is busy: job {job.job_id} ({what}) is {job.get_status_display().lower()}."
    return ""


def _refuse(operation: Operation, why: str, *, visible: bool = True, conflict: bool = False) -> Operation:
    operation.status = OperationStatus.REFUSED
    operation.error = why
    operation.conflict = conflict
    operation.save()
    if not conflict:  # the policy said no: the admins hear of it in their next digest
        mail.tell_admins(REFUSED_TOPIC, _said(operation))
    if not visible:
        raise Http404(NOT_FOUND)
    raise Refused(operation, conflict=conflict)


def _said(operation: Operation) -> str:
    """A refused attempt in one line of the admins' digest."""
    where = operation.cluster_name
    if operation.instance_name:
        where = f"{operation.instance_name} on {where}"
    address = operation.client_address or "an unknown address"
    who = f"{operation.requester_name} from {address} ({operation.via})"
    return f"{operation.get_kind_display()} of {where} by {who}: {operation.error} [operation {operation.pk}]"

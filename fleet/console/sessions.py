"""Opening a console: the policy, the instance's state, a fresh look at the cluster, then a session row and
its signed token. Every attempt is an Operation of kind console (refused, or succeeded once the token is
minted: a console is not a Ganeti job, so the worker never sees it), which is the audit log's entry; the
session row then says how the proxy used the token."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from fleet.access.policy import Action
from fleet.console import tokens
from fleet.console.cluster import Unavailable, Vnc, console_of
from fleet.console.models import ConsoleSession
from fleet.inventory.models import Instance, InstanceStatus
from fleet.operations.core import Caller, record
from fleet.operations.models import OperationKind

__all__ = ["Opened", "open_console"]


@dataclass(frozen=True)
class Opened:
    """A minted console: its session row and the token to give the browser."""

    session: ConsoleSession
    token: str


def _not_running(instance: Instance) -> str:
    if instance.status != InstanceStatus.RUNNING:
        status = instance.get_status_display().lower()
        return f"{instance.name} is not running ({status}): start it to open its console."
    return ""


def open_console(instance: Instance, *, by: Caller) -> Opened:
    """Mint a console token of ``instance`` for ``by``; raises ``fleet.operations.Refused`` (recorded) with
    the reason, or ``Http404`` when the caller may not see the instance."""
    from fleet.access import policy

    found: Vnc | Unavailable | None = None
    if policy.decide(by.user, Action.CONSOLE, instance).allowed and not _not_running(instance):
        found = console_of(instance)  # only for those who may open it: a refusal costs the cluster nothing

    def state(target: Instance) -> str:
        return _not_running(target) or (found.message if isinstance(found, Unavailable) else "")

    # The cluster's answer is what the token carries; the synced port beside it shows a drift in the audit.
    params = (
        {"host": found.host, "port": found.port, "synced_port": instance.network_port}
        if isinstance(found, Vnc)
        else {}
    )
    operation = record(
        OperationKind.CONSOLE, instance, by=by, action=Action.CONSOLE, params=params, state=state, done=True
    )
    assert isinstance(found, Vnc)  # record refused every other case
    seconds = settings.FLEET_CONSOLE_TOKEN_SECONDS
    session = ConsoleSession.objects.create(
        operation=operation,
        user=by.user,
        cluster_id=instance.cluster_id,
        instance_name=instance.name,
        host=found.host,
        port=found.port,
        expires_at=timezone.now() + dt.timedelta(seconds=seconds),
    )
    token = tokens.Token(
        str(session.id), by.user.pk, instance.cluster_id, instance.name, found.host, found.port,
        session.expires_at.timestamp(),
    )  # fmt: skip
    return Opened(session, tokens.sign(token))

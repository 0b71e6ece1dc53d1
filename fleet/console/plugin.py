"""Fleet's websockify token plugin: a token is resolved to its VNC host and port only if Fleet signed it, it
has not expired, and its session was never claimed before (the claim is one conditional UPDATE, so two
proxies racing for one token cannot both win). A refusal reaches no node, and is logged; when the token is
Fleet's own (expired, replayed), the refusal is also written on its session, where the console page reads it.

``fleet console-proxy`` uses :func:`claim` through ``fleet.console.proxy``; ``fleet.console.token_plugin``
serves plain websockify too, for clusters without a VNC password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connections
from django.utils import timezone

from fleet.console import tokens
from fleet.console.models import ConsoleSession, Outcome, VncPassword

log = logging.getLogger("fleet.console")


class Refusal(Exception):
    """The token may not be used; the message says why."""


@dataclass(frozen=True)
class Claim:
    """A claimed session: where to connect, and the cluster whose VNC password applies."""

    session: str
    cluster: int
    instance: str
    host: str
    port: int


def claim(text: str | None) -> Claim:
    """Claim the session of token ``text``; raises :class:`Refusal`."""
    try:
        return _claim(text)
    finally:
        connections.close_all()  # the proxy forks per connection: no child keeps, or shares, a connection


def _claim(text: str | None) -> Claim:
    if not text:
        log.warning("console token refused: none given")
        raise Refusal("No console token.")
    try:
        token = tokens.read(text)
    except tokens.BadToken:
        log.warning("console token refused: not signed by this Fleet (tampered with or foreign)")
        raise Refusal("This console link is not valid.") from None
    rows = ConsoleSession.objects.filter(pk=token.session)
    if token.expired:
        rows.filter(claimed_at__isnull=True).update(
            outcome=Outcome.EXPIRED,
            detail="The link expired before the browser used it.",
            ended_at=timezone.now(),
        )
        log.warning("console token refused: expired (session %s, %s)", token.session, token.instance)
        raise Refusal("This console link expired: open the console again.")
    if rows.filter(claimed_at__isnull=True).update(claimed_at=timezone.now()) != 1:
        log.warning("console token refused: used before (session %s, %s)", token.session, token.instance)
        raise Refusal("This console link was already used: open the console again.")
    log.info("console session %s claimed: %s at %s:%s", token.session, token.instance, token.host, token.port)
    return Claim(token.session, token.cluster, token.instance, token.host, token.port)


def warm_up() -> None:
    """Run the proxy's queries once, then let go of the connection (before websockify forks)."""
    try:
        ConsoleSession.objects.filter(
            pk="00000000-0000-0000-0000-000000000000", claimed_at__isnull=True
        ).update(claimed_at=timezone.now())
        VncPassword.objects.filter(cluster_id=0).first()
    finally:
        connections.close_all()


def vnc_password(cluster: int) -> str | None:
    """The cluster's VNC password, if it has one."""
    try:
        row = VncPassword.objects.filter(cluster_id=cluster).first()
        return None if row is None else row.reveal()
    finally:
        connections.close_all()


def finish(session: str, outcome: Outcome, detail: str = "", *, ended: bool = True) -> None:
    """Write how the session went (the proxy's side of the audit)."""
    values: dict[str, object] = {"outcome": outcome, "detail": detail}
    if ended:
        values["ended_at"] = timezone.now()
    try:
        ConsoleSession.objects.filter(pk=session).update(**values)
    finally:
        connections.close_all()

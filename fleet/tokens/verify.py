"""From a presented key to its token, or the reason it is refused; and the token's last use, kept cheaply.

A valid key costs one indexed query (the token with its user); the last use is written at most once a
minute per token, so that a script polling the API does not turn every read into a write.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from fleet.tokens import keys
from fleet.tokens.models import ApiToken

LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenRefused(Exception):
    """The key does not authenticate anyone; the message says why, for the caller."""


def verify(text: str, now: datetime | None = None) -> ApiToken:
    """The live token whose key is ``text`` (with its user loaded), its last use recorded; else raise
    TokenRefused saying whether the key is unknown, revoked, expired, or its account disabled."""
    now = now or timezone.now()
    key = keys.parse(text)
    if key is None:
        raise TokenRefused("Invalid token: not a Fleet API key.")
    token = ApiToken.objects.select_related("user").filter(token_id=key.token_id).first()
    if token is None or not keys.matches(key.secret, token.secret_digest):
        raise TokenRefused("Invalid token.")
    if token.revoked_at is not None:
        raise TokenRefused(f"Token {token.shown_id} was revoked on {token.revoked_at:%Y-%m-%d %H:%M} UTC.")
    if token.expired(now):
        raise TokenRefused(
            f"Token {token.shown_id} expired on {token.expires_at:%Y-%m-%d %H:%M} UTC; make a new one on "
            "the API tokens page."
        )
    if not token.user.is_active:
        raise TokenRefused("The token's account is disabled.")
    _record_use(token, now)
    return token


def _record_use(token: ApiToken, now: datetime) -> None:
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    # Conditional, so that parallel requests with one token write it once.
    ApiToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk).update(
        last_used_at=now
    )
    token.last_used_at = now

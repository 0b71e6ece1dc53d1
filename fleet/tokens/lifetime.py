"""How long a token may live: the operator sets a maximum (``api_token_max_days``, 90 by default) and
whether tokens may never expire (``api_token_allow_no_expiry``, no by default).

The limits apply when a token is made; tokens made earlier keep the expiry they were given.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError

NEVER = "never"
PRESET_DAYS = (7, 30, 90, 180, 365)
DEFAULT_DAYS = 30

_DAYS = re.compile(r"([1-9][0-9]{0,5})d")


def max_days() -> int:
    return int(settings.FLEET_API_TOKEN_MAX_DAYS)


def no_expiry_allowed() -> bool:
    return bool(settings.FLEET_API_TOKEN_ALLOW_NO_EXPIRY)


def choices() -> list[tuple[str, str]]:
    """The lifetimes the token form offers: presets up to the maximum, the maximum, and never if allowed."""
    limit = max_days()
    days = sorted({d for d in PRESET_DAYS if d <= limit} | {limit})
    offered = [(f"{d}d", f"{d} days" if d != 1 else "1 day") for d in days]
    return [*offered, (NEVER, "never")] if no_expiry_allowed() else offered


def default_choice() -> str:
    return f"{min(DEFAULT_DAYS, max_days())}d"


def expiry(lifetime: str, now: datetime) -> datetime | None:
    """When a token made at ``now`` with ``lifetime`` (``30d``, or ``never``) expires; None for never.

    A lifetime past the maximum, ``never`` where it is not allowed, or anything else raises a
    ValidationError that says what is allowed.
    """
    limit = max_days()
    if lifetime == NEVER:
        if no_expiry_allowed():
            return None
        raise ValidationError(
            f"Tokens must expire: choose at most {limit} days (the operator allows no token that never "
            "expires).",
            code="never",
        )
    match = _DAYS.fullmatch(lifetime)
    if match is None:
        raise ValidationError(
            f"{lifetime!r} is not a lifetime: give a number of days, e.g. 30d"
            + (", or never." if no_expiry_allowed() else "."),
            code="invalid",
        )
    days = int(match[1])
    if days > limit:
        raise ValidationError(
            f"{days} days is longer than the {limit} days a token may live here.", code="too_long"
        )
    return now + timedelta(days=days)

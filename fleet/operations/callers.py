"""Who asks, as a face knows it: the account, its address, the face, the request's idempotency key, and
whether its credential may only read."""

from __future__ import annotations

from typing import Any

from fleet.operations.core import Caller, Invalid
from fleet.operations.models import Via

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY = 255


def caller_from_request(request: Any, via: Via, key: str | None = None) -> Caller:
    """The caller of a Django or DRF request. The key is the ``Idempotency-Key`` header unless given (a form
    carries its own); a key too long or not printable ASCII is an :class:`Invalid` ``idempotency_key``."""
    key = request.headers.get(IDEMPOTENCY_HEADER, "") if key is None else key
    if len(key) > MAX_KEY or not (key.isascii() and key.isprintable()):
        raise Invalid({"idempotency_key": f"at most {MAX_KEY} printable ASCII characters"})
    read_only = getattr(getattr(request, "auth", None), "can_write", True) is False  # a read token
    return Caller(request.user, request.META.get("REMOTE_ADDR") or None, via, key, read_only)

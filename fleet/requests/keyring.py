"""Adding and removing a user's SSH keys: the one place the rules are applied, for the page and the API."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fleet.requests import sshkeys
from fleet.requests.models import SshKey

MAX_KEYS = 50  # per user: enough for every laptop and token, few enough for an instance's authorized_keys


def add_key(user: Any, text: str, name: str = "") -> SshKey:
    """Parse ``text`` and store it as ``user``'s key; raise ``ValidationError`` keyed by field otherwise."""
    try:
        parsed = sshkeys.parse(text)
    except sshkeys.InvalidKey as exc:
        raise ValidationError({"public_key": str(exc)}) from None
    name = " ".join(name.split())[:100] or parsed.comment or parsed.kind
    if SshKey.objects.filter(user=user, fingerprint=parsed.fingerprint).exists():
        raise ValidationError({"public_key": f"You already have this key ({parsed.fingerprint})."})
    if SshKey.objects.filter(user=user).count() >= MAX_KEYS:
        raise ValidationError(
            {"public_key": f"You have {MAX_KEYS} keys, the most allowed; delete one first."}
        )
    try:
        with transaction.atomic():
            return SshKey.objects.create(
                user=user,
                name=name,
                kind=parsed.kind,
                bits=parsed.bits,
                fingerprint=parsed.fingerprint,
                public_key=parsed.line,
            )
    except IntegrityError:  # the same key added at the same moment by another request
        raise ValidationError({"public_key": f"You already have this key ({parsed.fingerprint})."}) from None


def delete_key(user: Any, key_id: Any) -> bool:
    """Delete ``user``'s key ``key_id``; False when there is no such key of theirs."""
    if not str(key_id).isascii() or not str(key_id).isdigit() or len(str(key_id)) > 18:
        return False
    deleted, _ = SshKey.objects.filter(user=user, pk=int(key_id)).delete()
    return bool(deleted)

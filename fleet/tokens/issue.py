"""Making and revoking tokens; the key of a new token exists only in what ``issue`` returns."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from fleet.tokens import keys, lifetime
from fleet.tokens.models import ApiToken, Scope

NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length
_ID_ATTEMPTS = 5  # a random 40-bit id that is taken already is rare; five in a row is a broken generator


def issue(
    user: AbstractBaseUser, *, name: str, scope: str, lifetime_text: str | None = None
) -> tuple[ApiToken, str]:
    """Make a token for ``user`` and return it with its key, which is stored nowhere and shown once.

    ``lifetime_text`` is ``30d`` or ``never`` (see ``fleet.tokens.lifetime``; default: 30 days, or the
    maximum if shorter). Bad input raises a ValidationError keyed by field (``name``, ``scope``,
    ``expires``) and makes nothing.
    """
    now = timezone.now()
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "Say what the token is for."
    elif len(name) > NAME_MAX_LENGTH:  # type: ignore[operator]
        errors["name"] = f"At most {NAME_MAX_LENGTH} characters."
    if scope not in Scope.values:
        errors["scope"] = f"{scope!r} is not a scope: use {' or '.join(Scope.values)}."
    try:
        expires_at = lifetime.expiry(lifetime_text or lifetime.default_choice(), now)
    except ValidationError as exc:
        errors["expires"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    return _create(user, name, scope, now, expires_at)


def _create(
    user: AbstractBaseUser, name: str, scope: str, now: datetime, expires_at: datetime | None
) -> tuple[ApiToken, str]:
    for _ in range(_ID_ATTEMPTS):
        key = keys.new_key()
        token = ApiToken(
            user=user,
            token_id=key.token_id,
            secret_digest=keys.digest(key.secret),
            name=name,
            scope=scope,
            created_at=now,
            expires_at=expires_at,
        )
        try:
            with transaction.atomic():
                token.save()
        except IntegrityError:
            if ApiToken.objects.filter(token_id=key.token_id).exists():
                continue  # the id is taken: draw another
            raise
        return token, str(key)
    raise RuntimeError("could not draw an unused token id")


def revoke(token: ApiToken) -> bool:
    """Revoke ``token`` at once; False if it was revoked already."""
    changed = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db(fields=["revoked_at"])
    return bool(changed)

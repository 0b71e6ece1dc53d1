"""Encryption at rest for the clusters' RAPI passwords.

Passwords are stored as Fernet tokens (AES-128-CBC with HMAC-SHA256, a fresh IV each time) under the
key in ``FLEET_CREDENTIALS_KEY``. Several keys may be configured, newest first: tokens are decrypted with
whichever key fits and :func:`rotate` re-encrypts them under the first.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialError(Exception):
    """A stored credential that none of the configured keys can decrypt (the key was changed or lost)."""


def encrypt(plaintext: str) -> str:
    """The token to store for ``plaintext``, encrypted under the newest configured key."""
    return _fernet(tuple(settings.FLEET_CREDENTIALS_KEYS)).encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plaintext of a stored token; raises :class:`CredentialError` if no configured key opens it."""
    try:
        return _fernet(tuple(settings.FLEET_CREDENTIALS_KEYS)).decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise CredentialError(
            "a stored RAPI password cannot be decrypted with FLEET_CREDENTIALS_KEY: "
            "was the key replaced without keeping the old one after it?"
        ) from exc


def rotate(token: str) -> str:
    """The same secret encrypted under the newest key, for after a new key was put first."""
    try:
        return _fernet(tuple(settings.FLEET_CREDENTIALS_KEYS)).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise CredentialError(
            "a stored RAPI password cannot be decrypted with FLEET_CREDENTIALS_KEY"
        ) from exc


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])

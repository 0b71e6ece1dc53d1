"""The API key format: ``fleet_<id>_<secret>``, with a public id to find the token and a secret to prove it.

The id (10 hex characters) is stored in clear, indexed and unique, so that finding a token is one indexed
query and its owner can tell tokens apart; the secret (32 random bytes, url-safe base64) is stored only as
its SHA-256. A slow password hash (PBKDF2, argon2) guards secrets people choose, which can be guessed; 256
random bits cannot be, so a fast hash is as safe here, and it keeps every API request from paying a
deliberately slow hash (and a flood of bad keys from costing a CPU-second each). The ``fleet_`` prefix lets
secret scanners recognise a leaked key.

Keys made before Fleet had its own tokens (Django REST framework's: 40 hex characters, stored in clear) were
carried over: their first 12 characters are their id, the other 28 their secret. The id lengths differ, so
the two kinds never share an id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "fleet_"
ID_BYTES = 5  # 10 hex characters
SECRET_BYTES = 32
LEGACY_ID_LENGTH = 12

_KEY = re.compile(rf"{PREFIX}(?P<id>[0-9a-f]{{{2 * ID_BYTES}}})_(?P<secret>[A-Za-z0-9_-]{{43}})")
_LEGACY_KEY = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Key:
    """A key split into the id it is found by and the secret that proves it."""

    token_id: str
    secret: str

    def __str__(self) -> str:
        return f"{PREFIX}{self.token_id}_{self.secret}"


def new_key() -> Key:
    """A fresh random key."""
    return Key(secrets.token_hex(ID_BYTES), secrets.token_urlsafe(SECRET_BYTES))


def parse(text: str) -> Key | None:
    """The key ``text`` spells (new or carried-over format), or None if it is not one."""
    match = _KEY.fullmatch(text)
    if match is not None:
        return Key(match["id"], match["secret"])
    if _LEGACY_KEY.fullmatch(text):
        return Key(text[:LEGACY_ID_LENGTH], text[LEGACY_ID_LENGTH:])
    return None


def digest(secret: str) -> str:
    """What is stored of a secret: its SHA-256, in hex."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    """Whether ``secret`` is the one ``stored_digest`` was made from (in constant time)."""
    return hmac.compare_digest(digest(secret), stored_digest)


def shown_id(token_id: str) -> str:
    """How a token is named where its secret must not appear: the start of its key."""
    return f"{PREFIX}{token_id}" if len(token_id) == 2 * ID_BYTES else token_id

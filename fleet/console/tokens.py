"""The console token: a session's id, user, instance, VNC host and port and expiry, signed with Django's
signing (HMAC-SHA256 under the secret key). Nothing in it is secret; what makes it safe is the signature,
the expiry of seconds, and the session row that lets the proxy claim it once."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core import signing

SALT = "fleet.console.token"


class BadToken(Exception):
    """The token is not one Fleet signed (tampered with, or foreign)."""


@dataclass(frozen=True)
class Token:
    """What a token says."""

    session: str
    user: int
    cluster: int
    instance: str
    host: str
    port: int
    expires: float  # seconds since the epoch

    @property
    def expired(self) -> bool:
        return time.time() > self.expires


def sign(token: Token) -> str:
    payload = {
        "s": token.session, "u": token.user, "c": token.cluster, "i": token.instance,
        "h": token.host, "p": token.port, "e": token.expires,
    }  # fmt: skip
    return signing.dumps(payload, salt=SALT)


def read(text: str) -> Token:
    """The token ``text`` says, expired or not (the caller decides); raises :class:`BadToken`."""
    try:
        p = signing.loads(text, salt=SALT)
        return Token(
            str(p["s"]), int(p["u"]), int(p["c"]), str(p["i"]), str(p["h"]), int(p["p"]), float(p["e"])
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise BadToken("not a console token of this Fleet") from exc

"""Ganeti's RAPI users file and HTTP Basic authentication.

One user per line: `name password [options]`, `#` starts a comment. The password is plain text,
`{cleartext}pw` or `{HA1}` + md5("name:Ganeti Remote API:pw"); options are comma-separated from {read, write}.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

REALM = "Ganeti Remote API"
READ, WRITE = "read", "write"


@dataclass(frozen=True)
class User:
    """One account of the users file."""

    name: str
    password: str
    options: frozenset[str]

    def check(self, password: str) -> bool:
        """Whether the password matches, whatever scheme the file uses."""
        stored = self.password
        if stored[:9].lower() == "{cleartext}"[:9] and stored.lower().startswith("{cleartext}"):
            return hmac.compare_digest(stored[11:], password)
        if stored.lower().startswith("{ha1}"):
            digest = hashlib.md5(f"{self.name}:{REALM}:{password}".encode()).hexdigest()
            return hmac.compare_digest(stored[5:].lower(), digest)
        return hmac.compare_digest(stored, password)


def parse_users(text: str) -> dict[str, User]:
    """Parse the content of a users file."""
    users = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) < 2:
            continue
        options = frozenset(o for o in (parts[2].split(",") if len(parts) > 2 else []) if o)
        users[parts[0]] = User(parts[0], parts[1], options)
    return users


class UsersFile:
    """A users file, re-read whenever it changes on disk."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._users: dict[str, User] = {}

    def users(self) -> dict[str, User]:
        """The current accounts."""
        st = os.stat(self.path)
        stamp = (st.st_mtime, st.st_size)
        if stamp != self._stamp:
            with open(self.path, encoding="utf-8") as f:
                self._users = parse_users(f.read())
            self._stamp = stamp
        return self._users

    def authenticate(self, header: str | None) -> User | bool | None:
        """The user of a Basic `Authorization` header; None without credentials, False when they are wrong."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        name, sep, password = decoded.partition(":")
        user = self.users().get(name)
        if not sep or user is None or not user.check(password):
            return False
        return user


def write_users_file(path: str, writer: str, reader: str) -> tuple[str, str]:
    """Create a users file with a `write` and a `read` account (HA1 passwords); return both passwords."""
    wpw, rpw = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    lines = [
        "# Ganeti RAPI users: name password options",
    ]
    for name, pw, opts in ((writer, wpw, "read,write"), (reader, rpw, "read")):
        ha1 = hashlib.md5(f"{name}:{REALM}:{pw}".encode()).hexdigest()
        lines.append(f"{name} {{HA1}}{ha1} {opts}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return wpw, rpw

"""The ``[mail]`` table of fleet.toml: how the worker reaches the SMTP server, and who the admins are.

Each key can also be set in the environment as ``FLEET_MAIL_<KEY>`` (``FLEET_MAIL_PASSWORD``), which wins
over the file, as for every other setting. Without ``host`` nothing is sent: mails are queued in the outbox
and stay there, visible with ``fleet mail list``, until a server is configured (those older than a day are
then given up, not sent late). ``mail_settings`` gives Django's own ``EMAIL_*`` settings the same values, so
that Django's helpers and Fleet's worker agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import validate_email

TLS_MODES = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
KEYS = (
    "host",
    "port",
    "tls",
    "ca_file",
    "user",
    "password",
    "password_file",
    "timeout",
    "from",
    "admins",
    "digest_minutes",
    "retention_days",
)


@dataclass(frozen=True)
class MailConfig:
    """The checked ``[mail]`` settings; ``host`` None means mails are queued and never sent."""

    host: str | None = None
    port: int = 587
    tls: str = "starttls"  # one of TLS_MODES: STARTTLS, implicit TLS (SMTPS), or plain SMTP
    ca_file: str | None = None  # CAs to trust for the server's certificate; the system's when unset
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 10.0  # seconds for each SMTP step: connect, each command, each message
    sender: str = "fleet@localhost"  # the From of every mail (``from`` in the file)
    admins: tuple[str, ...] = ()  # who gets the admins' mails and digests
    digest_minutes: int = 15  # at most one digest of notices for the admins per topic per this many minutes
    retention_days: int = 90  # sent and failed mails are kept this long for inspection; 0 keeps them forever

    @property
    def enabled(self) -> bool:
        return self.host is not None


class Table(Protocol):
    """The ``[mail]`` table as the configuration reader offers it: a value by key, and how to name it."""

    def get(self, key: str) -> Any: ...

    def origin(self, key: str) -> str: ...


def read_mail(table: Table) -> MailConfig:
    """Check the ``[mail]`` table (unknown keys are refused by the caller, with the other settings')."""
    host = _text(table, "host") or None
    tls = (_text(table, "tls") or "starttls").lower()
    if tls not in TLS_MODES:
        modes = ", ".join(TLS_MODES)
        raise ImproperlyConfigured(f"{table.origin('tls')} must be one of {modes}, not {tls!r}")
    user = _text(table, "user")
    password = _password(table)
    if user and not password:
        raise ImproperlyConfigured(f"{table.origin('user')} is set: give password or password_file too")
    if user and tls == "none" and host not in (None, "localhost", "127.0.0.1", "::1"):
        raise ImproperlyConfigured(
            f"{table.origin('tls')} is none: the password of {table.origin('user')} would cross the network "
            "in clear; use starttls or ssl"
        )
    ca_file = _text(table, "ca_file") or None
    if ca_file is not None and not Path(ca_file).is_file():
        raise ImproperlyConfigured(f"{table.origin('ca_file')}: {ca_file} is not a readable file")
    sender = _text(table, "from")
    if host and not sender:
        raise ImproperlyConfigured(
            f"{table.origin('from')} is required with host: the address mails come from"
        )
    return MailConfig(
        host=host,
        port=_number(table, "port", DEFAULT_PORTS[tls], int, minimum=1, maximum=65535),
        tls=tls,
        ca_file=ca_file,
        user=user,
        password=password,
        timeout=_number(table, "timeout", 10.0, float, minimum=0.1, maximum=600),
        sender=_address(table, "from", sender) if sender else MailConfig.sender,
        admins=tuple(_address(table, "admins", item) for item in _items(table, "admins")),
        digest_minutes=_number(table, "digest_minutes", 15, int, minimum=1, maximum=24 * 60),
        retention_days=_number(table, "retention_days", 90, int, minimum=0, maximum=100 * 365),
    )


def mail_settings(mail: MailConfig) -> dict[str, Any]:
    """Fleet's ``FLEET_MAIL`` and Django's own mail settings, with the same values."""
    return {
        "FLEET_MAIL": mail,
        "EMAIL_HOST": mail.host or "localhost",
        "EMAIL_PORT": mail.port,
        "EMAIL_HOST_USER": mail.user,
        "EMAIL_HOST_PASSWORD": mail.password,
        "EMAIL_USE_TLS": mail.tls == "starttls",
        "EMAIL_USE_SSL": mail.tls == "ssl",
        "EMAIL_TIMEOUT": mail.timeout,
        "DEFAULT_FROM_EMAIL": mail.sender,
        "SERVER_EMAIL": mail.sender,
        "ADMINS": [parseaddr(address) for address in mail.admins],  # (name, address) pairs
    }


def _text(table: Table, key: str) -> str:
    value = table.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImproperlyConfigured(f"{table.origin(key)} must be a string, not {value!r}")
    return value.strip()


def _password(table: Table) -> str:
    password = table.get("password")
    path = _text(table, "password_file")
    if password and path:
        raise ImproperlyConfigured(
            f"{table.origin('password')} and {table.origin('password_file')}: set one of them, not both"
        )
    if not path:
        return _text(table, "password")
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        raise ImproperlyConfigured(
            f"{table.origin('password_file')}: cannot read {path}: {exc.strerror}"
        ) from exc


def _number(
    table: Table, key: str, default: Any, kind: Callable[[str], Any], *, minimum: float, maximum: float
) -> Any:
    value = table.get(key)
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool):
            raise ValueError
        number = kind(str(value).strip())
    except ValueError:
        number = None
    if number is None or not minimum <= number <= maximum:
        what = "a whole number" if kind is int else "a number"
        raise ImproperlyConfigured(
            f"{table.origin(key)} must be {what} from {minimum:g} to {maximum:g}, not {value!r}"
        )
    return number


def _items(table: Table, key: str) -> list[str]:
    value = table.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def _address(table: Table, key: str, value: str) -> str:
    """An address as a mail header takes it: ``noc@example.org`` or ``NOC <noc@example.org>``."""
    _, address = parseaddr(value)
    try:
        if "\n" in value or "\r" in value:
            raise ValidationError("line break")
        validate_email(address)
    except ValidationError:
        raise ImproperlyConfigured(f"{table.origin(key)}: {value!r} is not a mail address") from None
    return value

"""Fleet's configuration: read once from a TOML file and the environment, checked before anything starts.

Every setting has one name, ``FLEET_<NAME>`` in the environment and ``<name>`` (lower case) in the file
named by ``FLEET_CONFIG``; the environment wins. A missing or malformed required setting raises
:class:`~django.core.exceptions.ImproperlyConfigured` naming it, so that a bad configuration stops start-up
with one clear line instead of failing later, in a request or in the worker. ``example.toml`` beside
this module documents each setting.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from fleet.access.tags import TagError, validate_prefix

ENV_PREFIX = "FLEET_"
CONFIG_FILE_VARIABLE = "FLEET_CONFIG"
SQLITE_FILE_NAME = "fleet.sqlite3"
MIN_SECRET_KEY_LENGTH = 50  # Django's own deployment check (security.W009) asks for this much

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Config:
    """The checked settings Fleet runs with; ``fleet.conf.base`` turns them into Django settings."""

    secret_key: str = field(repr=False)
    credentials_keys: tuple[str, ...] = field(repr=False)
    database: dict[str, Any] = field(repr=False)  # holds the password
    data_dir: Path
    tag_prefix: str
    debug: bool
    allowed_hosts: tuple[str, ...]
    time_zone: str


def load(environ: Mapping[str, str]) -> Config:
    """Read the file named by ``FLEET_CONFIG`` (if any) and the ``FLEET_*`` variables of ``environ``."""
    source = _Source(environ)
    data_dir = Path(source.get("data_dir") or "var")
    return Config(
        secret_key=_secret_key(source),
        credentials_keys=_credentials_keys(source),
        database=_database(source, data_dir),
        data_dir=data_dir,
        tag_prefix=_tag_prefix(source),
        debug=_boolean(source, "debug", default=False),
        allowed_hosts=tuple(_list(source, "allowed_hosts") or ("localhost", "127.0.0.1", "[::1]")),
        time_zone=source.get("time_zone") or "UTC",
    )


class _Source:
    """The environment over the config file: one lookup by setting name, and the name to blame on error."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.file_values: dict[str, Any] = {}
        path = environ.get(CONFIG_FILE_VARIABLE)
        if path:
            self.file_values = _read_file(Path(path))

    def get(self, name: str) -> Any:
        variable = ENV_PREFIX + name.upper()
        if variable in self.environ:
            return self.environ[variable]
        return self.file_values.get(name)

    def origin(self, name: str) -> str:
        """How to name the setting in an error: the variable, or the key and the file it came from."""
        variable = ENV_PREFIX + name.upper()
        if variable in self.environ or name not in self.file_values:
            return variable
        return f"{name} (in {self.environ[CONFIG_FILE_VARIABLE]})"


def _read_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except OSError as exc:
        raise ImproperlyConfigured(f"{CONFIG_FILE_VARIABLE}: cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ImproperlyConfigured(f"{CONFIG_FILE_VARIABLE}: {path} is not valid TOML: {exc}") from exc


def _required(source: _Source, name: str, how: str) -> str:
    value = source.get(name)
    if value is None or value == "":
        raise ImproperlyConfigured(f"{source.origin(name)} is required: {how}")
    if not isinstance(value, str):
        raise ImproperlyConfigured(f"{source.origin(name)} must be a string")
    return value


def _secret_key(source: _Source) -> str:
    generate = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"
    value = _required(
        source, "secret_key", f"a long random string that signs sessions and tokens ({generate})"
    )
    if len(value) < MIN_SECRET_KEY_LENGTH or len(set(value)) < 5:
        raise ImproperlyConfigured(
            f"{source.origin('secret_key')} is too weak: it must be at least {MIN_SECRET_KEY_LENGTH} "
            f"characters with at least 5 different ones ({generate})"
        )
    return value


def _credentials_keys(source: _Source) -> tuple[str, ...]:
    how = (
        "the Fernet key that encrypts the clusters' RAPI passwords "
        "(python3 -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'); "
        "to rotate it, put the new key first and the old ones after it, comma-separated"
    )
    value = source.get("credentials_key")
    if isinstance(value, list):
        keys = [str(item).strip() for item in value]
    elif value:
        keys = [item.strip() for item in str(value).split(",")]
    else:
        raise ImproperlyConfigured(f"{source.origin('credentials_key')} is required: {how}")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"{source.origin('credentials_key')}: key {position} of {len(keys)} is not a Fernet key "
                "(32 random bytes, url-safe base64, 44 characters)"
            ) from None
    return tuple(keys)


def _database(source: _Source, data_dir: Path) -> dict[str, Any]:
    url = source.get("database_url")
    if not url:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(data_dir / SQLITE_FILE_NAME)}
    name = source.origin("database_url")
    scheme = str(url).partition("://")[0]
    if scheme not in ("postgres", "postgresql", "sqlite"):
        raise ImproperlyConfigured(
            f"{name}: unsupported scheme {scheme!r}; use postgresql://user:password@host:port/database "
            "or sqlite:////absolute/path.sqlite3"
        )
    try:
        database = dict(dj_database_url.parse(str(url), conn_max_age=60, conn_health_checks=True))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    if not database.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database")
    return database


def _tag_prefix(source: _Source) -> str:
    prefix = source.get("tag_prefix") or "fleet"
    try:
        return validate_prefix(str(prefix))
    except TagError as exc:
        raise ImproperlyConfigured(f"{source.origin('tag_prefix')}: {exc}") from exc


def _boolean(source: _Source, name: str, default: bool) -> bool:
    value = source.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ImproperlyConfigured(f"{source.origin(name)} must be true or false, not {value!r}")


def _list(source: _Source, name: str) -> list[str]:
    value = source.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value]
    return [item.strip() for item in str(value).split(",") if item.strip()]

"""Fleet's configuration: read once from a TOML file and the environment, checked before anything starts.

Every setting has one name, ``FLEET_<NAME>`` in the environment and ``<name>`` (lower case) in the file
named by ``FLEET_CONFIG``; the environment wins. A missing or malformed required setting raises
:class:`~django.core.exceptions.ImproperlyConfigured` naming it, so that a bad configuration stops start-up
with one clear line instead of failing later, in a request or in the worker. ``example.toml`` beside
this module documents each setting.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from fleet.access.tags import TagError, validate_prefix
from fleet.conf.cdrom import KEYS as CDROM_KEYS
from fleet.conf.cdrom import CdromConfig, read_cdrom
from fleet.conf.mail import KEYS as MAIL_KEYS
from fleet.conf.mail import MailConfig, read_mail
from fleet.conf.metrics import KEYS as METRICS_KEYS
from fleet.conf.metrics import MetricsConfig, read_metrics
from fleet.conf.storage import LIMIT_KEYS, Limits, StorageConfig, read_limits, read_storage

ENV_PREFIX = "FLEET_"
CONFIG_FILE_VARIABLE = "FLEET_CONFIG"
SQLITE_FILE_NAME = "fleet.sqlite3"
MIN_SECRET_KEY_LENGTH = 50  # Django's own deployment check (security.W009) asks for this much
SQLITE_BUSY_TIMEOUT = 20  # seconds a SQLite writer waits for another (a large first sync writes for seconds)
HSTS_SECONDS = 365 * 24 * 3600
MIN_PASSWORD_LENGTH = 8
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
API_TOKEN_MAX_DAYS = 90  # the longest an API token may live unless the operator says otherwise
CONFIRM_MINUTES = 30  # how long a mailed confirmation link works

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
    https: Https
    password_min_length: int
    log_level: str
    log_levels: dict[str, str]
    api_tokens: ApiTokens
    mail: MailConfig
    cdrom: CdromConfig
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    limits: Limits = field(default_factory=Limits)
    site_url: str = "http://localhost:8000"  # where users reach Fleet: the start of mailed links
    confirm_minutes: int = CONFIRM_MINUTES
    console_url: str = ""  # where browsers reach `fleet console-proxy`; empty: consoles are off
    console_token_seconds: int = 30


@dataclass(frozen=True)
class ApiTokens:
    """How long the API tokens users make may live: at most ``max_days``; forever only if allowed."""

    max_days: int
    allow_no_expiry: bool


@dataclass(frozen=True)
class Https:
    """How the web server is reached: over HTTPS (the default), usually through a TLS reverse proxy."""

    secure_cookies: bool
    ssl_redirect: bool
    hsts_seconds: int
    hsts_include_subdomains: bool
    hsts_preload: bool
    proxy_ssl_header: str | None  # e.g. X-Forwarded-Proto, set to "https" by the proxy
    csrf_trusted_origins: tuple[str, ...]


def load(environ: Mapping[str, str]) -> Config:
    """Read the file named by ``FLEET_CONFIG`` (if any) and the ``FLEET_*`` variables of ``environ``."""
    source = _Source(environ)
    data_dir = Path(source.get("data_dir") or "var")
    config = Config(
        secret_key=_secret_key(source),
        credentials_keys=_credentials_keys(source),
        database=_database(source, data_dir),
        data_dir=data_dir,
        tag_prefix=_tag_prefix(source),
        debug=_boolean(source, "debug", default=False),
        allowed_hosts=tuple(_list(source, "allowed_hosts") or ("localhost", "127.0.0.1", "[::1]")),
        time_zone=source.get("time_zone") or "UTC",
        https=_https(source),
        password_min_length=_integer(source, "password_min_length", 12, minimum=MIN_PASSWORD_LENGTH),
        log_level=_level(source, "log_level", source.get("log_level") or "INFO"),
        log_levels=_log_levels(source),
        api_tokens=ApiTokens(
            max_days=_integer(source, "api_token_max_days", API_TOKEN_MAX_DAYS, minimum=1),
            allow_no_expiry=_boolean(source, "api_token_allow_no_expiry", default=False),
        ),
        mail=read_mail(source.table("mail", MAIL_KEYS)),
        cdrom=read_cdrom(source.table("cdrom", CDROM_KEYS)),
        metrics=read_metrics(source.table("metrics", METRICS_KEYS)),
        storage=_storage(source),
        limits=read_limits(source.table("limits", LIMIT_KEYS)),
        site_url=_site_url(source),
        confirm_minutes=_integer(source, "confirm_minutes", CONFIRM_MINUTES, minimum=1),
        console_url=_console_url(source),
        console_token_seconds=_integer(source, "console_token_seconds", 30, minimum=1),
    )
    source.refuse_unknown()
    return config


class _Source:
    """The environment over the config file: one lookup by setting name, and the name to blame on error."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.asked: set[str] = set()
        self.file_values: dict[str, Any] = {}
        path = environ.get(CONFIG_FILE_VARIABLE)
        if path:
            self.file_values = _read_file(Path(path))

    def get(self, name: str) -> Any:
        self.asked.add(name)
        variable = ENV_PREFIX + name.upper()
        if variable in self.environ:
            return self.environ[variable]
        return self.file_values.get(name)

    def refuse_unknown(self) -> None:
        """A key of the file that no setting reads is a typo, which would otherwise leave a default in force
        unnoticed (``ssl_redirec = false``)."""
        unknown = sorted(set(self.file_values) - self.asked)
        if unknown:
            raise ImproperlyConfigured(
                f"{unknown[0]} (in {self.environ[CONFIG_FILE_VARIABLE]}) is not a Fleet setting "
                "(fleet/conf/example.toml lists them)"
            )

    def origin(self, name: str) -> str:
        """How to name the setting in an error: the variable, or the key and the file it came from."""
        variable = ENV_PREFIX + name.upper()
        if variable in self.environ or name not in self.file_values:
            return variable
        return f"{name} (in {self.environ[CONFIG_FILE_VARIABLE]})"

    def table(self, name: str, keys: tuple[str, ...]) -> _Table:
        """The file's ``[name]`` table, each key overridden by ``FLEET_<NAME>_<KEY>``; a key that is not in
        ``keys`` is refused like a misspelt setting."""
        self.asked.add(name)
        values = self.file_values.get(name, {})
        where = f"(in {self.environ.get(CONFIG_FILE_VARIABLE)})"
        if not isinstance(values, dict):
            raise ImproperlyConfigured(f"{name} {where} must be a table: [{name}] and its keys below it")
        unknown = sorted(set(values) - set(keys))
        if unknown:
            raise ImproperlyConfigured(
                f"{name}.{unknown[0]} {where} is not a Fleet setting (fleet/conf/example.toml lists them)"
            )
        return _Table(self, name, values)


class _Table:
    """One table of the file (``[mail]``) under the environment, as :class:`_Source` is for the top level."""

    def __init__(self, source: _Source, name: str, values: dict[str, Any]) -> None:
        self.source = source
        self.name = name
        self.values = values

    def get(self, key: str) -> Any:
        variable = f"{ENV_PREFIX}{self.name}_{key}".upper()
        if variable in self.source.environ:
            return self.source.environ[variable]
        return self.values.get(key)

    def origin(self, key: str) -> str:
        variable = f"{ENV_PREFIX}{self.name}_{key}".upper()
        if variable in self.source.environ or key not in self.values:
            return variable
        return f"{self.name}.{key} (in {self.source.environ[CONFIG_FILE_VARIABLE]})"


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


POSTGRESQL_ENGINE = "fleet.conf.postgresql"


def _database(source: _Source, data_dir: Path) -> dict[str, Any]:
    url = source.get("database_url")
    if not url:
        return _sqlite({"ENGINE": "django.db.backends.sqlite3", "NAME": str(data_dir / SQLITE_FILE_NAME)})
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
    if database["ENGINE"] == "django.db.backends.postgresql":
        database["ENGINE"] = POSTGRESQL_ENGINE  # health checks only after the connection sat idle
    if not database.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database")
    return _sqlite(database) if database["ENGINE"].endswith("sqlite3") else database


def _sqlite(database: dict[str, Any]) -> dict[str, Any]:
    """A SQLite file that the worker and the web server write at once: WAL (readers and the writer do not
    block each other), transactions that take the write lock when they begin (a read that turns into a write
    cannot fail at once on another's lock), and writers that wait for each other instead of failing."""
    if database["NAME"] == ":memory:" or "mode=memory" in database["NAME"]:
        return database  # private to one process: nothing to share
    options = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",  # NORMAL is durable in WAL
        "transaction_mode": "IMMEDIATE",
        "timeout": SQLITE_BUSY_TIMEOUT,
    }
    return database | {"OPTIONS": options | dict(database.get("OPTIONS") or {})}


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


def _integer(source: _Source, name: str, default: int, minimum: int = 0) -> int:
    value = source.get(name)
    if value is None or value == "":
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise ImproperlyConfigured(
            f"{source.origin(name)} must be a whole number >= {minimum}, not {value!r}"
        )
    return int(text)


def _storage(source: _Source) -> StorageConfig:
    """The storage classes: file only, as a list of tables does not fit in a variable."""
    if ENV_PREFIX + "STORAGE" in source.environ:
        raise ImproperlyConfigured(
            "FLEET_STORAGE: storage classes are set in the config file only ([storage.NAME])"
        )
    return read_storage(source.get("storage"), f"(in {source.environ.get(CONFIG_FILE_VARIABLE)})")


def _site_url(source: _Source) -> str:
    url = str(source.get("site_url") or "http://localhost:8000").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"{source.origin('site_url')} must be the http(s) address users reach Fleet at, e.g. "
            f"https://fleet.example.org, not {url!r}"
        )
    return url


def _console_url(source: _Source) -> str:
    url = str(source.get("console_url") or "").strip()
    parts = urlsplit(url)
    if url and (parts.scheme not in ("ws", "wss") or not parts.netloc or parts.query or parts.fragment):
        raise ImproperlyConfigured(
            f"{source.origin('console_url')} must be the ws(s) address browsers reach `fleet console-proxy` "
            f"at, e.g. wss://console.example.org:6080/, not {url!r}"
        )
    return url


def _https(source: _Source) -> Https:
    header = source.get("proxy_ssl_header") or None
    if header is not None and not re.fullmatch(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*", str(header)):
        raise ImproperlyConfigured(
            f"{source.origin('proxy_ssl_header')} must be an HTTP header name such as X-Forwarded-Proto, "
            f"not {header!r}"
        )
    origins = tuple(_list(source, "csrf_trusted_origins"))
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ImproperlyConfigured(
                f"{source.origin('csrf_trusted_origins')}: {origin!r} is not an origin "
                "(scheme and host, e.g. https://fleet.example.org)"
            )
    return Https(
        secure_cookies=_boolean(source, "secure_cookies", default=True),
        ssl_redirect=_boolean(source, "ssl_redirect", default=True),
        hsts_seconds=_integer(source, "hsts_seconds", HSTS_SECONDS),
        hsts_include_subdomains=_boolean(source, "hsts_include_subdomains", default=False),
        hsts_preload=_boolean(source, "hsts_preload", default=False),
        proxy_ssl_header=None if header is None else str(header),
        csrf_trusted_origins=origins,
    )


def _level(source: _Source, name: str, value: Any) -> str:
    level = str(value).strip().upper()
    if level not in LOG_LEVELS:
        raise ImproperlyConfigured(f"{source.origin(name)}: {value!r} is not one of {', '.join(LOG_LEVELS)}")
    return level


def _log_levels(source: _Source) -> dict[str, str]:
    """Per-logger levels: a TOML table, or ``logger=LEVEL,...`` in the environment."""
    value = source.get("log_levels")
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        pairs = [(str(k), v) for k, v in value.items()]
    else:
        pairs = [item.partition("=")[::2] for item in str(value).split(",") if item.strip()]
    levels = {}
    for logger, level in pairs:
        if not re.fullmatch(r"[A-Za-z_][\w.]*", logger.strip()):
            raise ImproperlyConfigured(
                f"{source.origin('log_levels')}: {logger!r} is not a logger name (e.g. fleet.rapi=DEBUG)"
            )
        levels[logger.strip()] = _level(source, "log_levels", level)
    return levels

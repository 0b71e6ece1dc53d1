"""Configuration fails fast, naming the setting at fault; good settings come through as Django settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from fleet.conf.config import load

SECRET = "s" * 30 + "0123456789abcdefghijklmnop"
KEY = Fernet.generate_key().decode()
GOOD = {"FLEET_SECRET_KEY": SECRET, "FLEET_CREDENTIALS_KEY": KEY}


def test_good_environment_loads_with_defaults() -> None:
    config = load(GOOD)
    assert config.secret_key == SECRET
    assert config.credentials_keys == (KEY,)
    assert config.tag_prefix == "fleet"
    assert config.debug is False
    assert config.database["ENGINE"] == "django.db.backends.sqlite3"
    assert config.database["NAME"] == str(Path("var/fleet.sqlite3"))
    https = config.https
    assert (https.secure_cookies, https.ssl_redirect, https.hsts_seconds) == (True, True, 365 * 24 * 3600)
    assert (https.proxy_ssl_header, https.csrf_trusted_origins) == (None, ())
    assert (config.password_min_length, config.log_level, config.log_levels) == (12, "INFO", {})
    assert (config.api_tokens.max_days, config.api_tokens.allow_no_expiry) == (90, False)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"FLEET_CREDENTIALS_KEY": KEY}, "FLEET_SECRET_KEY is required"),
        (GOOD | {"FLEET_SECRET_KEY": "short"}, "FLEET_SECRET_KEY is too weak"),
        (GOOD | {"FLEET_SECRET_KEY": "a" * 80}, "FLEET_SECRET_KEY is too weak"),
        ({"FLEET_SECRET_KEY": SECRET}, "FLEET_CREDENTIALS_KEY is required"),
        (
            GOOD | {"FLEET_CREDENTIALS_KEY": "not-a-key"},
            "FLEET_CREDENTIALS_KEY: key 1 of 1 is not a Fernet key",
        ),
        (GOOD | {"FLEET_CREDENTIALS_KEY": f"{KEY},{KEY[:-2]}"}, "FLEET_CREDENTIALS_KEY: key 2 of 2"),
        (GOOD | {"FLEET_DATABASE_URL": "mysql://u:p@h/db"}, "FLEET_DATABASE_URL: unsupported scheme 'mysql'"),
        (GOOD | {"FLEET_DATABASE_URL": "postgresql://u:p@h:5432"}, "FLEET_DATABASE_URL names no database"),
        (GOOD | {"FLEET_TAG_PREFIX": "my:fleet"}, "FLEET_TAG_PREFIX: tag prefix 'my:fleet'"),
        (GOOD | {"FLEET_DEBUG": "maybe"}, "FLEET_DEBUG must be true or false"),
        (GOOD | {"FLEET_SECURE_COOKIES": "sometimes"}, "FLEET_SECURE_COOKIES must be true or false"),
        (GOOD | {"FLEET_SSL_REDIRECT": "2"}, "FLEET_SSL_REDIRECT must be true or false"),
        (GOOD | {"FLEET_HSTS_SECONDS": "a year"}, "FLEET_HSTS_SECONDS must be a whole number >= 0"),
        (GOOD | {"FLEET_HSTS_SECONDS": "-1"}, "FLEET_HSTS_SECONDS must be a whole number >= 0"),
        (GOOD | {"FLEET_HSTS_PRELOAD": "please"}, "FLEET_HSTS_PRELOAD must be true or false"),
        (
            GOOD | {"FLEET_PROXY_SSL_HEADER": "X-Forwarded-Proto: https"},
            "FLEET_PROXY_SSL_HEADER must be an HTTP",
        ),
        (
            GOOD | {"FLEET_CSRF_TRUSTED_ORIGINS": "fleet.example.org"},
            "FLEET_CSRF_TRUSTED_ORIGINS: 'fleet.example.org' is not an origin",
        ),
        (
            GOOD | {"FLEET_CSRF_TRUSTED_ORIGINS": "https://fleet.example.org/login/"},
            "FLEET_CSRF_TRUSTED_ORIGINS: 'https://fleet.example.org/login/' is not an origin",
        ),
        (GOOD | {"FLEET_PASSWORD_MIN_LENGTH": "4"}, "FLEET_PASSWORD_MIN_LENGTH must be a whole number >= 8"),
        (GOOD | {"FLEET_LOG_LEVEL": "verbose"}, "FLEET_LOG_LEVEL: 'verbose' is not one of DEBUG, INFO"),
        (GOOD | {"FLEET_LOG_LEVELS": "fleet.rapi=LOUD"}, "FLEET_LOG_LEVELS: 'LOUD' is not one of DEBUG"),
        (GOOD | {"FLEET_LOG_LEVELS": "fleet rapi=DEBUG"}, "FLEET_LOG_LEVELS: 'fleet rapi' is not a logger"),
        (GOOD | {"FLEET_API_TOKEN_MAX_DAYS": "0"}, "FLEET_API_TOKEN_MAX_DAYS must be a whole number >= 1"),
        (
            GOOD | {"FLEET_API_TOKEN_MAX_DAYS": "3 months"},
            "FLEET_API_TOKEN_MAX_DAYS must be a whole number >= 1",
        ),
        (
            GOOD | {"FLEET_API_TOKEN_ALLOW_NO_EXPIRY": "forever"},
            "FLEET_API_TOKEN_ALLOW_NO_EXPIRY must be true or false",
        ),
        (
            GOOD | {"FLEET_CONFIG": "/nonexistent/fleet.toml"},
            "FLEET_CONFIG: cannot read /nonexistent/fleet.toml",
        ),
    ],
)
def test_a_bad_setting_is_refused_by_name(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        load(environ)


def test_postgresql_url_selects_postgresql() -> None:
    config = load(GOOD | {"FLEET_DATABASE_URL": "postgresql://fleet:p%40ss@db.example.org:5433/fleet"})
    assert config.database["ENGINE"] == "fleet.conf.postgresql"  # Django's, health-checked when idle
    assert (config.database["HOST"], config.database["PORT"], config.database["NAME"]) == (
        "db.example.org",
        5433,
        "fleet",
    )
    assert config.database["PASSWORD"] == "p@ss"


def test_file_settings_apply_and_the_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(
        f'secret_key = "{SECRET}"\ncredentials_key = ["{KEY}"]\ntag_prefix = "grnet"\n'
        'allowed_hosts = ["fleet.example.org"]\ndebug = true\n'
    )
    config = load({"FLEET_CONFIG": str(path), "FLEET_TAG_PREFIX": "noc"})
    assert (config.tag_prefix, config.allowed_hosts, config.debug) == ("noc", ("fleet.example.org",), True)


def test_deployment_settings_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(
        f'secret_key = "{SECRET}"\ncredentials_key = ["{KEY}"]\nsecure_cookies = false\nhsts_seconds = 3600\n'
        'proxy_ssl_header = "X-Forwarded-Proto"\ncsrf_trusted_origins = ["https://fleet.example.org"]\n'
        'password_min_length = 16\nlog_level = "warning"\napi_token_max_days = 365\n'
        'api_token_allow_no_expiry = true\n[log_levels]\n"fleet.rapi" = "debug"\n'
    )
    config = load({"FLEET_CONFIG": str(path)})
    assert (config.api_tokens.max_days, config.api_tokens.allow_no_expiry) == (365, True)
    assert (config.https.secure_cookies, config.https.hsts_seconds) == (False, 3600)
    assert config.https.proxy_ssl_header == "X-Forwarded-Proto"
    assert config.https.csrf_trusted_origins == ("https://fleet.example.org",)
    assert (config.password_min_length, config.log_level) == (16, "WARNING")
    assert config.log_levels == {"fleet.rapi": "DEBUG"}


def test_a_bad_file_setting_is_named_with_its_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(f'secret_key = "{SECRET}"\ncredentials_key = "nope"\n')
    with pytest.raises(ImproperlyConfigured, match=rf"credentials_key \(in {path}\): key 1 of 1"):
        load({"FLEET_CONFIG": str(path)})


def test_a_misspelt_file_setting_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(f'secret_key = "{SECRET}"\ncredentials_key = "{KEY}"\nssl_redirec = false\n')
    with pytest.raises(ImproperlyConfigured, match=rf"ssl_redirec \(in {path}\) is not a Fleet setting"):
        load({"FLEET_CONFIG": str(path)})


def test_a_file_that_is_not_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text("secret_key = \n")
    with pytest.raises(ImproperlyConfigured, match="is not valid TOML"):
        load({"FLEET_CONFIG": str(path)})


def test_the_example_config_fails_until_its_placeholders_are_replaced() -> None:
    example = Path(__file__).parents[2] / "fleet" / "conf" / "example.toml"
    with pytest.raises(ImproperlyConfigured, match=r"credentials_key \(in .*example.toml\): key 1 of 1"):
        load({"FLEET_CONFIG": str(example)})


def _manage(*args: str, environ: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FLEET_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "fleet.conf.manage", *args],
        env=clean | environ,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_manage_stops_at_start_up_naming_the_missing_setting(tmp_path: Path) -> None:
    result = _manage("check", environ={"FLEET_SECRET_KEY": SECRET}, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("fleet: configuration error: FLEET_CREDENTIALS_KEY is required")
    assert "Traceback" not in result.stderr


def test_manage_migrates_the_embedded_sqlite_under_var(tmp_path: Path) -> None:
    result = _manage("migrate", "-v0", environ=GOOD, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "fleet.sqlite3").stat().st_size > 0


def test_the_checked_in_migrations_match_the_models(tmp_path: Path) -> None:
    result = _manage("makemigrations", "--check", "--dry-run", environ=GOOD, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_config_does_not_show_its_secrets() -> None:
    config = load(GOOD | {"FLEET_DATABASE_URL": "postgresql://fleet:hunter2hunter2@db/fleet"})
    assert all(secret not in repr(config) for secret in (SECRET, KEY, "hunter2hunter2"))

"""`fleet manage check --deploy` under a production configuration is clean, and each HTTPS setting of
``fleet.toml`` reaches Django: turned off, Django's deployment check names it; over HTTP, the proxy's header
decides what is secure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client, override_settings

from fleet.conf.config import load
from fleet.conf.deployment import https_settings

SECRET = "production-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
PRODUCTION = {
    "secret_key": SECRET,
    "credentials_key": Fernet.generate_key().decode(),
    "database_url": "postgresql://fleet:password@localhost:5432/fleet",
    "allowed_hosts": ["fleet.example.org"],
    "proxy_ssl_header": "X-Forwarded-Proto",
    "csrf_trusted_origins": ["https://fleet.example.org"],
    "hsts_include_subdomains": True,
    "hsts_preload": True,
    "log_level": "INFO",
}


def _check_deploy(tmp_path: Path, settings: dict[str, object]) -> subprocess.CompletedProcess[str]:
    """`check --deploy` with ``settings`` as fleet.toml (and a data directory of the test's own)."""
    config = tmp_path / "fleet.toml"
    settings = settings | {"data_dir": str(tmp_path / "var")}
    config.write_text("".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items()))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("FLEET_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "fleet.conf.manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean | {"FLEET_CONFIG": str(config)}, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_is_clean_under_a_production_configuration(tmp_path: Path) -> None:
    result = _check_deploy(tmp_path, PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_the_configuration_in_the_deployment_guide_is_clean(tmp_path: Path) -> None:
    guide = (Path(__file__).parents[2] / "docs" / "deploy.md").read_text()
    example = guide.split("```toml\n", 1)[1].split("```", 1)[0]
    settings = tomllib.loads(example)
    assert (settings["proxy_ssl_header"], settings["data_dir"]) == ("X-Forwarded-Proto", "/var/lib/fleet")
    keys = {"secret_key": PRODUCTION["secret_key"], "credentials_key": PRODUCTION["credentials_key"]}
    result = _check_deploy(tmp_path, settings | keys)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("changes", "warnings"),
    [
        ({"secure_cookies": False}, ["security.W012", "security.W016"]),
        ({"ssl_redirect": False}, ["security.W008"]),
        ({"hsts_seconds": 0}, ["security.W004"]),
        ({"hsts_include_subdomains": False, "hsts_preload": False}, ["security.W005", "security.W021"]),
        ({"debug": True}, ["security.W018"]),
    ],
)
def test_check_deploy_names_what_a_setting_turned_off(
    tmp_path: Path, changes: dict[str, object], warnings: list[str]
) -> None:
    result = _check_deploy(tmp_path, PRODUCTION | changes)
    assert result.returncode == 1
    found = sorted(word.strip("():") for word in result.stderr.split() if word.startswith("(security."))
    assert found == warnings, result.stderr


def _production_https() -> dict[str, object]:
    config = load(
        {
            "FLEET_SECRET_KEY": SECRET,
            "FLEET_CREDENTIALS_KEY": Fernet.generate_key().decode(),
            "FLEET_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        }
    )
    return https_settings(config.https)


@pytest.mark.django_db
def test_behind_the_proxy_https_is_trusted_from_its_header_and_plain_http_is_redirected() -> None:
    with override_settings(**_production_https()):
        plain = Client().get("/login/")
        assert plain.status_code == 301 and plain["Location"] == "https://testserver/login/"
        proxied = Client().get("/login/", headers={"X-Forwarded-Proto": "https"})
        assert proxied.status_code == 200
        assert proxied["Strict-Transport-Security"] == "max-age=31536000"
        assert proxied.cookies["csrftoken"]["secure"] is True

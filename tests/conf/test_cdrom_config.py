"""The [cdrom] table of fleet.toml: which CD image URLs owners may use, checked at start-up, each key named
on error, the environment winning, and the example's table what Fleet reads."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from fleet.conf.base import django_settings
from fleet.conf.cdrom import KEYS, CdromConfig
from fleet.conf.config import load
from tests.conf.test_config import GOOD, KEY, SECRET


def config_file(tmp_path: Path, table: str) -> dict[str, str]:
    path = tmp_path / "fleet.toml"
    path.write_text(f'secret_key = "{SECRET}"\ncredentials_key = "{KEY}"\n\n[cdrom]\n{table}')
    return {"FLEET_CONFIG": str(path)}


def test_without_a_table_public_hosts_on_the_usual_ports() -> None:
    cdrom = load(GOOD).cdrom
    assert cdrom == CdromConfig()
    assert (cdrom.hosts, cdrom.allow_networks, cdrom.ports, cdrom.resolve_timeout) == ((), (), (80, 443), 2.0)
    assert django_settings(load(GOOD))["FLEET_CDROM"] == cdrom


def test_a_table_and_the_environment(tmp_path: Path) -> None:
    environ = config_file(
        tmp_path,
        'hosts = ["ISOs.example.org", "*.mirror.example.org"]\n'
        'allow_networks = ["10.20.30.0/28", "fd00:1::/64"]\nports = [443, 8443]\nresolve_timeout = 0.5\n',
    )
    cdrom = load(environ).cdrom
    assert cdrom.hosts == ("isos.example.org", "*.mirror.example.org")
    assert cdrom.allow_networks == (
        ipaddress.ip_network("10.20.30.0/28"),
        ipaddress.ip_network("fd00:1::/64"),
    )
    assert (cdrom.ports, cdrom.resolve_timeout) == ((443, 8443), 0.5)
    overridden = load(
        environ | {"FLEET_CDROM_PORTS": "80", "FLEET_CDROM_DENY_NETWORKS": "198.51.100.0/24"}
    ).cdrom
    assert cdrom.ports != overridden.ports == (80,)
    assert overridden.deny_networks == (ipaddress.ip_network("198.51.100.0/24"),)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            'hosts = ["http://isos.example.org"]',
            r"cdrom\.hosts \(in .*\): 'http://isos.example.org' is not a host",
        ),
        (
            'allow_networks = ["10.0.0.1/8"]',
            r"cdrom\.allow_networks \(in .*\): '10.0.0.1/8' is not a network",
        ),
        ('deny_networks = ["nowhere"]', r"cdrom\.deny_networks .* is not a network"),
        ("ports = [0]", r"cdrom\.ports .* is not a port from 1 to 65535"),
        ('ports = ["http"]', r"cdrom\.ports .* is not a port"),
        ("resolve_timeout = 60", r"cdrom\.resolve_timeout .* from 0\.1 to 30"),
        ("resolve_timeout = true", r"cdrom\.resolve_timeout"),
        ("fetch = true", r"cdrom\.fetch .* is not a Fleet setting"),
    ],
)
def test_a_bad_key_is_refused_by_name(tmp_path: Path, table: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        load(config_file(tmp_path, table))


def test_the_example_table_is_what_fleet_reads(tmp_path: Path) -> None:
    example = (Path(__file__).parents[2] / "fleet" / "conf" / "example.toml").read_text()
    section = example[example.index("# [cdrom]") : example.index("# --- Mail")]
    settings = [line[2:] for line in section.splitlines() if re.fullmatch(r"# (\[cdrom\]|\w+ = .+)", line)]
    assert {line.split(" = ")[0] for line in settings[1:]} == set(KEYS)
    cdrom = load(config_file(tmp_path, "\n".join(settings[1:]))).cdrom
    assert cdrom.hosts == ("isos.example.org", "*.mirror.example.org") and cdrom.ports == (80, 443)

"""Who may read /metrics: closed by default, a scrape from an allowed network, or one with the bearer token;
a bad [metrics] setting stops start-up naming it."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from fleet.conf.config import load
from fleet.conf.metrics import KEYS, MetricsConfig
from fleet.metrics import views
from tests.conf.test_config import GOOD

TOKEN = "t" * 40


def scrape(config: MetricsConfig, address: str = "192.0.2.7", **headers: str) -> int:
    """The status /metrics would answer a scrape from ``address`` with ``headers``."""
    request = RequestFactory().get("/metrics", REMOTE_ADDR=address, headers=headers)
    return 200 if views.allowed(request, config) else 403


def test_closed_by_default_with_a_hint(settings: object) -> None:
    settings.FLEET_METRICS = load(GOOD).metrics  # type: ignore[attr-defined]
    request = RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1")
    answer = views.metrics(request)
    assert answer.status_code == 403
    assert b"[metrics] token or allow_networks" in answer.content


def test_a_network_or_the_token_lets_a_scrape_in() -> None:
    nets = MetricsConfig(allow_networks=(ipaddress.ip_network("192.0.2.0/28"),))
    assert scrape(nets, "192.0.2.7") == 200
    assert scrape(nets, "192.0.2.77") == 403
    assert scrape(nets, "bogus") == 403
    token = MetricsConfig(token=TOKEN)
    assert scrape(token, Authorization=f"Bearer {TOKEN}") == 200
    assert scrape(token, Authorization=f"bearer {TOKEN}") == 200
    assert scrape(token, Authorization="Bearer " + "x" * 40) == 403
    assert scrape(token, Authorization=f"Basic {TOKEN}") == 403
    assert scrape(token) == 403
    both = MetricsConfig(token=TOKEN, allow_networks=nets.allow_networks)
    assert scrape(both, "192.0.2.7", Authorization="Bearer wrong") == 403  # a wrong token is refused


def test_settings_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text(f'[metrics]\ntoken = "{TOKEN}"\nallow_networks = ["10.1.2.0/24", "2001:db8::/64"]\n')
    config = load({**GOOD, "FLEET_CONFIG": str(path)}).metrics
    assert config.token == TOKEN and len(config.allow_networks) == 2
    config = load(GOOD | {"FLEET_METRICS_ALLOW_NETWORKS": "127.0.0.0/8,::1/128"}).metrics
    assert [str(n) for n in config.allow_networks] == ["127.0.0.0/8", "::1/128"]
    assert "t" * 40 not in repr(load({**GOOD, "FLEET_CONFIG": str(path)}))


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"FLEET_METRICS_TOKEN": "short"}, "FLEET_METRICS_TOKEN must be at least 32 characters"),
        ({"FLEET_METRICS_ALLOW_NETWORKS": "10.0.0.1/8"}, "FLEET_METRICS_ALLOW_NETWORKS: '10.0.0.1/8'"),
        ({"FLEET_METRICS_ALLOW_NETWORKS": "everyone"}, "is not a network"),
    ],
)
def test_a_bad_metrics_setting_is_refused_by_name(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message):
        load(GOOD | environ)


def test_a_misspelt_metrics_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text('[metrics]\ntokn = "x"\n')
    with pytest.raises(ImproperlyConfigured, match=r"metrics\.tokn"):
        load({**GOOD, "FLEET_CONFIG": str(path)})


def test_the_example_table_is_what_fleet_reads(tmp_path: Path) -> None:
    example = (Path(__file__).parents[2] / "fleet" / "conf" / "example.toml").read_text()
    section = example[example.index("# [metrics]") : example.index("# --- CD images")]
    settings = [line[2:] for line in section.splitlines() if re.fullmatch(r"# (\[metrics\]|\w+ = .+)", line)]
    assert {line.split(" = ")[0] for line in settings[1:]} == set(KEYS)
    path = tmp_path / "fleet.toml"
    path.write_text("\n".join(settings).replace('"..."', f'"{TOKEN}"') + "\n")
    config = load({**GOOD, "FLEET_CONFIG": str(path)}).metrics
    assert config.token == TOKEN and [str(n) for n in config.allow_networks] == ["192.0.2.10/32"]

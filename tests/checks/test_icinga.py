"""The shipped Icinga 2 configuration, validated by Debian's Icinga 2 (`icinga2 daemon -C`) in a config
directory of its own, laid out as docs/checks.md tells operators: the CheckCommands in the global-templates
zone (the Ganeti master's agent needs `fleet-watcher` too), the hosts and services in the master's zone."""

from __future__ import annotations

import getpass
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SHIPPED = Path(__file__).parents[2] / "deploy" / "icinga2"
CHECKS = ("cluster", "balance", "freemem", "ippool", "joblist", "nodes", "queue", "watcher")

MAIN = """
const NodeName = "icinga-master"
const ZoneName = "master"
object Endpoint NodeName { }
object Zone ZoneName { endpoints = [ NodeName ] }
object Endpoint "node1.cluster1.example.org" { }
object Zone "node1.cluster1.example.org" { endpoints = [ "node1.cluster1.example.org" ]; parent = ZoneName }
object Zone "global-templates" { global = true }
include <itl>
include_zones "fleet", "{zones}"
"""


def _validate(tmp_path: Path, extra: str = "") -> subprocess.CompletedProcess[str]:
    zones = tmp_path / "zones.d"
    (zones / "global-templates").mkdir(parents=True, exist_ok=True)
    (zones / "master").mkdir(exist_ok=True)
    shutil.copy(SHIPPED / "fleet-commands.conf", zones / "global-templates")
    shutil.copy(SHIPPED / "fleet-services.conf", zones / "master")
    (zones / "master" / "extra.conf").write_text(extra)
    main = tmp_path / "icinga2.conf"
    main.write_text(MAIN.replace("{zones}", str(zones)))
    cache = tmp_path / "cache"
    cache.mkdir(exist_ok=True)
    user = getpass.getuser()
    command = [
        "icinga2", "daemon", "-C", "-c", str(main), f"-DCacheDir={cache}",
        f"-DRunAsUser={user}", f"-DRunAsGroup={user}",
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(
    shutil.which("icinga2") is None, reason="Debian's icinga2 is not installed (scripts/bootstrap)"
)
def test_icinga2_accepts_the_shipped_configuration(tmp_path: Path) -> None:
    done = _validate(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Instantiated 7 Services" in done.stdout
    assert "Finished validating the configuration" in done.stdout
    commands = (SHIPPED / "fleet-commands.conf").read_text()
    for name in CHECKS:
        assert f'object CheckCommand "fleet-{name}"' in commands
        assert f"check_fleet_{name}" in commands
    # The validation is real: a service naming a command that does not exist is refused.
    bad = _validate(tmp_path, 'object Service "typo" { host_name = "cluster1.example.org"\n'
                              '  check_command = "fleet-freemen" }\n')  # fmt: skip
    assert bad.returncode != 0
    assert re.search(r"check_command.*fleet-freemen|fleet-freemen.*does not exist", bad.stdout), bad.stdout


def test_every_shipped_argument_is_an_option_of_its_check() -> None:
    """Icinga cannot know the checks' options: a misspelt one would fail only at check time, as UNKNOWN."""
    from fleet.checks import plugin
    from fleet.checks.registry import CHECKS

    text = (SHIPPED / "fleet-commands.conf").read_text()
    templates = {
        name: set(re.findall(r'"(-{1,2}[\w-]+)" \+?=', body))
        for name, body in re.findall(r'template CheckCommand "([\w-]+)" \{(.*?)\n\}', text, re.S)
    }
    for name, body in re.findall(r'object CheckCommand "fleet-(\w+)" \{(.*?)\n\}', text, re.S):
        parser = plugin.parser_for(CHECKS[name], f"check_fleet_{name}")
        known = {s for action in parser._actions for s in action.option_strings}
        shipped = set(re.findall(r'"(-{1,2}[\w-]+)" = ', body))
        for template in re.findall(r'import "([\w-]+)"', body):
            shipped |= templates[template]
            if template == "fleet-rapi-check":
                shipped |= templates["fleet-check"]
        assert shipped, name
        assert shipped <= known, (name, shipped - known)

"""The systemd units shipped in deploy/systemd pass `systemd-analyze verify`: known directives with valid
values, dependencies that resolve, and commands that exist once Fleet is installed where they expect it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).parents[2] / "deploy" / "systemd"
INSTALLED_VENV = "/opt/fleet/.venv"  # where the units expect Fleet's virtualenv
KNOWN_GOOD = "[Unit]\nDescription=probe\n\n[Service]\nType=exec\nExecStart=/bin/true\n"


def _verify(directory: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(directory / name) for name in names)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Skip (saying why) only when systemd-analyze is missing or cannot verify even a trivial unit here."""
    if shutil.which("systemd-analyze") is None:
        pytest.skip(
            "systemd-analyze is not installed (Debian's systemd package; scripts/bootstrap installs it)"
        )
    probe = tmp_path_factory.mktemp("probe")
    (probe / "probe.service").write_text(KNOWN_GOOD)
    result = _verify(probe, "probe.service")
    if result.returncode != 0 or result.stderr.strip():
        pytest.skip(f"systemd-analyze verify cannot run here: {result.stderr.strip()}")


def _installed_copy(tmp_path: Path) -> Path:
    """The units as they would be installed, with this test's virtualenv standing in for /opt/fleet's."""
    for unit in UNITS.iterdir():
        text = unit.read_text().replace(INSTALLED_VENV, sys.prefix)
        (tmp_path / unit.name).write_text(text)
    return tmp_path


def test_the_shipped_units_are_the_web_server_the_workers_their_target_and_the_node_agent() -> None:
    assert sorted(unit.name for unit in UNITS.iterdir()) == [
        "fleet-node-agent.service",
        "fleet-web.service",
        "fleet-worker@.service",
        "fleet.target",
    ]
    for unit in UNITS.glob("*.service"):
        assert f"ExecStart={INSTALLED_VENV}/bin/" in unit.read_text(), unit.name


def test_systemd_analyze_verifies_every_unit(verifier: None, tmp_path: Path) -> None:
    installed = _installed_copy(tmp_path)
    result = _verify(
        installed, "fleet-web.service", "fleet-worker@.service", "fleet.target", "fleet-node-agent.service"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr


@pytest.mark.parametrize(
    ("unit", "old", "new", "complaint"),
    [
        ("fleet-web.service", "Type=notify", "Type=notified", "Failed to parse service type"),
        ("fleet-worker@.service", "/bin/fleet worker", "/bin/fleet-missing worker", "is not executable"),
    ],
)
def test_a_broken_unit_is_reported(
    verifier: None, tmp_path: Path, unit: str, old: str, new: str, complaint: str
) -> None:
    installed = _installed_copy(tmp_path)
    path = installed / unit
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    assert complaint in _verify(installed, unit).stderr

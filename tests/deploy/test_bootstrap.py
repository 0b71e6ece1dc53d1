"""The README's first command installs what Fleet needs as root on a machine without sudo, and through sudo
for a user. A test must not install packages, so Debian's tools are stood in for by scripts on PATH that
record how they were called."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
STUB = '#!/bin/bash\necho "{name} $*" >> "$CALLS"\n{body}\n'


def _first_command() -> str:
    """What the README's first line runs before `make demo`."""
    block = (ROOT / "README.md").read_text().split("```sh\n", 1)[1].split("```", 1)[0]
    first = block.splitlines()[0].split("#", 1)[0]
    command, make_demo = (part.strip() for part in first.split("&&"))
    assert make_demo == "make demo"
    return command


def _run(tmp_path: Path, uid: int, *, sudo: bool, installed: bool = False) -> list[str]:
    """Run the first command with only the stand-ins on PATH; return the calls that changed the system."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stubs = {
        "id": f'[ "$1" = -u ] && echo {uid}',
        "dpkg": "exit 0" if installed else "exit 1",  # `dpkg -s PACKAGE`: installed or not
        "apt-get": "exit 0",
    }
    if sudo:
        stubs["sudo"] = 'exec "$@"'
    if installed:  # npm is looked for on PATH: a Node.js from elsewhere may bring its own
        stubs["npm"] = "exit 0"
    for name, body in stubs.items():
        (bin_dir / name).write_text(STUB.format(name=name, body=body))
        (bin_dir / name).chmod(0o755)
    (bin_dir / "bash").symlink_to("/bin/bash")
    calls = tmp_path / "calls"
    calls.touch()
    result = subprocess.run(
        ["/bin/bash", "-c", _first_command()],
        cwd=ROOT, env={"PATH": str(bin_dir), "CALLS": str(calls), "HOME": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [line for line in calls.read_text().splitlines() if not line.startswith(("id ", "dpkg "))]


def test_as_root_without_sudo_it_runs_apt_get_itself(tmp_path: Path) -> None:
    calls = _run(tmp_path, 0, sudo=False)
    assert calls[0] == "apt-get update -qq"
    assert calls[1].startswith("apt-get install -y -qq --no-install-recommends make python3-venv ")
    assert "systemd" in calls[1].split() and len(calls) == 2


def test_as_a_user_it_runs_apt_get_through_sudo(tmp_path: Path) -> None:
    calls = _run(tmp_path, 1000, sudo=True)
    assert calls[0] == "sudo apt-get update -qq"
    assert calls[1] == "apt-get update -qq"  # what sudo then ran
    assert calls[2].startswith("sudo apt-get install -y -qq --no-install-recommends make ")


@pytest.mark.parametrize("uid", [0, 1000])
def test_nothing_is_installed_when_everything_is_there(tmp_path: Path, uid: int) -> None:
    assert _run(tmp_path, uid, sudo=uid != 0, installed=True) == []

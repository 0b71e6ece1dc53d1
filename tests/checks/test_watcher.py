"""The master-local check against a Ganeti data directory laid out as Ganeti lays it out (real files in a
temporary directory): the watcher pause file, the queue drain flag, the watcher's per-group state files, and
`gnt-cluster verify --error-codes` output in Ganeti's format from a stand-in command."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.checks.conftest import run_check

GROUP_UUID = "8ea56ce6-0140-4c3e-8a0c-9ca2ccb229b6"
HOUR = 3600


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """/var/lib/ganeti of a master whose watcher ran a minute ago, neither paused nor drained."""
    data = tmp_path / "ganeti"
    (data / "queue").mkdir(parents=True)
    (data / "queue" / "serial").write_text("42\n")
    state = data / f"watcher.{GROUP_UUID}.data"
    state.write_text('{"instance": {}, "node": {}}')
    _age(state, 60)
    (data / "ssconf_master_node").write_text("node1.example.test\n")
    return data


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_paused_watcher_and_drained_queue(data_dir: Path) -> None:
    args = ["--data-dir", str(data_dir)]
    outcome = run_check("watcher", *args)
    assert outcome.state == "OK", outcome
    assert "watcher ran 6" in outcome.line  # a minute ago

    # `gnt-cluster watcher pause 1h` writes the end of the pause as a Unix time.
    pause = data_dir / "watcher.pause"
    pause.write_text(f"{time.time() + HOUR:.0f}\n")
    outcome = run_check("watcher", *args)
    assert outcome.state == "WARNING", outcome
    assert "watcher paused (until " in outcome.line
    assert 3500 < int(outcome.perfdata["paused_remaining"].rstrip("s")) <= HOUR
    # ... paused two days ago and still paused: CRITICAL
    _age(pause, 48 * HOUR)
    assert run_check("watcher", *args).state == "CRITICAL"
    # a pause that has ended is no pause
    pause.write_text(f"{time.time() - 10:.0f}\n")
    assert run_check("watcher", *args).state == "OK"

    # `gnt-cluster queue drain` creates queue/drain
    drain = data_dir / "queue" / "drain"
    drain.touch()
    outcome = run_check("watcher", *args)
    assert outcome.state == "WARNING" and "queue drained" in outcome.line, outcome
    _age(drain, 2 * HOUR)
    outcome = run_check("watcher", *args)
    assert outcome.state == "CRITICAL" and "queue drained for 720" in outcome.line, outcome


def test_the_watcher_stopped_running(data_dir: Path) -> None:
    state = next(data_dir.glob("watcher.*.data"))
    _age(state, 2 * HOUR)
    args = ["--data-dir", str(data_dir)]
    outcome = run_check("watcher", *args)
    assert outcome.state == "CRITICAL" and "watcher last ran 720" in outcome.line, outcome
    state.unlink()
    assert "never run" in run_check("watcher", *args).line
    assert run_check("watcher", *args, "--skip-age").state == "OK"


def test_verify_findings(data_dir: Path, tmp_path: Path) -> None:
    gnt = tmp_path / "gnt-cluster"
    # What `gnt-cluster verify --error-codes` prints: a time stamp, then `- LEVEL:ECODE:TYPE:ITEM:MESSAGE`.
    gnt.write_text(
        "#!/bin/sh\n"
        "echo 'Wed Dec  2 12:00:00 2026 * Verifying cluster config'\n"
        "echo 'Wed Dec  2 12:00:01 2026   - ERROR:ENODEN1:node:node2.example.test:not enough memory to"
        " accomodate instance failovers should node node1.example.test fail'\n"
        '[ -n "$WITH_ERROR" ] && echo \'Wed Dec  2 12:00:02 2026   - ERROR:ENODELVM:node:node3.example.test:'
        "unable to check volume groups'\n"
        "exit 1\n"
    )
    gnt.chmod(0o755)
    args = ["--data-dir", str(data_dir), "--verify", "--gnt-cluster", str(gnt)]
    outcome = run_check("watcher", *args)
    assert outcome.state == "WARNING", outcome  # N+1 is the freemem check's to judge: a warning here
    assert "verify: ERROR ENODEN1 node2.example.test: not enough memory" in outcome.line
    os.environ["WITH_ERROR"] = "1"
    try:
        outcome = run_check("watcher", *args)
    finally:
        del os.environ["WITH_ERROR"]
    assert outcome.state == "CRITICAL", outcome
    assert outcome.perfdata["verify_errors"] == "1" and outcome.perfdata["verify_warnings"] == "1"


def test_unreadable_master_state_is_unknown(data_dir: Path, tmp_path: Path) -> None:
    outcome = run_check("watcher", "--data-dir", str(tmp_path / "nowhere"))
    assert outcome.state == "UNKNOWN" and "no Ganeti data directory" in outcome.line, outcome
    (data_dir / "watcher.pause").write_text("soon\n")
    outcome = run_check("watcher", "--data-dir", str(data_dir))
    assert outcome.state == "UNKNOWN" and "does not hold a Unix time" in outcome.line, outcome

"""The checks against the real Ganeti 3.0 cluster that tests/conformance/real_ganeti.sh brings up (only with
FLEET_REAL_GANETI=1, as root): the RAPI checks read it from this host; the master-local check runs inside the
master's container (`real_ganeti.sh gnt CMD`), where /var/lib/ganeti is the master's own, while the test
pauses the watcher and drains the queue with Ganeti's own commands, then undoes both."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checks.conftest import BIN, STATES, Outcome, credentials_file, rapi_args, run_check
from tests.conftest import REAL_GANETI_SH
from tests.targets import RapiTarget

pytestmark = pytest.mark.real_ganeti


def gnt(*command: str) -> subprocess.CompletedProcess[str]:
    """Run a command on the real cluster's master node."""
    return subprocess.run(
        [str(REAL_GANETI_SH), "gnt", *command], capture_output=True, text=True, timeout=300, check=False
    )


def on_master(*args: str) -> Outcome:
    """Run check_fleet_watcher on the master (its state files age with no cron there: --skip-age)."""
    done = gnt(str(BIN / "check_fleet_watcher"), "--skip-age", *args)
    outcome = Outcome(done.returncode, done.stdout, done.stderr)
    assert outcome.line.startswith(f"GANETI_WATCHER {STATES.get(done.returncode)}"), outcome
    return outcome


@pytest.fixture
def restored() -> Iterator[None]:
    """Whatever the test does, the watcher runs again and the queue accepts jobs afterwards."""
    yield
    gnt("gnt-cluster", "watcher", "continue")
    # Ganeti 3.0.2's luxid fails to remove a drain file that is not there and never answers the client, so
    # the queue is undrained only if it is still drained.
    if "flag is set" in gnt("gnt-cluster", "queue", "info").stdout:
        gnt("gnt-cluster", "queue", "undrain")


def test_rapi_checks_read_the_real_cluster(real_ganeti: RapiTarget, tmp_path: Path) -> None:
    args = rapi_args(real_ganeti, credentials_file(tmp_path, real_ganeti))
    for name in ("cluster", "balance", "freemem", "ippool", "joblist", "nodes", "queue"):
        outcome = run_check(name, *args)
        assert outcome.state != "UNKNOWN", outcome
    assert run_check("cluster", *args).state == "OK"
    wrong = credentials_file(tmp_path, real_ganeti, password="wrong")
    outcome = run_check("nodes", *rapi_args(real_ganeti, wrong))
    assert outcome.state == "UNKNOWN" and "refused the credentials (401)" in outcome.line, outcome


def test_watcher_paused_and_queue_drained_on_the_real_master(real_ganeti: RapiTarget, restored: None) -> None:
    assert on_master().state == "OK"

    paused = gnt("gnt-cluster", "watcher", "pause", "1h")
    assert paused.returncode == 0, paused.stderr
    outcome = on_master()
    assert outcome.state == "WARNING" and "watcher paused" in outcome.line, outcome
    assert int(outcome.perfdata["paused_remaining"].rstrip("s")) > 3000

    drained = gnt("gnt-cluster", "queue", "drain")
    assert drained.returncode == 0, drained.stderr
    outcome = on_master()
    assert outcome.state == "WARNING" and "queue drained" in outcome.line, outcome
    time.sleep(1.5)
    outcome = on_master("--drained-critical", "0")
    assert outcome.state == "CRITICAL" and "queue drained for" in outcome.line, outcome

    assert gnt("gnt-cluster", "watcher", "continue").returncode == 0
    assert gnt("gnt-cluster", "queue", "undrain").returncode == 0
    assert on_master().state == "OK"


def test_verify_on_the_real_master(real_ganeti: RapiTarget) -> None:
    outcome = on_master("--verify", "-t", "120")
    assert outcome.state != "UNKNOWN", outcome
    assert "verify_errors" in outcome.perfdata and "verify_warnings" in outcome.perfdata

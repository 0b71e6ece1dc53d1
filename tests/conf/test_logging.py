"""What an operator reads in the worker's log: a line per pass and cluster at INFO, each RAPI request only at
DEBUG, and the levels set in the configuration."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.sync.conftest import FLEET, Fleet
from tests.targets import RapiTarget


def _worker_once(fleet: Fleet, **environ: str) -> list[str]:
    done = subprocess.run(
        [*FLEET, "worker", "--once", "--verbose"],
        env=fleet.env | environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stderr.splitlines()


def test_the_worker_logs_passes_at_info_and_requests_only_at_debug(
    simulator: list[RapiTarget], tmp_path: Path
) -> None:
    fleet = Fleet(f"sqlite:///{tmp_path / 'fleet.sqlite3'}", tmp_path)
    fleet.run("manage", "migrate", "-v", "0")
    fleet.add_clusters(simulator)

    lines = _worker_once(fleet)
    for target in simulator:
        assert any(f" INFO fleet.sync: {target.name}: synced" in line for line in lines), lines
    assert not [line for line in lines if "httpx" in line or "fleet.rapi" in line or "DEBUG" in line], lines

    lines = _worker_once(fleet, FLEET_LOG_LEVELS="fleet.rapi=DEBUG")
    requests = [line for line in lines if " DEBUG fleet.rapi: " in line]
    for target in simulator:  # named by the cluster's name once the worker passes it, else by its address
        named = (f"fleet.rapi: {target.name}: ", f"fleet.rapi: {target.host}:{target.port}: ")
        queries = [line.split(" DEBUG ")[1] for line in requests if "PUT /2/query/instance 200 in " in line]
        assert any(line.startswith(named) for line in queries), requests
    assert not [line for line in lines if "httpx" in line], lines

    quiet = _worker_once(fleet, FLEET_LOG_LEVEL="WARNING")
    assert not [line for line in quiet if " INFO " in line], quiet

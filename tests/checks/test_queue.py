"""The queue check against a cluster whose queue holds a year of unarchived jobs: more than 80 % of Ganeti's
limit of 5,000."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.checks.conftest import credentials_file, rapi_args, run_check
from tests.conftest import Simulated, start_simulated

YEAR = str(400 * 86400)


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulated]:
    """One cluster of 300 instances with 350 days of history (a job a day per 25 VMs) never archived."""
    sim = start_simulated(
        tmp_path_factory.mktemp("checks-queue"),
        "--clusters", "1", "--instances", "300", "--history", "350", "--archive-age", YEAR,
    )  # fmt: skip
    try:
        yield sim
    finally:
        sim.stop()


def test_a_queue_near_ganetis_limit(crowded: Simulated, tmp_path_factory: pytest.TempPathFactory) -> None:
    target = crowded.targets[0]
    args = rapi_args(target, credentials_file(tmp_path_factory.mktemp("queue-creds"), target))
    outcome = run_check("queue", *args)
    total = int(outcome.perfdata["jobs_total"])
    assert total > 4000, outcome
    assert outcome.state == "CRITICAL", outcome
    assert f"{total} unarchived jobs, near Ganeti's limit 5000" in outcome.line
    assert f"jobs_total={total};3000;4000;0;5000" in outcome.line
    assert run_check("queue", *args, "-c", "4900").state == "WARNING"

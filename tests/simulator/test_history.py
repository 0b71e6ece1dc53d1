"""A generated cluster starts with days of past jobs in its queue: final, with logs and durations, some
failed, the old ones archived; new jobs are numbered after them. Read with the official shapes of query2."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from fleet.rapi import Credentials, Pin, RapiClient, instances, jobs, query
from fleet.simulator import history
from fleet.simulator.generate import generate, profile
from tests.conftest import Simulated

FIELDS = ["id", "status", "ops", "summary", "oplog", "start_ts", "end_ts", "archived"]


def test_a_grnet_cluster_has_days_of_jobs_and_new_ones_come_after(
    fresh_simulator: Callable[..., Simulated],
) -> None:
    sim = fresh_simulator("--profile", "grnet", "--clusters", "1", "--instances", "800")
    target = sim.targets[0]
    with RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    ) as client:
        rows = [
            dict(zip(FIELDS, (v for _, v in row), strict=True))
            for row in client.call(query.get("job", FIELDS)).rows
        ]
        assert len(rows) >= 20
        assert [row["id"] for row in rows] == list(range(1, len(rows) + 1))
        assert {row["status"] for row in rows} <= {"success", "error"}
        assert "error" in {row["status"] for row in rows}
        now = time.time()
        spans = [row["end_ts"][0] - row["start_ts"][0] for row in rows]
        assert all(0 <= span < 3600 for span in spans)
        assert max(now - row["end_ts"][0] for row in rows) > 86_400  # more than a day of it
        kinds = {op["OP_ID"] for row in rows for op in row["ops"]}
        logged = {row["ops"][0]["OP_ID"] for row in rows if row["oplog"][0]}
        assert logged == {"OP_INSTANCE_CREATE", "OP_INSTANCE_GROW_DISK", "OP_INSTANCE_MIGRATE"}, logged
        assert {"OP_INSTANCE_MIGRATE", "OP_INSTANCE_CREATE", "OP_CLUSTER_VERIFY"} <= kinds
        old = [row for row in rows if now - row["end_ts"][0] > 6 * 3600]
        assert old and all(row["archived"] for row in old)
        listed = set(client.call(jobs.list()))
        assert listed == {row["id"] for row in rows if not row["archived"]}

        name = client.call(query.get("instance", ["name"])).rows[0][0][1]
        job_id = client.call(instances.add_tags(name, ["after:history"]))
        assert job_id == len(rows) + 1
        assert client.wait_for_job(job_id).status == "success"


def test_the_tiny_profile_starts_with_an_empty_queue(fresh_simulator: Callable[..., Simulated]) -> None:
    target = fresh_simulator().targets[0]
    with RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    ) as client:
        assert client.call(query.get("job", ["id"])).rows == []


def test_the_seeded_jobs_take_as_long_as_ganetis_do() -> None:
    """Per opcode, the run times a manager's job-duration figures show: a creation in minutes, a cluster
    verify and a live migration in tens of seconds, a tag change in under a second; most jobs start at once,
    some wait for another job's locks."""
    cluster = generate(profile("grnet", 7), 7)[0]
    jobs = history.seed_history(cluster, random.Random("durations"), 6 * 3600, 30.0)
    runs: dict[str, list[float]] = {}
    waits = []
    for row in jobs:
        received, start, end = (row[k][0] + row[k][1] / 1e6 for k in ("received_ts", "start_ts", "end_ts"))
        runs.setdefault(row["ops"][0]["OP_ID"], []).append(end - start)
        waits.append(start - received)
    median = {op: statistics.median(values) for op, values in runs.items()}
    assert 60 <= median["OP_INSTANCE_CREATE"] <= 600
    assert 10 <= median["OP_CLUSTER_VERIFY"] <= 120
    assert 10 <= median["OP_INSTANCE_MIGRATE"] <= 120
    assert median["OP_TAGS_SET"] < 2
    assert median["OP_INSTANCE_STARTUP"] < median["OP_INSTANCE_MIGRATE"] < median["OP_INSTANCE_CREATE"]
    assert statistics.median(waits) < 2 and max(waits) > 30

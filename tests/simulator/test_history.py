"""A generated cluster starts with days of past jobs in its queue: final, with logs and durations, some
failed, the old ones archived; new jobs are numbered after them. Read with the official shapes of query2."""

from __future__ import annotations

import time
from collections.abc import Callable

from fleet.rapi import Credentials, Pin, RapiClient, instances, jobs, query
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

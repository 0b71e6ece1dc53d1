"""Several `fleet worker` processes on PostgreSQL share the clusters through advisory-lock leases: each
cluster is synced by exactly one worker at a time, the clusters spread over the workers, and the clusters of
a worker killed with SIGKILL are taken over by another within a lease period."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from fleet.sync.leases import CLUSTER_NAMESPACE
from tests.conftest import Simulated
from tests.sync.conftest import Fleet

pytestmark = pytest.mark.skipif(
    not os.environ.get("FLEET_DATABASE_URL", "").startswith("postgres"),
    reason="leases between several workers need PostgreSQL (set FLEET_DATABASE_URL=postgresql://...); "
    "on SQLite a single worker runs by design",
)

CLUSTERS = 6
LEASE = 2.0  # seconds: the workers' --lease-period
SLACK = 2.0  # seconds allowed beyond a lease period for a claim round to run and its log line to appear

_LINE = re.compile(r"^(\S+ \S+) INFO fleet\.sync: \S+: (syncing|stopped syncing) \(cluster (\d+)\)$")


def leases(database_url: str) -> dict[int, set[int]]:
    """Cluster id -> the PostgreSQL backends holding its lease, as pg_locks shows them."""
    with psycopg.connect(database_url, autocommit=True) as db:
        rows = db.execute(
            "SELECT objid, pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::oid "
            "AND objsubid = 2 AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [CLUSTER_NAMESPACE],
        ).fetchall()
    out: dict[int, set[int]] = {}
    for cluster_id, pid in rows:
        out.setdefault(int(cluster_id), set()).add(int(pid))
    return out


def intervals(log: Path, end: dt.datetime) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
    """When the worker writing ``log`` synced each cluster, from its "syncing" and "stopped syncing" lines;
    a cluster it still syncs is open until ``end``."""
    out: dict[int, list[tuple[dt.datetime, dt.datetime]]] = {}
    started: dict[int, dt.datetime] = {}
    for line in log.read_text().splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        at = dt.datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f")
        cluster_id = int(match[3])
        if match[2] == "syncing":
            assert cluster_id not in started, f"cluster {cluster_id} started twice in {log.name}"
            started[cluster_id] = at
        else:
            out.setdefault(cluster_id, []).append((started.pop(cluster_id), at))
    for cluster_id, at in started.items():
        out.setdefault(cluster_id, []).append((at, end))
    return out


def syncing(log: Path) -> set[int]:
    """The clusters the worker writing ``log`` syncs now."""
    now = dt.datetime.now() + dt.timedelta(days=1)
    return {cid for cid, spans in intervals(log, now).items() if spans[-1][1] == now}


def last_synced(database_url: str) -> dict[int, dt.datetime | None]:
    with psycopg.connect(database_url, autocommit=True) as db:
        return dict(db.execute("SELECT id, last_sync_at FROM inventory_cluster").fetchall())


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` until it holds; return the seconds it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"timed out waiting until {what}"
        time.sleep(0.1)
    return time.monotonic() - started


def test_two_workers_share_the_clusters_and_take_over_from_a_killed_one(
    fresh_simulator: Callable[..., Simulated], database_url: str, tmp_path: Path
) -> None:
    sim = fresh_simulator("--clusters", str(CLUSTERS))
    fleet = Fleet(database_url, tmp_path)
    fleet.add_clusters(sim.targets)
    cluster_ids = set(last_synced(database_url))
    assert len(cluster_ids) == CLUSTERS

    logs = [tmp_path / "worker1.log", tmp_path / "worker2.log"]
    args = ("worker", "--interval", "1", "--lease-period", str(LEASE))
    workers = [fleet.start(log, *args) for log in logs]
    try:

        def balanced() -> bool:
            held = leases(database_url)
            mine = [syncing(log) for log in logs]
            return (
                held.keys() == cluster_ids
                and all(len(pids) == 1 for pids in held.values())
                and [len(m) for m in mine] == [CLUSTERS // 2, CLUSTERS // 2]
                and mine[0] | mine[1] == cluster_ids
            )

        wait_until(balanced, 10 * LEASE, "each worker holds half of the clusters")
        # The leases as PostgreSQL holds them are the clusters each worker's loops sync: one backend each.
        held = leases(database_url)
        by_backend: dict[int, set[int]] = {}
        for cluster_id, pids in held.items():
            by_backend.setdefault(next(iter(pids)), set()).add(cluster_id)
        assert sorted(map(sorted, by_backend.values())) == sorted(sorted(syncing(log)) for log in logs)
        wait_until(
            lambda: all(at is not None for at in last_synced(database_url).values()),
            10 * LEASE,
            "every cluster was synced",
        )

        victim_clusters = syncing(logs[0])
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait()
        killed_at, killed_local = dt.datetime.now(dt.UTC), dt.datetime.now()
        took = wait_until(
            lambda: syncing(logs[1]) == cluster_ids, LEASE + SLACK, "the survivor syncs every cluster"
        )
        assert took <= LEASE + SLACK
        wait_until(
            lambda: (
                set(leases(database_url)) == cluster_ids
                and len(set().union(*leases(database_url).values())) == 1
            ),
            SLACK,
            "one backend holds every lease",
        )
        wait_until(
            lambda: all(
                (at := last_synced(database_url)[cid]) is not None and at > killed_at
                for cid in victim_clusters
            ),
            LEASE + SLACK,
            "the survivor synced the killed worker's clusters",
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=30)
    assert workers[1].returncode == 0, logs[1].read_text()

    # Never two workers on one cluster at once: per cluster, the spans of the two workers do not overlap.
    spans = [intervals(logs[0], killed_local), intervals(logs[1], dt.datetime.now())]
    for cluster_id in cluster_ids:
        for first_start, first_end in spans[0].get(cluster_id, []):
            for second_start, second_end in spans[1].get(cluster_id, []):
                assert first_end <= second_start or second_end <= first_start, (
                    f"cluster {cluster_id} synced by both workers: {(first_start, first_end)} and "
                    f"{(second_start, second_end)}"
                )

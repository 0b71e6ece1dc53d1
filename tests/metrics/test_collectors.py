"""The collectors' figures on rows made for the purpose: capacity summed per group and cluster, an offline
node without made-up zeros, IP pool usage, job counts and ages, the histograms' buckets at their bounds, and
a scrape's number of SQL statements, which does not grow with the fleet."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from fleet.inventory.models import Network, NodeGroup, NodeRole
from fleet.jobs.models import Job, JobStatus
from fleet.metrics.collector import registry
from tests.inventory import factories

pytestmark = pytest.mark.django_db
MIB = 1024 * 1024
NOW = dt.datetime.now(dt.UTC)  # set again by each world(): the ages asserted are measured from it


def scrape() -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    out: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry()).decode()):
        for sample in family.samples:
            out.setdefault(sample.name, {})[frozenset(sample.labels.items())] = sample.value
    return out


def one(found: dict[str, dict[frozenset[tuple[str, str]], float]], name: str, **labels: str) -> float:
    return found[name][frozenset(labels.items())]


def job(cluster: object, job_id: int, op: str, status: str, **seconds: float) -> Job:
    """A job received at NOW - ``ago``, started ``wait`` later, and run for ``run``."""
    received = NOW - dt.timedelta(seconds=seconds.get("ago", 7200))
    started = received + dt.timedelta(seconds=seconds["wait"]) if "wait" in seconds else None
    ended = started + dt.timedelta(seconds=seconds["run"]) if started and "run" in seconds else None
    return Job.objects.create(
        cluster=cluster, job_id=job_id, op_ids=[op], status=status,
        received_at=received, started_at=started, ended_at=ended,
    )  # fmt: skip


def world(copies: int = 1, start: int = 0) -> None:
    global NOW
    if start == 0:
        NOW = dt.datetime.now(dt.UTC)
    for n in range(start, start + copies):
        c = factories.cluster(f"c{n}.example.org", last_sync_at=NOW - dt.timedelta(seconds=30))
        group = NodeGroup.objects.create(cluster=c, name="default")
        big = factories.node(c, f"n1.c{n}", group=group, memory_total=65536, memory_free=16384,
                             disk_total=1000, disk_free=400, cpu_total=16, role=NodeRole.MASTER)  # fmt: skip
        factories.node(c, f"n2.c{n}", group=group, memory_total=32768, memory_free=30720, disk_total=500,
                       disk_free=500, cpu_total=8)  # fmt: skip
        factories.node(c, f"n3.c{n}", group=group, role=NodeRole.OFFLINE, offline=True)  # no live data
        for i in range(3):
            factories.instance(c, f"vm{i}.c{n}", primary_node=big, memory=4096, vcpus=2)
        factories.instance(c, f"down.c{n}", primary_node=big, status="ADMIN_down", memory=2048, vcpus=4)
        Network.objects.create(
            cluster=c, name="public", network="192.0.2.0/24", free_count=200, reserved_count=3
        )
        job(c, 1, "OP_INSTANCE_CREATE", JobStatus.SUCCESS, wait=0.5, run=60)  # on the 60 s bound
        job(c, 2, "OP_INSTANCE_CREATE", JobStatus.SUCCESS, wait=40, run=61)
        job(c, 3, "OP_INSTANCE_CREATE", JobStatus.ERROR, wait=1, run=5000)  # past the last bucket
        job(c, 4, "OP_CLUSTER_VERIFY", JobStatus.RUNNING, ago=600, wait=100)  # runs for 500 s
        job(c, 5, "OP_INSTANCE_REBOOT", JobStatus.QUEUED, ago=300)  # waits for 300 s


def test_capacity_counts_and_pools() -> None:
    world()
    found = scrape()
    node = {"cluster": "c0.example.org", "group": "default", "node": "n1.c0"}
    assert one(found, "fleet_node_memory_size_bytes", **node) == 65536 * MIB
    assert one(found, "fleet_node_memory_used_bytes", **node) == 49152 * MIB
    assert one(found, "fleet_node_memory_instances_bytes", **node) == (3 * 4096 + 2048) * MIB
    assert one(found, "fleet_node_vcpus_used", **node) == 10
    assert one(found, "fleet_node_vcpus_free", **node) == 6
    assert one(found, "fleet_node_role", **node, role="master") == 1
    offline = {"cluster": "c0.example.org", "group": "default", "node": "n3.c0"}
    assert frozenset(offline.items()) not in found["fleet_node_memory_free_bytes"]  # no made-up zero
    assert one(found, "fleet_node_role", **offline, role="offline") == 1
    group = {"cluster": "c0.example.org", "group": "default"}
    assert one(found, "fleet_node_group_memory_free_bytes", **group) == (16384 + 30720) * MIB
    assert one(found, "fleet_node_group_disk_used_bytes", **group) == 600 * MIB
    assert one(found, "fleet_node_group_nodes", **group, role="offline") == 1
    assert one(found, "fleet_cluster_vcpus", cluster="c0.example.org") == 24
    assert one(found, "fleet_cluster_instances", cluster="c0.example.org", status="running") == 3
    assert one(found, "fleet_cluster_instances", cluster="c0.example.org", status="ADMIN_down") == 1
    assert one(found, "fleet_cluster_instances", cluster="c0.example.org", status="ERROR_down") == 0
    pool = {"cluster": "c0.example.org", "network": "public"}
    assert one(found, "fleet_network_addresses", **pool) == 256
    assert one(found, "fleet_network_addresses_used", **pool) == 53
    assert one(found, "fleet_network_groups", **pool) == 0
    assert 30 <= one(found, "fleet_sync_lag_seconds", cluster="c0.example.org") < 90


def test_jobs_and_their_durations() -> None:
    world()
    found = scrape()
    c = {"cluster": "c0.example.org"}
    assert one(found, "fleet_ganeti_jobs", **c, status="running") == 1
    assert one(found, "fleet_ganeti_jobs", **c, status="queued") == 1
    assert one(found, "fleet_ganeti_jobs_finished_total", **c, status="success") == 2
    assert one(found, "fleet_ganeti_jobs_finished_total", **c, status="error") == 1
    assert 500 <= one(found, "fleet_ganeti_job_oldest_running_age_seconds", **c) < 560
    assert 300 <= one(found, "fleet_ganeti_job_oldest_waiting_age_seconds", **c) < 360
    create = {**c, "opcode": "OP_INSTANCE_CREATE"}
    run = {
        le: one(found, "fleet_ganeti_job_run_seconds_bucket", **create, le=le)
        for le in ("60.0", "120.0", "3600.0", "+Inf")
    }
    assert run == {"60.0": 1, "120.0": 2, "3600.0": 2, "+Inf": 3}
    assert one(found, "fleet_ganeti_job_run_seconds_count", **create) == 3
    assert one(found, "fleet_ganeti_job_run_seconds_sum", **create) == pytest.approx(5121)
    # the running verify has waited but not ended: in the wait histogram, not the run one
    verify = {**c, "opcode": "OP_CLUSTER_VERIFY"}
    assert one(found, "fleet_ganeti_job_queue_wait_seconds_count", **verify) == 1
    assert frozenset(verify.items()) not in found["fleet_ganeti_job_run_seconds_count"]
    assert one(found, "fleet_ganeti_job_queue_wait_seconds_bucket", **create, le="0.5") == 1
    assert one(found, "fleet_ganeti_job_queue_wait_seconds_bucket", **create, le="30.0") == 2


def test_a_scrape_costs_the_same_statements_whatever_the_fleet_size() -> None:
    world(1)
    with CaptureQueriesContext(connection) as small:
        scrape()
    world(4, start=1)  # five times the clusters, nodes, instances, networks and jobs
    with CaptureQueriesContext(connection) as large:
        found = scrape()
    assert len(found["fleet_cluster_up"]) == 5
    # eight SELECTs (clusters, outbox, nodes, instances per node and status, networks, jobs, two
    # histograms) and the transaction's savepoint and its release
    assert len(large.captured_queries) == len(small.captured_queries) <= 10

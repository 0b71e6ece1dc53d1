"""Full passes against the simulator over real HTTPS: exact counts, no writes at rest, outside changes seen,
vanished instances removed."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fleet.inventory.models import Cluster, Instance, Network, Nic, Node, NodeGroup
from fleet.jobs.models import Job
from fleet.rapi import Credentials, Pin, RapiClient, instances, nodes, qfilter, query
from fleet.rapi.fields import SHOWN_HVPARAMS
from fleet.sync import bulk, collector, rows, snapshot
from fleet.sync.connect import Connection
from fleet.sync.fetch import fetch_full
from fleet.sync.rows import Record
from fleet.sync.worker import ANALYZE_AFTER
from tests.conftest import Simulated
from tests.sync.conftest import register, run_once, simulator_counts

pytestmark = pytest.mark.django_db(transaction=True)


def rapi(sim: Simulated, index: int = 0) -> RapiClient:
    target = sim.targets[index]
    return RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    )


@pytest.fixture
def sim(fresh_simulator: Callable[..., Simulated]) -> Simulated:
    simulated = fresh_simulator()
    for target in simulated.targets:
        register(target)
    return simulated


@pytest.fixture
def writes() -> Iterator[list[str]]:
    """Every INSERT, UPDATE and DELETE run on any connection opened while the test runs."""
    seen: list[str] = []

    def record(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if sql.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(sql)
        return execute(sql, params, many, context)

    def on_connect(sender, connection, **kwargs):  # type: ignore[no-untyped-def]
        connection.execute_wrappers.append(record)

    connection_created.connect(on_connect)
    try:
        yield seen
    finally:
        connection_created.disconnect(on_connect)


def test_full_sync_creates_what_the_clusters_report(sim: Simulated) -> None:
    run_once()
    expected = simulator_counts(sim.control_url)
    for index, target in enumerate(sim.targets):
        cluster = Cluster.objects.get(name=target.name)
        assert cluster.health == "healthy", cluster.last_error
        with rapi(sim, index) as client:
            nodes = len(client.call(query.get("node", ["name"])).rows)
            groups = len(client.call(query.get("group", ["name"])).rows)
            networks = len(client.call(query.get("network", ["name"])).rows)
            nics = sum(len(r[0][1]) for r in client.call(query.get("instance", ["nic.macs"])).rows)
        assert Instance.objects.filter(cluster=cluster).count() == expected[target.name]
        assert Node.objects.filter(cluster=cluster).count() == nodes
        assert NodeGroup.objects.filter(cluster=cluster).count() == groups
        assert Network.objects.filter(cluster=cluster).count() == networks
        assert Nic.objects.filter(instance__cluster=cluster).count() == nics
        assert cluster.last_sync_stats["seen"]["instances"] == expected[target.name]
        assert Instance.objects.filter(cluster=cluster, primary_node__isnull=True).count() == 0


def test_resync_with_nothing_changed_writes_no_row(sim: Simulated, writes: list[str]) -> None:
    run_once()
    assert any(sql.startswith("INSERT") for sql in writes)
    writes.clear()
    run_once()
    # The only writes of a pass at rest are the clusters' health records: one UPDATE each.
    assert len(writes) == len(sim.targets), writes
    assert all(sql.startswith('UPDATE "inventory_cluster" SET "health"') for sql in writes), writes


def test_applying_an_unchanged_snapshot_runs_no_write_statement(sim: Simulated) -> None:
    run_once()
    cluster = Cluster.objects.get(name=sim.targets[0].name)

    connection_settings = Connection.of(cluster)

    async def fetch() -> snapshot.Snapshot:
        async with connection_settings.async_client() as client:
            fetched = await fetch_full(client)
        return fetched.parse()

    snap = asyncio.run(fetch())
    with CaptureQueriesContext(connection) as queries:
        stats = snapshot.apply(cluster.pk, snap, cluster.last_sync_at)
    statements = [q["sql"].split(None, 1)[0].upper() for q in queries.captured_queries]
    assert stats.writes == 0
    assert not {"INSERT", "UPDATE", "DELETE"} & set(statements), statements


def test_a_full_pass_keeps_an_instance_a_job_resync_wrote_after_the_pass_began_reading(
    sim: Simulated,
) -> None:
    """A job that creates an instance ends while a full pass runs: the pass's answers lack the instance, but
    the row its resync wrote meanwhile stays; without that resync, the pass removes a vanished row."""
    run_once()
    cluster = Cluster.objects.get(name=sim.targets[0].name)
    connection_settings = Connection.of(cluster)

    async def fetch() -> snapshot.Snapshot:
        async with connection_settings.async_client() as client:
            fetched = await fetch_full(client, markers=False)
        return fetched.parse()

    read_from = timezone.now()
    full = asyncio.run(fetch())
    newcomer = Instance.objects.filter(cluster=cluster).order_by("name").first()
    assert newcomer is not None
    Instance.objects.filter(pk=newcomer.pk).update(synced_at=timezone.now())  # as the job's resync writes it
    lacking = replace(full, instances=[r for r in full.instances if r["name"] != newcomer.name])

    stats = snapshot.apply(cluster.pk, lacking, read_from)
    assert Instance.objects.filter(pk=newcomer.pk).exists() and "instances" not in stats.deleted
    stats = snapshot.apply(cluster.pk, lacking, timezone.now())  # a read that began after the resync
    assert not Instance.objects.filter(pk=newcomer.pk).exists() and stats.deleted["instances"] == 1


def test_a_change_made_outside_fleet_appears_after_the_next_pass(sim: Simulated) -> None:
    run_once()
    target = sim.targets[0]
    running = Instance.objects.filter(cluster__name=target.name, status="running").first()
    assert running is not None
    with rapi(sim) as client:
        job_id = client.call(instances.shutdown(running.name))
        client.wait_for_job(job_id)
    run_once()
    running.refresh_from_db()
    assert running.status == "ADMIN_down"
    assert running.admin_state == "down"
    job = Job.objects.get(cluster__name=target.name, job_id=job_id)
    assert job.status == "success"
    assert job.requester is None  # seen on the cluster, not submitted through Fleet


def test_vanished_instances_are_removed(sim: Simulated) -> None:
    run_once()
    target = sim.targets[0]
    victim = Instance.objects.filter(cluster__name=target.name).order_by("name").last()
    assert victim is not None
    nics = Nic.objects.filter(instance=victim).count()
    assert nics > 0
    with rapi(sim) as client:
        client.wait_for_job(client.call(instances.delete(victim.name)))
    run_once()
    assert not Instance.objects.filter(pk=victim.pk).exists()
    assert not Nic.objects.filter(instance_id=victim.pk).exists()
    expected = simulator_counts(sim.control_url)[target.name]
    assert Instance.objects.filter(cluster__name=target.name).count() == expected
    stats = Cluster.objects.get(name=target.name).last_sync_stats
    assert stats["deleted"]["instances"] == 1


def test_a_pass_reads_in_full_only_the_instances_whose_markers_moved(sim: Simulated) -> None:
    run_once()
    target = sim.targets[0]
    cluster = Cluster.objects.get(name=target.name)
    tagged = Instance.objects.filter(cluster=cluster).order_by("name").first()
    assert tagged is not None

    connection_settings = Connection.of(cluster)

    def markers() -> list[Record]:
        async def fetch() -> snapshot.Snapshot:
            async with connection_settings.async_client() as client:
                fetched = await fetch_full(client)
            return fetched.parse()

        snap = asyncio.run(fetch())
        assert snap.instance_markers is not None and not snap.instances
        return list(snap.instance_markers)

    assert snapshot.plan_instances(cluster.pk, markers()) == snapshot.InstancePlan(set(), at_rest=True)
    with rapi(sim) as client:
        client.wait_for_job(client.call(instances.add_tags(tagged.name, ["outside:change"])))
    assert snapshot.plan_instances(cluster.pk, markers()) == snapshot.InstancePlan({tagged.name}, False)
    run_once()
    tagged.refresh_from_db()
    assert "outside:change" in tagged.tags
    stats = Cluster.objects.get(pk=cluster.pk).last_sync_stats
    assert stats["updated"].get("instances") == 1
    assert stats["seen"]["instances"] == simulator_counts(sim.control_url)[target.name]


def test_instances_keep_the_shown_hvparams_and_every_nic_as_ganeti_lists_them(sim: Simulated) -> None:
    run_once()
    target = sim.targets[0]
    nic_fields = ["nic.ips", "nic.macs", "nic.links", "nic.networks.names"]
    with rapi(sim) as client:
        answer = client.call(query.get("instance", ["name", "hvparams", *nic_fields]))
    for rec in answer.records()[:20]:
        stored = Instance.objects.get(cluster__name=target.name, name=rec["name"])
        assert stored.hvparams == {k: rec["hvparams"][k] for k in SHOWN_HVPARAMS if k in rec["hvparams"]}
        assert stored.hvparams  # the simulator's kvm instances have them
        nics = list(Nic.objects.filter(instance=stored).order_by("index"))
        assert [n.index for n in nics] == list(range(len(rec["nic.macs"])))
        assert [n.ip for n in nics] == [ip or None for ip in rec["nic.ips"]]
        assert [n.mac for n in nics] == rec["nic.macs"]
        assert [n.link for n in nics] == rec["nic.links"]
        assert [n.network_name for n in nics] == [name or "" for name in rec["nic.networks.names"]]


def test_short_nic_lists_do_not_shift_the_nics() -> None:
    rec = {"nic.macs": ["aa:00:00:00:00:01", "aa:00:00:00:00:02"], "nic.ips": ["10.0.0.9"], "nic.links": None}
    nics = rows.nic_values(rec, {})
    assert [(n["index"], n["mac"], n["ip"], n["link"]) for n in nics] == [
        (0, "aa:00:00:00:00:01", "10.0.0.9", ""),
        (1, "aa:00:00:00:00:02", None, ""),
    ]


def test_bulk_insert_fills_shared_and_missing_columns() -> None:
    cluster = Cluster.objects.create(
        name="bulk.example.org", rapi_url="https://bulk.example.org:5080", rapi_fingerprint="ab" * 32
    )
    group = NodeGroup.objects.create(cluster=cluster, name="default")
    pks = bulk.insert(
        Node,
        [
            {"name": "node1.example.org", "tags": ["a"], "memory_total": 1024},
            {"name": "node2.example.org"},  # no tags, no memory: the fields' defaults
        ],
        {"cluster_id": cluster.pk, "group_id": group.pk, "raw": {"from": "common"}},
    )
    nodes = {node.pk: node for node in Node.objects.filter(cluster=cluster)}
    assert sorted(nodes) == sorted(pks)
    first, second = nodes[pks[0]], nodes[pks[1]]
    assert (first.name, first.tags, first.memory_total, first.group_id) == (
        "node1.example.org",
        ["a"],
        1024,
        group.pk,
    )
    assert (second.name, second.tags, second.memory_total) == ("node2.example.org", [], None)
    assert first.raw == second.raw == {"from": "common"}


def test_the_collector_resumes_after_the_last_paused_block() -> None:
    assert gc.isenabled()
    inner_started, outer_may_end = threading.Event(), threading.Event()
    seen: list[bool] = []

    def inner() -> None:
        with collector.gc_paused():
            inner_started.set()
            outer_may_end.wait(5)
        seen.append(gc.isenabled())

    with collector.gc_paused():
        thread = threading.Thread(target=inner)
        thread.start()
        inner_started.wait(5)
    seen.append(gc.isenabled())  # the other thread is still inside its block
    outer_may_end.set()
    thread.join(5)
    assert seen == [False, True]
    gc.disable()
    try:
        with collector.gc_paused():
            pass
        assert not gc.isenabled()  # paused blocks never turn on a collector that was off
    finally:
        gc.enable()


def test_blocks_that_keep_overlapping_still_collect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collector, "PAUSE_AT_MOST", 0.0)
    collections: list[str] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        collections.append(phase)

    gc.callbacks.append(seen)
    try:
        with collector.gc_paused():
            with collector.gc_paused():
                collections.clear()
            # The outer block still runs, but the pause lasted long enough: the inner one's end collected.
            assert collections == ["start", "stop"]
            assert not gc.isenabled()
        assert gc.isenabled()
    finally:
        gc.callbacks.remove(seen)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE is PostgreSQL's")
def test_a_first_sync_leaves_the_planner_statistics_of_what_it_wrote(
    fresh_simulator: Callable[..., Simulated],
) -> None:
    def estimated_instances() -> float:
        with connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Instance._meta.db_table])
            return float(cursor.fetchone()[0])

    simulated = fresh_simulator("--profile", "tiny", "--clusters", "1", "--instances", str(ANALYZE_AFTER))
    register(simulated.targets[0])
    assert estimated_instances() <= 0  # never analyzed: the planner would take the table for empty
    run_once()
    written = Instance.objects.count()
    assert written == ANALYZE_AFTER and estimated_instances() == written


def test_a_pass_sees_what_changes_without_a_marker_moving(sim: Simulated) -> None:
    """A node set offline changes the status of its instances but not their serial_no: the first step sees
    the cluster is not at rest, and the write brings the new status in."""
    run_once()
    cluster = Cluster.objects.get(name=sim.targets[0].name)
    instance = (
        Instance.objects.filter(cluster=cluster, status="running")
        .exclude(primary_node__role="M")
        .select_related("primary_node")
        .first()
    )
    assert instance is not None and instance.primary_node is not None
    serial = instance.serial_no
    with rapi(sim) as client:
        client.wait_for_job(client.call(nodes.modify(instance.primary_node.name, offline=True, force=True)))
        now = client.call(query.run("instance", ["status", "serial_no"], qfilter.eq("name", instance.name)))
    (live_status, live_serial) = (value for _, value in now.rows[0])
    assert live_serial == serial and live_status != "running"
    run_once()
    instance.refresh_from_db()
    assert instance.status == live_status

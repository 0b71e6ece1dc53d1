"""Changes made outside Fleet, through any job, seen through the job queue long before the next full pass:
the job tied to what its opcodes name, with its log, and shown to the instance's owner; a cluster at rest
costs one small request per poll."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from fleet.inventory.models import Cluster, Instance, Node
from fleet.jobs.models import Job
from fleet.rapi import instances, nodes
from fleet.sync.loop import LoopSettings
from fleet.sync.worker import WorkerSettings
from tests.conftest import Simulated
from tests.sync.conftest import Running, register, unlocked, wait_for
from tests.sync.test_snapshot import rapi

pytestmark = pytest.mark.django_db(transaction=True)

# No full pass within a test: only the job queue can bring a change in.
QUEUE_ONLY = WorkerSettings(loop=LoopSettings(interval=600.0, job_poll=0.3), job_scan=600.0)


def requests_served(sim: Simulated, cluster: str) -> int:
    response = httpx.get(f"{sim.control_url}/clusters", timeout=10)
    response.raise_for_status()
    return next(row["requests"] for row in response.json() if row["name"] == cluster)


def api(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def watched(
    fresh_simulator: Callable[..., Simulated], running_worker: Callable[[WorkerSettings], Running]
) -> tuple[Simulated, Cluster]:
    sim = fresh_simulator()
    cluster = register(sim.targets[0])
    running_worker(QUEUE_ONLY)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    return sim, cluster


def test_a_job_started_outside_fleet_is_seen_tied_and_shown_to_the_owner(
    watched: tuple[Simulated, Cluster],
) -> None:
    sim, cluster = watched
    alice = get_user_model().objects.create_user("alice", password="x")
    bob = get_user_model().objects.create_user("bob", password="x")
    victim = Instance.objects.filter(cluster=cluster, status="running").order_by("name").first()
    assert victim is not None
    with rapi(sim) as client:  # as an operator's script would, with Ganeti's own job queue
        client.wait_for_job(client.call(instances.add_tags(victim.name, ["fleet:user:alice"])))
        job_id = client.call(instances.shutdown(victim.name, reason="maintenance"))
        client.wait_for_job(job_id)
        grow_id = client.call(instances.grow_disk(victim.name, 0, 1024))
        client.wait_for_job(grow_id)

    wait_for(lambda: Instance.objects.get(pk=victim.pk).status == "ADMIN_down", timeout=15)
    assert unlocked(lambda: Instance.objects.owned_by(alice).filter(pk=victim.pk).exists())
    job = unlocked(lambda: Job.objects.get(cluster=cluster, job_id=job_id))
    assert job.status == "success" and job.requester is None
    assert job.instance_id == victim.pk
    assert job.log == [], "the job's log as Ganeti 3.0 writes it: no line for a shutdown"
    assert job.result == [None], "and its result, one per opcode (a shutdown returns nothing)"
    wait_for(lambda: Job.objects.filter(cluster=cluster, job_id=grow_id, status="success").exists())
    grown = unlocked(lambda: Job.objects.get(cluster=cluster, job_id=grow_id))
    assert any("Growing disk 0" in entry[3] for entry in grown.log), grown.log  # the log, as Ganeti wrote it
    assert unlocked(lambda: {(t.kind, t.name) for t in job.targets.all()}) >= {("instance", victim.name)}

    # The pages and the API read while the worker may still write (SQLite's shared test database locks).
    seen = unlocked(lambda: api(alice).get("/api/jobs/", {"instance": victim.name}).json()["results"])
    assert job_id in {row["job_id"] for row in seen}
    assert any(t == {"kind": "instance", "name": victim.name} for row in seen for t in row["targets"])
    assert unlocked(lambda: api(bob).get("/api/jobs/", {"instance": victim.name}).json()["results"]) == []
    page = unlocked(lambda: api(alice).get(f"/instances/{cluster.name}/{victim.name}/"))
    assert page.status_code == 200 and f"/jobs/{cluster.name}/{job_id}/" in page.content.decode()
    detail = unlocked(lambda: api(alice).get(f"/jobs/{cluster.name}/{job_id}/").content.decode())
    assert f"Instance {victim.name}" in detail


def test_a_node_job_makes_the_loop_read_everything(watched: tuple[Simulated, Cluster]) -> None:
    sim, cluster = watched
    node = Node.objects.filter(cluster=cluster, drained=False).exclude(role="M").order_by("name").first()
    assert node is not None
    with rapi(sim) as client:
        job_id = client.call(nodes.modify(node.name, drained=True, reason="disk failing"))
        client.wait_for_job(job_id)
    wait_for(lambda: Node.objects.get(pk=node.pk).drained, timeout=15)
    job = unlocked(lambda: Job.objects.get(cluster=cluster, job_id=job_id))
    assert ("node", node.name) in {(t.kind, t.name) for t in job.targets.all()}


def test_a_cluster_at_rest_sees_one_request_per_poll(watched: tuple[Simulated, Cluster]) -> None:
    sim, cluster = watched
    time.sleep(1.0)  # past the first poll's follow-ups
    before = requests_served(sim, cluster.name)
    started = time.monotonic()
    time.sleep(3.0)
    served = requests_served(sim, cluster.name) - before
    polls = (time.monotonic() - started) / QUEUE_ONLY.loop.job_poll
    assert 0 < served <= polls + 2, (served, polls)  # the polls, and nothing else

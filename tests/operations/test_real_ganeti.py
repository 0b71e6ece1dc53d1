"""Operations against real Ganeti 3.0.2 (fake hypervisor), beside the same against the simulator: a worker
submits them, Ganeti's reason trail carries the operation's mark as Fleet wrote it (in each job of an
operation of two), the job's end closes the operation, and Ganeti's own refusal (an instance already
stopped, told by a failed job) reaches it."""

from __future__ import annotations

import ssl
from collections.abc import Callable

import httpx
import pytest
from django.contrib.auth.models import User

from fleet import operations
from fleet.inventory.models import Cluster, Instance
from fleet.operations.models import Operation, OperationStatus
from fleet.sync.loop import LoopSettings
from fleet.sync.worker import WorkerSettings
from tests.sync.conftest import Running, register, unlocked, wait_for
from tests.targets import RapiTarget

pytestmark = pytest.mark.django_db(transaction=True)

SETTINGS = WorkerSettings(loop=LoopSettings(interval=600.0, job_poll=0.5), job_scan=0.2)
TARGETS = ["simulator", pytest.param("real_ganeti", marks=pytest.mark.real_ganeti)]


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> RapiTarget:
    if request.param == "simulator":
        targets: list[RapiTarget] = request.getfixturevalue("simulator")
        return targets[0]
    real: RapiTarget = request.getfixturevalue("real_ganeti")
    return real


def job_ops(target: RapiTarget, job_id: int) -> list[dict[str, object]]:
    verify = ssl.create_default_context(cafile=target.cert_file)
    verify.check_hostname = False
    response = httpx.get(
        f"{target.url}/2/jobs/{job_id}", verify=verify, auth=(target.username, target.password)
    )
    response.raise_for_status()
    ops: list[dict[str, object]] = response.json()["ops"]
    return ops


def untag(target: RapiTarget, name: str, tags: list[str], method: str = "DELETE") -> None:
    """Remove (or with ``method="PUT"``, add) tags of an instance over RAPI, as an operator would (no Fleet
    involved); waits for Ganeti's job."""
    verify = ssl.create_default_context(cafile=target.cert_file)
    verify.check_hostname = False
    auth = (target.username, target.password)
    answer = httpx.request(
        method, f"{target.url}/2/instances/{name}/tags", params={"tag": tags}, verify=verify, auth=auth
    )
    answer.raise_for_status()
    httpx.get(f"{target.url}/2/jobs/{answer.json()}/wait", verify=verify, auth=auth, timeout=60)


def ended(operation: Operation) -> Operation:
    wait_for(lambda: not Operation.objects.get(pk=operation.pk).is_open, timeout=120)
    return Operation.objects.get(pk=operation.pk)


@pytest.fixture
def synced(target: RapiTarget, running_worker: Callable[[WorkerSettings], Running]) -> tuple[User, Instance]:
    """An administrator, and a running instance of the target's cluster as a running worker synced it (the
    real cluster's seed, which its other tests leave alone)."""
    admin = User.objects.create_superuser("root", "root@example.org", "secret-password-1")
    cluster = register(target, timeout=30.0)
    running_worker(SETTINGS)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None, timeout=60)
    running = Instance.objects.filter(cluster=cluster, status="running").select_related("cluster")
    instance = running.filter(name="seed-running.example.test").first() or running.order_by("name").first()
    assert instance is not None
    return admin, instance


def test_a_reboot_on_the_real_daemon_carries_its_mark_and_closes(
    target: RapiTarget, synced: tuple[User, Instance]
) -> None:
    admin, instance = synced
    # Marked as needing a reboot, as a configuration change leaves it: the hard reboot's second job
    # removes the mark.
    if "fleet:needsreboot" not in instance.tags:
        untag(target, instance.name, ["fleet:needsreboot"], method="PUT")
        wait_for(lambda: "fleet:needsreboot" in Instance.objects.get(pk=instance.pk).tags, timeout=30)
        instance = Instance.objects.select_related("cluster").get(pk=instance.pk)
    done = ended(operations.reboot(instance, by=operations.Caller(admin), reason="conformance", kind="hard"))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert len(done.job_ids) == 2 and done.ganeti_job_id == done.job_ids[1]
    reboot, unmark = (job_ops(target, job_id)[0] for job_id in done.job_ids)
    assert (reboot["OP_ID"], reboot["reboot_type"]) == ("OP_INSTANCE_REBOOT", "hard")
    assert (unmark["OP_ID"], unmark["tags"]) == ("OP_TAGS_DEL", ["fleet:needsreboot"])
    for op in (reboot, unmark):
        trail = op["reason"]
        assert isinstance(trail, list)
        assert trail[0][:2] == ["gnt:user", f"conformance [fleet-operation {done.uuid} by root]"]
        assert str(trail[1][0]).startswith("gnt:library:rlib2:"), trail
    wait_for(lambda: "fleet:needsreboot" not in Instance.objects.get(pk=instance.pk).tags, timeout=30)


def test_co_owners_and_the_lock_are_tags_on_the_real_daemon(
    target: RapiTarget, synced: tuple[User, Instance]
) -> None:
    admin, instance = synced
    by = operations.Caller(admin)
    leftovers = [t for t in instance.tags if "conformance-" in t or t == "fleet:adminlock"]
    if leftovers:  # an earlier run that stopped half-way: take its tags off first
        untag(target, instance.name, leftovers)
        wait_for(lambda: not set(leftovers) & set(Instance.objects.get(pk=instance.pk).tags), timeout=30)

    # Reads beside the worker's writes (SQLite's shared test database locks while it writes).
    def tags() -> list[str]:
        return unlocked(lambda: list(Instance.objects.get(pk=instance.pk).tags))

    def fresh() -> Instance:
        return unlocked(lambda: Instance.objects.select_related("cluster").get(pk=instance.pk))

    for step in (
        lambda: operations.add_owner(fresh(), by=by, kind="user", name="conformance-a"),
        lambda: operations.lock(fresh(), by=by),
    ):
        done = ended(unlocked(step))
        assert done.status == OperationStatus.SUCCEEDED, done.error
    wait_for(lambda: {"fleet:user:conformance-a", "fleet:adminlock"} <= set(tags()), timeout=30)
    for step in (
        lambda: operations.unlock(fresh(), by=by),
        lambda: operations.add_owner(fresh(), by=by, kind="group", name="conformance-b"),
    ):
        assert ended(unlocked(step)).status == OperationStatus.SUCCEEDED
    wait_for(lambda: "fleet:adminlock" not in tags() and "fleet:group:conformance-b" in tags(), timeout=30)
    done = ended(unlocked(lambda: operations.remove_owner(fresh(), by=by, kind="user", name="conformance-a")))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    wait_for(lambda: "fleet:user:conformance-a" not in tags(), timeout=30)
    # The last owner stays (Fleet refuses to remove it): the test takes its tag off itself, over RAPI.
    untag(target, instance.name, ["fleet:group:conformance-b"])

"""Reinstall, rename and destroy through the worker, on the simulator and on real Ganeti 3.0.2: each asked,
confirmed through its mailed link (or by an administrator's typed name), sent and followed to its end.

- a reinstall to another OS with the parameters cleared is two jobs: the modify that sets each of the
  instance's own parameters to "default", then the reinstall; the cluster then holds none;
- a reinstall that keeps them sends them, and the cluster still holds them;
- after a rename the read model shows the new name on the same row, and the operations and jobs of the old
  name are still the owner's to see;
- after a destroy the instance's operations and jobs stay visible to its owner, even those someone else
  asked for.

Each test makes its own instance (``lc-`` names) and destroys it, so that the real cluster is left as found.
"""

from __future__ import annotations

import re
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User

from fleet import operations
from fleet.access import policy
from fleet.inventory.models import Cluster, Instance
from fleet.jobs.models import Job
from fleet.notify.models import Mail
from fleet.operations import confirmation
from fleet.operations.models import Operation, OperationStatus, Via
from fleet.sync.loop import LoopSettings
from fleet.sync.worker import WorkerSettings
from tests.conftest import Simulated
from tests.operations.conftest import FAST
from tests.sync.conftest import Running, register, set_faults, unlocked, wait_for
from tests.targets import RapiTarget

pytestmark = pytest.mark.django_db(transaction=True)

SETTINGS = WorkerSettings(loop=LoopSettings(interval=600.0, job_poll=0.3), job_scan=0.2)
TARGETS = ["simulator", pytest.param("real_ganeti", marks=pytest.mark.real_ganeti)]
IMAGE = {"img_id": "debian-12", "img_format": "diskdump"}
TOKEN = re.compile(r"/confirm/([A-Za-z0-9_-]+)/")


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> RapiTarget:
    if request.param == "simulator":
        sim: Simulated = request.getfixturevalue("fresh_simulator")(time_scale=0.05)
        return sim.targets[0]
    real: RapiTarget = request.getfixturevalue("real_ganeti")
    return real


class Rapi:
    """The cluster over RAPI, as an operator's script would reach it (no Fleet involved)."""

    def __init__(self, target: RapiTarget) -> None:
        verify = ssl.create_default_context(cafile=target.cert_file)
        verify.check_hostname = False
        self.http = httpx.Client(
            base_url=target.url, verify=verify, auth=(target.username, target.password), timeout=60
        )

    def wait(self, job_id: int) -> dict[str, Any]:
        deadline = time.monotonic() + 120
        while True:
            job: dict[str, Any] = self.http.get(f"/2/jobs/{job_id}").json()
            if job["status"] in ("success", "error", "canceled"):
                return job
            assert time.monotonic() < deadline, job
            time.sleep(0.2)

    def create(self, name: str, owner: str) -> None:
        body = {
            "__version__": 1, "mode": "create", "instance_name": name, "disk_template": "file",
            "disks": [{"size": 128}], "nics": [{}], "os_type": "noop", "osparams": IMAGE,
            "name_check": False, "ip_check": False, "start": True, "tags": [f"fleet:user:{owner}"],
            "beparams": {"maxmem": 64, "minmem": 64, "vcpus": 1},
        }  # fmt: skip
        job = self.wait(self.http.post("/2/instances", json=body).json())
        assert job["status"] == "success", job["opresult"]

    def osparams(self, name: str) -> tuple[str, dict[str, Any]] | None:
        # wrapped in an "and": luxid fails a query that asks for a missing name alone
        fields = {"fields": ["os", "custom_osparams"], "qfilter": ["&", ["=", "name", name]]}
        rows = self.http.put("/2/query/instance", json=fields).json()["data"]
        return None if not rows else (rows[0][0][1], rows[0][1][1])

    def job_ops(self, job_id: int) -> list[dict[str, Any]]:
        ops: list[dict[str, Any]] = self.http.get(f"/2/jobs/{job_id}").json()["ops"]
        return ops

    def remove(self, name: str) -> None:
        if self.osparams(name) is not None:
            self.wait(self.http.delete(f"/2/instances/{name}").json())


@pytest.fixture
def rapi(target: RapiTarget) -> Iterator[Rapi]:
    client = Rapi(target)
    yield client
    client.http.close()


Made = tuple[User, User, Instance]


@pytest.fixture
def made(
    target: RapiTarget, rapi: Rapi, running_worker: Callable[[WorkerSettings], Running]
) -> Iterator[Made]:
    """An owner with an address and an administrator; a new running instance of the owner's on the target
    (os noop, with its own OS parameters), as the worker read it."""
    name = f"lc-{uuid.uuid4().hex[:8]}.example.test"
    owner = User.objects.create_user("lcowner", "lcowner@example.org", "pw")
    admin = User.objects.create_superuser("lcroot", "lcroot@example.org", "pw")
    rapi.create(name, "lcowner")
    cluster = register(target, timeout=30.0)
    running_worker(SETTINGS)
    wait_for(lambda: unlocked(lambda: Instance.objects.filter(cluster=cluster, name=name).exists()), 60)
    instance = unlocked(lambda: Instance.objects.select_related("cluster").get(cluster=cluster, name=name))
    try:
        yield owner, admin, instance
    finally:
        rapi.remove(name)
        renamed = [op.params["new_name"] for op in Operation.objects.filter(kind="rename")]
        for other in renamed:
            rapi.remove(other)


def fresh(pk: int) -> Instance:
    return unlocked(lambda: Instance.objects.select_related("cluster").get(pk=pk))


def ended(operation: Operation) -> Operation:
    wait_for(lambda: not unlocked(lambda: Operation.objects.get(pk=operation.pk).is_open), timeout=120)
    return unlocked(lambda: Operation.objects.get(pk=operation.pk))


def confirmed(operation: Operation, user: User) -> Operation:
    """Confirm ``operation`` through the link mailed to ``user``, as its page's POST does."""
    assert operation.status == OperationStatus.AWAITING
    mail = unlocked(lambda: Mail.objects.filter(to=[user.email]).order_by("-pk").first())
    assert mail is not None
    match = TOKEN.search(mail.body)
    assert match is not None
    return unlocked(
        lambda: confirmation.confirm_link(match.group(1), by=operations.Caller(user, via=Via.WEB))
    )


def test_a_reinstall_to_another_os_with_the_parameters_cleared_is_two_jobs(rapi: Rapi, made: Made) -> None:
    owner, _, instance = made
    assert instance.osparams == IMAGE and "debootstrap+default" in instance.cluster.os_names
    asked = unlocked(
        lambda: operations.reinstall(
            instance, by=operations.Caller(owner), os="debootstrap+default", clear_osparams=True
        )
    )
    done = ended(confirmed(asked, owner))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert len(done.job_ids) == 2
    first, second = (rapi.job_ops(job_id) for job_id in done.job_ids)
    assert first[0]["OP_ID"] == "OP_INSTANCE_SET_PARAMS"
    assert first[0]["osparams"] == {"img_format": "default", "img_id": "default"}
    assert [op["OP_ID"] for op in second] == [
        "OP_INSTANCE_SHUTDOWN",
        "OP_INSTANCE_REINSTALL",
        "OP_INSTANCE_STARTUP",
    ]
    assert second[1]["os_type"] == "debootstrap+default" and not second[1].get("osparams")
    assert rapi.osparams(instance.name) == ("debootstrap+default", {})
    wait_for(lambda: fresh(instance.pk).os == "debootstrap+default", timeout=30)
    assert fresh(instance.pk).osparams == {}


def test_a_reinstall_keeps_the_parameters_by_default(rapi: Rapi, made: Made) -> None:
    _, admin, instance = made
    asked = unlocked(
        lambda: operations.reinstall(
            instance, by=operations.Caller(admin), os="noop", confirm=instance.name, start=False
        )
    )
    done = ended(asked)
    assert done.status == OperationStatus.SUCCEEDED, done.error
    (job_id,) = done.job_ids
    ops = rapi.job_ops(job_id)
    assert [op["OP_ID"] for op in ops] == ["OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REINSTALL"]
    assert ops[1]["osparams"] == IMAGE
    assert rapi.osparams(instance.name) == ("noop", IMAGE)


def test_a_rename_then_a_destroy_keep_the_record_for_the_owner(rapi: Rapi, made: Made) -> None:
    owner, admin, instance = made
    old = instance.name
    new = old.replace("lc-", "lc-renamed-")
    stopped = ended(unlocked(lambda: operations.shutdown(instance, by=operations.Caller(owner), timeout=0)))
    assert stopped.status == OperationStatus.SUCCEEDED, stopped.error
    wait_for(lambda: fresh(instance.pk).admin_state == "down", timeout=30)
    # asked by the administrator, confirmed by typing the name: the owner did not ask for it
    renamed = ended(
        unlocked(
            lambda: operations.rename(
                fresh(instance.pk), by=operations.Caller(admin), new_name=new, confirm=old
            )
        )
    )
    assert renamed.status == OperationStatus.SUCCEEDED, renamed.error
    assert rapi.job_ops(renamed.job_ids[0])[0]["new_name"] == new
    wait_for(lambda: fresh(instance.pk).name == new, timeout=30)  # the same row, by its uuid

    def seen_by_owner() -> tuple[set[int], set[int]]:
        ops = policy.restrict(Operation.objects.all(), owner)
        jobs = policy.restrict(Job.objects.all(), owner)
        return set(ops.values_list("pk", flat=True)), set(jobs.values_list("job_id", flat=True))

    ops, jobs = unlocked(seen_by_owner)
    assert {stopped.pk, renamed.pk} <= ops
    assert set(stopped.job_ids) | set(renamed.job_ids) <= jobs

    asked = unlocked(lambda: operations.destroy(fresh(instance.pk), by=operations.Caller(owner)))
    destroyed = ended(confirmed(asked, owner))
    assert destroyed.status == OperationStatus.SUCCEEDED, destroyed.error
    assert rapi.osparams(new) is None
    wait_for(lambda: not unlocked(lambda: Instance.objects.filter(pk=instance.pk).exists()), timeout=30)
    ops, jobs = unlocked(seen_by_owner)
    assert {stopped.pk, renamed.pk, destroyed.pk} <= ops  # the rename was asked by someone else
    assert set(stopped.job_ids) | set(renamed.job_ids) | set(destroyed.job_ids) <= jobs
    record = unlocked(lambda: Operation.objects.get(pk=destroyed.pk))
    assert (record.instance_name, record.instance_id) == (new, None)
    job = unlocked(lambda: Job.objects.get(cluster=instance.cluster_id, job_id=destroyed.job_ids[0]))
    assert unlocked(lambda: list(job.targets.values_list("name", flat=True))) == [new]
    assert unlocked(lambda: Cluster.objects.filter(pk=instance.cluster_id).exists())


def test_a_reinstall_whose_answer_was_lost_is_found_by_what_it_does(
    fresh_simulator: Callable[..., Simulated], running_worker: Callable[[WorkerSettings], Running]
) -> None:
    """A reinstall's job carries no mark (Ganeti gives its opcodes no reason trail): when the connection
    drops after Ganeti took it, the worker finds it in the queue by the instance and the OS it reinstalls,
    and sends nothing again."""
    sim = fresh_simulator(time_scale=0.05)
    cluster = register(sim.targets[0])
    running_worker(FAST)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    admin = User.objects.create_superuser("lcroot", "lcroot@example.org", "pw")
    victim = Instance.objects.filter(cluster=cluster, status="running").exclude(disk_sizes=[]).first()
    assert victim is not None
    set_faults(sim.control_url, cluster.name, drop_after_write=True)
    asked = operations.reinstall(
        fresh(victim.pk), by=operations.Caller(admin), os="debootstrap+default", confirm=victim.name
    )
    wait_for(lambda: Operation.objects.get(pk=asked.pk).attempted_at is not None)
    set_faults(sim.control_url, cluster.name, drop_after_write=False)
    done = ended(asked)
    assert done.status == OperationStatus.SUCCEEDED, done.error
    rapi = Rapi(sim.targets[0])
    reinstalls = [
        job["id"]
        for job in rapi.http.get("/2/jobs?bulk=1").json()
        if any(
            op["OP_ID"] == "OP_INSTANCE_REINSTALL" and op["instance_name"] == victim.name for op in job["ops"]
        )
    ]
    assert reinstalls == done.job_ids  # one job, found, not sent again
    assert rapi.osparams(victim.name) == ("debootstrap+default", {})

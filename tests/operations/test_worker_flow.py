"""An operation from its record to its end, with a real worker and a simulated cluster over TLS: submitted
as a job whose reason trail names it, followed, closed with the job's outcome; and each way the submit can
go wrong (a failed job, a cluster that does not answer, an answer lost after Ganeti made the job)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from django.contrib.auth.models import User

from fleet import operations
from fleet.inventory.models import Cluster, Instance
from fleet.jobs.models import Job
from fleet.operations.models import Operation, OperationStatus
from fleet.sync.loop import LoopSettings
from fleet.sync.worker import WorkerSettings
from tests.conftest import Simulated
from tests.operations.conftest import FAST
from tests.sync.conftest import Running, register, set_faults, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

Simulators = Callable[..., Simulated]
Workers = Callable[[WorkerSettings], Running]


def synced(sim: Simulated, start_worker: Workers) -> tuple[Cluster, Instance]:
    """The simulator's first cluster, registered and synced by a running worker; one running instance of it,
    owned by the user "alice" through its tag."""
    cluster = register(sim.targets[0])
    start_worker(FAST)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    victim = Instance.objects.filter(cluster=cluster, status="running").order_by("name").first()
    assert victim is not None
    return cluster, victim


def jobs_on_cluster(sim: Simulated, name: str) -> list[dict[str, object]]:
    """Every job the simulated cluster received, as its RAPI lists them."""
    target = sim.targets[0]
    response = httpx.get(
        f"{target.url}/2/jobs?bulk=1", verify=False, auth=(target.username, target.password), timeout=10
    )
    response.raise_for_status()
    return [job for job in response.json() if any(name in str(op) for op in job["ops"])]


def ended(operation: Operation, timeout: float = 20.0) -> Operation:
    wait_for(lambda: not Operation.objects.get(pk=operation.pk).is_open, timeout=timeout)
    return Operation.objects.get(pk=operation.pk)


@pytest.fixture
def admin() -> User:
    return User.objects.create_superuser("root", "root@example.org", "secret-password-1")


def test_a_reboot_is_submitted_followed_and_closed_with_its_job(
    fresh_simulator: Simulators, running_worker: Workers, admin: User
) -> None:
    sim = fresh_simulator(time_scale=0.05)
    _, victim = synced(sim, running_worker)
    operation = operations.reboot(
        victim, by=operations.Caller(admin, "192.0.2.7"), reason="kernel update", kind="hard"
    )
    assert operation.status == OperationStatus.PENDING
    done = ended(operation)
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert done.ganeti_job_id is not None and done.submitted_at and done.ended_at
    job = Job.objects.get(pk=done.job_id)
    assert (job.job_id, job.status, job.requester, job.instance_id) == (
        done.ganeti_job_id,
        "success",
        admin,
        victim.pk,
    )
    # What reached the cluster: one reboot job, hard, whose reason trail names the operation and who asked.
    sent = jobs_on_cluster(sim, victim.name)
    assert len(sent) == 1
    op = sent[0]["ops"][0]  # type: ignore[index]
    assert op["OP_ID"] == "OP_INSTANCE_REBOOT" and op["reboot_type"] == "hard"
    reason = op["reason"][0]
    assert reason[0] == "gnt:user"
    assert reason[1] == f"kernel update [fleet-operation {done.uuid} by root]"


def test_the_submits_answer_ties_the_operation_without_a_poll_of_the_queue(
    fresh_simulator: Simulators, running_worker: Workers, admin: User
) -> None:
    sim = fresh_simulator(time_scale=0.05)
    cluster = register(sim.targets[0])
    # One poll after the first full pass, then none for ten minutes: only the submit's answer ties it.
    running_worker(WorkerSettings(loop=LoopSettings(interval=600.0, job_poll=600.0), job_scan=0.2))
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    victim = Instance.objects.filter(cluster=cluster, status="running").order_by("name").first()
    assert victim is not None
    done = ended(operations.reboot(victim, by=operations.Caller(admin)))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert Job.objects.get(pk=done.job_id).requester == admin


def test_a_failed_job_fails_the_operation_with_ganetis_error(
    fresh_simulator: Simulators, running_worker: Workers, admin: User
) -> None:
    sim = fresh_simulator(time_scale=0.05)
    cluster, victim = synced(sim, running_worker)
    set_faults(sim.control_url, cluster.name, fail_jobs=1.0)
    done = ended(operations.shutdown(victim, by=operations.Caller(admin)))
    assert done.status == OperationStatus.FAILED
    assert done.error.startswith("OpExecError: ")
    assert Job.objects.get(pk=done.job_id).status == "error"
    wait_for(lambda: Instance.objects.get(pk=victim.pk).status == "running")  # the state is unchanged


def test_a_submit_without_an_answer_ends_not_submitted_and_nothing_reaches_the_cluster(
    fresh_simulator: Simulators, running_worker: Workers, admin: User
) -> None:
    sim = fresh_simulator(time_scale=0.05)
    cluster = register(sim.targets[0], timeout=1.0)
    running_worker(FAST)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    victim = Instance.objects.filter(cluster=cluster, status="running").order_by("name").first()
    assert victim is not None
    set_faults(sim.control_url, cluster.name, blackhole=True)
    operation = operations.shutdown(victim, by=operations.Caller(admin, idempotency_key="k1"))
    wait_for(lambda: Operation.objects.get(pk=operation.pk).attempted_at is not None)
    wait_for(lambda: "did not answer" in Operation.objects.get(pk=operation.pk).error, timeout=10)
    # The same request again (its key) is the same operation, not a second submit.
    again = operations.shutdown(victim, by=operations.Caller(admin, idempotency_key="k1"))
    assert again.pk == operation.pk
    set_faults(sim.control_url, cluster.name, blackhole=False)
    done = ended(operation, timeout=30)
    assert done.status == OperationStatus.FAILED
    assert done.error.startswith("Not submitted: ")
    assert jobs_on_cluster(sim, victim.name) == []


def test_a_job_whose_answer_was_lost_is_found_by_its_reason_trail(
    fresh_simulator: Simulators, running_worker: Workers, admin: User
) -> None:
    sim = fresh_simulator(time_scale=0.05)
    cluster, victim = synced(sim, running_worker)
    set_faults(sim.control_url, cluster.name, drop_after_write=True)
    operation = operations.shutdown(victim, by=operations.Caller(admin), reason="lost answer")
    wait_for(lambda: Operation.objects.get(pk=operation.pk).attempted_at is not None)
    set_faults(sim.control_url, cluster.name, drop_after_write=False)
    done = ended(operation)
    assert done.status == OperationStatus.SUCCEEDED, done.error
    sent = jobs_on_cluster(sim, victim.name)
    assert [job["id"] for job in sent] == [done.ganeti_job_id]  # one job, found, not submitted again
    job = Job.objects.get(pk=done.job_id)
    assert (job.requester, job.reason) == (admin, "lost answer")
    wait_for(lambda: Instance.objects.get(pk=victim.pk).status == "ADMIN_down")

"""Operations of several jobs, with a real worker and a simulated cluster: the needs-reboot mark, removed by
a second job once a hard reboot succeeded. Each job runs once, in order; a later job's failure fails the
operation with its error; a lost answer is found by the reason trail at every step, never an earlier one."""

from __future__ import annotations

import httpx
import pytest

from fleet import operations
from fleet.inventory.models import Instance
from fleet.operations.models import OperationStatus
from tests.operations.conftest import Owned
from tests.operations.test_worker_flow import ended, jobs_on_cluster
from tests.sync.conftest import set_faults, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

MARK = "fleet:needsreboot"


def marked(owned: Owned) -> Instance:
    """Mark the instance on the cluster, as a change of its configuration would, and wait for the worker to
    see it (it follows the tag job, then reads the instance again)."""
    target = owned.sim.targets[0]
    response = httpx.put(
        f"{target.url}/2/instances/{owned.instance.name}/tags",
        params={"tag": MARK},
        verify=False,
        auth=(target.username, target.password),
        timeout=10,
    )
    response.raise_for_status()
    wait_for(lambda: MARK in (Instance.objects.get(pk=owned.instance.pk).tags or []))
    return Instance.objects.select_related("cluster").get(pk=owned.instance.pk)


def opcodes(owned: Owned, job_ids: list[int]) -> list[str]:
    """The first opcode of each of these jobs, as the cluster lists them."""
    sent = {job["id"]: job for job in jobs_on_cluster(owned.sim, owned.instance.name)}
    return [sent[job_id]["ops"][0]["OP_ID"] for job_id in job_ids]  # type: ignore[index]


def test_a_hard_reboot_removes_the_needs_reboot_mark_with_a_second_job(owned: Owned) -> None:
    instance = marked(owned)
    done = ended(operations.reboot(instance, by=operations.Caller(owned.owner), kind="hard"))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert done.step == 1 and len(done.job_ids) == 2 and done.ganeti_job_id == done.job_ids[1]
    assert opcodes(owned, done.job_ids) == ["OP_INSTANCE_REBOOT", "OP_TAGS_DEL"]
    wait_for(lambda: MARK not in (Instance.objects.get(pk=instance.pk).tags or []))


def test_a_soft_reboot_keeps_the_mark(owned: Owned) -> None:
    instance = marked(owned)
    done = ended(operations.reboot(instance, by=operations.Caller(owned.owner), kind="soft"))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert opcodes(owned, done.job_ids) == ["OP_INSTANCE_REBOOT"]
    assert MARK in (Instance.objects.get(pk=instance.pk).tags or [])


def test_a_later_jobs_failure_fails_the_operation_and_keeps_the_earlier_job(owned: Owned) -> None:
    # The read model says marked, the cluster does not: someone removed the tag with gnt-instance
    # remove-tags since the last sync.
    Instance.objects.filter(pk=owned.instance.pk).update(tags=[*(owned.instance.tags or []), MARK])
    instance = Instance.objects.select_related("cluster").get(pk=owned.instance.pk)
    done = ended(operations.reboot(instance, by=operations.Caller(owned.owner), kind="full"))
    assert done.status == OperationStatus.FAILED
    assert done.error.startswith("Job 2 of 2 failed: OpPrereqError: "), done.error
    assert "not found" in done.error
    assert opcodes(owned, done.job_ids) == ["OP_INSTANCE_REBOOT", "OP_TAGS_DEL"]


def test_lost_answers_are_found_by_the_trail_at_each_step_and_nothing_runs_twice(owned: Owned) -> None:
    instance = marked(owned)
    cluster = instance.cluster.name
    set_faults(owned.sim.control_url, cluster, drop_after_write=True)
    operation = operations.reboot(instance, by=operations.Caller(owned.owner), kind="hard", reason="lost")
    done = ended(operation)
    set_faults(owned.sim.control_url, cluster, drop_after_write=False)
    assert done.status == OperationStatus.SUCCEEDED, done.error
    sent = [job["id"] for job in jobs_on_cluster(owned.sim, instance.name) if job["id"] > 0]
    marked_jobs = [job_id for job_id in sent if job_id in done.job_ids]
    assert len(set(done.job_ids)) == 2 and sorted(marked_jobs) == sorted(done.job_ids)
    assert opcodes(owned, done.job_ids) == ["OP_INSTANCE_REBOOT", "OP_TAGS_DEL"]
    # Every job on the instance since the mark: the mark's, and the operation's two, each once.
    assert len(sent) == 3

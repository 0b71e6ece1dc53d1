"""Cancelling a job with a real worker and a simulated cluster: a job waiting behind another (one an
operator submitted with Ganeti's own tools) is canceled through Fleet; Ganeti's answer closes the cancel
at once, and the job ends as canceled. A job that has ended, or one an owner may no longer cancel (it
runs), is refused with the reason."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from fleet import operations
from fleet.jobs.models import Job, JobStatus
from fleet.operations.models import Operation, OperationStatus
from fleet.rapi import Credentials, Pin, RapiClient, instances
from tests.operations.conftest import Owned
from tests.sync.conftest import set_faults, unlocked, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_waiting_job_is_canceled_and_a_running_one_is_not_the_owners_to_cancel(owned: Owned) -> None:
    instance, owner, sim = owned.instance, owned.owner, owned.sim
    admin = User.objects.create_superuser("root", "root@example.org", "secret-password-1")
    target = sim.targets[0]
    set_faults(sim.control_url, target.name, stuck_jobs=True)
    with RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    ) as client:  # an operator's two jobs: the first runs (stuck), the second waits for its locks
        running_id = client.call(instances.reboot(instance.name, reason="first"))
        waiting_id = client.call(instances.shutdown(instance.name, reason="second"))
    wait_for(lambda: Job.objects.filter(job_id=waiting_id, status=JobStatus.WAITING).exists())
    running = unlocked(lambda: Job.objects.select_related("cluster", "instance").get(job_id=running_id))
    with pytest.raises(operations.Refused, match="queued or waiting"):
        unlocked(lambda: operations.cancel_job(running, by=operations.Caller(owner)))
    waiting = unlocked(lambda: Job.objects.select_related("cluster", "instance").get(job_id=waiting_id))
    cancel = unlocked(lambda: operations.cancel_job(waiting, by=operations.Caller(admin), reason="not now"))
    wait_for(lambda: not Operation.objects.get(pk=cancel.pk).is_open)
    assert Operation.objects.get(pk=cancel.pk).status == OperationStatus.SUCCEEDED
    wait_for(lambda: Job.objects.get(job_id=waiting_id).status == JobStatus.CANCELED)
    set_faults(sim.control_url, target.name, stuck_jobs=False)
    wait_for(lambda: Job.objects.get(job_id=running_id).is_final)
    ended = unlocked(lambda: Job.objects.select_related("cluster", "instance").get(job_id=running_id))
    with pytest.raises(operations.Refused, match="has ended") as refused:
        unlocked(lambda: operations.cancel_job(ended, by=operations.Caller(admin)))
    assert refused.value.conflict

"""Cancel a job that has not ended: an owner's queued job on their instance, or any for the holders of the
cancel permission (the policy's rule). Ganeti answers a cancel at once (``DELETE /2/jobs/N``: whether it
was canceled, and why not); the job itself then ends as canceled, and with it the operation that asked for
it, if any."""

from __future__ import annotations

from fleet.access.policy import Action
from fleet.jobs.models import Job
from fleet.operations.calls import builds
from fleet.operations.core import Caller, record
from fleet.operations.models import Operation, OperationKind
from fleet.rapi import Call, jobs

__all__ = ["cancel_job"]


def cancel_job(job: Job, *, by: Caller, reason: str = "") -> Operation:
    """Ask Ganeti to cancel ``job``."""
    return record(
        OperationKind.CANCEL_JOB,
        job,
        by=by,
        action=Action.CANCEL_JOB,
        params={"job_id": job.job_id},
        reason=reason,
        state=lambda j: f"Job {j.job_id} has ended ({j.get_status_display().lower()})." if j.is_final else "",
    )


@builds(OperationKind.CANCEL_JOB)
def _cancel_call(operation: Operation, reason: str) -> Call[object]:
    return jobs.cancel(operation.params["job_id"])  # Ganeti takes no reason for a cancel

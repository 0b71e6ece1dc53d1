"""Job resources: list, read, long-poll for changes, cancel. `fleet.rapi.flows` builds the waiter on these."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from fleet.rapi.models import CancelResult, Job, JobChange
from fleet.rapi.wire import Call, as_dict, as_job_id, as_list, job_id_arg, path


def _ids(data: Any) -> builtins.list[int]:
    return [as_job_id(as_dict(item)["id"]) for item in as_list(data)]


def _jobs(data: Any) -> builtins.list[Job]:
    return [Job.parse(item) for item in as_list(data)]


def list() -> Call[builtins.list[int]]:
    """GET /2/jobs: the ids of the jobs not yet archived."""
    return Call("GET", "/2/jobs", _ids)


def bulk() -> Call[builtins.list[Job]]:
    """GET /2/jobs?bulk=1: the jobs not yet archived, without logs and results."""
    return Call("GET", "/2/jobs", _jobs, (("bulk", "1"),))


def get(job_id: int | str) -> Call[Job]:
    """GET /2/jobs/N: one job with its results and logs (JobNotFound if there is no such job)."""
    return Call("GET", path("jobs", job_id_arg(job_id)), Job.parse)


def wait_for_change(
    job_id: int | str,
    fields: Sequence[str] = ("status",),
    previous_job_info: Sequence[Any] | None = None,
    previous_log_serial: int | None = None,
) -> Call[JobChange | None]:
    """GET /2/jobs/N/wait (a GET with a JSON body; needs `write`): blocks up to ~10 s for a change.

    Returns at once when the job is final, when `fields` differ from `previous_job_info`, or when log entries
    newer than `previous_log_serial` exist. Sent with the transport's long-poll read timeout.
    """
    payload = {
        "fields": builtins.list(fields),
        "previous_job_info": None if previous_job_info is None else builtins.list(previous_job_info),
        "previous_log_serial": previous_log_serial,
    }
    return Call(
        "GET", path("jobs", job_id_arg(job_id), "wait"), JobChange.parse, body=payload, long_poll=True
    )


def cancel(job_id: int | str) -> Call[CancelResult]:
    """DELETE /2/jobs/N: cancel a queued or waiting job; a running one is only informed."""
    return Call("DELETE", path("jobs", job_id_arg(job_id)), CancelResult.parse)

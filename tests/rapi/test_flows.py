"""The job waiter, written once as a flow, driven by the sync and the async client alike."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from fleet.rapi import AsyncRapiClient, LogEntry, RapiClient, errors, flows
from fleet.rapi.wire import Flow, Request, Response
from tests.rapi.fakes import AsyncFakeTransport, FakeTransport, ganeti_error, reply
from tests.rapi.test_parse import JOB_FAILED, JOB_SUCCESS


def drive(driver: str, answers: list[Response], flow: Flow[Any]) -> tuple[Any, list[Request]]:
    """Run the flow with the sync or async client over scripted answers; return its result and requests."""
    if driver == "sync":
        sync = FakeTransport(*answers)
        return RapiClient(sync).run(flow), sync.requests
    transport = AsyncFakeTransport(*answers)
    return asyncio.run(AsyncRapiClient(transport).run(flow)), transport.requests


DRIVERS = pytest.mark.parametrize("driver", ["sync", "async"])


def wait_answer(status: str | None, *entries: tuple[int, str]) -> Response:
    return reply(
        {"job_info": [status], "log_entries": [[s, [1764069655, 0], "message", m] for s, m in entries]}
    )


@DRIVERS
def test_waiter_reports_progress_and_returns_the_final_job(driver: str) -> None:
    seen: list[tuple[int, LogEntry]] = []
    answers = [
        wait_answer("queued"),
        wait_answer("running", (1, "rebooting")),
        reply(None),  # a pre-3.0 server's "nothing changed"
        wait_answer("running"),  # Ganeti 3.0's "nothing changed": the same values, no entries
        wait_answer("success", (2, "done")),
        reply(JOB_SUCCESS),
    ]
    job, requests = drive(driver, answers, flows.wait_for_job("17", on_log=lambda j, e: seen.append((j, e))))
    assert job.status == "success"
    assert [(j, e.serial, e.message) for j, e in seen] == [(17, 1, "rebooting"), (17, 2, "done")]
    waits = [json.loads(r.body or b"") for r in requests[:-1]]
    assert all(r.method == "GET" and r.path == "/2/jobs/17/wait" and r.long_poll for r in requests[:-1])
    assert waits[0] == {"fields": ["status"], "previous_job_info": None, "previous_log_serial": None}
    assert waits[2] == {"fields": ["status"], "previous_job_info": ["running"], "previous_log_serial": 1}
    assert waits[4]["previous_log_serial"] == 1
    assert requests[-1].path == "/2/jobs/17"


@DRIVERS
def test_waiter_raises_job_failed(driver: str) -> None:
    with pytest.raises(errors.JobFailed) as info:
        drive(driver, [wait_answer("error"), reply(JOB_FAILED)], flows.wait_for_job(18))
    assert (info.value.error_class, info.value.ecode) == ("OpPrereqError", "unknown_entity")


@DRIVERS
def test_waiter_without_check_returns_the_failed_job(driver: str) -> None:
    job, _ = drive(driver, [wait_answer("error"), reply(JOB_FAILED)], flows.wait_for_job(18, check=False))
    assert job.status == "error"


@DRIVERS
def test_unknown_job_is_job_not_found(driver: str) -> None:
    with pytest.raises(errors.JobNotFound):
        drive(driver, [ganeti_error(404, "Job 99 not found")], flows.wait_for_job(99))
    with pytest.raises(errors.JobNotFound):
        drive(driver, [wait_answer(None)], flows.wait_for_job(99))


@DRIVERS
def test_max_wait_gives_up_with_job_wait_timeout(driver: str) -> None:
    with pytest.raises(errors.JobWaitTimeout) as info:
        drive(driver, [wait_answer("running")], flows.wait_for_job(7, max_wait=0))
    assert info.value.job_id == 7


@DRIVERS
def test_errors_of_a_call_reach_the_caller(driver: str) -> None:
    with pytest.raises(errors.Forbidden):
        drive(driver, [ganeti_error(403, "Permission denied")], flows.wait_for_job(7))


@DRIVERS
def test_job_tree_follows_child_jobs(driver: str) -> None:
    parent = {**JOB_SUCCESS, "id": 30, "opresult": [{"jobs": [[True, 31], [False, "no room"], [True, 32]]}]}
    answers = [
        wait_answer("success"),
        reply(parent),
        wait_answer("success"),
        reply({**JOB_SUCCESS, "id": 31}),
        wait_answer("error"),
        reply({**JOB_FAILED, "id": 32}),
    ]
    (job, children), requests = drive(driver, answers, flows.wait_for_job_tree(30))
    assert job.id == 30
    assert [(c.id, c.status) for c in children] == [(31, "success"), (32, "error")]
    assert [s.error for s in job.submitted_jobs] == [None, "no room", None]
    assert [r.path for r in requests if not r.long_poll] == ["/2/jobs/30", "/2/jobs/31", "/2/jobs/32"]


def test_client_wait_for_job_helpers() -> None:
    sync = RapiClient(FakeTransport(wait_answer("success"), reply(JOB_SUCCESS)))
    assert sync.wait_for_job(17).id == 17

    async def main() -> int:
        client = AsyncRapiClient(AsyncFakeTransport(wait_answer("success"), reply(JOB_SUCCESS)))
        async with client:
            return (await client.wait_for_job(17)).id

    assert asyncio.run(main()) == 17

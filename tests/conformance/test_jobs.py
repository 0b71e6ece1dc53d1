"""Jobs (list, status, long-poll wait, cancel) and job-queue filters through the official client."""

from __future__ import annotations

import pytest

from tests.conformance.official import batch, call, create, facts, http_error, job, ok, succeeded
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance

JOB_FIELDS = {
    "id",
    "ops",
    "status",
    "summary",
    "opstatus",
    "opresult",
    "oplog",
    "received_ts",
    "start_ts",
    "end_ts",
}
PAUSE_NEW_JOBS = [["jobid", [">", "id", "watermark"]]]


def test_job_status_list_and_wait(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, start=False),
            call("GetJobStatus", "$0"),
            call("GetJobs"),
            call("WaitForJobChange", "$0", ["status", "opstatus"], None, None),
            call("WaitForJobChange", "$0", ["status"], ["success"], None),  # final: answers at once
            job("DeleteInstance", name),
        ],
    )
    created = succeeded(r[0])
    status = ok(r[1])
    assert set(status) >= JOB_FIELDS
    assert status["id"] == r[0]["result"] and isinstance(status["id"], int)
    assert status["summary"] == [f"INSTANCE_CREATE({name})"]
    assert (
        status["opstatus"] == ["success"] and status["end_ts"] >= status["start_ts"] >= status["received_ts"]
    )
    assert created["id"] in ok(r[2])
    assert ok(r[3])["job_info"] == ["success", ["success"]]
    assert ok(r[4])["job_info"] == ["success"] and r[4]["seconds"] < 5
    succeeded(r[5])


def test_unknown_job(target: RapiTarget) -> None:
    """Ganeti 3.0.2 answers a numeric unknown job id with 200 and every field null but the id; a non-numeric
    id does not match the URL pattern (404). Waiting on an unknown job fails with 500 ("Can't load job
    file")."""
    r = batch(
        target,
        [
            call("GetJobStatus", 987654321),
            call("GetJobStatus", "not-a-job"),
            call("WaitForJobChange", 987654321, ["status"], None, None),
        ],
    )
    unknown = ok(r[0])
    assert unknown["id"] == 987654321
    assert unknown["status"] is None and unknown["ops"] is None
    assert http_error(r[1]) == 404
    assert http_error(r[2]) == 500


def test_cancel_queued_job_under_a_pause_filter(target: RapiTarget, unique: str) -> None:
    tag = f"conformance:{unique}"
    r = batch(
        target,
        [
            call("AddFilter", 0, PAUSE_NEW_JOBS, "PAUSE", [["conformance", unique, 0]]),
            call("AddClusterTags", [tag]),
            call("GetJobStatus", "$1"),
            call("CancelJob", "$1"),
            {"call": "WaitJob", "args": ["$1"]},
            call("DeleteFilter", "$0"),
            call("CancelJob", "$1"),
            call("GetClusterTags"),
        ],
    )
    assert isinstance(ok(r[0]), str) and len(ok(r[0])) == 36  # a UUID
    assert ok(r[2])["status"] == "queued"
    assert ok(r[3]) == [True, f"Dequeued job {r[1]['result']}"]
    canceled = r[4]["job"]
    assert canceled["status"] == "canceled" and canceled["opstatus"] == ["canceled"]
    assert r[4]["verify"] == []
    assert ok(r[5]) is None
    assert ok(r[6])[0] is False  # a finished job cannot be canceled
    assert tag not in ok(r[7])


def test_filters_crud(target: RapiTarget, unique: str) -> None:
    """qa_rapi: POST returns a UUID, PUT creates then replaces under a given UUID, DELETE answers null.
    Ganeti 3.0.2 lists filters sorted by UUID (not in insertion order, as older QA suites expected)."""
    given = f"{unique[:8]}-0000-4000-8000-{unique[:8]}0000"
    accept = [["reason", ["=", "reason", f"never-{unique}"]]]
    r = batch(
        target,
        [
            call("AddFilter", 10, accept, "ACCEPT"),
            call("AddFilter", 20, accept, "CONTINUE"),
            call("GetFilters"),
            call("GetFilters", bulk=True),
            call("ReplaceFilter", given, 30, accept, "ACCEPT", [["conformance", "first", 0]]),
            call("ReplaceFilter", given, 31, accept, ["RATE_LIMIT", 5], [["conformance", "second", 0]]),
            call("GetFilter", given),
            call("DeleteFilter", "$0"),
            call("DeleteFilter", "$1"),
            call("DeleteFilter", given),
            call("GetFilter", given),
            call("GetFilters"),
        ],
    )
    first, second = ok(r[0]), ok(r[1])
    listed = ok(r[2])
    assert {first, second} <= set(listed) and listed == sorted(listed)
    bulk = {fl["uuid"]: fl for fl in ok(r[3])}
    assert bulk[first]["priority"] == 10 and bulk[first]["action"] == "ACCEPT"
    # the legacy "=" operator is stored as "=="
    assert bulk[first]["predicates"] == [["reason", ["==", "reason", f"never-{unique}"]]]
    assert ok(r[4]) == given and ok(r[5]) == given
    replaced = ok(r[6])
    assert replaced["priority"] == 31 and replaced["action"] == ["RATE_LIMIT", 5]
    assert ok(r[7]) is None and ok(r[8]) is None and ok(r[9]) is None
    assert http_error(r[10]) == 404
    assert not {first, second, given} & set(ok(r[11]))


def test_every_listed_job_has_valid_opcodes(target: RapiTarget, unique: str) -> None:
    """VerifyOpInput / VerifyOpResult over the opcodes of the most recent jobs the server lists (two of them
    submitted here, so that the check never runs on an empty queue)."""
    tag = f"verify-{unique}"
    *_, report = batch(
        target,
        [job("AddClusterTags", [tag]), job("DeleteClusterTags", [tag]), call("VerifyJobs", 150)],
    )
    # Ganeti shows private OS parameters as null in a job's opcodes, which its own opcode check refuses
    # (test_instance_actions.redacted): that is how Ganeti stores them, not a wrong opcode
    redacted = "osparams_private' fails validation"
    problems = {job_id: p for job_id, ps in ok(report).items() if (p := [x for x in ps if redacted not in x])}
    assert ok(report), "the server lists no jobs"
    assert problems == {}

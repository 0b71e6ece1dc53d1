"""Answers recorded from Ganeti (shapes of reference §3-§5) parse into the typed results."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.rapi import RapiClient, cluster, errors, groups, instances, jobs, networks, nodes, query
from fleet.rapi.models import Job, SubmittedJob
from fleet.rapi.wire import Response
from tests.rapi.fakes import FakeTransport, reply

JOB_SUCCESS = {
    "id": 17,
    "status": "success",
    "summary": ["INSTANCE_REBOOT(web1.example.com)"],
    "ops": [{"OP_ID": "OP_INSTANCE_REBOOT", "instance_name": "web1.example.com", "priority": 0}],
    "opstatus": ["success"],
    "opresult": [None],
    "oplog": [[[1, [1764069655, 914193], "message", "rebooting"], [2, [1764069656, 0], "message", "done"]]],
    "received_ts": [1764069655, 500000],
    "start_ts": [1764069655, 600000],
    "end_ts": [1764069656, 100000],
}

JOB_FAILED = {
    **JOB_SUCCESS,
    "id": "18",  # pre-2.10 servers sent string ids
    "status": "error",
    "summary": ["INSTANCE_STARTUP(nope)", "INSTANCE_STARTUP(x)"],
    "opstatus": ["error", "error"],
    "opresult": [
        ["OpPrereqError", ["Instance 'nope' not known", "unknown_entity"]],
        ["OpExecError", ["Preceding opcode failed"]],
    ],
}


def run(data: Any, call: Any) -> Any:
    return RapiClient(FakeTransport(reply(data))).call(call)


def test_job_parses_timestamps_logs_and_string_ids() -> None:
    job = run(JOB_SUCCESS, jobs.get(17))
    assert (job.id, job.status, job.final) == (17, "success", True)
    assert job.received_ts == pytest.approx(1764069655.5)
    assert [e.message for e in job.log] == ["rebooting", "done"]
    assert job.log[0].timestamp == pytest.approx(1764069655.914193)
    assert job.raise_for_status() is job
    assert Job.parse(JOB_FAILED).id == 18


def test_failed_job_raises_job_failed_with_class_and_ecode() -> None:
    job = Job.parse(JOB_FAILED)
    with pytest.raises(errors.JobFailed) as info:
        job.raise_for_status()
    assert (info.value.job_id, info.value.error_class, info.value.ecode) == (
        18,
        "OpPrereqError",
        "unknown_entity",
    )
    assert info.value.message == "Instance 'nope' not known"
    assert "unknown_entity" in str(info.value)


def test_canceled_job_raises_job_canceled() -> None:
    job = Job.parse(
        {
            **JOB_SUCCESS,
            "status": "canceled",
            "opstatus": ["canceled"],
            "opresult": ["Job canceled by request"],
        }
    )
    with pytest.raises(errors.JobCanceled, match="canceled by request"):
        job.raise_for_status()


def test_job_with_null_status_is_not_found() -> None:
    # Ganeti 3.0.2 answers a GET of an unknown numeric job with 200 and every field null but the id.
    unknown = {"id": 999, "status": None, "ops": None, "opstatus": None, "opresult": None, "oplog": None}
    with pytest.raises(errors.JobNotFound) as info:
        run(unknown, jobs.get(999))
    assert info.value.job_id == 999
    assert isinstance(info.value, errors.NotFound)


def test_child_jobs_of_node_evacuate() -> None:
    job = Job.parse({**JOB_SUCCESS, "opresult": [{"jobs": [[True, 21], [True, "22"], [False, "no room"]]}]})
    assert job.submitted_jobs == [
        SubmittedJob(True, 21, None),
        SubmittedJob(True, 22, None),
        SubmittedJob(False, None, "no room"),
    ]


def test_job_lists_accept_int_and_string_ids() -> None:
    assert run([{"id": 3, "uri": "/2/jobs/3"}, {"id": "4", "uri": "/2/jobs/4"}], jobs.list()) == [3, 4]


def test_job_ids_of_writes_accept_int_and_string() -> None:
    assert run(42, instances.startup("web1")) == 42
    assert run("43", instances.startup("web1")) == 43
    with pytest.raises(errors.UnexpectedResponse):
        run({"job": 1}, instances.startup("web1"))


def test_wait_answer_and_the_old_null_timeout() -> None:
    change = run(
        {"job_info": ["running"], "log_entries": [[3, [1, 0], "message", "copying"]]}, jobs.wait_for_change(1)
    )
    assert change is not None
    assert change.job_info == ["running"]
    assert change.log_entries[0].serial == 3
    assert run(None, jobs.wait_for_change(1)) is None


def test_cancel_answer() -> None:
    result = run([False, "Job no longer waiting, can't cancel (informed it anyway)"], jobs.cancel(5))
    assert not result.ok
    assert "can't cancel" in result.message


def test_lists_use_id_or_name() -> None:
    assert run([{"id": "web1", "uri": "/2/instances/web1"}], instances.list()) == ["web1"]
    assert run([{"id": "n1", "uri": "/2/nodes/n1"}], nodes.list()) == ["n1"]
    assert run([{"name": "default", "uri": "/2/groups/default"}], groups.list()) == ["default"]
    assert run([{"name": "lan", "uri": "/2/networks/lan"}], networks.list()) == ["lan"]


def test_bulk_objects_stay_the_dicts_ganeti_sent() -> None:
    inst = {"name": "web1", "status": "running", "nic.ips": [None], "beparams": {"vcpus": 1, "memory": 128}}
    assert run([inst], instances.bulk()) == [inst]
    assert run({"name": "c1", "master": "n1"}, cluster.info())["master"] == "n1"


def test_query_result_records() -> None:
    data = {
        "fields": [
            {"name": "name", "title": "Node", "kind": "text", "doc": "Node name"},
            {"name": "mfree", "title": "MFree", "kind": "unit", "doc": "Free memory"},
        ],
        "data": [[[0, "n1"], [0, 1024]], [[0, "n2"], [4, None]]],
    }
    result = run(data, query.run("node", ["name", "mfree"]))
    assert result.names == ["name", "mfree"]
    assert result.rows[1][1] == (4, None)
    assert result.records() == [{"name": "n1", "mfree": 1024}, {"name": "n2", "mfree": None}]


def test_query_row_of_the_wrong_width_is_unexpected() -> None:
    data = {
        "fields": [{"name": "name", "title": "", "kind": "text", "doc": ""}],
        "data": [[[0, "a"], [0, "b"]]],
    }
    with pytest.raises(errors.UnexpectedResponse):
        run(data, query.run("node", ["name"]))


@pytest.mark.parametrize(
    ("content", "call"),
    [
        (b"<html>oops</html>", cluster.info()),
        (b"[1, 2]", cluster.info()),
        (b'{"name": "x"}', instances.list()),
        (b'[{"uri": "x"}]', instances.list()),
        (b'{"fields": 3}', query.fields("node")),
    ],
)
def test_malformed_answers_are_unexpected_responses(content: bytes, call: Any) -> None:
    with pytest.raises(errors.UnexpectedResponse):
        RapiClient(FakeTransport(Response(200, content))).call(call)

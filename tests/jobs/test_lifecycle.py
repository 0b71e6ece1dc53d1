"""A job row follows what Ganeti reports, keeps who asked and why, and never changes once final."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction

from fleet.jobs.lifecycle import SUBMITTED_CHANNEL, Report, append_log, apply, submitted
from fleet.jobs.models import Job, JobStatus
from fleet.rapi import Job as RapiJob
from fleet.sync.queue import report
from tests.inventory import factories

# The shape of GET /2/jobs/17 for a job whose second opcode failed.
FAILED_JOB = {
    "id": 17,
    "status": "error",
    "summary": ["INSTANCE_SHUTDOWN(web1.example.org)", "INSTANCE_REMOVE(web1.example.org)"],
    "ops": [{"OP_ID": "OP_INSTANCE_SHUTDOWN"}, {"OP_ID": "OP_INSTANCE_REMOVE"}],
    "opstatus": ["success", "error"],
    "opresult": [None, ["OpPrereqError", ["Instance 'web1.example.org' is running", "wrong_state"]]],
    "oplog": [
        [[1, [1764069655, 914193], "message", "shutting down"]],
        [[2, [1764069656, 0], "message", "removing"]],
    ],
    "received_ts": [1764069655, 500000],
    "start_ts": [1764069655, 900000],
    "end_ts": [1764069656, 250000],
}


def reported(shape: dict[str, object]) -> Report:
    """A job's RAPI shape as the worker hands it to the row: read by fleet.rapi, then reported."""
    return report(RapiJob.parse(shape))


def at(seconds: int, microseconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) + dt.timedelta(microseconds=microseconds)


def test_a_failed_job_records_times_opcodes_log_and_the_error() -> None:
    job = Job(job_id=17)
    changed = apply(job, reported(FAILED_JOB))
    assert job.status == JobStatus.ERROR
    assert job.is_final
    assert job.op_ids == ["OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REMOVE"]
    assert (job.error_class, job.error_code) == ("OpPrereqError", "wrong_state")
    assert job.error_message == "Instance 'web1.example.org' is running"
    assert (
        job.started_at
        == at(1764069655, 900000)
        == dt.datetime(2025, 11, 25, 11, 20, 55, 900000, tzinfo=dt.UTC)
    )
    assert job.ended_at - job.received_at == dt.timedelta(microseconds=750000)
    assert job.log == [
        [1, [1764069655, 914193], "message", "shutting down"],
        [2, [1764069656, 0], "message", "removing"],
    ]
    assert job.result == FAILED_JOB["opresult"]
    assert job.last_log_serial == 2
    assert {"status", "ended_at", "error_class", "log", "last_log_serial"} <= set(changed)


def test_a_final_job_ignores_late_reports() -> None:
    job = Job(job_id=17)
    apply(job, reported(FAILED_JOB))
    assert apply(job, Report(status="running")) == []
    assert job.status == JobStatus.ERROR


def test_an_unchanged_report_changes_nothing() -> None:
    job = Job(job_id=3)
    running = Report(status="running", op_ids=["OP_INSTANCE_STARTUP"], started_at=at(10, 0))
    assert "started_at" in apply(job, running)
    assert apply(job, running) == []


def test_a_running_job_read_again_changes_nothing() -> None:
    running = {**FAILED_JOB, "status": "running", "opstatus": ["success", "running"], "end_ts": None}
    job = Job(job_id=17)
    assert apply(job, reported(running))
    assert apply(job, reported(running)) == []  # a poll of an unchanged queue writes nothing


def test_a_canceled_job_ends_without_an_error() -> None:
    job = Job(job_id=4)
    apply(job, reported({**FAILED_JOB, "status": "canceled", "opstatus": ["success", "canceled"]}))
    assert job.status == JobStatus.CANCELED and job.is_final
    assert (job.error_class, job.error_message) == ("", "")


def test_the_log_keeps_each_entry_once_in_order() -> None:
    job = Job(job_id=3)
    assert append_log(job, [[2, [1, 0], "message", "b"], [1, [1, 0], "message", "a"]])
    assert not append_log(job, [[1, [1, 0], "message", "a"], [2, [1, 0], "message", "b"]])
    assert append_log(job, [[2, [1, 0], "message", "b"], [3, [2, 0], "message", "c"]])
    assert [entry[3] for entry in job.log] == ["a", "b", "c"]


@pytest.mark.django_db
def test_a_submitted_job_keeps_requester_reason_and_target() -> None:
    cluster = factories.cluster()
    instance = factories.instance(cluster, "web1.example.org")
    alice = User.objects.create_user("alice")
    job = submitted(cluster, 17, requester=alice, reason="kernel update", instance=instance)
    job.refresh_from_db()
    assert (job.job_id, job.requester, job.reason, job.instance, job.status) == (
        17,
        alice,
        "kernel update",
        instance,
        JobStatus.QUEUED,
    )
    assert list(Job.objects.unfinished()) == [job]

    apply(job, reported(FAILED_JOB))
    job.save()
    assert list(Job.objects.unfinished()) == []
    assert Job.objects.get().error_code == "wrong_state"


@pytest.mark.django_db(transaction=True)
def test_a_submitted_job_is_announced_once_recorded() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the announcement is PostgreSQL's NOTIFY")
    params = connection.get_connection_params()
    params = {key: value for key, value in params.items() if key not in ("cursor_factory", "context")}
    cluster = factories.cluster()
    with psycopg.connect(**params, autocommit=True) as listening:
        listening.execute(f"LISTEN {SUBMITTED_CHANNEL}")
        with pytest.raises(RuntimeError), transaction.atomic():
            submitted(cluster, 16, requester=None, reason="rolled back")
            raise RuntimeError
        submitted(cluster, 17, requester=None, reason="recorded")
        heard = [note.payload for note in listening.notifies(timeout=5, stop_after=2)]
    assert heard == [f"{cluster.pk} 17"]


@pytest.mark.django_db
def test_job_ids_are_unique_per_cluster() -> None:
    one, two = factories.cluster(), factories.cluster()
    Job.objects.create(cluster=one, job_id=5)
    Job.objects.create(cluster=two, job_id=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.create(cluster=one, job_id=5)


@pytest.mark.django_db
def test_a_job_outlives_its_instance_and_requester() -> None:
    cluster = factories.cluster()
    instance = factories.instance(cluster)
    bob = User.objects.create_user("bob")
    submitted(cluster, 9, requester=bob, reason="remove", instance=instance)
    instance.delete()
    bob.delete()
    job = Job.objects.get()
    assert (job.instance, job.requester, job.reason) == (None, None, "remove")

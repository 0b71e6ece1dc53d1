"""Job durations come from Ganeti's own job records: a job run on the cluster (a config redistribution, quick
on real Ganeti) is read by the worker, and Fleet's /metrics histograms hold its queue wait and its run time as
Ganeti's received, start and end times give them. On the simulator, and on real Ganeti 3.0.2 with
FLEET_REAL_GANETI=1."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from fleet.jobs.models import Job
from fleet.metrics.collector import registry
from fleet.rapi import Credentials, Pin, RapiClient, jobs
from fleet.rapi.endpoints import cluster as cluster_calls
from tests.sync.conftest import register, run_once
from tests.targets import RapiTarget

pytestmark = pytest.mark.django_db(transaction=True)
OPCODE = "OP_CLUSTER_REDIST_CONF"


def test_a_jobs_wait_and_run_reach_the_histograms_as_ganeti_timed_them(target: RapiTarget) -> None:
    client = RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    )
    with client:
        job_id = client.call(cluster_calls.redistribute_config(reason="fleet conformance: job durations"))
        client.wait_for_job(job_id)
        ganeti = client.call(jobs.get(job_id))
    register(target)
    run_once()
    row = Job.objects.get(job_id=job_id)
    assert ganeti.received_ts is not None and ganeti.start_ts is not None and ganeti.end_ts is not None
    assert row.received_at is not None and row.started_at is not None and row.ended_at is not None
    assert row.received_at.timestamp() == pytest.approx(ganeti.received_ts, abs=1e-3)
    assert row.ended_at.timestamp() == pytest.approx(ganeti.end_ts, abs=1e-3)

    found: dict[str, float] = {}
    for family in text_string_to_metric_families(generate_latest(registry()).decode()):
        for sample in family.samples:
            if sample.labels.get("opcode") == OPCODE and sample.labels.get("cluster") == target.name:
                found[sample.name + sample.labels.get("le", "")] = sample.value
    recorded = Job.objects.filter(op_ids__0=OPCODE, ended_at__isnull=False, started_at__isnull=False)
    runs = [(j.ended_at - j.started_at).total_seconds() for j in recorded if j.ended_at and j.started_at]
    assert found["fleet_ganeti_job_run_seconds_count"] == len(runs) >= 1
    assert found["fleet_ganeti_job_run_seconds_sum"] == pytest.approx(sum(runs), abs=1e-3)
    assert found["fleet_ganeti_job_run_seconds_sum"] >= ganeti.end_ts - ganeti.start_ts - 1e-3
    assert found["fleet_ganeti_job_run_seconds_bucket3600.0"] == sum(1 for r in runs if r <= 3600)
    assert found["fleet_ganeti_job_queue_wait_seconds_count"] >= 1

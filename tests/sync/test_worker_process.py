"""`fleet worker` as a process: killed with SIGKILL while following a job, it picks the job up again on
restart, follows it to its end and resyncs the instance."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

from fleet.rapi import Credentials, Pin, RapiClient, instances
from tests.conftest import Simulated
from tests.sync.conftest import Fleet, set_faults, wait_for_text


def test_a_killed_worker_resumes_its_job_on_restart(
    fresh_simulator: Callable[..., Simulated], database_url: str, tmp_path: Path
) -> None:
    sim = fresh_simulator()
    target = sim.targets[0]
    fleet = Fleet(database_url, tmp_path)
    fleet.add_cluster(target)
    fleet.run("worker", "--once")
    name = fleet.python(
        "from fleet.inventory.models import Instance;"
        "print(Instance.objects.filter(status='running').order_by('name').first().name)"
    )

    set_faults(sim.control_url, target.name, stuck_jobs=True)
    with RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    ) as client:
        job_id = client.call(instances.shutdown(name, reason="test"))
    fleet.python(
        "from fleet.inventory.models import Cluster, Instance; from fleet.jobs import lifecycle;"
        f"lifecycle.submitted(Cluster.objects.get(), {job_id}, requester=None, reason='test',"
        f" instance=Instance.objects.get(name={name!r}))"
    )

    first_log = tmp_path / "worker1.log"
    first = fleet.start(first_log, "worker", "--interval", "600")
    try:
        wait_for_text(first_log, f"following job {job_id}")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    status = f"from fleet.jobs.models import Job; print(Job.objects.get(job_id={job_id}).status)"
    assert fleet.python(status) in ("queued", "waiting", "running")

    second_log = tmp_path / "worker2.log"
    second = fleet.start(second_log, "worker", "--once", "--verbose", "--job-timeout", "60")
    try:
        wait_for_text(second_log, f"following job {job_id}")
        set_faults(sim.control_url, target.name, stuck_jobs=False)
        assert second.wait(timeout=60) == 0, second_log.read_text()
    finally:
        if second.poll() is None:
            second.kill()
    assert fleet.python(status) == "success"
    instance_status = (
        f"from fleet.inventory.models import Instance; print(Instance.objects.get(name={name!r}).status)"
    )
    assert fleet.python(instance_status) == "ADMIN_down"

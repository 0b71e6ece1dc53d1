"""`fleet worker` as a process: killed with SIGKILL while following a job, it picks the job up again on
restart, follows it to its end and resyncs the instance."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fleet.rapi import Credentials, Pin, RapiClient, instances
from tests.conftest import Simulated
from tests.sync.conftest import set_faults

FLEET = [sys.executable, "-c", "from fleet.cli.main import main; main()"]


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A database of the worker's own: a SQLite file, or a fresh PostgreSQL database when the suite runs on
    PostgreSQL (FLEET_DATABASE_URL)."""
    url = os.environ.get("FLEET_DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'fleet.sqlite3'}"
        return
    import psycopg

    name = f"fleet_worker_{uuid.uuid4().hex[:8]}"
    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


class Fleet:
    """Runs `fleet` commands against one database."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.env = {
            **os.environ,
            "FLEET_DATABASE_URL": database_url,
            "FLEET_SECRET_KEY": "worker-process-test-secret-key-0123456789-abcdefghijklmnop",
            "FLEET_CREDENTIALS_KEY": "ZmxlZXQtdGVzdC1rZXktbm90LWZvci1wcm9kdWN0aW8=",
            "FLEET_DATA_DIR": str(data_dir),
        }
        self.env.pop("DJANGO_SETTINGS_MODULE", None)

    def run(self, *args: str) -> str:
        done = subprocess.run([*FLEET, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, log: Path, *args: str) -> subprocess.Popen[bytes]:
        with open(log, "wb") as out:
            return subprocess.Popen([*FLEET, *args], env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def python(self, code: str) -> str:
        return self.run("manage", "shell", "--no-imports", "-c", code).strip()


def wait_for_text(path: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in (path.read_text() if path.exists() else ""):
        assert time.monotonic() < deadline, f"{text!r} not in {path.read_text()}"
        time.sleep(0.1)


def test_a_killed_worker_resumes_its_job_on_restart(
    fresh_simulator: Callable[..., Simulated], database_url: str, tmp_path: Path
) -> None:
    sim = fresh_simulator()
    target = sim.targets[0]
    fleet = Fleet(database_url, tmp_path)
    fleet.run("manage", "migrate", "-v", "0")
    fleet.run(
        "cluster", "add", target.url, "--user", target.username, "--password", target.password,
        "--fingerprint", target.fingerprint,
    )  # fmt: skip
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

"""Fixtures for the worker tests: clusters registered from simulator targets, one-shot worker runs in
process, and `fleet` commands run as processes against a database of their own."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from django.db import OperationalError

from fleet.inventory.models import Cluster
from fleet.sync.leases import for_database
from fleet.sync.loop import ClusterLoop, LoopSettings
from fleet.sync.worker import Worker, WorkerSettings
from tests.targets import RapiTarget

T = TypeVar("T")


def register(target: RapiTarget, *, timeout: float = 10.0, offline: bool = False) -> Cluster:
    """A Cluster row for a simulated cluster, as `fleet cluster add` stores it."""
    cluster = Cluster(
        name=target.name,
        rapi_url=target.url,
        rapi_username=target.username,
        rapi_fingerprint=target.fingerprint,
        rapi_timeout=timeout,
        offline=offline,
    )
    cluster.set_rapi_password(target.password)
    cluster.save()
    return cluster


def run_once(job_timeout: float = 30.0) -> dict[int, ClusterLoop]:
    """`fleet worker --once`, in process: one pass of every cluster, then the unfinished jobs to their end."""
    settings = WorkerSettings(loop=LoopSettings(interval=1.0, max_backoff=2.0))

    async def main() -> dict[int, ClusterLoop]:
        return await Worker(settings, for_database()).run_once(job_timeout=job_timeout)

    return asyncio.run(main())


def set_faults(control_url: str, cluster: str, **faults: object) -> None:
    """Set faults of a simulated cluster through the simulator's control endpoint."""
    response = httpx.put(f"{control_url}/clusters/{cluster}/faults", json=faults, timeout=10)
    response.raise_for_status()


def simulator_counts(control_url: str) -> dict[str, int]:
    """Instances per cluster, as the simulator itself reports them."""
    response = httpx.get(f"{control_url}/clusters", timeout=10)
    response.raise_for_status()
    return {row["name"]: row["instances"] for row in response.json()}


@pytest.fixture
def registered() -> Callable[..., Cluster]:
    return register


FLEET = [sys.executable, "-c", "from fleet.cli.main import main; main()"]


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One database migrated by `fleet manage migrate` for the session, which each test's own database is
    copied from (a migration in a new process costs seconds; a copy, a tenth of one)."""
    data_dir = tmp_path_factory.mktemp("migrated")
    url = os.environ.get("FLEET_DATABASE_URL", "")
    if not url.startswith("postgres"):
        template = f"sqlite:///{data_dir / 'fleet.sqlite3'}"
        Fleet(template, data_dir).run("manage", "migrate", "-v", "0")
        yield template
        return
    import psycopg

    server = url.rsplit("/", 1)[0]
    name = f"fleet_worker_template_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        Fleet(f"{server}/{name}", data_dir).run("manage", "migrate", "-v", "0")
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of the worker's own: a SQLite file, or a PostgreSQL database when the suite runs
    on PostgreSQL (FLEET_DATABASE_URL)."""
    if migrated_database.startswith("sqlite:///"):
        copy = tmp_path / "fleet.sqlite3"
        # through SQLite's backup, which reads what a write-ahead log still holds
        source = sqlite3.connect(migrated_database.removeprefix("sqlite:///"))
        with closing(source), closing(sqlite3.connect(copy)) as destination:
            source.backup(destination)
        yield f"sqlite:///{copy}"
        return
    import psycopg

    server, template = migrated_database.rsplit("/", 1)
    name = f"fleet_worker_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
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

    def add_cluster(self, target: RapiTarget) -> None:
        self.run(
            "cluster", "add", target.url, "--user", target.username, "--password", target.password,
            "--fingerprint", target.fingerprint,
        )  # fmt: skip

    def add_clusters(self, targets: list[RapiTarget]) -> None:
        """What `fleet cluster add` does for each target, in one process (a process per cluster costs a
        Django start-up each; tests/cli covers the command itself)."""
        rows = [(t.url, t.username, t.password, t.fingerprint) for t in targets]
        self.python(f"from fleet.cli.cluster import register\nfor row in {rows!r}:\n    register(*row)")


def wait_for_text(path: Path, text: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while text not in (path.read_text() if path.exists() else ""):
        assert time.monotonic() < deadline, f"{text!r} not in {path.read_text()}"
        time.sleep(0.1)


class Running:
    """A Worker running in a thread with its own event loop."""

    def __init__(self, settings: WorkerSettings) -> None:
        self.worker = Worker(settings, for_database())
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.worker.run(),))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.worker.stop)
        self.thread.join(timeout=30)
        self.loop.close()


@pytest.fixture
def running_worker() -> Iterator[Callable[[WorkerSettings], Running]]:
    started: list[Running] = []

    def start(settings: WorkerSettings) -> Running:
        running = Running(settings)
        running.thread.start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def unlocked(read: Callable[[], T], timeout: float = 10.0) -> T:
    """``read()``, again while SQLite's shared in-memory test database is locked by the worker's write."""
    started = time.monotonic()
    while True:
        try:
            return read()
        except OperationalError:
            if time.monotonic() - started > timeout:
                raise
            time.sleep(0.05)


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> float:
    """Poll until true. (Reads may meet SQLite's table locks of the shared in-memory test database while
    the worker writes: they are retried.)"""
    started = time.monotonic()
    while True:
        try:
            if predicate():
                break
        except OperationalError:
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
    return time.monotonic() - started

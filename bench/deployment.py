"""A Fleet deployment for the benchmarks: a PostgreSQL database of their own, Django configured on it in this
process, clusters registered from a simulator, and `fleet worker` and a gunicorn web server as children."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from fleet.simulator.process import SimulatorProcess, free_port

DATABASE = "fleet_bench"
FLEET = [sys.executable, "-c", "from fleet.cli.main import main; main()"]


class NoPostgres(SystemExit):
    """The benchmark needs a PostgreSQL server (``FLEET_DATABASE_URL``)."""


def server_url() -> str:
    """FLEET_DATABASE_URL, which must name a PostgreSQL server whose role may create databases."""
    url = os.environ.get("FLEET_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise NoPostgres(
            "bench.inventory measures Fleet on PostgreSQL: set FLEET_DATABASE_URL to a postgresql:// URL "
            "whose role may create databases, e.g. "
            'export FLEET_DATABASE_URL="$(bash scripts/postgres)" (as root). '
            f"The benchmark creates and drops a database of its own, {DATABASE}."
        )
    return url


@contextlib.contextmanager
def database(url: str, name: str = DATABASE) -> Iterator[str]:
    """A fresh database ``name`` on the server of ``url`` for the length of the block; its URL."""
    import psycopg

    server = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def configure(database_url: str, data_dir: Path) -> None:
    """Set Fleet's settings in the environment (children inherit them), set Django up here, migrate."""
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "FLEET_DATABASE_URL": database_url,
            "FLEET_SECRET_KEY": "bench-only-secret-key-" + Fernet.generate_key().decode(),
            "FLEET_CREDENTIALS_KEY": Fernet.generate_key().decode(),
            "FLEET_DATA_DIR": str(data_dir),
            # the benchmark's web server speaks plain http on loopback
            "FLEET_SECURE_COOKIES": "false",
            "FLEET_SSL_REDIRECT": "false",
            "DJANGO_SETTINGS_MODULE": "fleet.conf.settings",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def register(sim: SimulatorProcess) -> list[Any]:
    """A Cluster row for each simulated cluster, as `fleet cluster add` stores it."""
    from fleet.inventory.models import Cluster

    rows = []
    for c in sim.clusters:
        cluster = Cluster(
            name=c["name"], rapi_url=c["url"], rapi_username=c["username"], rapi_fingerprint=c["fingerprint"]
        )
        cluster.set_rapi_password(c["password"])
        cluster.save()
        rows.append(cluster)
    return rows


def read_model_tables() -> list[str]:
    """The tables the worker fills from the clusters."""
    from fleet.inventory.maintenance import READ_MODEL

    return [m._meta.db_table for m in READ_MODEL]


def empty_read_model() -> None:
    """Remove every synced row and job (the clusters stay): the state before a first sync."""
    from django.db import connection

    from fleet.jobs.models import Job, JobTarget

    tables = [JobTarget._meta.db_table, Job._meta.db_table, *read_model_tables()]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)}")


@contextlib.contextmanager
def child(log: Path, *cmd: str) -> Iterator[subprocess.Popen[bytes]]:
    """A child process (output to ``log``), terminated at the end of the block."""
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def tail_on_error(log: Path, lines: int = 40) -> Iterator[None]:
    """Print the end of ``log`` if the block raises."""
    try:
        yield
    except BaseException:
        print(f"--- last lines of {log.name}:", *log.read_text().splitlines()[-lines:], sep="\n")
        raise


@contextlib.contextmanager
def web_server(log: Path, workers: int = 1) -> Iterator[str]:
    """gunicorn serving Fleet (by default one sync worker: requests are timed one at a time); its base URL."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "gunicorn", "fleet.conf.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--error-logfile", "-",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    with child(log, *cmd) as process:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the web server stopped: {log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "login/", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"no answer at {url}: {log.read_text()}")
            time.sleep(0.2)
        yield url


def login(url: str, username: str, password: str) -> httpx.Client:
    """An HTTP client logged in to the web pages (session cookie)."""
    client = httpx.Client(base_url=url, timeout=120)
    client.get("login/").raise_for_status()
    response = client.post(
        "login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
    )
    if response.status_code != 302:
        raise RuntimeError(f"login as {username} failed: {response.status_code}")
    return client


def wait_synced(total: int, timeout: float) -> float:
    """Seconds until every cluster has synced once and ``total`` instances are stored."""
    from fleet.inventory.models import Cluster, Instance

    started = time.monotonic()
    while True:
        synced = Cluster.objects.filter(last_sync_at__isnull=False).count() == Cluster.objects.count()
        if synced and Instance.objects.count() == total:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the worker did not sync {total} instances in {timeout} s")
        time.sleep(0.2)

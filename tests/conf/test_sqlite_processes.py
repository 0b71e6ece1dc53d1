"""A first run on SQLite: a real worker process and a real gunicorn write to one database file at once, and
neither meets "database is locked"."""

from __future__ import annotations

import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import Simulated
from tests.sync.conftest import Fleet, wait_for_text

LOGINS_PER_CLIENT = 15
CLIENTS = 4
PASSWORD = "correct-horse-battery-staple-42"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_in(base_url: str, outcomes: list[str]) -> None:
    """Log in again and again; each login writes a session row and the user's last_login."""
    for _ in range(LOGINS_PER_CLIENT):
        with httpx.Client(base_url=base_url, timeout=30) as http:
            form = http.get("/login/")
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
            if form.status_code != 200 or token is None:
                outcomes.append(f"login page: {form.status_code}")
                continue
            answer = http.post(
                "/login/",
                data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            )
            outcomes.append("ok" if answer.status_code == 302 else f"login: {answer.status_code}")


def test_worker_and_web_server_write_one_sqlite_file_at_once(
    fresh_simulator: Callable[..., Simulated], tmp_path: Path
) -> None:
    sim = fresh_simulator("--instances", "600")
    database = tmp_path / "fleet.sqlite3"
    fleet = Fleet(f"sqlite:///{database}", tmp_path)
    fleet.env |= {"FLEET_SECURE_COOKIES": "false", "FLEET_SSL_REDIRECT": "false"}  # plain http on loopback
    fleet.run("manage", "migrate", "-v", "0")
    fleet.add_clusters(sim.targets)
    fleet.python(
        "from django.contrib.auth.models import User;"
        f"User.objects.create_user('alice', password={PASSWORD!r})"
    )

    port = _free_port()
    web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
    with open(web_log, "wb") as out:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "fleet.conf.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4", "--error-logfile", "-"],
            env=fleet.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = fleet.start(worker_log, "worker", "--interval", "0.5")
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_for_text(web_log, "Booting worker")
        outcomes: list[str] = []
        clients = [threading.Thread(target=_log_in, args=(base_url, outcomes)) for _ in range(CLIENTS)]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=120)
        wait_for_text(worker_log, "synced")
        time.sleep(1)
        assert worker.poll() is None and web.poll() is None
    finally:
        for process in (worker, web):
            process.terminate()
            process.wait(timeout=30)

    logs = worker_log.read_text() + web_log.read_text()
    assert "database is locked" not in logs, logs[-3000:]
    assert outcomes == ["ok"] * (CLIENTS * LOGINS_PER_CLIENT), (outcomes, logs[-3000:])
    synced = fleet.python(
        "from fleet.inventory.models import Cluster;print(Cluster.objects.filter(health='healthy').count())"
    )
    assert synced == str(len(sim.targets)), logs[-3000:]
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)

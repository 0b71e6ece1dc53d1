"""The worker sends the outbox: `fleet worker --once` sends what is due, a running `fleet worker` sends a
mail queued meanwhile within seconds; `fleet mail` shows the outbox and sends a test mail."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.notify.smtpd import SmtpServer
from tests.sync.conftest import FLEET, Fleet

QUEUE = (
    "from fleet.notify import mail; "
    "print(mail.send('test', to=['{to}'], context={{'requested_by': 'a test'}}).pk)"
)

HEADERS = ["ID", "STATUS", "QUEUED", "ATTEMPTS", "TO", "SUBJECT"]
LISTED = "`fleet mail list` shows them"


def failing(fleet: Fleet, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*FLEET, *args], env=fleet.env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def fleet(database_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Fleet:
    """`fleet` commands on a migrated database of their own, with [mail] pointing at ``smtp_server``."""
    fleet = Fleet(database_url, tmp_path)
    fleet.env |= {
        "FLEET_MAIL_HOST": "127.0.0.1",
        "FLEET_MAIL_PORT": str(smtp_server.port),
        "FLEET_MAIL_TLS": "none",
        "FLEET_MAIL_FROM": "fleet@example.org",
    }
    return fleet


def test_worker_once_sends_what_is_due(fleet: Fleet, smtp_server: SmtpServer) -> None:
    fleet.python(QUEUE.format(to="alice@example.org"))
    assert smtp_server.inbox.arrived == []
    assert "mail: 1 sent" in fleet.run("worker", "--once")
    assert [item.recipients for item in smtp_server.inbox.arrived] == [["alice@example.org"]]
    assert "mail:" not in fleet.run("worker", "--once")  # nothing due: nothing said


def test_a_running_worker_sends_a_mail_queued_meanwhile(
    fleet: Fleet, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    worker = fleet.start(tmp_path / "worker.log", "worker", "--lease-period", "1")
    try:
        time.sleep(1)
        fleet.python(QUEUE.format(to="bob@example.org"))
        deadline = time.monotonic() + 30
        while not smtp_server.inbox.arrived:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()
    assert [item.recipients for item in smtp_server.inbox.arrived] == [["bob@example.org"]]


def test_fleet_mail_lists_shows_and_tests(fleet: Fleet, smtp_server: SmtpServer) -> None:
    assert "sent through 127.0.0.1:" in fleet.run("mail", "test", "noc@example.org", "--now")
    assert smtp_server.inbox.subjects() == ["Fleet: test mail"]
    smtp_server.stop()
    queued = fleet.python(QUEUE.format(to="carol@example.org"))

    listing = fleet.run("mail", "list").splitlines()
    assert listing[0].split() == [*HEADERS, "LAST", "ERROR"]
    assert [line.split()[1] for line in listing[1:]] == ["queued", "sent"]
    assert "noc@example.org" not in fleet.run("mail", "list", "--status", "queued")

    failed = failing(fleet, "mail", "test", "dave@example.org", "--now")  # carol's mail is tried too
    assert failed.returncode == 1
    assert "not sent (queued) through 127.0.0.1:" in failed.stderr
    assert "ConnectionRefusedError" in failed.stderr

    shown = fleet.run("mail", "show", queued)
    assert "Status: queued after 1 attempts" in shown
    assert "Last error: 127.0.0.1:" in shown
    assert "To: carol@example.org" in shown and "queued by a test at" in shown
    missing = failing(fleet, "mail", "show", "999999")
    assert (missing.returncode, missing.stderr.strip()) == (1, f"Error: no mail 999999 ({LISTED})")
    bad = failing(fleet, "mail", "test", "nobody")
    assert bad.returncode == 2 and "'nobody' is not a mail address" in bad.stderr

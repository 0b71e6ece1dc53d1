"""Queued mail reaches a real SMTP server, survives the server being down, and is never sent twice."""

from __future__ import annotations

import datetime
import logging
import ssl
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fleet.notify import courier, mail, outbox
from fleet.notify.models import Mail, MailStatus
from fleet.notify.outbox import GIVE_UP_AFTER
from tests.notify.conftest import mail_config
from tests.notify.smtpd import SmtpServer
from tests.rapi.tls import make_cert

pytestmark = pytest.mark.django_db

CONTEXT = {"requested_by": "admin", "queued_at": timezone.now(), "sender": "fleet@example.org"}


def later(minutes: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_a_queued_mail_arrives_with_its_parts(configured: object, smtp_server: SmtpServer) -> None:
    queued = mail.send("test", to=["Alice <alice@example.org>"], context=CONTEXT)
    assert smtp_server.inbox.arrived == []  # queueing sends nothing

    done = courier.deliver_due()

    assert (done.sent, done.retrying, done.failed) == (1, 0, 0)
    [arrived] = smtp_server.inbox.arrived
    assert arrived.recipients == ["alice@example.org"]
    assert arrived.sender == "fleet@example.org"
    assert arrived.message["Subject"] == "Fleet: test mail"
    assert arrived.message["To"] == "Alice <alice@example.org>"
    assert arrived.message["Auto-Submitted"] == "auto-generated"
    assert arrived.message["Message-ID"].startswith(f"<fleet.mail.{queued.pk}.")
    assert "queued by admin" in arrived.text()
    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.last_error) == (MailStatus.SENT, 1, "")
    assert queued.sent_at is not None
    assert courier.deliver_due().sent == 0  # the archive keeps it, and it is not sent again


def test_the_html_alternative_travels_beside_the_text(configured: object, smtp_server: SmtpServer) -> None:
    mail.send("test", to=["alice@example.org"], context=CONTEXT | {"requested_by": "<script>x</script>"})
    courier.deliver_due()
    [arrived] = smtp_server.inbox.arrived
    assert "queued by <script>x</script> at" in arrived.text()  # plain text: as it is
    html = arrived.html()
    assert html is not None
    assert "queued by <b>&lt;script&gt;x&lt;/script&gt;</b> at" in html  # HTML: escaped


def test_a_dead_server_keeps_the_mail_queued_until_it_is_back(
    servers: Callable[..., SmtpServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = servers()  # not started: connections are refused
    with override_settings(FLEET_MAIL=mail_config(server)):
        queued = mail.send("test", to=["alice@example.org"], context=CONTEXT)
        with caplog.at_level(logging.WARNING, logger="fleet.notify"):
            first = courier.deliver_due()
        assert (first.sent, first.retrying) == (0, 1)
        queued.refresh_from_db()
        assert queued.status == MailStatus.QUEUED
        assert queued.attempts == 1
        assert f"127.0.0.1:{server.port}: ConnectionRefusedError" in queued.last_error
        assert "attempt 1 failed, next in 60 s" in caplog.text

        server.start()
        assert courier.deliver_due(now=later(0.5)).sent == 0  # the retry waits a minute
        assert courier.deliver_due(now=later(1.1)).sent == 1

    assert server.inbox.subjects() == ["Fleet: test mail"]
    queued.refresh_from_db()
    assert (queued.status, queued.attempts, queued.last_error) == (MailStatus.SENT, 2, "")


def test_retries_back_off_to_an_hour_and_give_up_after_a_day(
    servers: Callable[..., SmtpServer], caplog: pytest.LogCaptureFixture
) -> None:
    server = servers()  # never started
    with override_settings(FLEET_MAIL=mail_config(server)):
        queued = mail.send("test", to=["alice@example.org"], context=CONTEXT)
        delays = []
        now = timezone.now()
        for _ in range(9):
            courier.deliver_due(now=now)
            queued.refresh_from_db()
            delays.append(round((queued.next_attempt_at - now).total_seconds() / 60))
            now = queued.next_attempt_at
        assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]
        assert queued.status == MailStatus.QUEUED

        with caplog.at_level(logging.ERROR, logger="fleet.notify"):
            done = courier.deliver_due(now=queued.created_at + GIVE_UP_AFTER)
        assert done.expired == 1
        queued.refresh_from_db()
        assert queued.status == MailStatus.FAILED
        assert queued.last_error == "not sent within a day: the mail server did not take it"
        assert "1 mails not sent within a day of being queued, given up" in caplog.text


def test_a_recipient_refused_for_good_fails_at_once_and_the_batch_goes_on(
    configured: object, smtp_server: SmtpServer
) -> None:
    smtp_server.inbox.refuse.add("gone@example.org")
    refused = mail.send("test", to=["gone@example.org"], context=CONTEXT)
    kept = mail.send("test", to=["alice@example.org"], context=CONTEXT)

    done = courier.deliver_due()

    assert (done.sent, done.failed) == (1, 1)
    refused.refresh_from_db()
    kept.refresh_from_db()
    assert refused.status == MailStatus.FAILED
    assert "gone@example.org: 550 5.1.1 no such mailbox here" in refused.last_error
    assert kept.status == MailStatus.SENT
    assert [item.recipients for item in smtp_server.inbox.arrived] == [["alice@example.org"]]


def test_a_rolled_back_action_queues_nothing(configured: object, smtp_server: SmtpServer) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        mail.send("test", to=["alice@example.org"], context=CONTEXT)
        raise RuntimeError("the action failed after queueing its mail")
    assert not Mail.objects.exists()
    assert courier.deliver_due().sent == 0
    assert smtp_server.inbox.arrived == []


def test_without_a_server_mails_wait_in_the_outbox_for_a_day() -> None:
    queued = mail.send("test", to=["alice@example.org"], context=CONTEXT)  # the test settings have no host
    assert courier.deliver_due(now=later(60)).sent == 0
    queued.refresh_from_db()
    assert (queued.status, queued.attempts) == (MailStatus.QUEUED, 0)
    courier.deliver_due(now=queued.created_at + GIVE_UP_AFTER)
    queued.refresh_from_db()
    assert queued.status == MailStatus.FAILED
    assert queued.last_error == f"not sent within a day: {courier.NO_SERVER}"


def test_the_archive_is_pruned_after_its_retention(configured: object) -> None:
    mail.send("test", to=["alice@example.org"], context=CONTEXT)
    courier.deliver_due()
    waiting = mail.send("test", to=["bob@example.org"], context=CONTEXT)
    Mail.objects.filter(pk=waiting.pk).update(next_attempt_at=later(10**6))
    assert outbox.prune(later(89 * 24 * 60), retention_days=90) == 0
    assert outbox.prune(later(91 * 24 * 60), retention_days=90) == 1
    assert list(Mail.objects.values_list("to", flat=True)) == [["bob@example.org"]]  # queued mails stay
    assert outbox.prune(later(10**6), retention_days=0) == 0  # 0 keeps everything


def _tls_context(tmp_path: Path) -> tuple[ssl.SSLContext, str]:
    cert = make_cert(tmp_path, "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert.cert_file, cert.key_file)
    return context, cert.cert_file


def test_starttls_with_a_private_ca_and_a_login(servers: Callable[..., SmtpServer], tmp_path: Path) -> None:
    context, ca_file = _tls_context(tmp_path)
    server = servers(starttls=context, login=("fleet", "s3cret"))
    server.start()
    config = mail_config(server, tls="starttls", ca_file=ca_file, user="fleet", password="s3cret")
    with override_settings(FLEET_MAIL=config):
        mail.send("test", to=["alice@example.org"], context=CONTEXT)
        assert courier.deliver_due().sent == 1
    assert server.inbox.subjects() == ["Fleet: test mail"]


def test_a_server_certificate_nobody_trusts_keeps_the_mail_queued(
    servers: Callable[..., SmtpServer], tmp_path: Path
) -> None:
    context, _ = _tls_context(tmp_path)
    server = servers(starttls=context)
    server.start()
    with override_settings(FLEET_MAIL=mail_config(server, tls="starttls")):  # the system's CAs only
        queued = mail.send("test", to=["alice@example.org"], context=CONTEXT)
        assert courier.deliver_due().retrying == 1
    queued.refresh_from_db()
    assert "CERTIFICATE_VERIFY_FAILED" in queued.last_error
    assert server.inbox.arrived == []


def test_a_wrong_password_keeps_the_mail_queued_with_the_servers_answer(
    servers: Callable[..., SmtpServer], tmp_path: Path
) -> None:
    context, ca_file = _tls_context(tmp_path)
    server = servers(starttls=context, login=("fleet", "s3cret"))
    server.start()
    config = mail_config(server, tls="starttls", ca_file=ca_file, user="fleet", password="wrong")
    with override_settings(FLEET_MAIL=config):
        queued = mail.send("test", to=["alice@example.org"], context=CONTEXT)
        assert courier.deliver_due().retrying == 1
    queued.refresh_from_db()
    assert "535" in queued.last_error
    assert server.inbox.arrived == []


def test_implicit_tls(servers: Callable[..., SmtpServer], tmp_path: Path) -> None:
    context, ca_file = _tls_context(tmp_path)
    server = servers(implicit_tls=context)
    server.start()
    with override_settings(FLEET_MAIL=mail_config(server, tls="ssl", ca_file=ca_file)):
        mail.send("test", to=["alice@example.org"], context=CONTEXT)
        assert courier.deliver_due().sent == 1
    assert server.inbox.subjects() == ["Fleet: test mail"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two senders at once need PostgreSQL (set FLEET_DATABASE_URL); SQLite has one writer",
)
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_mail_once(configured: object, smtp_server: SmtpServer) -> None:
    count = 60
    for number in range(count):
        mail.send("test", to=[f"user{number}@example.org"], context=CONTEXT)
    start = threading.Barrier(2)
    passes: list[courier.Pass] = []

    def sender() -> None:
        start.wait()
        try:
            while (done := courier.deliver_due(batch=3)).sent:
                passes.append(done)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    recipients = sorted(rcpt for item in smtp_server.inbox.arrived for rcpt in item.recipients)
    assert recipients == sorted(f"user{number}@example.org" for number in range(count))
    assert Mail.objects.filter(status=MailStatus.SENT).count() == count
    assert sum(done.sent for done in passes) == count


def test_a_pass_with_nothing_due_writes_nothing(configured: object) -> None:
    mail.send("test", to=["alice@example.org"], context=CONTEXT)
    courier.deliver_due()  # sent: the archive has a row, the outbox none
    mail.tell_admins("refused attempts", "alice: destroy web1")
    courier.deliver_due()  # the digest, sent
    with CaptureQueriesContext(connection) as queries:
        assert not courier.deliver_due().busy
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert set(statements) == {"SELECT"}, queries.captured_queries  # SQLite's one writer stays free

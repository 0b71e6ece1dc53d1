"""The admins' digests: a flood of notices makes one mail per topic per period, listing what came."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings
from django.utils import timezone

from fleet.conf.mail import MailConfig
from fleet.notify import courier, mail
from fleet.notify.digest import DIGEST_LINES
from fleet.notify.models import AdminNotice, Mail
from tests.notify.conftest import ADMINS
from tests.notify.smtpd import SmtpServer

pytestmark = pytest.mark.django_db

REFUSED = "refused attempts"


def minutes(count: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=count)


def test_ten_thousand_refused_attempts_make_one_mail(configured: object, smtp_server: SmtpServer) -> None:
    AdminNotice.objects.bulk_create(
        AdminNotice(topic=REFUSED, text=f"fuzzer from 192.0.2.7: destroy vm{n} (not an owner)")
        for n in range(10_000)
    )  # as tell_admins writes them, faster

    done = courier.deliver_due()

    assert (done.digests, done.sent) == (1, 1)
    [arrived] = smtp_server.inbox.arrived
    assert sorted(arrived.recipients) == sorted(["noc@example.org", "oncall@example.org"])
    assert arrived.message["Subject"].startswith("Fleet: 10000 refused attempts since ")
    text = arrived.text()
    assert f"the first {DIGEST_LINES} are listed" in text
    assert "destroy vm0 (not an owner)" in text
    assert f"destroy vm{DIGEST_LINES - 1} (not an owner)" in text
    assert f"destroy vm{DIGEST_LINES} " not in text
    assert f"... and {10_000 - DIGEST_LINES} more." in text
    assert not AdminNotice.objects.exists()


def test_notices_wait_for_the_period_then_go_together(configured: object, smtp_server: SmtpServer) -> None:
    mail.tell_admins(REFUSED, "alice from 192.0.2.1: destroy web1 (not an owner)")
    assert courier.deliver_due().digests == 1  # a quiet topic: at once

    mail.tell_admins(REFUSED, "bob from 192.0.2.2: reboot web2 (locked)")
    mail.tell_admins(REFUSED, "bob from 192.0.2.2: reboot web2 (locked)")
    mail.tell_admins("failing clusters", "c1: unreachable for an hour")
    assert courier.deliver_due(now=minutes(14)).digests == 1  # the other topic has its own period
    assert AdminNotice.objects.filter(topic=REFUSED).count() == 2
    assert courier.deliver_due(now=minutes(15.1)).digests == 1

    subjects = smtp_server.inbox.subjects()
    assert [subject.split(" since ")[0] for subject in subjects] == [
        "Fleet: 1 refused attempts",
        "Fleet: 1 failing clusters",
        "Fleet: 2 refused attempts",
    ]
    assert smtp_server.inbox.arrived[2].text().count("reboot web2 (locked)") == 2
    assert courier.deliver_due(now=minutes(60)).digests == 0  # nothing new: no mail


def test_a_notice_text_is_one_line_and_mailed_as_it_is(configured: object, smtp_server: SmtpServer) -> None:
    mail.tell_admins(REFUSED, "eve: rename to {{ secret }}\nand <script>x</script>")
    courier.deliver_due()
    [arrived] = smtp_server.inbox.arrived
    assert "eve: rename to {{ secret }} and <script>x</script>" in arrived.text()


def test_notices_left_when_the_admins_are_removed_are_dropped(configured: object) -> None:
    mail.tell_admins(REFUSED, "alice: destroy web1")
    with override_settings(FLEET_MAIL=MailConfig()):
        assert courier.deliver_due().digests == 0
    assert not AdminNotice.objects.exists()
    assert not Mail.objects.exists()


def test_the_digest_goes_to_the_configured_admins(configured: MailConfig) -> None:
    mail.tell_admins(REFUSED, "alice: destroy web1")
    courier.deliver_due()
    assert Mail.objects.get().to == list(ADMINS)

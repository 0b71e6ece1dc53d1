"""Queueing mail: templates are files whose values are never compiled, and bad input queues nothing."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import timezone

from fleet.conf.mail import MailConfig
from fleet.notify import courier, mail
from fleet.notify.models import AdminNotice, Mail
from fleet.notify.render import TemplateError, render
from tests.notify.smtpd import SmtpServer

pytestmark = pytest.mark.django_db

TEMPLATE_SYNTAX = "web1 {{ secret_key }} {% load log %}{% debug %} {# c #} {{"


def test_template_syntax_in_a_value_is_mailed_literally(configured: object, smtp_server: SmtpServer) -> None:
    context = {"requested_by": TEMPLATE_SYNTAX, "queued_at": timezone.now(), "sender": "{% now 'Y' %}"}
    mail.send("test", to=["alice@example.org"], context=context)
    courier.deliver_due()
    [arrived] = smtp_server.inbox.arrived
    assert f"queued by {TEMPLATE_SYNTAX} at" in arrived.text()
    assert "mails from {% now 'Y' %} arrive" in arrived.text()
    html = arrived.html()
    assert html is not None and "{{ secret_key }} {% load log %}{% debug %} {# c #} {{" in html


def test_a_value_cannot_add_header_lines_to_the_subject() -> None:
    context = {"topic": "refused\r\nBcc: eve@example.org\n", "count": 2, "lines": [], "more": 0,
               "since": timezone.now(), "minutes": 15}  # fmt: skip
    rendered = render("admins_digest", context)
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert rendered.subject.startswith("Fleet: 2 refused Bcc: eve@example.org since ")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("../../conf/example", "is not a mail template name"),
        ("Test", "is not a mail template name"),
        ("test.txt", "is not a mail template name"),
        ("no_such_mail", "there is no mail template 'no_such_mail'"),
    ],
)
def test_an_unknown_template_is_refused_and_nothing_is_queued(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        mail.send(template, to=["alice@example.org"])
    assert not Mail.objects.exists()


@pytest.mark.parametrize(
    ("to", "message"),
    [
        ([], "at least one recipient"),
        ("alice@example.org", "a list of addresses"),
        (["alice"], "'alice' is not a mail address"),
        ([""], "'' is not a mail address"),
        (["alice@example.org\nBcc: eve@example.org"], "is not a mail address"),
        (["alice@example.org", "bob@@example.org"], "'bob@@example.org' is not a mail address"),
    ],
)
def test_a_bad_recipient_is_refused_and_nothing_is_queued(to: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mail.send("test", to=to)  # type: ignore[arg-type]
    assert not Mail.objects.exists()


def test_mails_to_the_admins_go_to_the_configured_admins(configured: MailConfig) -> None:
    queued = mail.send_to_admins("test", {"requested_by": "the worker"})
    assert queued is not None and queued.to == list(configured.admins)
    with override_settings(FLEET_MAIL=MailConfig()):  # no admins
        assert mail.send_to_admins("test") is None
        assert mail.tell_admins("refused attempts", "nobody to tell") is None
    assert Mail.objects.count() == 1 and not AdminNotice.objects.exists()


@pytest.mark.parametrize("topic", ["", "   ", "x" * 101])
def test_a_notice_needs_a_short_topic(configured: object, topic: str) -> None:
    with pytest.raises(ValueError, match="a topic is 1 to 100 characters"):
        mail.tell_admins(topic, "text")
    assert not AdminNotice.objects.exists()

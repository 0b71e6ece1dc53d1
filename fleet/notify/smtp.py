"""The only code that speaks SMTP: one connection per batch, one message per queued mail, and what the
server said about each.

Django's SMTP backend does the protocol (STARTTLS or implicit TLS, login, sending); this module chooses the
server's certificate authorities (``[mail] ca_file``, else the system's) and sorts failures into those worth
retrying (the server is unreachable, busy, or answered 4xx) and those it refused for good (a 5xx answer to
one message).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from functools import cached_property
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.smtp import EmailBackend

from fleet.conf.mail import MailConfig
from fleet.notify.models import Mail


@dataclass(frozen=True)
class Outcome:
    """What came of one mail's attempt: sent (``error`` None), or the error and whether to retry."""

    mail: Mail
    error: str | None = None
    permanent: bool = False


class _Backend(EmailBackend):
    """Django's SMTP backend, trusting ``ca_file`` (a private CA, a self-signed relay) when one is given."""

    def __init__(self, *, ca_file: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ca_file = ca_file

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)


def connection(config: MailConfig) -> EmailBackend:
    """A connection (not yet open) to the configured server."""
    return _Backend(
        host=config.host,
        port=config.port,
        username=config.user,
        password=config.password,
        use_tls=config.tls == "starttls",
        use_ssl=config.tls == "ssl",
        timeout=config.timeout,
        ca_file=config.ca_file,
    )


def message(mail: Mail, sender: str) -> EmailMultiAlternatives:
    """``mail`` as Django's message: its text, its HTML alternative if any, and a Message-ID of its own, the
    same at each attempt (so that a receiver can tell a mail sent twice, after a crash, from two mails)."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    headers = {
        "Message-ID": f"<fleet.mail.{mail.pk}.{int(mail.created_at.timestamp())}@{domain}>",
        "Auto-Submitted": "auto-generated",  # RFC 3834: no vacation replies to a robot
    }
    email = EmailMultiAlternatives(mail.subject, mail.body, sender, list(mail.to), headers=headers)
    if mail.html:
        email.attach_alternative(mail.html, "text/html")
    return email


def deliver(config: MailConfig, mails: Sequence[Mail]) -> list[Outcome]:
    """Send ``mails`` over one connection; one outcome per mail, in order. Never raises for the server's
    failures: an unreachable server fails them all (to retry), one it refuses fails that one."""
    if not mails:
        return []
    where = f"{config.host}:{config.port}"
    backend = connection(config)
    try:
        backend.open()
    except OSError as exc:  # smtplib's and ssl's errors are OSErrors too
        return [Outcome(mail, f"{where}: {describe(exc)}") for mail in mails]
    outcomes: list[Outcome] = []
    try:
        for position, mail in enumerate(mails):
            try:
                backend.send_messages([message(mail, config.sender)])
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
                outcomes.append(Outcome(mail, f"{where}: {describe(exc)}", permanent=_refused_for_good(exc)))
            except OSError as exc:  # the connection broke: the rest waits for the next attempt
                error = f"{where}: {describe(exc)}"
                outcomes += [Outcome(rest, error) for rest in mails[position:]]
                break
            else:
                outcomes.append(Outcome(mail))
    finally:
        with contextlib.suppress(OSError):  # the mails are sent or failed: a failed QUIT changes nothing
            backend.close()
    return outcomes


def describe(exc: BaseException) -> str:
    """The server's answer or the network's error, as one line for the log and the mail's row."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {_reply(code, text)}" for rcpt, (code, text) in exc.recipients.items())
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _reply(code: int, text: bytes | str) -> str:
    words = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(words.split())}"


def _refused_for_good(exc: smtplib.SMTPException) -> bool:
    """A 5xx answer is permanent (RFC 5321 §4.2.1): retrying the same mail gets the same answer."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(500 <= code < 600 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600

"""Fixtures of the mail tests: a real SMTP server, and the [mail] settings that point at it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from django.test import override_settings

from fleet.conf.mail import MailConfig
from tests.notify.smtpd import SmtpServer

ADMINS = ("NOC <noc@example.org>", "oncall@example.org")
logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command at INFO


def mail_config(server: SmtpServer, **changes: object) -> MailConfig:
    """``[mail]`` for ``server``: plain SMTP on localhost, short timeouts, two admins."""
    base = MailConfig(
        host="127.0.0.1", port=server.port, tls="none", timeout=5.0, sender="Fleet <fleet@example.org>",
        admins=ADMINS,
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A plain SMTP server, started."""
    server = SmtpServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def configured(smtp_server: SmtpServer) -> Iterator[MailConfig]:
    """The site's [mail] settings point at ``smtp_server``."""
    config = mail_config(smtp_server)
    with override_settings(FLEET_MAIL=config):
        yield config


@pytest.fixture
def servers() -> Iterator[Callable[..., SmtpServer]]:
    """A factory of SMTP servers (not started), stopped at the end."""
    made: list[SmtpServer] = []

    def make(**options: object) -> SmtpServer:
        server = SmtpServer(**options)  # type: ignore[arg-type]
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()


from tests.sync.conftest import database_url, migrated_database  # noqa: E402, F401 (the processes' own database)

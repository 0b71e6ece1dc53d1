"""The confirmation mail of a reinstall, rename or destroy, as it reaches a real SMTP server from the
worker's sending pass; an unused link expires, and its request ends, never sent."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone

from fleet import operations
from fleet.inventory.models import AdminState, InstanceStatus
from fleet.inventory.owners import sync_owners
from fleet.notify import courier
from fleet.operations import confirmation
from fleet.operations.models import Confirmation, Operation, OperationStatus, Via
from tests.inventory import factories
from tests.notify.smtpd import SmtpServer

pytestmark = pytest.mark.django_db


@override_settings(FLEET_SITE_URL="https://fleet.example.org", FLEET_CONFIRM_MINUTES=45)
def test_the_requester_gets_the_link_and_an_unused_one_expires(
    configured: object, smtp_server: SmtpServer
) -> None:
    cluster = factories.cluster("alpha.example.org", os_names=["noop"])
    vm = factories.instance(
        cluster, "web1.example.org", tags=["fleet:user:alice"], status=InstanceStatus.ADMIN_DOWN,
        admin_state=AdminState.DOWN, disk_sizes=[1024],
    )  # fmt: skip
    sync_owners([vm])
    alice = User.objects.create_user("alice", "Alice <alice@example.org>", "pw")
    by = operations.Caller(alice, "192.0.2.7", Via.API)
    asked = operations.rename(vm, by=by, new_name="web2.example.org", reason="new project name")
    assert asked.status == OperationStatus.AWAITING

    done = courier.deliver_due()
    assert done.sent == 1
    [arrived] = smtp_server.inbox.arrived
    assert arrived.recipients == ["alice@example.org"]
    assert arrived.message["Subject"] == (
        "Fleet: confirm the rename of web1.example.org (link valid 45 minutes)"
    )
    text = arrived.text()
    assert "alice asked Fleet, from 192.0.2.7 through the API, to rename web1.example.org on cluster" in text
    assert "Rename web1.example.org to web2.example.org." in text
    assert "Reason given: new project name" in text
    expires = Confirmation.objects.get().expires_at
    assert f"until {timezone.localtime(expires):%Y-%m-%d %H:%M}" in text
    assert re.search(r"https://fleet\.example\.org/confirm/[A-Za-z0-9_-]{40,}/", text)
    token = re.search(r"/confirm/([A-Za-z0-9_-]+)/", text)
    assert token is not None and token.group(1) not in Confirmation.objects.get().token_hash  # kept hashed

    Confirmation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert confirmation.expire_due() == 1  # what the worker's mail task runs before each pass
    ended = Operation.objects.get()
    assert ended.status == OperationStatus.EXPIRED and ended.attempted_at is None  # never sent

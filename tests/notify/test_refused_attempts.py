"""A refused attempt reaches the admins in their digest: who, from where, what, on which instance, and why;
a request that was only "not now" (something under way on the instance) does not."""

from __future__ import annotations

from typing import Any

import pytest

from fleet.notify import courier
from tests.inventory.scenario import Scenario
from tests.inventory.scenario_fixtures import login, scenario
from tests.notify.smtpd import SmtpServer

__all__ = ["login", "scenario"]  # fixtures, used by name

pytestmark = pytest.mark.django_db


def reboot(client: Any, scenario: Scenario, name: str) -> int:
    path = f"/api/instances/{scenario[name].pk}/reboot/"
    return int(client.post(path, {}, content_type="application/json").status_code)


def test_refused_attempts_are_mailed_to_the_admins(
    configured: object, smtp_server: SmtpServer, scenario: Scenario, login: Any
) -> None:
    assert reboot(login("carol"), scenario, "vm-a0") == 404  # not hers: refused, and told like a missing one
    assert reboot(login("helpdesk"), scenario, "vm-a0") == 403
    assert reboot(login("alice"), scenario, "vm-a0") == 202
    assert reboot(login("alice"), scenario, "vm-a0") == 409  # busy: not a refusal the admins need to hear of

    done = courier.deliver_due()

    assert (done.digests, done.sent) == (1, 1)
    [arrived] = smtp_server.inbox.arrived
    assert arrived.message["Subject"].startswith("Fleet: 2 refused attempts since ")
    text = arrived.text()
    assert "Reboot of vm-a0.example.org on alpha.example.org by carol from 127.0.0.1 (api)" in text
    assert "by helpdesk from 127.0.0.1 (api): Only its owners and administrators may" in text
    assert "alice" not in text

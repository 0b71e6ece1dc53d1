"""Isolation through the API and the instance page, over HTTP: isolate with allow-from ranges (202),
de-isolate, change the list; owners are refused (403), strangers get a 404, the state refuses what makes no
sense (409); every malformed range is a 400 naming the field, and records nothing for the worker to send."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fleet.operations.models import Operation, OperationStatus
from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db

PAGE = "/instances/alpha.example.org/{}.example.org/"
BAD = [
    ("10.0.0.5/24", "host bits set"),
    ("10.0.0.0/24", "too wide: at most a /26 for IPv4"),
    ("2001:db8::/48", "too wide: at most a /64 for IPv6"),
    ("10.0.0.0/33", "is not an IP address"),
    ("300.1.2.3", "is not an IP address"),
    ("example.org", "is not an IP address"),
    ("10.0.0.1;reboot", "is not an IP address"),
    ("<script>", "is not an IP address"),
    ("  ", "cannot be empty"),
]


def post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(path, body or {}, content_type="application/json")


def url(scenario: Scenario, name: str, action: str) -> str:
    return f"/api/instances/{scenario[name].pk}/{action}/"


def isolated(scenario: Scenario, name: str, *ranges: str) -> None:
    """Mark ``name`` isolated in Fleet's copy, as a sync of a cluster that has the tags would."""
    instance = scenario[name]
    instance.tags = [*instance.tags, "fleet:isolate", *(f"fleet:whitelist_ip:{r}" for r in ranges)]
    instance.save()


def test_an_admin_isolates_with_allow_from_ranges(scenario: Scenario, login: Any) -> None:
    body = {"allow_from": ["192.0.2.0/28", " 2001:db8::1 "], "reason": "abuse 12"}
    response = post(login("root"), url(scenario, "vm-a0", "isolate"), body)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert (answer["kind"], answer["status"], answer["reason"]) == ("isolate", "pending", "abuse 12")
    assert answer["params"] == {
        "allow_from": ["192.0.2.0/28", "2001:db8::1/128"],
        "add": ["fleet:isolate", "fleet:whitelist_ip:192.0.2.0/28", "fleet:whitelist_ip:2001:db8::1/128"],
        "migrate": "live",  # it runs, and can move: its node applies the rules at once
    }
    stopped = post(login("root"), url(scenario, "vm-a6", "isolate"), {"migrate": False})
    assert stopped.status_code == 202 and "migrate" not in stopped.json()["params"]


@pytest.mark.parametrize(("bad", "message"), BAD)
def test_every_malformed_range_is_a_400_naming_the_field(
    scenario: Scenario, login: Any, bad: str, message: str
) -> None:
    client = login("root")
    response = post(client, url(scenario, "vm-a0", "isolate"), {"allow_from": ["192.0.2.0/28", bad]})
    assert response.status_code == 400, response.content
    assert message in str(response.json()["allow_from"])
    isolated(scenario, "vm-a1")
    change = post(client, url(scenario, "vm-a1", "allow-from"), {"add": [bad]})
    assert change.status_code == 400 and message in str(change.json()["add"])
    change = post(client, url(scenario, "vm-a1", "allow-from"), {"add": ["192.0.2.0/28"], "remove": [bad]})
    assert change.status_code == 400 and message in str(change.json()["remove"])
    page = client.post(PAGE.format("vm-a0"), {"action": "isolate", "allow_from": f"192.0.2.0/28 {bad}x"})
    assert page.status_code == 400 and "allow_from: " in page.content.decode()
    assert not Operation.objects.exists()  # nothing recorded, so nothing for the worker to send


@pytest.mark.parametrize(
    "body",
    [
        {"allow_from": "192.0.2.0/28"},  # a list, not a string
        {"allow_from": [["192.0.2.0/28"]]},
        {"allow_from": [f"192.0.2.{n}" for n in range(17)]},
        {"allow_from": ["1" * 65]},
    ],
)
def test_a_malformed_body_is_a_400(scenario: Scenario, login: Any, body: dict[str, Any]) -> None:
    response = post(login("root"), url(scenario, "vm-a0", "isolate"), body)
    assert response.status_code == 400 and "allow_from" in response.json()
    assert not Operation.objects.exists()


def test_owners_are_refused_and_strangers_see_nothing(scenario: Scenario, login: Any) -> None:
    owner = post(login("alice"), url(scenario, "vm-a0", "isolate"), {"allow_from": ["192.0.2.0/28"]})
    assert owner.status_code == 403
    assert owner.json()["detail"] == (
        "Only holders of the permission access.isolate_instance and administrators may isolate or "
        "reconnect vm-a0.example.org."
    )
    assert post(login("carol"), url(scenario, "vm-a0", "isolate")).status_code == 404
    assert post(login("helpdesk"), url(scenario, "vm-a0", "deisolate")).status_code == 403
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()


def test_the_state_refuses_what_makes_no_sense(scenario: Scenario, login: Any) -> None:
    client = login("root")
    assert post(client, url(scenario, "vm-a0", "deisolate")).status_code == 409
    assert (
        post(client, url(scenario, "vm-a0", "allow-from"), {"add": ["192.0.2.1"]}).json()["detail"]
        == "vm-a0.example.org is not isolated: isolate it with its allow-from ranges."
    )
    isolated(scenario, "vm-a1", "192.0.2.0/28")
    again = post(client, url(scenario, "vm-a1", "isolate"))
    assert again.status_code == 409 and "isolated already" in again.json()["detail"]
    there = post(client, url(scenario, "vm-a1", "allow-from"), {"add": ["192.0.2.0/28"]})
    assert (
        there.status_code == 409
        and there.json()["detail"] == "192.0.2.0/28: already allowed on vm-a1.example.org."
    )
    gone = post(client, url(scenario, "vm-a1", "deisolate"), {"reason": "done"})
    assert gone.status_code == 202
    assert gone.json()["params"] == {
        "remove": ["fleet:isolate", "fleet:whitelist_ip:192.0.2.0/28"],
        "migrate": "live",
    }
    nothing = post(client, url(scenario, "vm-a1", "allow-from"), {})
    assert nothing.status_code == 409 and nothing.json()["detail"].startswith("Nothing to change")
    both = post(client, url(scenario, "vm-a1", "allow-from"), {"add": ["192.0.2.1"], "remove": ["192.0.2.1"]})
    assert both.status_code == 409 and "both added and removed" in both.json()["detail"]


def test_the_schema_lists_the_isolation_endpoints(scenario: Scenario, login: Any) -> None:
    schema = login("root").get("/api/schema/?format=json").json()
    for action in ("isolate", "deisolate", "allow-from"):
        operation = schema["paths"][f"/api/instances/{{id}}/{action}/"]["post"]
        assert {"202", "400", "403", "404", "409"} <= set(operation["responses"]), action


def test_the_page_offers_isolate_or_deisolate_whichever_applies(scenario: Scenario, login: Any) -> None:
    admin = login("root")
    page = admin.get(PAGE.format("vm-a0")).content.decode()
    assert 'value="isolate"' in page and 'value="deisolate"' not in page and 'name="allow_from"' in page
    assert 'value="isolate"' not in login("alice").get(PAGE.format("vm-a0")).content.decode()
    done = admin.post(
        PAGE.format("vm-a0"), {"action": "isolate", "allow_from": "192.0.2.0/28, 2001:db8::/64"}
    )
    assert done.status_code == 303
    assert Operation.objects.get().params["allow_from"] == ["192.0.2.0/28", "2001:db8::/64"]
    Operation.objects.update(status=OperationStatus.SUCCEEDED)
    isolated(scenario, "vm-a0", "192.0.2.0/28")
    page = admin.get(PAGE.format("vm-a0")).content.decode()
    assert 'value="deisolate"' in page and 'value="isolate"' not in page
    assert '<span class="badge bad">Isolated</span>' in page and "<code>192.0.2.0/28</code>" in page
    change = admin.post(
        PAGE.format("vm-a0"), {"action": "change_allow_from", "change": "remove", "ranges": "192.0.2.0/28"}
    )
    assert change.status_code == 303
    assert Operation.objects.order_by("pk").last().params["remove"] == ["fleet:whitelist_ip:192.0.2.0/28"]
    rows = admin.get("/?q=vm-a0").content.decode()
    assert "Isolated" in rows and 'value="deisolate">De-isolate</button>' in rows
    plain = admin.get("/?q=vm-a2").content.decode()
    assert 'value="isolate">Isolate</button>' in plain and 'name="allow_from"' in plain


def test_an_instance_on_open_vswitch_cannot_be_isolated(scenario: Scenario, login: Any) -> None:
    from fleet.inventory.models import Nic

    Nic.objects.create(instance=scenario["vm-a2"], index=0, mode="bridged")
    Nic.objects.create(instance=scenario["vm-a2"], index=1, mode="openvswitch")
    response = post(login("root"), url(scenario, "vm-a2", "isolate"), {"allow_from": ["192.0.2.0/28"]})
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "vm-a2.example.org has Open vSwitch NICs (1), which the nodes cannot isolate."
    )

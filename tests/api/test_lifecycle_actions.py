"""Reinstall, rename and destroy through the API: a request answers 202 with an operation awaiting its
confirmation (nothing for the worker to send) and mails the link to the requester; an administrator's
``confirm`` with the instance's name makes it pending at once (a name mistyped is a 409, a
non-administrator's ``confirm`` a 403, each recorded as refused); every bad field is a 400 naming it, with
nothing recorded; a state that refuses it is a 409. The link's page is tested in
tests/web/test_confirmation.py, the worker's side in tests/operations/test_lifecycle_flow.py."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fleet.inventory.models import AdminState, Instance, InstanceStatus
from fleet.notify.models import Mail
from fleet.operations.models import Operation, OperationStatus
from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db

OSES = ["debootstrap+default", "image+debian-12", "image+ubuntu-22.04", "noop"]
IMAGE = {"img_id": "debian-12", "img_format": "diskdump"}


@pytest.fixture
def images(scenario: Scenario) -> Scenario:
    """alpha offers OSes; vm-a0 (alice's, running) runs image+debian-12 with its own OS parameters; vm-a1
    (alice's) is stopped."""
    scenario.alpha.os_names = OSES
    scenario.alpha.save()
    Instance.objects.filter(pk=scenario["vm-a0"].pk).update(os="image+debian-12", osparams=IMAGE)
    Instance.objects.filter(pk=scenario["vm-a1"].pk).update(
        status=InstanceStatus.ADMIN_DOWN, admin_state=AdminState.DOWN
    )
    return scenario


def post(client: Client, scenario: Scenario, name: str, action: str, body: dict[str, Any]) -> Any:
    path = f"/api/instances/{scenario[name].pk}/{action}/"
    return client.post(path, body, content_type="application/json")


def test_a_reinstall_awaits_its_confirmation_and_mails_the_link(images: Scenario, login: Any) -> None:
    response = post(login("alice"), images, "vm-a0", "reinstall", {"os": "image+ubuntu-22.04"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["status"]) == ("reinstall", "awaiting")
    # kept: the instance's own parameters, as the read model has them, go with the reinstall
    assert body["params"] == {"os": "image+ubuntu-22.04", "start": True, "clear": False, "osparams": IMAGE}
    assert body["confirmation"]["confirmed_at"] is None and body["confirmation"]["expires_at"]
    (mail,) = Mail.objects.all()
    assert mail.to == ["alice@example.org"]
    assert "reinstall of vm-a0.example.org" in mail.subject
    assert "alice asked Fleet, from 127.0.0.1 through the API" in mail.body
    assert "http://localhost:8000/confirm/" in mail.body
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()  # nothing to send yet


def test_a_retry_with_the_same_key_mails_once(images: Scenario, login: Any) -> None:
    alice, path = login("alice"), f"/api/instances/{images['vm-a1'].pk}/destroy/"
    first, again = (
        alice.post(path, {}, content_type="application/json", headers={"Idempotency-Key": "k1"}) for _ in "ab"
    )
    assert first.status_code == again.status_code == 202 and first.json()["id"] == again.json()["id"]
    assert Mail.objects.count() == 1


def test_clearing_keeps_nothing_and_a_change_of_os_clears_first(images: Scenario, login: Any) -> None:
    alice = login("alice")
    same = post(alice, images, "vm-a0", "reinstall", {"os": "image+debian-12", "clear_osparams": True})
    assert same.status_code == 202
    assert same.json()["params"] == {"os": "image+debian-12", "start": True, "clear": True, "osparams": {}}
    Operation.objects.all().delete()
    other = post(
        alice,
        images,
        "vm-a0",
        "reinstall",
        {"os": "debootstrap+default", "clear_osparams": True, "start": False, "reason": "fresh"},
    )
    assert other.status_code == 202
    assert other.json()["params"] == {
        "os": "debootstrap+default",
        "start": False,
        "clear": True,
        "osparams": {},
        "clear_first": ["img_format", "img_id"],
    }


def test_new_parameters_are_sent_besides_and_default_removes_one(images: Scenario, login: Any) -> None:
    body = {
        "os": "image+ubuntu-22.04",
        "osparams": [{"name": "img_id", "value": "ubuntu"}, {"name": "img_format", "value": "default"}],
    }
    response = post(login("alice"), images, "vm-a0", "reinstall", body)
    assert response.status_code == 202 and response.json()["params"]["osparams"] == {"img_id": "ubuntu"}


def test_an_administrator_confirms_by_typing_the_name(images: Scenario, login: Any) -> None:
    root = login("root")
    wrong = post(root, images, "vm-a1", "destroy", {"confirm": "vm-a2.example.org"})
    assert wrong.status_code == 409 and "vm-a1.example.org" in wrong.json()["detail"]
    assert Operation.objects.get().status == OperationStatus.REFUSED  # the attempt is on record
    Operation.objects.all().delete()
    response = post(root, images, "vm-a1", "destroy", {"confirm": "vm-a1.example.org", "reason": "abuse"})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert body["confirmation"]["confirmed_by"] == "name"
    assert body["confirmation"]["confirmed_from"] == "127.0.0.1"
    assert not Mail.objects.exists()


def test_a_mistyped_name_retried_with_its_key_gets_the_same_answer(images: Scenario, login: Any) -> None:
    root, path = login("root"), f"/api/instances/{images['vm-a1'].pk}/rename/"
    body = {"new_name": "web9.example.org", "confirm": "0"}
    answers = [
        root.post(path, body, content_type="application/json", headers={"Idempotency-Key": "k2"})
        for _ in "ab"
    ]
    assert [a.status_code for a in answers] == [409, 409]
    assert Operation.objects.count() == 1


def test_only_administrators_confirm_by_name(images: Scenario, login: Any) -> None:
    response = post(login("alice"), images, "vm-a1", "destroy", {"confirm": "vm-a1.example.org"})
    assert response.status_code == 403 and "Only administrators confirm" in response.json()["detail"]
    assert Operation.objects.get().status == OperationStatus.REFUSED  # refused, never due
    assert not Mail.objects.exists()


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("reinstall", {}, "os"),
        ("reinstall", {"os": "image+debian-12", "osparams": ["img_id"]}, "osparams"),
        ("reinstall", {"os": "image+debian-12", "osparams": {"img_id": "x"}}, "osparams"),
        ("reinstall", {"os": "image+debian-12", "osparams": [{"name": "bad key", "value": "x"}]}, "osparams"),
        ("reinstall", {"os": "image+debian-12", "osparams": [{"name": "img_id", "value": "δ"}]}, "osparams"),
        ("reinstall", {"os": "image+debian-12", "clear_osparams": "maybe"}, "clear_osparams"),
        ("rename", {}, "new_name"),
        ("rename", {"new_name": "has space.example.org"}, "new_name"),
        ("rename", {"new_name": "a..b"}, "new_name"),
        ("rename", {"new_name": ".lead"}, "new_name"),
        ("destroy", {"confirm": ""}, "confirm"),
    ],
)
def test_bad_fields_are_400s_naming_them(
    images: Scenario, login: Any, action: str, body: dict[str, Any], field: str
) -> None:
    response = post(login("alice"), images, "vm-a1", action, body)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Operation.objects.exists() and not Mail.objects.exists()


@pytest.mark.parametrize(
    ("action", "body", "said"),
    [
        (
            "reinstall",
            {"os": "windows"},
            "windows is not an OS cluster alpha.example.org offers; it offers deb",
        ),
        (
            "rename",
            {"new_name": "vm-a2.example.org"},
            "Instance 'vm-a2.example.org' is already in the cluster.",
        ),
        ("rename", {"new_name": "VM-A1.example.org."}, "vm-a1.example.org is its name already."),
    ],
)
def test_what_the_cluster_holds_refuses_with_a_409(
    images: Scenario, login: Any, action: str, body: dict[str, Any], said: str
) -> None:
    """Not a malformed request: the cluster's OSes and names decide, as its state does (recorded)."""
    response = post(login("alice"), images, "vm-a1", action, body)
    assert response.status_code == 409 and response.json()["detail"].startswith(said), response.json()
    assert Operation.objects.get().status == OperationStatus.REFUSED and not Mail.objects.exists()


def test_the_state_refuses_with_a_409(images: Scenario, login: Any) -> None:
    running = post(login("alice"), images, "vm-a0", "rename", {"new_name": "web9.example.org"})
    assert running.status_code == 409
    assert running.json()["detail"] == (
        "Instance 'vm-a0.example.org' is marked to be up, cannot rename: shut it down first."
    )
    Instance.objects.filter(pk=images["vm-a1"].pk).update(disk_sizes=[], disk_template="diskless")
    diskless = post(login("alice"), images, "vm-a1", "reinstall", {"os": "noop"})
    assert diskless.status_code == 409 and "has no disks" in diskless.json()["detail"]
    assert not Mail.objects.exists()


def test_others_are_refused_and_a_rename_is_normalized(images: Scenario, login: Any) -> None:
    assert post(login("carol"), images, "vm-a1", "destroy", {}).status_code == 404
    assert post(login("helpdesk"), images, "vm-a1", "destroy", {}).status_code == 403
    ok = post(login("alice"), images, "vm-a1", "rename", {"new_name": "Web9.Example.org."})
    assert ok.status_code == 202 and ok.json()["params"] == {"new_name": "web9.example.org"}


def test_an_account_without_an_address_cannot_ask(images: Scenario, login: Any) -> None:
    images.alice.email = ""
    images.alice.save()
    response = post(login("alice"), images, "vm-a1", "destroy", {})
    assert response.status_code == 400 and "email" in response.json()


def test_the_schema_lists_the_actions(images: Scenario, login: Any) -> None:
    schema = login("alice").get("/api/schema/", {"format": "json"}).json()
    for action in ("reinstall", "rename", "destroy"):
        assert "post" in schema["paths"][f"/api/instances/{{id}}/{action}/"], action
    body = schema["components"]["schemas"]["ReinstallRequest"]["properties"]
    assert {"os", "clear_osparams", "osparams", "start", "confirm"} <= set(body)

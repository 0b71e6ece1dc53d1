"""The instance page's reinstall, rename and destroy forms, and the page their mailed link opens: a GET shows
what will happen and never confirms; only its requester's POST does, once, before the expiry, on an
instance that is still the one asked about; each refusal says why with its own status."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from fleet.inventory.models import AdminState, Instance, InstanceStatus
from fleet.notify.models import Mail
from fleet.operations import confirmation
from fleet.operations.models import Confirmation, Operation, OperationStatus
from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db

OSES = ["debootstrap+default", "image+debian-12", "image+ubuntu-22.04", "noop"]
LINK = re.compile(r"http://localhost:8000(/confirm/[A-Za-z0-9_-]+/)")


@pytest.fixture
def images(scenario: Scenario) -> Scenario:
    scenario.alpha.os_names = OSES
    scenario.alpha.save()
    Instance.objects.filter(pk=scenario["vm-a0"].pk).update(os="image+debian-12", osparams={"img_id": "x"})
    Instance.objects.filter(pk=scenario["vm-a1"].pk).update(
        status=InstanceStatus.ADMIN_DOWN, admin_state=AdminState.DOWN
    )
    return scenario


def page_of(scenario: Scenario, name: str) -> str:
    instance = scenario[name]
    return f"/instances/{instance.cluster.name}/{instance.name}/"


def ask(client: Client, scenario: Scenario, name: str, action: str, **form: str) -> tuple[Any, str]:
    """POST the page's form; the response and the mailed link's path."""
    response = client.post(page_of(scenario, name), {"action": action, "form_key": f"k-{action}", **form})
    mail = Mail.objects.order_by("-pk").first()
    match = LINK.search(mail.body) if mail is not None else None
    return response, match.group(1) if match else ""


def test_the_page_offers_the_forms_and_a_reinstall_awaits_the_link(images: Scenario, login: Any) -> None:
    alice = login("alice")
    page = alice.get(page_of(images, "vm-a0")).content.decode()
    assert 'value="reinstall"' in page and 'value="rename"' in page and 'value="destroy"' in page
    assert 'name="clear_osparams"' in page and '<option value="image+debian-12" selected>' in page
    assert 'name="confirm"' not in page  # typing the name is for administrators
    response, link = ask(alice, images, "vm-a0", "reinstall", os="image+debian-12", clear_osparams="on")
    assert response.status_code == 303
    operation = Operation.objects.get()
    assert operation.status == OperationStatus.AWAITING
    assert operation.params == {"os": "image+debian-12", "start": True, "clear": True, "osparams": {}}
    panel = alice.get(page_of(images, "vm-a0")).content.decode()
    assert "Awaiting confirmation" in panel and "a link was mailed to alice" in panel
    mail = Mail.objects.get()
    assert mail.to == ["alice@example.org"] and "through the Web" in mail.body
    assert "valid 30 minutes" in mail.subject and link

    shown = alice.get(link)
    assert shown.status_code == 200
    text = shown.content.decode()
    assert "Reinstall vm-a0.example.org with image+debian-12 (OS parameters cleared)" in text
    assert "Confirm: reinstall vm-a0.example.org" in text
    assert Operation.objects.get().status == OperationStatus.AWAITING  # a GET never confirms

    confirmed = alice.post(link)
    assert confirmed.status_code == 303 and confirmed["Location"] == page_of(images, "vm-a0")
    operation.refresh_from_db()
    assert operation.status == OperationStatus.PENDING
    record = Confirmation.objects.get()
    assert (record.confirmed_by, record.confirmed_via, record.confirmed_from) == ("link", "web", "127.0.0.1")
    audit = alice.get("/audit/").content.decode()
    assert "Confirmed " in audit and "(mailed link, from 127.0.0.1)" in audit

    again = alice.post(link)
    assert again.status_code == 410 and "used already" in again.content.decode()
    assert alice.get(link).status_code == 410


def test_the_link_is_its_requesters_alone(images: Scenario, login: Any) -> None:
    _, link = ask(login("alice"), images, "vm-a1", "destroy")
    assert link
    for other in ("bob", "root", "carol"):  # bob co-owns nothing here; root is an admin; carol owns nothing
        assert login(other).get(link).status_code == 404, other
        assert login(other).post(link).status_code == 404, other
    anonymous = Client().get(link)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    assert Client().post(link).status_code == 302
    assert login("alice").get("/confirm/not-a-token/").status_code == 404
    assert Operation.objects.get().status == OperationStatus.AWAITING


def test_an_expired_link_confirms_nothing_and_the_request_ends_expired(images: Scenario, login: Any) -> None:
    alice = login("alice")
    _, link = ask(alice, images, "vm-a1", "rename", new_name="web9.example.org")
    _, other = ask(alice, images, "vm-a0", "destroy")
    Confirmation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = alice.post(link)
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert Operation.objects.get(kind="rename").status == OperationStatus.EXPIRED
    # the worker's sweep ends the other one, never submitted
    assert confirmation.expire_due() == 1
    destroy = Operation.objects.get(kind="destroy")
    assert destroy.status == OperationStatus.EXPIRED and destroy.ended_at is not None
    assert "Not confirmed before" in destroy.error
    assert alice.get(other).status_code == 410
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()


def test_a_link_for_a_destroyed_or_renamed_instance_confirms_nothing(images: Scenario, login: Any) -> None:
    alice = login("alice")
    _, destroy = ask(alice, images, "vm-a1", "reinstall", os="noop")
    Instance.objects.filter(pk=images["vm-a1"].pk).delete()  # destroyed meanwhile (the sync saw it gone)
    response = alice.post(destroy)
    assert response.status_code == 409 and "is gone since the request" in response.content.decode()
    gone = Operation.objects.get()
    assert gone.status == OperationStatus.REFUSED and gone.instance_name == "vm-a1.example.org"

    _, rename = ask(alice, images, "vm-a0", "destroy")
    Instance.objects.filter(pk=images["vm-a0"].pk).update(name="renamed.example.org")
    response = alice.post(rename)
    assert response.status_code == 409 and "now renamed.example.org" in response.content.decode()
    assert Operation.objects.get(kind="destroy").status == OperationStatus.REFUSED


def test_a_lock_or_a_busy_instance_meanwhile(images: Scenario, login: Any) -> None:
    alice = login("alice")
    _, link = ask(alice, images, "vm-a1", "destroy")
    Instance.objects.filter(pk=images["vm-a1"].pk).update(tags=["fleet:user:alice", "fleet:adminlock"])
    response = alice.post(link)
    assert response.status_code == 403 and "locked by an administrator" in response.content.decode()
    assert Operation.objects.get().status == OperationStatus.REFUSED

    Operation.objects.all().delete()
    Instance.objects.filter(pk=images["vm-a1"].pk).update(tags=["fleet:user:alice"])
    _, link = ask(alice, images, "vm-a1", "destroy")
    started = alice.post(page_of(images, "vm-a1"), {"action": "start", "form_key": "k-start"})
    assert started.status_code == 303
    busy = alice.post(link)
    assert busy.status_code == 409 and "is busy: start by alice" in busy.content.decode()
    assert Operation.objects.get(kind="destroy").status == OperationStatus.AWAITING  # it may be tried again


def test_an_administrator_types_the_name_on_the_page(images: Scenario, login: Any) -> None:
    root = login("root")
    page = root.get(page_of(images, "vm-a1")).content.decode()
    assert 'name="confirm"' in page
    wrong, _ = ask(root, images, "vm-a1", "destroy", confirm="vm-a2.example.org")
    assert wrong.status_code == 409 and "type the instance&#x27;s name" in wrong.content.decode()
    Operation.objects.all().delete()  # the refused attempt
    done, _ = ask(root, images, "vm-a1", "rename", new_name="web9.example.org", confirm="vm-a1.example.org")
    assert done.status_code == 303
    operation = Operation.objects.get()
    assert operation.status == OperationStatus.PENDING and operation.confirmation.confirmed_by == "name"
    assert not Mail.objects.exists()
    # without the name, an administrator gets the link too
    Operation.objects.all().delete()
    mailed, link = ask(root, images, "vm-a0", "destroy", form_key="k2")
    assert mailed.status_code == 303 and link and Mail.objects.get().to == ["root@example.org"]


def test_bad_forms_say_what_is_wrong(images: Scenario, login: Any) -> None:
    alice = login("alice")
    for form, status, text in (
        ({"action": "reinstall", "os": "windows"}, 409, "is not an OS cluster alpha.example.org offers"),
        ({"action": "rename", "new_name": "bad name"}, 400, "Invalid hostname"),
        ({"action": "rename", "new_name": "vm-a2.example.org"}, 409, "is already in the cluster"),
    ):
        response = alice.post(page_of(images, "vm-a1"), {**form, "form_key": f"k{status}{len(text)}"})
        assert response.status_code == status and text in response.content.decode(), form
    assert not Operation.objects.exclude(status="refused").exists() and not Mail.objects.exists()

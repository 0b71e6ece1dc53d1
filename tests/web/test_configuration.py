"""The instance page's Configuration form over HTTP: shown, prefilled with what the instance has, to those
who may change it; a POST records only what changed; a bad value gives the page again naming the field; a
stranger gets a 404 and nothing is resolved; a marked instance offers the hard reboot that applies it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from fleet.inventory.models import Instance
from fleet.operations.models import Operation, OperationStatus
from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db

PAGE = "/instances/alpha.example.org/{}/"
HV = {
    "boot_order": "disk",
    "cdrom_image_path": "",
    "cdrom_disk_type": "",
    "nic_type": "paravirtual",
    "disk_type": "paravirtual",
    "use_localtime": False,
}
FORM = {  # what the prefilled form sends back untouched, for vm-a0 (512 MiB, 1 vCPU)
    "action": "modify",
    "boot_order": "disk",
    "cdrom_image_url": "",
    "cdrom_disk_type": "",
    "nic_type": "paravirtual",
    "disk_type": "paravirtual",
    "use_localtime": "false",
    "memory": "512",
    "vcpus": "1",
}


@pytest.fixture
def resolved(scenario: Scenario) -> Iterator[list[str]]:
    Instance.objects.filter(cluster=scenario.alpha).update(hvparams=HV, hypervisor="kvm")
    asked: list[str] = []

    def resolve(host: str, timeout: float) -> Sequence[str]:
        asked.append(host)
        return {"images.example.net": ["93.184.216.34"]}.get(host) or ["127.0.0.1"]

    with override_settings(FLEET_CDROM=replace(settings.FLEET_CDROM, resolver=resolve)):
        yield asked


def test_the_form_is_prefilled_for_those_who_may_change_it(
    scenario: Scenario, login: Any, resolved: list[str]
) -> None:
    Instance.objects.filter(pk=scenario["vm-a0"].pk).update(
        hvparams={**HV, "boot_order": "cdrom", "cdrom_image_path": "https://images.example.net/a.iso"}
    )
    page = login("alice").get(PAGE.format("vm-a0.example.org")).content.decode()
    assert "<legend>Configuration</legend>" in page
    assert '<option value="cdrom" selected>cdrom</option>' in page
    assert 'name="cdrom_image_url" value="https://images.example.net/a.iso"' in page
    assert 'name="memory" value="512"' in page and 'name="vcpus" value="1"' in page
    assert "CD image <code>https://images.example.net/a.iso</code>" in page  # the facts, for every reader
    helpdesk = login("helpdesk").get(PAGE.format("vm-a0.example.org")).content.decode()
    assert "<legend>Configuration</legend>" not in helpdesk
    assert "CD image <code>https://images.example.net/a.iso</code>" in helpdesk
    xen = scenario["vm-a1"]
    Instance.objects.filter(pk=xen.pk).update(hypervisor="xen-pvm")
    other = login("alice").get(PAGE.format(xen.name)).content.decode()
    assert 'name="memory"' in other and 'name="nic_type"' not in other  # only what that hypervisor has


def test_a_post_records_only_what_changed(scenario: Scenario, login: Any, resolved: list[str]) -> None:
    client = login("alice")
    sent = {**FORM, "boot_order": "cdrom", "cdrom_image_url": "https://images.example.net/rescue.iso"}
    response = client.post(PAGE.format("vm-a0.example.org"), {**sent, "vcpus": "2", "form_key": "k1"})
    assert response.status_code == 303, response.content.decode()
    operation = Operation.objects.get()
    assert (operation.kind, operation.via, operation.params) == (
        "modify",
        "web",
        {
            "hvparams": {"boot_order": "cdrom", "cdrom_image_path": "https://images.example.net/rescue.iso"},
            "beparams": {"vcpus": 2},
            "mark": "fleet:needsreboot",
        },
    )


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        (
            {"cdrom_image_url": "http://mirror.lan/x.iso"},
            "cdrom_image_url: mirror.lan resolves to 127.0.0.1, a",
        ),
        ({"cdrom_image_url": "http://[::ffff:127.0.0.1]/"}, "an IPv4-mapped form of 127.0.0.1"),
        ({"nic_type": "<script>"}, "nic_type: one of paravirtual, rtl8139, e1000"),
        ({"memory": "lots"}, "memory: a whole number from 1 to"),
        ({"memory": "9" * 40}, "memory: a whole number from 1 to"),
        ({"use_localtime": "maybe"}, "use_localtime: true or false"),
        ({"boot_order": "cdrom"}, "boot_order: booting from cdrom needs a CD image URL"),
        ({}, "Nothing to change"),
    ],
)
def test_a_bad_value_gives_the_page_naming_the_field(
    scenario: Scenario, login: Any, resolved: list[str], fields: dict[str, str], said: str
) -> None:
    response = login("alice").post(PAGE.format("vm-a0.example.org"), {**FORM, **fields})
    assert response.status_code == 400
    assert said in response.content.decode()
    assert "<script>" not in response.content.decode()
    assert not Operation.objects.exists()


def test_a_stranger_gets_a_404_and_nothing_is_resolved(
    scenario: Scenario, login: Any, resolved: list[str]
) -> None:
    for who in ("carol", "bob"):
        response = login(who).post(
            PAGE.format("vm-a0.example.org"), {**FORM, "cdrom_image_url": "http://metadata.lan/latest/"}
        )
        assert response.status_code == 404
    assert resolved == []
    assert list(Operation.objects.values_list("status", flat=True)) == [OperationStatus.REFUSED] * 2


def test_a_marked_instance_offers_the_hard_reboot_that_applies_it(scenario: Scenario, login: Any) -> None:
    client = login("alice")
    page = client.get(PAGE.format("aai-box.grnet.gr")).content.decode()  # marked as needing a reboot
    assert '<span class="badge warn">Needs reboot</span>' in page
    assert "Hard reboot to apply" in page and '<option value="hard" selected>' in page
    plain = client.get(PAGE.format("vm-a0.example.org")).content.decode()
    assert "Hard reboot to apply" not in plain and '<option value="hard">' in plain
    response = client.post(PAGE.format("aai-box.grnet.gr"), {"action": "reboot", "kind": "hard"})
    assert response.status_code == 303
    assert Operation.objects.get().params == {"type": "hard", "unmark": "fleet:needsreboot"}
    helpdesk = login("helpdesk").get(PAGE.format("aai-box.grnet.gr")).content.decode()
    assert "Hard reboot to apply" not in helpdesk

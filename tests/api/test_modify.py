"""``POST /api/instances/{id}/modify/``: an owner's configuration change recorded as one modify job (and the
needs-reboot mark for a running instance); each bad value a 400 naming its field, with KVM's domains and
the node group's instance policy as the bounds; the policy before any of that (ganetimgr's config POST
checked no ownership, and fetched the ISO URL for anyone: here a stranger gets a 404, and nothing is
resolved, recorded for the worker, or sent)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from fleet.inventory.models import Instance, NodeGroup
from fleet.operations.models import Operation, OperationStatus
from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db

IPOLICY = {
    "minmax": [
        {"min": {"memory-size": 128, "cpu-count": 1}, "max": {"memory-size": 4096, "cpu-count": 4}},
    ],
    "std": {"memory-size": 128, "cpu-count": 1},
}


@pytest.fixture
def resolved() -> Iterator[list[str]]:
    """The names Fleet resolves while the test runs, through a resolver that knows two."""
    asked: list[str] = []
    answers = {"images.example.net": ["93.184.216.34"], "intranet.example.net": ["10.1.1.1"]}

    def resolve(host: str, timeout: float) -> Sequence[str]:
        asked.append(host)
        if host not in answers:
            raise LookupError(host)
        return answers[host]

    with override_settings(FLEET_CDROM=replace(settings.FLEET_CDROM, resolver=resolve)):
        yield asked


def post(client: Client, instance: Instance, body: dict[str, Any]) -> Any:
    return client.post(f"/api/instances/{instance.pk}/modify/", body, content_type="application/json")


def test_an_owner_changes_the_configuration_of_her_running_instance(
    scenario: Scenario, login: Any, resolved: list[str]
) -> None:
    body = {
        "boot_order": "cdrom",
        "cdrom_image_url": "https://images.example.net/rescue.iso",
        "nic_type": "e1000",
        "disk_type": "scsi",
        "cdrom_disk_type": "ide",
        "use_localtime": True,
        "memory": 2048,
        "vcpus": 2,
        "reason": "rescue",
    }
    response = post(login("alice"), scenario["vm-a0"], body)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert (answer["kind"], answer["status"], answer["reason"]) == ("modify", "pending", "rescue")
    assert answer["params"] == {
        "hvparams": {
            "boot_order": "cdrom",
            "cdrom_image_path": "https://images.example.net/rescue.iso",
            "nic_type": "e1000",
            "disk_type": "scsi",
            "cdrom_disk_type": "ide",
            "use_localtime": True,
        },
        "beparams": {"memory": 2048, "vcpus": 2},
        "mark": "fleet:needsreboot",  # running: a second job marks it
    }
    assert resolved == ["images.example.net"]


def test_only_what_changes_is_sent_and_a_stopped_instance_is_not_marked(
    scenario: Scenario, login: Any
) -> None:
    stopped = scenario["vm-a7"]  # ADMIN_down, owned by nobody: root acts
    stopped.hvparams = {"boot_order": "disk", "nic_type": "paravirtual", "use_localtime": False}
    stopped.save()
    response = post(
        login("root"), stopped, {"boot_order": "disk", "nic_type": "rtl8139", "vcpus": stopped.vcpus}
    )
    assert response.status_code == 202, response.content
    assert response.json()["params"] == {"hvparams": {"nic_type": "rtl8139"}}


def test_removing_the_cd_image_and_an_instance_marked_already(scenario: Scenario, login: Any) -> None:
    box = scenario["aai-box"]  # running, alice's, marked as needing a reboot already
    box.hvparams = {"boot_order": "disk", "cdrom_image_path": "https://images.example.net/old.iso"}
    box.save()
    response = post(login("alice"), box, {"cdrom_image_url": ""})
    assert response.status_code == 202, response.content
    assert response.json()["params"] == {"hvparams": {"cdrom_image_path": ""}}  # no second mark


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"boot_order": "floppy"}, "boot_order", "is not a valid choice"),
        ({"nic_type": "virtio"}, "nic_type", "is not a valid choice"),
        ({"disk_type": "usb"}, "disk_type", "is not a valid choice"),
        ({"cdrom_disk_type": "nvme"}, "cdrom_disk_type", "is not a valid choice"),
        ({"use_localtime": "perhaps"}, "use_localtime", "Must be a valid boolean"),
        ({"memory": "lots"}, "memory", "A valid integer is required"),
        ({"memory": 0}, "memory", "greater than or equal to 1"),
        ({"vcpus": 2.5}, "vcpus", "A valid integer is required"),
        ({"cdrom_image_url": "x" * 3000}, "cdrom_image_url", "no more than 2048"),
        ({"boot_order": "cdrom"}, "boot_order", "booting from cdrom needs a CD image URL"),
        ({"cdrom_image_url": "http://169.254.169.254/latest/"}, "cdrom_image_url", "cloud metadata"),
        ({"cdrom_image_url": "http://intranet.example.net/x.iso"}, "cdrom_image_url", "10.1.1.1, a private"),
        ({"cdrom_image_url": "http://2130706433/x.iso"}, "cdrom_image_url", "four decimal numbers"),
        ({"cdrom_image_url": "ftp://images.example.net/x.iso"}, "cdrom_image_url", "http:// or https://"),
        ({"memory": 8192}, "memory", "the instance policy of node group default allows 128 to 4096 MiB"),
        ({"memory": 64}, "memory", "allows 128 to 4096 MiB"),
        ({"vcpus": 5}, "vcpus", "the instance policy of node group default allows 1 to 4 vCPUs"),
        ({"memory": 512, "vcpus": 1}, "non_field_errors", "Nothing to change"),
        ({}, "non_field_errors", "Nothing to change"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_field_and_records_nothing(
    scenario: Scenario, login: Any, resolved: list[str], body: dict[str, Any], field: str, message: str
) -> None:
    NodeGroup.objects.filter(cluster=scenario.alpha, name="default").update(ipolicy=IPOLICY)
    response = post(login("alice"), scenario["vm-a0"], body)  # 512 MiB, 1 vCPU
    assert response.status_code == 400, response.content
    errors = response.json()
    said = errors.get(field)
    assert message in (" ".join(said) if isinstance(said, list) else str(said)), errors
    assert not Operation.objects.exists()


def test_the_policy_in_force_is_the_groups_else_the_clusters_and_vcpus_check_the_memory_too(
    scenario: Scenario, login: Any
) -> None:
    alice, vm = login("alice"), scenario["vm-a2"]  # 2048 MiB, 3 vCPUs
    scenario.alpha.ipolicy = IPOLICY
    scenario.alpha.save()
    assert post(alice, vm, {"vcpus": 5}).json() == {
        "vcpus": ["the instance policy of cluster alpha.example.org allows 1 to 4 vCPUs"]
    }
    tight = {
        "minmax": [
            {"min": {"memory-size": 128, "cpu-count": 1}, "max": {"memory-size": 1024, "cpu-count": 8}}
        ]
    }
    NodeGroup.objects.filter(cluster=scenario.alpha, name="default").update(ipolicy=tight)
    refused = post(alice, vm, {"vcpus": 4}).json()
    assert refused == {
        "memory": [
            "vm-a2.example.org has 2048 MiB, and the instance policy of node group default allows "
            "128 to 1024 MiB"
        ]
    }
    assert post(alice, vm, {"vcpus": 4, "memory": 1024}).status_code == 202


def test_a_hypervisor_other_than_kvm_has_none_of_these_parameters(scenario: Scenario, login: Any) -> None:
    Instance.objects.filter(pk=scenario["vm-a0"].pk).update(hypervisor="xen-pvm")
    response = post(login("alice"), scenario["vm-a0"], {"nic_type": "e1000", "memory": 1024})
    assert response.status_code == 400
    assert response.json() == {
        "nic_type": ["not supported by this instance's hypervisor (xen-pvm): only KVM has it"]
    }
    assert post(login("alice"), scenario["vm-a0"], {"memory": 1024}).status_code == 202


def test_a_stranger_gets_a_404_whatever_the_body_and_nothing_is_resolved_or_sent(
    scenario: Scenario, login: Any, resolved: list[str]
) -> None:
    # ganetimgr's config POST: no ownership check, and a server-side fetch of the URL for whoever asked.
    vm = scenario["vm-a0"]
    for who in ("carol", "bob"):
        for body in (
            {"cdrom_image_url": "https://images.example.net/x.iso", "boot_order": "cdrom"},
            {"cdrom_image_url": "http://169.254.169.254/latest/meta-data/"},
            {"nic_type": "no-such-model", "memory": "lots"},
        ):
            response = post(login(who), vm, body)
            assert response.status_code == 404, (who, body, response.content)
    by_uuid = login("carol").post(
        f"/api/instances/{vm.cluster.name}:{vm.name}/modify/",
        {"memory": 1024},
        content_type="application/json",
    )
    assert by_uuid.status_code == 404
    assert resolved == []  # no name was looked up for them
    attempts = Operation.objects.filter(kind="modify")
    assert attempts.count() == 7 and set(attempts.values_list("status", flat=True)) == {
        OperationStatus.REFUSED
    }
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()  # nothing for the worker


def test_helpdesk_and_a_lock_are_403s_with_the_reason(
    scenario: Scenario, login: Any, resolved: list[str]
) -> None:
    vm = scenario["vm-a0"]
    desk = post(login("helpdesk"), vm, {"cdrom_image_url": "http://10.0.0.1/x.iso"})
    assert desk.status_code == 403
    assert desk.json()["detail"].startswith("Only its owners and administrators may change the configuration")
    Instance.objects.filter(pk=vm.pk).update(tags=[*vm.tags, "fleet:adminlock"])
    locked = post(login("alice"), vm, {"memory": 1024})
    assert (
        locked.status_code == 403
        and locked.json()["detail"] == "vm-a0.example.org is locked by an administrator."
    )
    assert resolved == [] and not Operation.objects.filter(status=OperationStatus.PENDING).exists()


def test_the_schema_documents_the_endpoint(scenario: Scenario, login: Any) -> None:
    schema = login("root").get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/instances/{id}/modify/"]["post"]
    assert {"202", "400", "403", "404", "409"} <= set(operation["responses"])
    body = schema["components"]["schemas"]["ModifyRequest"]["properties"]
    assert {"boot_order", "cdrom_image_url", "cdrom_disk_type", "nic_type", "disk_type", "use_localtime",
            "memory", "vcpus", "reason"} <= set(body)  # fmt: skip

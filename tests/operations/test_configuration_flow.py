"""A configuration change from its record to the page, with a real worker and a simulated KVM cluster over
TLS: one modify job and, for a running instance, the needs-reboot mark; the resync shows the new values in the
read model and on the page; a hard reboot applies them and removes the mark. A refused CD image URL sends
nothing to the cluster and opens no connection to where it points (an HTTP server there counts every hit);
Fleet never fetches an accepted one either. Ganeti's own refusal (its ipolicy) reaches the operation."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from ipaddress import ip_network
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client, override_settings

from fleet import operations
from fleet.inventory.models import Instance, NodeGroup
from fleet.operations.models import Operation, OperationStatus
from tests.operations.conftest import Owned
from tests.operations.test_steps import opcodes
from tests.operations.test_worker_flow import ended, jobs_on_cluster
from tests.sync.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

MARK = "fleet:needsreboot"


class Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """An HTTP server on 127.0.0.1 that records every request it gets: its port, and the requests."""
    hits: list[str] = []
    handler = type("Recording", (Counter,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def job(owned: Owned, job_id: int) -> dict[str, Any]:
    """The job as the simulated cluster shows it."""
    target = owned.sim.targets[0]
    auth = (target.username, target.password)
    answer = httpx.get(f"{target.url}/2/jobs/{job_id}", verify=False, auth=auth, timeout=10)
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def fresh(owned: Owned) -> Instance:
    return Instance.objects.select_related("cluster", "primary_node__group").get(pk=owned.instance.pk)


def test_a_change_is_sent_marked_shown_and_applied_by_a_hard_reboot(owned: Owned) -> None:
    instance = fresh(owned)
    assert instance.hypervisor == "kvm" and instance.hvparams["boot_order"] == "disk"
    memory = instance.memory + 128
    iso = "https://93.184.216.34/isos/rescue.iso"
    by = operations.Caller(owned.owner)
    operation = operations.modify(
        instance, by=by, boot_order="cdrom", cdrom_image_url=iso, nic_type="e1000", use_localtime=True,
        memory=memory, reason="rescue",
    )  # fmt: skip
    done = ended(operation)
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert opcodes(owned, done.job_ids) == ["OP_INSTANCE_SET_PARAMS", "OP_TAGS_SET"]
    sent = job(owned, done.job_ids[0])
    op = sent["ops"][0]
    assert op["hvparams"] == {"boot_order": "cdrom", "cdrom_image_path": iso, "nic_type": "e1000",
                              "use_localtime": True}  # fmt: skip
    assert op["beparams"] == {"memory": memory}
    assert sorted(sent["opresult"][0]) == [  # in the order sent, which the database's JSON may change
        ["be/memory", memory], ["hv/boot_order", "cdrom"], ["hv/cdrom_image_path", iso],
        ["hv/nic_type", "e1000"], ["hv/use_localtime", True],
    ]  # fmt: skip

    # The worker read the instance again: the new values, the mark, and what still runs (the old memory).
    wait_for(lambda: MARK in (fresh(owned).tags or []) and fresh(owned).memory == memory)
    after = fresh(owned)
    assert after.hvparams["boot_order"] == "cdrom" and after.hvparams["cdrom_image_path"] == iso
    assert after.hvparams["nic_type"] == "e1000" and after.hvparams["use_localtime"] is True
    assert (after.memory, after.min_memory, after.oper_ram) == (memory, memory, instance.memory)
    client = Client()
    client.force_login(owned.owner)
    page = client.get(f"/instances/{after.cluster.name}/{after.name}/").content.decode()
    assert '<span class="badge warn">Needs reboot</span>' in page and "Hard reboot to apply" in page
    assert f"CD image <code>{iso}</code>" in page and 'value="e1000" selected' in page
    listed = client.get("/", {"q": after.name}).content.decode()
    assert "Needs reboot" in listed
    api = client.get(f"/api/instances/{after.pk}/").json()
    assert (api["hypervisor"], api["memory"]) == ("kvm", memory)
    assert "needsreboot" in api["flags"]

    # A soft reboot keeps the process (and the mark); a hard one applies the change and removes it.
    soft = ended(operations.reboot(after, by=operations.Caller(owned.owner), kind="soft"))
    assert soft.status == OperationStatus.SUCCEEDED
    wait_for(lambda: Instance.objects.get(pk=after.pk).serial_no > after.serial_no)
    assert fresh(owned).oper_ram == instance.memory and MARK in fresh(owned).tags
    hard = ended(operations.reboot(fresh(owned), by=operations.Caller(owned.owner), kind="hard"))
    assert hard.status == OperationStatus.SUCCEEDED, hard.error
    assert opcodes(owned, hard.job_ids) == ["OP_INSTANCE_REBOOT", "OP_TAGS_DEL"]
    wait_for(lambda: MARK not in fresh(owned).tags and fresh(owned).oper_ram == memory)


def test_a_stopped_instance_takes_one_job_and_no_mark(owned: Owned) -> None:
    stopped = Instance.objects.filter(cluster=owned.instance.cluster, status="ADMIN_down").first()
    assert stopped is not None
    root = type(owned.owner).objects.create_superuser("root", "root@example.org", "secret-password-1")
    done = ended(operations.modify(stopped, by=operations.Caller(root), disk_type="scsi", vcpus=2))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert [job(owned, j)["ops"][0]["OP_ID"] for j in done.job_ids] == ["OP_INSTANCE_SET_PARAMS"]
    wait_for(lambda: Instance.objects.get(pk=stopped.pk).hvparams.get("disk_type") == "scsi")
    assert (
        Instance.objects.get(pk=stopped.pk).vcpus == 2
        and MARK not in Instance.objects.get(pk=stopped.pk).tags
    )


def test_a_refused_url_reaches_neither_the_cluster_nor_its_target(
    owned: Owned, listener: tuple[int, list[str]]
) -> None:
    port, hits = listener
    instance = fresh(owned)
    by = operations.Caller(owned.owner)
    before = len(jobs_on_cluster(owned.sim, instance.name))

    def resolve(host: str, timeout: float) -> Sequence[str]:
        return {"images.example.net": ["127.0.0.1"], "mixed.example.net": ["93.184.216.34", "127.0.0.1"]}[
            host
        ]

    config = replace(settings.FLEET_CDROM, ports=(80, 443, port), resolver=resolve)
    nasty = [
        f"http://127.0.0.1:{port}/x.iso", f"http://localhost:{port}/x.iso", f"http://2130706433:{port}/x.iso",
        f"http://0x7f.1:{port}/x.iso", f"http://[::ffff:127.0.0.1]:{port}/x.iso", f"http://[::1]:{port}/x.iso",
        f"http://images.example.net:{port}/x.iso", f"http://mixed.example.net:{port}/x.iso",
        f"http://user:pw@93.184.216.34:{port}/x.iso", f"ftp://127.0.0.1:{port}/x.iso",
    ]  # fmt: skip
    with override_settings(FLEET_CDROM=config):
        for url in nasty:
            with pytest.raises(operations.Invalid) as refused:
                operations.modify(instance, by=by, boot_order="cdrom", cdrom_image_url=url)
            assert set(refused.value.errors) == {"cdrom_image_url"}, url
    assert not Operation.objects.exists()
    # The operator allows the loopback network for a mirror: the URL is accepted and sent, and still never
    # fetched: neither Fleet nor Ganeti reads it (KVM would, from the node, at the next start).
    allowed = replace(config, allow_networks=(ip_network("127.0.0.0/8"),))
    with override_settings(FLEET_CDROM=allowed):
        operation = operations.modify(
            instance, by=by, cdrom_image_url=f"http://images.example.net:{port}/x.iso"
        )
    assert ended(operation).status == OperationStatus.SUCCEEDED
    assert len(jobs_on_cluster(owned.sim, instance.name)) == before + 2  # the modify and the mark
    assert hits == []


def test_ganetis_own_ipolicy_refusal_reaches_the_operation(owned: Owned) -> None:
    instance = fresh(owned)
    group = instance.primary_node.group  # type: ignore[union-attr]
    bound = group.ipolicy["minmax"][0]["max"]["cpu-count"]
    by = operations.Caller(owned.owner)
    with pytest.raises(operations.Invalid) as refused:
        operations.modify(instance, by=by, vcpus=bound + 1)
    assert refused.value.errors == {
        "vcpus": f"the instance policy of node group {group.name} allows 1 to {bound} vCPUs"
    }
    # The read model is behind the cluster (the policy was tightened since the last sync): Fleet sends the
    # change, Ganeti refuses it with its message, and the mark is never set.
    loose = {**group.ipolicy, "minmax": [{"min": {"cpu-count": 1}, "max": {"cpu-count": 64}}]}
    NodeGroup.objects.filter(pk=group.pk).update(ipolicy=loose)
    done = ended(operations.modify(fresh(owned), by=by, vcpus=bound + 1))
    assert done.status == OperationStatus.FAILED
    assert f"violates policy: cpu-count value {bound + 1} is not in range [1, {bound}]" in done.error
    assert len(done.job_ids) == 1 and MARK not in fresh(owned).tags

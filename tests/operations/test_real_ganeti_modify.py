"""A configuration change against real Ganeti 3.0.2 (fake hypervisor), beside the same on the simulator: the
backend parameters Fleet sends, as Ganeti takes and reports them; the instance policy as Fleet synced it,
which refuses a value outside it naming the bound, and Ganeti's own refusal when the read model is behind;
the needs-reboot mark, and a hard reboot that applies the change. The fake hypervisor has none of KVM's
parameters: Fleet refuses them there, from the instance's hypervisor as synced, and sends nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User

from fleet import operations
from fleet.inventory.models import Cluster, Instance, NodeGroup
from fleet.operations.models import OperationStatus
from fleet.sync.worker import WorkerSettings
from tests.conformance.official import batch, create, facts, http, job, succeeded
from tests.operations.test_real_ganeti import SETTINGS, ended, job_ops, target
from tests.sync.conftest import Running, register, unlocked, wait_for
from tests.targets import RapiTarget

__all__ = ["target"]  # a fixture, used by name

pytestmark = pytest.mark.django_db(transaction=True)

MARK = "fleet:needsreboot"


@pytest.fixture
def own(
    target: RapiTarget, running_worker: Callable[[WorkerSettings], Running]
) -> Iterator[tuple[User, Instance]]:
    """An instance of this test's own (``fmodify-*``, 128 MiB, 1 vCPU, running) on the target, synced by a
    running worker, and an administrator; the instance is removed at the end."""
    name = f"fmodify-{uuid.uuid4().hex[:8]}.example.test"
    made = batch(target, [create(name, facts(target), beparams={"maxmem": 128, "minmem": 128, "vcpus": 1})])
    succeeded(made[0])
    try:
        admin = User.objects.create_superuser("root", "root@example.org", "secret-password-1")
        cluster = register(target, timeout=30.0)
        running_worker(SETTINGS)
        wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None, timeout=60)
        yield admin, Instance.objects.select_related("cluster").get(cluster=cluster, name=name)
    finally:
        batch(target, [job("DeleteInstance", name)])


def opresult(target: RapiTarget, job_id: int) -> list[list[list[object]]]:
    with http(target) as client:
        found: list[list[list[object]]] = client.get(f"/2/jobs/{job_id}").json()["opresult"]
        return found


def fresh(instance: Instance) -> Instance:
    return unlocked(
        lambda: Instance.objects.select_related("cluster", "primary_node__group").get(pk=instance.pk)
    )


def test_backend_parameters_through_fleet(target: RapiTarget, own: tuple[User, Instance]) -> None:
    admin, instance = own
    by = operations.Caller(admin)
    now = fresh(instance)
    assert (now.memory, now.vcpus, now.status) == (128, 1, "running")
    group = now.primary_node.group  # type: ignore[union-attr]
    bounds = group.ipolicy["minmax"][0]  # as synced from the group's filled policy
    cpus, memory = bounds["max"]["cpu-count"], bounds["max"]["memory-size"]

    done = ended(unlocked(lambda: operations.modify(fresh(instance), by=by, memory=256, vcpus=2)))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert len(done.job_ids) == 2  # the modify, then the mark
    op = job_ops(target, done.job_ids[0])[0]
    assert (op["OP_ID"], op["beparams"]) == ("OP_INSTANCE_SET_PARAMS", {"memory": 256, "vcpus": 2})
    assert job_ops(target, done.job_ids[1])[0]["OP_ID"] == "OP_TAGS_SET"
    (result,) = opresult(target, done.job_ids[0])
    assert sorted(result) == [["be/memory", 256], ["be/vcpus", 2]]  # as sent: "memory", not maxmem and minmem
    wait_for(lambda: MARK in fresh(instance).tags and fresh(instance).vcpus == 2, timeout=30)
    after = fresh(instance)
    # memory sets maxmem and minmem; what runs keeps its old figures until the hypervisor restarts it
    assert (after.memory, after.min_memory, after.oper_vcpus) == (256, 256, 1)

    # Outside the policy as synced: refused by Fleet, naming the bound; nothing is recorded.
    with pytest.raises(operations.Invalid) as refused:
        operations.modify(after, by=by, vcpus=cpus + 1)
    assert refused.value.errors == {
        "vcpus": f"the instance policy of node group {group.name} allows 1 to {cpus} vCPUs"
    }
    with pytest.raises(operations.Invalid, match=f"allows {bounds['min']['memory-size']} to {memory} MiB"):
        operations.modify(after, by=by, memory=memory + 1)
    # The read model behind the cluster: Fleet sends it, and Ganeti refuses it with its own words.
    loose = {**group.ipolicy, "minmax": [{"min": {"cpu-count": 1}, "max": {"cpu-count": 64}}]}
    unlocked(lambda: NodeGroup.objects.filter(pk=group.pk).update(ipolicy=loose))
    failed = ended(unlocked(lambda: operations.modify(fresh(instance), by=by, vcpus=cpus + 1)))
    assert failed.status == OperationStatus.FAILED
    assert failed.error.startswith("OpPrereqError: Instance allocation to group "), failed.error
    assert f"violates policy: cpu-count value {cpus + 1} is not in range [1, {cpus}]" in failed.error

    # KVM's parameters on another hypervisor: refused before anything is recorded.
    if after.hypervisor != "kvm":
        with pytest.raises(operations.Invalid) as other:
            operations.modify(after, by=by, boot_order="cdrom", cdrom_image_url="https://93.184.216.34/x.iso")
        assert other.value.errors["boot_order"] == (
            f"not supported by this instance's hypervisor ({after.hypervisor}): only KVM has it"
        )

    # A soft reboot keeps the process (and the mark); a hard one starts a new process and removes it.
    soft = ended(unlocked(lambda: operations.reboot(fresh(instance), by=by, kind="soft")))
    assert soft.status == OperationStatus.SUCCEEDED, soft.error
    serial = fresh(instance).serial_no
    batch(target, [job("AddInstanceTags", instance.name, ["fmodify:resync"])])  # a change the worker reads
    wait_for(lambda: fresh(instance).serial_no > serial, timeout=30)
    assert fresh(instance).oper_vcpus == 1 and MARK in fresh(instance).tags
    hard = ended(unlocked(lambda: operations.reboot(fresh(instance), by=by, kind="hard")))
    assert hard.status == OperationStatus.SUCCEEDED, hard.error
    wait_for(lambda: MARK not in fresh(instance).tags and fresh(instance).oper_vcpus == 2, timeout=30)

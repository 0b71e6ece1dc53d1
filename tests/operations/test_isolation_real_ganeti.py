"""Isolation's tag jobs against real Ganeti 3.0.2, beside the same against the simulator: Ganeti takes the
flag and the allow-from tags (an IPv6 range's colons included) in one OP_TAGS_SET, the list changes by
OP_TAGS_SET and OP_TAGS_DEL, and de-isolation takes every one of them off; a running instance on shared
storage is live-migrated after its tags, so that its new node runs the network script with them."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator

import httpx
import pytest
from django.contrib.auth.models import User

from fleet import operations
from fleet.inventory.models import Instance
from fleet.operations.models import OperationStatus
from fleet.sync.worker import WorkerSettings
from tests.operations.test_real_ganeti import SETTINGS, ended, job_ops, synced, target, untag
from tests.sync.conftest import Running, register, unlocked, wait_for
from tests.targets import RapiTarget

__all__ = ["synced", "target"]  # fixtures, used by name

pytestmark = pytest.mark.django_db(transaction=True)

OURS = ("fleet:isolate", "fleet:whitelist_ip:")


def test_isolation_is_tags_on_the_real_daemon(target: RapiTarget, synced: tuple[User, Instance]) -> None:
    admin, instance = synced
    by = operations.Caller(admin)
    leftovers = [t for t in instance.tags if t.startswith(OURS)]
    if leftovers:  # an earlier run that stopped half-way: take its tags off first
        untag(target, instance.name, leftovers)
        wait_for(lambda: not set(leftovers) & set(Instance.objects.get(pk=instance.pk).tags), timeout=30)

    def ours() -> set[str]:
        return {t for t in unlocked(lambda: Instance.objects.get(pk=instance.pk).tags) if t.startswith(OURS)}

    def fresh() -> Instance:
        return unlocked(lambda: Instance.objects.select_related("cluster").get(pk=instance.pk))

    isolate = unlocked(  # the tags alone: the migration that follows them is the simulator's test's
        lambda: operations.isolate(
            fresh(), by=by, reason="conformance", allow_from=["192.0.2.0/28", "2001:db8::/64"], migrate=False
        )
    )
    done = ended(isolate)
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert done.ganeti_job_id is not None
    (op,) = job_ops(target, done.ganeti_job_id)
    assert op["OP_ID"] == "OP_TAGS_SET" and op["kind"] == "instance" and op["name"] == instance.name
    assert sorted(op["tags"]) == [  # type: ignore[call-overload]
        "fleet:isolate",
        "fleet:whitelist_ip:192.0.2.0/28",
        "fleet:whitelist_ip:2001:db8::/64",
    ]
    wait_for(lambda: len(ours()) == 3, timeout=30)

    changed = ended(
        unlocked(lambda: operations.change_allow_from(fresh(), by=by, remove=["192.0.2.0/28"], migrate=False))
    )
    assert changed.status == OperationStatus.SUCCEEDED, changed.error
    assert job_ops(target, changed.ganeti_job_id or 0)[0]["OP_ID"] == "OP_TAGS_DEL"
    wait_for(lambda: ours() == {"fleet:isolate", "fleet:whitelist_ip:2001:db8::/64"}, timeout=30)

    back = ended(unlocked(lambda: operations.deisolate(fresh(), by=by, migrate=False)))
    assert back.status == OperationStatus.SUCCEEDED, back.error
    wait_for(lambda: not ours(), timeout=30)


MOVING = "isolate-move.example.test"


def rapi(target: RapiTarget) -> httpx.Client:
    verify = ssl.create_default_context(cafile=target.cert_file)
    verify.check_hostname = False
    return httpx.Client(
        base_url=target.url, verify=verify, auth=(target.username, target.password), timeout=60
    )


def wait_job(http: httpx.Client, job_id: int) -> None:
    wait_for(lambda: http.get(f"/2/jobs/{job_id}").json()["status"] in ("success", "error", "canceled"), 120)
    assert http.get(f"/2/jobs/{job_id}").json()["status"] == "success"


@pytest.fixture
def moving(real_ganeti: RapiTarget) -> Iterator[str]:
    """A running instance on shared storage (it can live-migrate on the fake hypervisor), made for the test
    and destroyed after it."""
    with rapi(real_ganeti) as http:
        if MOVING not in {i["id"] for i in http.get("/2/instances").json()}:
            body = {
                "__version__": 1, "mode": "create", "instance_name": MOVING, "disk_template": "sharedfile",
                "disks": [{"size": 64}], "nics": [{}], "os_type": "noop", "name_check": False,
                "ip_check": False, "start": True, "beparams": {"maxmem": 64, "minmem": 64, "vcpus": 1},
            }  # fmt: skip
            wait_job(http, http.post("/2/instances", json=body).json())
        yield MOVING
        wait_job(http, http.delete(f"/2/instances/{MOVING}").json())


@pytest.mark.real_ganeti
def test_a_running_instance_is_live_migrated_after_its_tags(
    real_ganeti: RapiTarget, moving: str, running_worker: Callable[[WorkerSettings], Running]
) -> None:
    admin = User.objects.create_superuser("root", "root@example.org", "secret-password-1")
    by = operations.Caller(admin)
    cluster = register(real_ganeti, timeout=30.0)
    running_worker(SETTINGS)
    wait_for(lambda: unlocked(lambda: Instance.objects.filter(cluster=cluster, name=moving).exists()), 60)

    def fresh() -> Instance:
        return unlocked(lambda: Instance.objects.select_related("cluster", "primary_node").get(name=moving))

    before = fresh().primary_node_id
    done = ended(unlocked(lambda: operations.isolate(fresh(), by=by, allow_from=["192.0.2.0/28"])))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    assert [job_ops(real_ganeti, job_id)[0]["OP_ID"] for job_id in done.job_ids] == [
        "OP_TAGS_SET",
        "OP_INSTANCE_MIGRATE",
    ]
    wait_for(lambda: fresh().primary_node_id != before and "fleet:isolate" in fresh().tags, timeout=30)
    back = ended(unlocked(lambda: operations.deisolate(fresh(), by=by)))
    assert back.status == OperationStatus.SUCCEEDED, back.error
    assert [job_ops(real_ganeti, job_id)[0]["OP_ID"] for job_id in back.job_ids] == [
        "OP_TAGS_DEL",
        "OP_INSTANCE_MIGRATE",
    ]
    wait_for(lambda: fresh().primary_node_id == before and "fleet:isolate" not in fresh().tags, timeout=30)

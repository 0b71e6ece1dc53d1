"""Isolation with a real worker and a simulated cluster: isolating, changing the allow-from list and
reconnecting are tag jobs; the tags on the cluster are the truth the node-side script reads. Owners may not
isolate; the state refuses what makes no sense; a bad range records nothing and nothing reaches the
cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import Permission, User

from fleet import operations
from fleet.inventory.models import Instance
from fleet.operations.models import Operation, OperationKind, OperationStatus
from tests.operations.conftest import Owned
from tests.sync.conftest import unlocked, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def ended(operation: Operation) -> Operation:
    wait_for(lambda: not unlocked(lambda: Operation.objects.get(pk=operation.pk)).is_open, timeout=20)
    done = unlocked(lambda: Operation.objects.get(pk=operation.pk))
    assert done.status == OperationStatus.SUCCEEDED, done.error
    return done


def fresh(instance: Instance) -> Instance:
    return unlocked(lambda: Instance.objects.select_related("cluster").get(pk=instance.pk))


def act(action: Callable[..., Operation], *args: Any, **kwargs: Any) -> Operation:
    """``action(*args, **kwargs)``, again while SQLite's shared test database is locked by the worker."""
    return unlocked(lambda: action(*args, **kwargs))


def cluster_tags(owned: Owned, name: str) -> set[str]:
    """The instance's tags as the simulated cluster has them (not Fleet's copy)."""
    target = owned.sim.targets[0]
    response = httpx.get(
        f"{target.url}/2/instances/{name}/tags",
        verify=False,
        auth=(target.username, target.password),
        timeout=10,
    )
    response.raise_for_status()
    return set(response.json())


def jobs_on_cluster(owned: Owned) -> int:
    target = owned.sim.targets[0]
    response = httpx.get(
        f"{target.url}/2/jobs", verify=False, auth=(target.username, target.password), timeout=10
    )
    response.raise_for_status()
    return len(response.json())


def summary_of(owned: Owned, job_id: int) -> str:
    """The opcode of a job, as the simulated cluster has it, without its OP_ prefix."""
    target = owned.sim.targets[0]
    response = httpx.get(
        f"{target.url}/2/jobs/{job_id}", verify=False, auth=(target.username, target.password), timeout=10
    )
    response.raise_for_status()
    return str(response.json()["ops"][0]["OP_ID"]).removeprefix("OP_")


def noc_account() -> User:
    """An account holding access.isolate_instance and access.view_all, as a NOC group is set up."""
    noc = User.objects.create_user("noc", password="secret-password-1")
    noc.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="access", codename__in=["isolate_instance",
                                                                                   "view_all"])
    )  # fmt: skip
    return User.objects.get(pk=noc.pk)


def test_isolate_change_the_list_and_reconnect(owned: Owned) -> None:
    running_drbd = Instance.objects.filter(
        cluster=owned.instance.cluster, status="running", disk_template="drbd", owners__kind="user"
    )
    instance = running_drbd.select_related("cluster").order_by("name").first()
    assert instance is not None
    owner_name = instance.owners.filter(kind="user").order_by("name").values_list("name", flat=True)[0]
    owner = User.objects.filter(username=owner_name).first() or User.objects.create_user(owner_name)
    noc = operations.Caller(noc_account())
    with pytest.raises(operations.Refused, match=r"Only holders of the permission access\.isolate_instance"):
        act(operations.isolate, instance, by=operations.Caller(owner), allow_from=["192.0.2.0/28"])

    done = ended(
        act(
            operations.isolate,
            instance,
            by=noc,
            reason="abuse 77",
            allow_from=["192.0.2.0/28", "2001:db8::5"],
        )
    )
    assert done.kind == OperationKind.ISOLATE
    # the tag job, then (it runs, on DRBD) the live migration that makes its new node apply the rules
    assert len(done.job_ids) == 2
    assert [summary_of(owned, job_id) for job_id in done.job_ids] == ["TAGS_SET", "INSTANCE_MIGRATE"]
    isolated = {"fleet:isolate", "fleet:whitelist_ip:192.0.2.0/28", "fleet:whitelist_ip:2001:db8::5/128"}
    assert isolated <= cluster_tags(owned, instance.name)
    wait_for(lambda: isolated <= set(fresh(instance).tags))
    with pytest.raises(operations.Refused, match="isolated already") as again:
        act(operations.isolate, fresh(instance), by=noc)
    assert again.value.conflict

    ended(act(operations.change_allow_from, fresh(instance), by=noc, add=["198.51.100.64/26"]))
    wait_for(lambda: "fleet:whitelist_ip:198.51.100.64/26" in fresh(instance).tags)
    with pytest.raises(operations.Refused, match="not in the allow-from list"):
        act(operations.change_allow_from, fresh(instance), by=noc, remove=["203.0.113.0/28"])
    both = ended(
        act(
            operations.change_allow_from,
            fresh(instance),
            by=noc,
            add=["203.0.113.8/29"],
            remove=["192.0.2.0/28"],
            migrate=False,
        )
    )
    assert [summary_of(owned, job_id) for job_id in both.job_ids] == ["TAGS_SET", "TAGS_DEL"]
    wait_for(lambda: "fleet:whitelist_ip:192.0.2.0/28" not in fresh(instance).tags)
    assert "fleet:whitelist_ip:192.0.2.0/28" not in cluster_tags(owned, instance.name)
    assert "fleet:whitelist_ip:203.0.113.8/29" in cluster_tags(owned, instance.name)

    ended(act(operations.deisolate, fresh(instance), by=noc, reason="cleaned up"))
    wait_for(
        lambda: not any(t.startswith(("fleet:isolate", "fleet:whitelist_ip:")) for t in fresh(instance).tags)
    )
    assert not {
        t
        for t in cluster_tags(owned, instance.name)
        if t.startswith(("fleet:isolate", "fleet:whitelist_ip:"))
    }
    with pytest.raises(operations.Refused, match="is not isolated"):
        act(operations.deisolate, fresh(instance), by=noc)
    with pytest.raises(operations.Refused, match="is not isolated"):
        act(operations.change_allow_from, fresh(instance), by=noc, add=["192.0.2.0/28"])
    # The owner's own actions go on: isolation cuts the network, it does not lock the instance.
    assert ended(act(operations.reboot, fresh(instance), by=operations.Caller(owner)))


@pytest.mark.parametrize(
    "bad", ["10.0.0.5/24", "10.0.0.0/24", "2001:db8::/48", "not-an-address", "10.0.0.0/33", "10.0.0.1/26"]
)
def test_a_bad_range_records_nothing_and_reaches_no_cluster(owned: Owned, bad: str) -> None:
    admin = User.objects.create_superuser("root", "root@example.org", "secret-password-1")
    before = jobs_on_cluster(owned)
    with pytest.raises(operations.Invalid) as invalid:
        act(operations.isolate, owned.instance, by=operations.Caller(admin), allow_from=["192.0.2.0/28", bad])
    assert (
        list(invalid.value.errors) == ["allow_from"] and repr(bad)[1:-1] in invalid.value.errors["allow_from"]
    )
    assert not Operation.objects.exists()
    assert jobs_on_cluster(owned) == before

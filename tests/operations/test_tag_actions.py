"""Lock, unlock and co-owners with a real worker and a simulated cluster: each is a tag job; once it ends
the worker reads the instance again, so that a new co-owner sees it and a lock refuses its owner's actions,
with the reason, on the server."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from fleet import operations
from fleet.access import policy
from fleet.inventory.models import Instance
from fleet.operations.models import Operation, OperationStatus
from tests.operations.conftest import Owned
from tests.sync.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def ended(operation: Operation) -> Operation:
    wait_for(lambda: not Operation.objects.get(pk=operation.pk).is_open, timeout=20)
    done = Operation.objects.get(pk=operation.pk)
    assert done.status == OperationStatus.SUCCEEDED, done.error
    return done


def fresh(instance: Instance) -> Instance:
    return Instance.objects.select_related("cluster").get(pk=instance.pk)


def test_an_owner_adds_a_co_owner_who_then_sees_the_vm(owned: Owned) -> None:
    instance, owner = owned.instance, owned.owner
    carol = User.objects.create_user("carol", password="secret-password-1")
    assert not policy.decide(carol, policy.Action.VIEW, instance).allowed
    ended(operations.add_owner(instance, by=operations.Caller(owner), kind="user", name="carol"))
    wait_for(lambda: policy.decide(carol, policy.Action.VIEW, fresh(instance)).allowed)
    assert "fleet:user:carol" in fresh(instance).tags
    # carol may now remove the first owner, but nobody may remove the last one.
    ended(
        operations.remove_owner(
            fresh(instance), by=operations.Caller(carol), kind="user", name=owner.username
        )
    )
    wait_for(lambda: not policy.decide(owner, policy.Action.VIEW, fresh(instance)).allowed)
    with pytest.raises(operations.Refused, match="only owner"):
        operations.remove_owner(fresh(instance), by=operations.Caller(carol), kind="user", name="carol")


def test_a_locked_vm_refuses_its_owner_with_the_reason(owned: Owned) -> None:
    instance, owner = owned.instance, owned.owner
    admin = User.objects.create_superuser("root", "root@example.org", "secret-password-1")
    with pytest.raises(operations.Refused):
        operations.lock(instance, by=operations.Caller(owner))  # owners may not lock
    ended(operations.lock(instance, by=operations.Caller(admin), reason="abuse report 123"))
    wait_for(lambda: "fleet:adminlock" in fresh(instance).tags)
    with pytest.raises(operations.Refused, match="locked by an administrator") as refused:
        operations.reboot(fresh(instance), by=operations.Caller(owner))
    assert refused.value.operation.status == OperationStatus.REFUSED and not refused.value.conflict
    ended(operations.unlock(fresh(instance), by=operations.Caller(admin)))
    wait_for(lambda: "fleet:adminlock" not in fresh(instance).tags)
    assert ended(operations.reboot(fresh(instance), by=operations.Caller(owner)))


@pytest.mark.parametrize(
    ("kind", "name", "field"),
    [
        ("robot", "alice", "kind"),
        ("user", "has space", "name"),
        ("user", "a:b", "name"),
        ("user", "x" * 200, "name"),
    ],
)
def test_a_bad_owner_is_refused_naming_the_field(kind: str, name: str, field: str) -> None:
    from tests.inventory import factories

    cluster = factories.cluster()
    instance = factories.instance(cluster, tags=["fleet:user:alice"])
    alice = User.objects.create_user("alice", password="secret-password-1")
    with pytest.raises(operations.Invalid) as invalid:
        operations.add_owner(instance, by=operations.Caller(alice), kind=kind, name=name)
    assert field in invalid.value.errors
    assert not Operation.objects.exists()

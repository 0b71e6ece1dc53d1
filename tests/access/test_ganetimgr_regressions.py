"""ganetimgr's authorization flaws that belong to the policy, each as the test that would have caught it.

ganetimgr cached one decision per (instance, user) for every permission level, so that a helpdesk view let
a reboot through; let a cached refusal fall through to the handler; and enforced node-group and cluster
locks only in the UI.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from fleet.access import policy
from fleet.access.policy import Action
from fleet.inventory.models import Instance, NodeGroup
from tests.access.world import World, build

pytestmark = pytest.mark.django_db

WRITES = [a for a in Action if a.is_write]


@pytest.fixture
def world() -> World:
    return build()


def test_ganetimgr_one_cached_decision_shared_across_actions(world: World) -> None:
    """A helpdesk account that has just been allowed to see a VM is still refused every write on it, in
    the same request (the same user object), and an owner's decision is not another account's."""
    helpdesk, carol, alice = (world.accounts[n] for n in ("helpdesk", "carol", "alice"))
    plain = world.instances["plain"]
    assert policy.decide(helpdesk, Action.VIEW, plain).allowed
    for action in WRITES:
        assert not policy.decide(helpdesk, action, plain).allowed, action
        with pytest.raises(PermissionDenied):
            policy.check(helpdesk, action, plain)
    assert policy.decide(alice, Action.DESTROY, plain).allowed
    assert not policy.decide(carol, Action.DESTROY, plain).visible


def test_ganetimgr_decisions_follow_the_rows_at_once(world: World) -> None:
    """Nothing holds an old decision: a lock set between two questions in one request counts at once."""
    alice = world.accounts["alice"]
    plain = world.instances["plain"]
    assert policy.decide(alice, Action.POWER, plain).allowed
    Instance.objects.filter(pk=plain.pk).update(tags=[*plain.tags, "fleet:adminlock"])
    assert (
        policy.decide(alice, Action.POWER, plain).reason == "plain.example.org is locked by an administrator."
    )
    Instance.objects.filter(pk=plain.pk).update(tags=plain.tags)
    assert policy.decide(alice, Action.POWER, plain).allowed


def test_ganetimgr_cached_false_falls_through(world: World) -> None:
    """A refusal is raised every time it is asked, for every action, not only the first time."""
    carol, helpdesk = world.accounts["carol"], world.accounts["helpdesk"]
    plain = world.instances["plain"]
    for _ in range(3):
        with pytest.raises(Http404):
            policy.check(carol, Action.OWNERS, plain)
        with pytest.raises(
            PermissionDenied, match="Only its owners and administrators may change the owners"
        ):
            policy.check(helpdesk, Action.OWNERS, plain)
        with pytest.raises(PermissionDenied):
            policy.get_object(Instance.objects.all(), helpdesk, Action.OWNERS, pk=plain.pk)
        decision = policy.decide(helpdesk, Action.OWNERS, plain)
        assert not decision
        assert decision.reason


def test_ganetimgr_maintenance_only_in_the_ui(world: World) -> None:
    """Node-group maintenance holds on the server, for every way of asking: decide, check, get_object,
    restrict and actions_for; lifting it lifts the refusal."""
    alice = world.accounts["alice"]
    maint = world.instances["maint"]
    reason = "Node group rack2 of cluster main.example.org is under maintenance."
    assert policy.decide(alice, Action.REINSTALL, maint).reason == reason
    with pytest.raises(PermissionDenied, match=reason):
        policy.check(alice, Action.REINSTALL, maint)
    with pytest.raises(PermissionDenied, match=reason):
        policy.get_object(Instance.objects.all(), alice, Action.REINSTALL, pk=maint.pk)
    assert not policy.restrict(Instance.objects.filter(pk=maint.pk), alice, Action.REINSTALL).exists()
    assert policy.actions_for(alice, [maint]) == {maint.pk: frozenset({Action.VIEW})}
    assert policy.decide(world.accounts["root"], Action.REINSTALL, maint).allowed  # admins are not stopped
    NodeGroup.objects.filter(name="rack2").update(tags=[])
    assert policy.decide(alice, Action.REINSTALL, maint).allowed


def test_ganetimgr_disabled_cluster_only_in_the_ui(world: World) -> None:
    """A cluster marked offline takes no write from anyone, admins included, by any way of asking."""
    dark = world.instances["dark"]
    reason = "Fleet does not contact cluster dark.example.org: it is marked offline."
    for who in ("alice", "root"):
        user = world.accounts[who]
        with pytest.raises(PermissionDenied, match=reason):
            policy.check(user, Action.POWER, dark)
        assert not policy.restrict(Instance.objects.filter(pk=dark.pk), user, Action.POWER).exists()
        assert policy.actions_for(user, [dark]) == {dark.pk: frozenset({Action.VIEW})}

"""The one authorization path: what each role sees of each model, the single-object check, and the
named permissions as Django permissions."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from fleet.access import policy
from fleet.access.policy import Action, Role
from fleet.inventory.models import Cluster, Instance, Network, Node, NodeGroup
from fleet.jobs.models import Job
from tests.inventory.scenario import Scenario, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def s() -> Scenario:
    return build()


def names(queryset) -> set[str]:
    return {str(name) for name in queryset.values_list("name", flat=True)}


def test_roles(s: Scenario) -> None:
    assert policy.role_of(None) is Role.ANONYMOUS
    assert policy.role_of(AnonymousUser()) is Role.ANONYMOUS
    assert policy.role_of(s.alice) is Role.USER
    assert policy.role_of(s.helpdesk) is Role.HELPDESK
    assert policy.role_of(s.root) is Role.ADMIN
    s.root.is_active = False
    assert policy.role_of(s.root) is Role.ANONYMOUS


def test_user_sees_direct_and_group_instances_only(s: Scenario) -> None:
    alice = names(policy.restrict(Instance.objects.all(), s.alice))
    assert alice == {"vm-a0.example.org", "vm-a1.example.org", "vm-a2.example.org", "aai-box.grnet.gr",
                     "vm-b0.example.org"}  # fmt: skip
    bob = names(policy.restrict(Instance.objects.all(), s.bob))
    assert bob == {"vm-a3.example.org", "vm-a4.example.org", "vm-a5.example.org", "vm-b0.example.org",
                   "vm-b1.example.org"}  # fmt: skip
    assert names(policy.restrict(Instance.objects.all(), s.carol)) == set()
    assert names(policy.restrict(Instance.objects.all(), AnonymousUser())) == set()


@pytest.mark.parametrize("who", ["helpdesk", "root"])
def test_helpdesk_and_admin_see_everything(s: Scenario, who: str) -> None:
    user = getattr(s, who)
    for model in (Instance, Cluster, Node, NodeGroup, Network, Job):
        assert policy.restrict(model.objects.all(), user).count() == model.objects.count() > 0


@pytest.mark.parametrize("action", [a for a in Action if a.is_write])
def test_helpdesk_is_read_only_beyond_what_it_owns(s: Scenario, action: Action) -> None:
    assert policy.restrict(Instance.objects.all(), s.helpdesk, action).count() == 0
    assert policy.restrict(Instance.objects.all(), s.root, action).count() == Instance.objects.count()


def test_owners_act_on_what_they_own_and_only_admins_migrate_lock_and_isolate(s: Scenario) -> None:
    for action in (Action.POWER, Action.REINSTALL, Action.DESTROY, Action.RENAME, Action.MODIFY,
                   Action.OWNERS, Action.CONSOLE):  # fmt: skip
        assert policy.restrict(Instance.objects.all(), s.alice, action).count() == 5
    for action in (Action.MIGRATE, Action.LOCK, Action.ISOLATE, Action.MANAGE_CLUSTER):
        assert policy.restrict(Instance.objects.all(), s.alice, action).count() == 0


def test_user_sees_the_clusters_and_jobs_of_their_instances_and_no_infrastructure(s: Scenario) -> None:
    assert names(policy.restrict(Cluster.objects.all(), s.alice)) == {"alpha.example.org", "beta.example.org"}
    assert names(policy.restrict(Cluster.objects.all(), s.carol)) == set()
    jobs = policy.restrict(Job.objects.all(), s.alice)
    assert set(jobs.values_list("job_id", flat=True)) == {101}  # requested by alice, on her vm-a0
    assert set(policy.restrict(Job.objects.all(), s.bob).values_list("job_id", flat=True)) == {7}
    for model in (Node, NodeGroup, Network):
        assert policy.restrict(model.objects.all(), s.alice).count() == 0


def test_get_object_is_404_for_what_one_may_not_see_and_403_for_what_one_may_not_change(s: Scenario) -> None:
    box = s["aai-box"]
    assert policy.get_object(Instance.objects.all(), s.alice, pk=box.pk) == box
    with pytest.raises(Http404):
        policy.get_object(Instance.objects.all(), s.carol, pk=box.pk)
    with pytest.raises(Http404):
        policy.get_object(Instance.objects.all(), s.alice, pk="not a number")
    reason = "Only its owners and administrators may start, shut down or reboot aai-box.grnet.gr."
    with pytest.raises(PermissionDenied, match=f"^{re.escape(reason)}$"):
        policy.get_object(Instance.objects.all(), s.helpdesk, Action.POWER, pk=box.pk)
    assert policy.get_object(Instance.objects.all(), s.alice, Action.POWER, pk=box.pk) == box
    with pytest.raises(
        PermissionDenied, match=r"^Only holders of the permission access\.migrate_instance and"
    ):
        policy.get_object(Instance.objects.all(), s.alice, Action.MIGRATE, pk=box.pk)
    with pytest.raises(Http404):
        policy.check(s.carol, Action.POWER, box)


def test_unknown_action_and_unknown_model(s: Scenario) -> None:
    from django.contrib.auth.models import User

    with pytest.raises(ValueError, match="unknown action"):
        policy.restrict(Instance.objects.all(), s.root, "delete")
    assert policy.restrict(User.objects.all(), s.alice).count() == 0  # closed until a rule is written
    assert policy.restrict(User.objects.all(), s.root).count() == User.objects.count()
    assert policy.restrict(User.objects.all(), s.helpdesk, Action.VIEW).count() == 0
    assert not policy.decide(s.helpdesk, Action.VIEW, s.alice).visible
    assert policy.decide(s.root, Action.MODIFY, s.alice).allowed


def test_actions_may_be_named_by_their_value(s: Scenario) -> None:
    assert policy.restrict(Instance.objects.all(), s.alice, "power").count() == 5
    assert policy.decide(s.alice, "power", s["aai-box"]).allowed

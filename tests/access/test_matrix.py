"""The authorization matrix on decide(): every role and named permission x every action x every condition.

The expected answers are written out here, from the rules as an operator reads them in the docs, not derived
from ``fleet.access.rules``.
"""

from __future__ import annotations

import pytest

from fleet.access import policy
from fleet.access.policy import Action
from fleet.inventory.models import Instance
from fleet.inventory.owners import sync_owners
from tests.access.world import CONDITIONS, World, build

pytestmark = pytest.mark.django_db

OWNER = frozenset({Action.VIEW, Action.POWER, Action.REINSTALL, Action.DESTROY, Action.RENAME,
                   Action.MODIFY, Action.OWNERS, Action.CONSOLE})  # fmt: skip
SEE = frozenset({Action.VIEW})
EVERYTHING = frozenset(Action)

ALLOWED = {
    "anonymous": frozenset(),
    "carol": frozenset(),
    "alice": OWNER,  # owns directly
    "bob": OWNER,  # owns through the group ops
    "helpdesk": SEE,
    "root": EVERYTHING,
    "bare": frozenset(),  # lock_instance without view_all: does not see what it does not own
    "console_any": SEE | {Action.CONSOLE},
    "lock_instance": SEE | {Action.LOCK},
    "isolate_instance": SEE | {Action.ISOLATE},
    "migrate_instance": SEE | {Action.MIGRATE},
    "cancel_job": SEE,
    "review_application": SEE,
    "mail_owners": SEE,
}
"""What each account may do to an instance with no condition on it."""

OPERATOR = {"root", "lock_instance", "isolate_instance", "migrate_instance"}
"""The accounts whose writes the lock and maintenance do not stop."""

WHO = sorted(ALLOWED)


def expected(who: str, action: Action, condition: str) -> tuple[bool, str]:
    """(allowed, the start of the reason) for ``who`` doing ``action`` on the instance named ``condition``."""
    if action not in ALLOWED[who]:
        return False, "No instance" if not ALLOWED[who] else "Only "
    if not action.is_write:
        return True, ""
    if condition == "dark":
        return False, "Fleet does not contact cluster dark.example.org: it is marked offline."
    if who in OPERATOR:
        return True, ""
    if condition == "locked":
        return False, "locked.example.org is locked by an administrator."
    if condition == "maint":
        return False, "Node group rack2 of cluster main.example.org is under maintenance."
    return True, ""  # plain, and dry: a drained cluster takes no new instances but runs its own as usual


@pytest.fixture
def world() -> World:
    return build()


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("who", WHO)
def test_instance_actions(world: World, who: str, condition: str) -> None:
    user = world.accounts[who]
    instance = world.instances[condition]
    for action in Action:
        allowed, reason = expected(who, action, condition)
        decision = policy.decide(user, action, instance)
        assert decision.allowed is allowed, (who, action, condition, decision)
        assert decision.reason.startswith(reason), (who, action, condition, decision)
        assert decision.visible is bool(ALLOWED[who]), (who, action, condition)


CANCEL = {
    # job: the accounts that may cancel it
    "queued": {"alice", "bob", "cancel_job", "root"},
    "running": {"cancel_job", "root"},  # owners only while it is queued or waiting
    "queued-locked": {"cancel_job", "root"},
    "queued-maint": {"cancel_job", "root"},
    "queued-dark": set(),
    "asked": {"alice", "bob", "cancel_job", "root"},  # carol asked for it, but does not own the instance
}
SEES_JOBS = {"alice", "bob", "helpdesk", "root", *(w for w in WHO if w.endswith(("_any", "_instance",
                                                                                  "_job", "_application",
                                                                                  "_owners")))}  # fmt: skip


@pytest.mark.parametrize("job", sorted(CANCEL))
def test_jobs(world: World, job: str) -> None:
    for who in WHO:
        user = world.accounts[who]
        sees = who in SEES_JOBS or (who == "carol" and job == "asked")
        assert policy.decide(user, Action.VIEW, world.jobs[job]).allowed is sees, who
        decision = policy.decide(user, Action.CANCEL_JOB, world.jobs[job])
        assert decision.allowed is (who in CANCEL[job]), (who, decision)
        assert decision.visible is sees
    running = policy.decide(world.accounts["alice"], Action.CANCEL_JOB, world.jobs["running"])
    assert running.reason == (
        "Job 2 on main.example.org has started: its owners may cancel it only while it is queued or waiting."
    )
    dark = policy.decide(world.accounts["root"], Action.CANCEL_JOB, world.jobs["queued-dark"])
    assert dark.reason == "Fleet does not contact cluster dark.example.org: it is marked offline."
    carol = policy.decide(world.accounts["carol"], Action.CANCEL_JOB, world.jobs["asked"])
    assert carol.reason == (
        "Only its owners, holders of the permission access.cancel_job and administrators may cancel "
        "job 6 on main.example.org."
    )


SEES_OPERATION = {
    "by-root": {"alice", "bob"},  # on the instance they own
    "by-carol": {"alice", "bob", "carol"},  # and the one who asked
    "gone": set(),  # on no instance anyone owns now
}


@pytest.mark.parametrize("operation", sorted(SEES_OPERATION))
def test_operations_are_seen_by_who_asked_and_the_owners(world: World, operation: str) -> None:
    staff = SEES_JOBS - {"alice", "bob"}
    for who in WHO:
        decision = policy.decide(world.accounts[who], Action.VIEW, world.operations[operation])
        assert decision.allowed is (who in SEES_OPERATION[operation] | staff), who


@pytest.mark.parametrize("who", WHO)
def test_clusters_and_infrastructure(world: World, who: str) -> None:
    user = world.accounts[who]
    staff = who in SEES_JOBS - {"alice", "bob"}
    for name, cluster in world.clusters.items():
        assert policy.decide(user, Action.VIEW, cluster).allowed is (staff or who in ("alice", "bob"))
        manage = policy.decide(user, Action.MANAGE_CLUSTER, cluster)
        assert manage.allowed is (who == "root" and name != "dark"), (who, name, manage)
    for obj in (*world.groups.values(), *world.nodes.values(), *world.networks.values()):
        assert policy.decide(user, Action.VIEW, obj).allowed is staff, (who, obj)
        manage = policy.decide(user, Action.MANAGE_CLUSTER, obj)
        assert manage.allowed is (who == "root" and obj.cluster.name != "dark.example.org"), (who, obj)
        assert manage.visible is staff


def test_a_named_permission_alone_acts_on_what_its_holder_sees(world: World) -> None:
    bare = world.accounts["bare"]
    assert not policy.decide(bare, Action.LOCK, world.instances["plain"]).visible
    plain = world.instances["plain"]
    plain.tags = [*plain.tags, "fleet:user:bare"]
    plain.save()
    sync_owners(Instance.objects.filter(pk=plain.pk))
    assert policy.decide(bare, Action.LOCK, plain).allowed
    assert policy.decide(bare, Action.POWER, plain).allowed


def test_named_permissions_without_an_object(world: World) -> None:
    for named in policy.Permission:
        holders = {who for who in WHO if policy.has_permission(world.accounts[who], named)}
        expected_holders = {"root", named.codename} | (
            {"bare"} if named.codename == "lock_instance" else set()
        )
        if named is policy.Permission.VIEW_ALL:
            expected_holders = {"root", "helpdesk", *(w for w in SEES_JOBS if w not in ("alice", "bob"))}
        assert holders == expected_holders, named

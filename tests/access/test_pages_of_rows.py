"""restrict() and actions_for() answer what decide() answers, row by row; actions_for() costs one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from fleet.access import policy
from fleet.access.policy import Action
from fleet.access.rules import actions_of
from fleet.inventory.models import Cluster, Instance, Network, Node, NodeGroup
from fleet.inventory.owners import sync_owners
from fleet.jobs.models import Job
from fleet.operations.models import Operation
from tests.access.world import World, build
from tests.inventory import factories

pytestmark = pytest.mark.django_db

MODELS = (Instance, Job, Operation, Cluster, NodeGroup, Node, Network, User)


@pytest.fixture
def world() -> World:
    return build()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_restrict_gives_the_rows_decide_allows(world: World, model: type) -> None:
    rows = list(model.objects.all())
    assert rows
    # The actions with a rule on the model, and one without (which every such action follows: admins only).
    actions = {*actions_of(model), Action.MIGRATE if model is not Instance else Action.CANCEL_JOB}
    for who, user in world.accounts.items():
        for action in sorted(actions):
            allowed = {row.pk for row in rows if policy.decide(user, action, row).allowed}
            restricted = set(policy.restrict(model.objects.all(), user, action).values_list("pk", flat=True))
            assert restricted == allowed, (who, action, model.__name__)


def test_restrict_for_view_is_the_query_it_always_was(world: World) -> None:
    """The list's query plan depends on it: an owner's instances are one IN over the ownership index."""
    alice = world.accounts["alice"]
    sql = str(policy.restrict(Instance.objects.all(), alice).query)
    assert sql == str(Instance.objects.filter(pk__in=Instance.objects.owned_by(alice).values("pk")).query)
    for who in ("helpdesk", "root"):
        sql = str(policy.restrict(Instance.objects.all(), world.accounts[who]).query)
        assert sql == str(Instance.objects.all().query)


def test_actions_for_answers_as_decide_does(world: World) -> None:
    rows = list(Instance.objects.values("pk", "name"))
    for who, user in world.accounts.items():
        answers = policy.actions_for(user, rows)
        for row in rows:
            instance = Instance.objects.get(pk=row["pk"])
            expected = {a for a in actions_of(Instance) if policy.decide(user, a, instance).allowed}
            assert answers[row["pk"]] == expected, (who, row["name"])


@pytest.mark.parametrize("size", [5, 50])
def test_actions_for_a_page_is_one_query(world: World, django_assert_num_queries, size: int) -> None:
    main = world.clusters["main"]
    tags = ["fleet:group:ops"]
    for n in range(size):
        extra = ["fleet:adminlock"] if n % 3 == 0 else []
        factories.instance(
            main,
            f"page{n:02}.example.org",
            tags=[*tags, *extra],
            primary_node=world.nodes["n2" if n % 5 == 0 else "n1"],
        )
    sync_owners(Instance.objects.all())
    page = list(Instance.objects.filter(name__startswith="page").values("pk", "name", "tags"))
    assert len(page) == size
    bob = User.objects.get(username="bob")
    policy.role_of(bob)  # the page has read the account's permissions already, for its menu
    with django_assert_num_queries(1):
        answers = policy.actions_for(bob, page)
    plain = [row for n, row in enumerate(page) if n % 3 and n % 5]
    assert all(answers[row["pk"]] == {a for a in actions_of(Instance) if a in
               {Action.VIEW, Action.POWER, Action.REINSTALL, Action.DESTROY, Action.RENAME, Action.MODIFY,
                Action.OWNERS, Action.CONSOLE}} for row in plain)  # fmt: skip
    assert all(answers[row["pk"]] == {Action.VIEW} for n, row in enumerate(page) if n % 3 == 0 or n % 5 == 0)
    root = User.objects.get(username="root")
    with django_assert_num_queries(1):
        assert all(
            len(actions) == len(actions_of(Instance)) for actions in policy.actions_for(root, page).values()
        )


def test_actions_for_rows_that_vanished_or_one_may_not_see(world: World, django_assert_num_queries) -> None:
    carol = world.accounts["carol"]
    rows = [{"pk": world.instances["plain"].pk}, {"pk": 10**9}]
    assert policy.actions_for(carol, rows) == {world.instances["plain"].pk: frozenset(), 10**9: frozenset()}
    with django_assert_num_queries(0):
        assert policy.actions_for(world.accounts["anonymous"], rows) == {r["pk"]: frozenset() for r in rows}
        assert policy.actions_for(carol, []) == {}

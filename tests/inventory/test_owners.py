"""Owners come from the tags; 'instances of user X, directly or through a group' is one exact query."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import override_settings

from fleet.inventory.models import Instance
from fleet.inventory.owners import sync_owners
from tests.inventory import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> dict[str, object]:
    users = {name: User.objects.create_user(name) for name in ("alice", "bob", "carol", "dave")}
    ops = Group.objects.create(name="ops")
    web = Group.objects.create(name="web")
    users["bob"].groups.add(ops)
    users["carol"].groups.add(web)
    cluster = factories.cluster()
    vms = {
        "alice-only": ["fleet:user:alice"],
        "ops-only": ["fleet:group:ops"],
        "alice-and-ops": ["fleet:user:alice", "fleet:group:ops"],
        "bob-twice": ["fleet:user:bob", "fleet:group:ops"],  # bob directly and through ops
        "nobody": [],
        "ghost": ["fleet:user:ghost", "fleet:group:phantoms"],
        "foreign": ["ganetimgr:user:alice", "fleet:users:alice", "fleet:adminlock"],
        "broken": ["fleet:user:", "fleet:user:carol"],
    }
    instances = {name: factories.instance(cluster, f"{name}.example.org", tags) for name, tags in vms.items()}
    return {"users": users, "groups": {"ops": ops, "web": web}, "instances": instances, "cluster": cluster}


def _names(queryset: object) -> set[str]:
    return {instance.name.removesuffix(".example.org") for instance in queryset}  # type: ignore[attr-defined]


def test_owned_by_returns_exact_sets(world: dict[str, object]) -> None:
    sync_owners(Instance.objects.all())
    users = world["users"]
    assert _names(Instance.objects.owned_by(users["alice"])) == {"alice-only", "alice-and-ops"}
    assert _names(Instance.objects.owned_by(users["bob"])) == {"ops-only", "alice-and-ops", "bob-twice"}
    assert _names(Instance.objects.owned_by(users["carol"])) == {"broken"}
    assert _names(Instance.objects.owned_by(users["dave"])) == set()


def test_an_owner_through_two_paths_is_listed_once(world: dict[str, object]) -> None:
    sync_owners(Instance.objects.all())
    assert Instance.objects.owned_by(world["users"]["bob"]).count() == 3


def test_owned_by_is_one_query(world: dict[str, object], django_assert_num_queries) -> None:
    sync_owners(Instance.objects.all())
    with django_assert_num_queries(1):
        list(Instance.objects.owned_by(world["users"]["bob"]).order_by("name")[:50])


def test_group_membership_counts_without_a_resync(world: dict[str, object]) -> None:
    sync_owners(Instance.objects.all())
    dave = world["users"]["dave"]
    dave.groups.add(world["groups"]["ops"])
    assert _names(Instance.objects.owned_by(dave)) == {"ops-only", "alice-and-ops", "bob-twice"}


def test_the_report_names_what_fleet_does_not_know(world: dict[str, object]) -> None:
    report = sync_owners(Instance.objects.all())
    assert report.unknown_users == {"ghost"}
    assert report.unknown_groups == {"phantoms"}
    assert report.malformed_tags == (("broken.example.org", "fleet:user:"),)
    assert report.added == 9  # alice x2, bob, carol, ghost; ops x3, phantoms
    assert report.removed == 0


def test_a_second_sync_changes_nothing(world: dict[str, object]) -> None:
    sync_owners(Instance.objects.all())
    report = sync_owners(Instance.objects.all())
    assert (report.added, report.removed) == (0, 0)


def test_removing_a_tag_removes_the_ownership(world: dict[str, object]) -> None:
    sync_owners(Instance.objects.all())
    instance = world["instances"]["alice-and-ops"]
    instance.tags = ["fleet:group:ops"]
    instance.save()
    report = sync_owners([instance])
    assert (report.added, report.removed) == (0, 1)
    assert _names(Instance.objects.owned_by(world["users"]["alice"])) == {"alice-only"}
    assert "alice-and-ops" in _names(Instance.objects.owned_by(world["users"]["bob"]))


def test_a_sync_of_some_instances_leaves_the_others_alone(world: dict[str, object]) -> None:
    sync_owners(Instance.objects.all())
    sync_owners([world["instances"]["nobody"]])
    assert _names(Instance.objects.owned_by(world["users"]["alice"])) == {"alice-only", "alice-and-ops"}


def test_the_prefix_setting_decides_which_tags_count(world: dict[str, object]) -> None:
    with override_settings(FLEET_TAG_PREFIX="ganetimgr"):
        sync_owners(Instance.objects.all())
    assert _names(Instance.objects.owned_by(world["users"]["alice"])) == {"foreign"}


def test_a_tag_shared_by_many_instances_counts_for_each(world: dict[str, object]) -> None:
    cluster = world["cluster"]
    twins = [
        factories.instance(cluster, f"twin{i}.example.org", ["fleet:user:", "fleet:user:dave"])
        for i in (1, 2)
    ]  # type: ignore[arg-type]
    report = sync_owners(twins)
    assert report.malformed_tags == (
        ("twin1.example.org", "fleet:user:"),
        ("twin2.example.org", "fleet:user:"),
    )
    assert _names(Instance.objects.owned_by(world["users"]["dave"])) == {"twin1", "twin2"}  # type: ignore[index]

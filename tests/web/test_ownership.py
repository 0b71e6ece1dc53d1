"""Ownership follows the names in the tags, whenever the account appears: through the pages and the API.

Accounts made after the sync, renamed or removed, group membership changed, names that differ by case or
hold odd characters, malformed tags; and the same through the worker syncing a simulated cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from fleet.inventory.models import Cluster, Instance
from fleet.inventory.owners import sync_owners
from fleet.rapi import Credentials, Pin, RapiClient, instances
from tests.conftest import Simulated
from tests.inventory import factories
from tests.sync.conftest import register, run_once
from tests.tokens import new_key

ROW = re.compile(r'<td><a href="/instances/[^"]+/">(?!Details<)([^<]+)</a></td>')

TAGS = {
    "erin-1": ["fleet:user:erin"],
    "erin-2": ["fleet:user:erin", "fleet:group:later-team"],
    "team": ["fleet:group:later-team"],
    "ops": ["fleet:group:ops"],
    "upper": ["fleet:user:Erin"],  # another user: names are case-sensitive
    "odd": ["fleet:user:j.doe+vm@example.org", "fleet:user:a_c"],
    "star": ["fleet:user:*"],
    "broken": ["fleet:user:", "fleet:group:", "fleet:user:erin"],
    "nobody": ["fleet:users:erin", "fleet:adminlock"],
}


@pytest.fixture
def synced(db: None) -> Cluster:
    """Instances tagged for accounts and groups that mostly do not exist yet, synced before any of them."""
    Group.objects.create(name="ops")
    cluster = factories.cluster("c.example.org")
    for name, tags in TAGS.items():
        factories.instance(cluster, f"{name}.example.org", tags)
    report = sync_owners(Instance.objects.all())
    assert report.unknown_users == {"erin", "Erin", "j.doe+vm@example.org", "a_c", "*"}
    assert report.unknown_groups == {"later-team"}
    assert report.malformed_tags == (
        ("broken.example.org", "fleet:user:"),
        ("broken.example.org", "fleet:group:"),
    )
    return cluster


def page_names(user: User) -> set[str]:
    client = Client()
    client.force_login(user)
    response = client.get("/?page_size=100")
    assert response.status_code == 200
    return {name.removesuffix(".example.org") for name in ROW.findall(response.content.decode())}


def api_names(user: User) -> set[str]:
    key = new_key(user)
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/instances/?page_size=100")
    assert response.status_code == 200
    return {row["name"].removesuffix(".example.org") for row in response.json()["results"]}


def sees(user: User) -> set[str]:
    """What ``user`` sees, the same on the list page and in the API (asserted)."""
    on_page, in_api = page_names(user), api_names(user)
    assert on_page == in_api
    return on_page


def detail(user: User, name: str) -> int:
    client = Client()
    client.force_login(user)
    return client.get(f"/instances/c.example.org/{name}.example.org/").status_code


def test_an_account_made_after_the_sync_owns_its_instances_at_once(synced: Cluster) -> None:
    erin = User.objects.create_user("erin")
    assert sees(erin) == {"erin-1", "erin-2", "broken"}
    assert detail(erin, "erin-1") == 200
    assert detail(erin, "upper") == 404


def test_a_group_made_after_the_sync_gives_its_members_its_instances(synced: Cluster) -> None:
    frank = User.objects.create_user("frank")
    assert sees(frank) == set()
    frank.groups.add(Group.objects.create(name="later-team"))
    assert sees(frank) == {"erin-2", "team"}


def test_a_change_of_group_membership_counts_at_the_next_request(synced: Cluster) -> None:
    frank = User.objects.create_user("frank")
    ops = Group.objects.get(name="ops")
    frank.groups.add(ops)
    assert sees(frank) == {"ops"}
    assert detail(frank, "ops") == 200
    frank.groups.remove(ops)
    assert sees(frank) == set()
    assert detail(frank, "ops") == 404


def test_a_renamed_account_owns_what_the_tags_name_under_its_new_name(synced: Cluster) -> None:
    user = User.objects.create_user("erin")
    client = Client()
    client.force_login(user)
    user.username = "Erin"
    user.save()
    # the same session and token, a new name
    assert {n.removesuffix(".example.org") for n in ROW.findall(client.get("/").content.decode())} == {
        "upper"
    }
    assert sees(user) == {"upper"}
    assert sees(User.objects.create_user("erin")) == {"erin-1", "erin-2", "broken"}


def test_a_removed_account_keeps_nothing(synced: Cluster) -> None:
    erin = User.objects.create_user("erin")
    key = new_key(erin)
    client = Client()
    client.force_login(erin)
    erin.delete()
    assert Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/instances/").status_code == 401
    assert client.get("/").status_code == 302  # to the login page
    root = User.objects.create_superuser("root")
    owners = api_owners(root)
    assert owners["erin-1"] == {
        "users": ["erin"],
        "groups": [],
    }  # what the tag says, for whoever is erin next


def test_names_match_exactly_whatever_their_characters(synced: Cluster) -> None:
    assert sees(User.objects.create_user("Erin")) == {"upper"}
    assert sees(User.objects.create_user("ERIN")) == set()
    assert sees(User.objects.create_user("j.doe+vm@example.org")) == {"odd"}
    assert sees(User.objects.create_user("a_c")) == {"odd"}
    assert sees(User.objects.create_user("abc")) == set()  # "_" is no wildcard
    assert sees(User.objects.create_user("*")) == {"star"}
    assert sees(User.objects.create_user("j.doe")) == set()


def test_malformed_tags_grant_nothing_and_the_others_still_count(synced: Cluster) -> None:
    assert "broken" in sees(User.objects.create_user("erin"))
    root = User.objects.create_superuser("root")
    assert api_owners(root)["broken"] == {"users": ["erin"], "groups": []}
    assert api_owners(root)["nobody"] == {"users": [], "groups": []}


def api_owners(user: User) -> dict[str, dict[str, list[str]]]:
    key = new_key(user)
    response = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/instances/?page_size=100")
    return {row["name"].removesuffix(".example.org"): row["owners"] for row in response.json()["results"]}


def test_the_list_and_the_owner_filters_read_the_names(synced: Cluster) -> None:
    root = User.objects.create_superuser("root")
    client = Client()
    client.force_login(root)
    body = client.get("/?q=erin-2").content.decode()
    assert '<a href="?owner=erin">erin</a> <a href="?owner=later-team" class="group">later-team</a>' in body
    for query, expected in [
        ("owner=erin", {"erin-1", "erin-2", "broken"}),
        ("owner=Erin", {"upper"}),
        ("owner=later-team", {"erin-2", "team"}),
        ("owner__ic=ERIN", {"erin-1", "erin-2", "broken", "upper"}),
        ("owner__ic=a_c", {"odd"}),
        ("q=later-te", {"erin-2", "team"}),
    ]:
        on_page = {
            n.removesuffix(".example.org") for n in ROW.findall(client.get(f"/?{query}").content.decode())
        }
        assert on_page == expected, query
        key = new_key(root)
        api = Client(HTTP_AUTHORIZATION=f"Token {key}").get(f"/api/instances/?{query}").json()
        assert {row["name"].removesuffix(".example.org") for row in api["results"]} == expected, query


@pytest.mark.django_db(transaction=True)
def test_through_the_worker_an_account_made_after_the_first_sync_owns_its_instances(
    fresh_simulator: Callable[..., Simulated],
) -> None:
    sim = fresh_simulator()
    target = sim.targets[0]
    register(target)
    run_once()
    tagged = Instance.objects.filter(cluster__name=target.name).exclude(tags=[])
    owner = next(tag.split(":")[2] for i in tagged for tag in i.tags if tag.startswith("fleet:user:"))
    expected = {i.name for i in tagged if f"fleet:user:{owner}" in i.tags}
    assert expected
    account = User.objects.create_user(owner)
    key = new_key(account)
    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    assert {row["name"] for row in api.get("/api/instances/?page_size=100").json()["results"]} == expected

    # A tag added in Ganeti, and a malformed one beside it: the next pass gives the instance, and goes on.
    other = Instance.objects.filter(cluster__name=target.name).exclude(name__in=expected).first()
    assert other is not None
    with RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    ) as rapi:
        rapi.wait_for_job(rapi.call(instances.add_tags(other.name, [f"fleet:user:{owner}", "fleet:user:"])))
    loops = run_once()
    assert all(loop.last_outcome is not None and loop.last_outcome.ok for loop in loops.values())
    results = api.get("/api/instances/?page_size=100").json()["results"]
    assert {row["name"] for row in results} == expected | {other.name}

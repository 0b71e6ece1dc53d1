"""The co-owner picker over HTTP: an owner gets names beginning with what they typed, never an e-mail
address; admins see the addresses; someone who may not change the instance's owners gets its 404 or 403;
the query is a prefix, and the answer bounded."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db

NAMES = "/instances/alpha.example.org/vm-a0.example.org/owner-names/"


def options(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [line.split('"', 2)[1] for line in response.content.decode().splitlines() if line.strip()]


def test_an_owner_gets_names_and_no_email(scenario: Scenario, login: Any) -> None:
    User.objects.create_user("carla", "carla@private.example", "pw", first_name="Carla", last_name="Secret")
    User.objects.create_user("carl-gone", "gone@private.example", "pw", is_active=False)
    response = login("alice").get(NAMES, {"kind": "user", "name": "car"})
    assert options(response) == ["carla", "carol"]
    text = response.content.decode()
    assert "@" not in text and "Secret" not in text and "Carla" not in text
    page = login("alice").get("/instances/alpha.example.org/vm-a0.example.org/").content.decode()
    assert 'list="owner-names"' in page and f'hx-get="{NAMES}"' in page


def test_admins_see_the_addresses(scenario: Scenario, login: Any) -> None:
    text = login("root").get(NAMES, {"kind": "user", "name": "car"}).content.decode()
    assert '<option value="carol">carol@example.org</option>' in text


def test_groups_are_suggested_by_name(scenario: Scenario, login: Any) -> None:
    Group.objects.create(name="operators")
    assert options(login("alice").get(NAMES, {"kind": "group", "name": "op"})) == ["operators", "ops"]


def test_who_may_not_change_the_owners_gets_nothing(scenario: Scenario, login: Any) -> None:
    assert login("carol").get(NAMES, {"name": "a"}).status_code == 404
    assert login("helpdesk").get(NAMES, {"name": "a"}).status_code == 403
    assert login("alice").get(NAMES.replace("vm-a0", "vm-a9"), {"name": "a"}).status_code == 404
    assert Client().get(NAMES, {"name": "a"}).status_code == 302  # to the login page


def test_the_query_is_a_bounded_prefix(scenario: Scenario, login: Any) -> None:
    User.objects.bulk_create([User(username=f"user{n:02}") for n in range(30)])
    client = login("alice")
    assert len(options(client.get(NAMES, {"name": "user"}))) == 20
    assert options(client.get(NAMES, {"name": "user2"})) == [f"user2{n}" for n in range(10)]
    assert options(client.get(NAMES, {"name": "ser"})) == []  # a prefix, not a substring
    assert options(client.get(NAMES, {"name": ""})) == []  # no prefix, no list
    assert options(client.get(NAMES, {"name": "%"})) == []
    assert options(client.get(NAMES, {"name": "u" * 500})) == []
    assert options(client.get(NAMES, {"name": "a\x00b"})) == []


def test_a_suggestion_costs_a_fixed_number_of_queries(
    scenario: Scenario, login: Any, django_assert_num_queries: Any
) -> None:
    User.objects.bulk_create([User(username=f"user{n:03}") for n in range(300)])
    client = login("alice")
    client.get(NAMES, {"name": "user"})  # the session's first read
    # the session and its account, the account's permissions (two), the instance, its facts, the names
    with django_assert_num_queries(6):
        assert len(options(client.get(NAMES, {"name": "user"}))) == 20

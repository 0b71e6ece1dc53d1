"""The API token page: a user makes, replaces and revokes the key the REST API accepts."""

from __future__ import annotations

import re

from django.test import Client
from rest_framework.authtoken.models import Token

from tests.inventory.scenario import Scenario

KEY = re.compile(r'<pre class="token-key">([0-9a-f]{40})</pre>')


def api_status(key: str) -> int:
    return Client().get("/api/instances/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def make_key(client: Client, action: str = "create") -> str:
    answer = client.post("/account/token/", {"action": action})
    assert answer.status_code == 302 and answer["Location"] == "/account/token/"
    page = client.get("/account/token/").content.decode()
    (key,) = KEY.findall(page)
    return key


def test_a_new_key_is_shown_once_and_works(login, scenario: Scenario) -> None:
    client = login("alice")
    assert "You have no key." in client.get("/account/token/").content.decode()
    key = make_key(client)
    assert api_status(key) == 200
    again = client.get("/account/token/").content.decode()
    assert key not in again and f"starting with <code>{key[:6]}…</code>" in again


def test_the_key_sees_what_its_owner_sees(login, scenario: Scenario) -> None:
    key = make_key(login("alice"))
    answer = Client().get("/api/instances/", HTTP_AUTHORIZATION=f"Token {key}")
    names = {row["name"] for row in answer.json()["results"]}
    assert names and names == {row["name"] for row in login("alice").get("/api/instances/").json()["results"]}


def test_replacing_a_key_voids_the_old_one_and_revoking_voids_all(login, scenario: Scenario) -> None:
    client = login("alice")
    old = make_key(client)
    new = make_key(client)
    assert old != new and api_status(old) == 401 and api_status(new) == 200
    assert client.post("/account/token/", {"action": "revoke"}).status_code == 302
    assert api_status(new) == 401 and not Token.objects.filter(user=scenario.alice).exists()
    assert "You have no key." in client.get("/account/token/").content.decode()


def test_an_unknown_action_changes_nothing(login, scenario: Scenario) -> None:
    client = login("alice")
    key = make_key(client)
    answer = client.post("/account/token/", {"action": "drop-table"})
    assert answer.status_code == 400 and "Unknown action" in answer.content.decode()
    assert api_status(key) == 200


def test_each_user_has_a_key_of_their_own(login, scenario: Scenario) -> None:
    alice, root = make_key(login("alice")), make_key(login("root"))
    assert alice != root and api_status(alice) == 200 and api_status(root) == 200
    assert Token.objects.get(key=alice).user == scenario.alice


def test_anonymous_callers_are_sent_to_log_in(db: None) -> None:
    answer = Client().post("/account/token/", {"action": "create"})
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    assert not Token.objects.exists()


def test_the_page_is_csrf_protected(login, scenario: Scenario) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(scenario.alice)
    assert client.post("/account/token/", {"action": "create"}).status_code == 403
    assert not Token.objects.filter(user=scenario.alice).exists()

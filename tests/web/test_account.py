"""The API tokens page: a user lists, makes (name, scope, lifetime) and revokes their tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from fleet.tokens.models import ApiToken
from tests.inventory.scenario import Scenario
from tests.tokens import new_key

PAGE = "/account/tokens/"
KEY = re.compile(r'<pre class="token-key">(fleet_[0-9a-f]{10}_[A-Za-z0-9_-]{43})</pre>')


def api_status(key: str) -> int:
    return Client().get("/api/clusters/", HTTP_AUTHORIZATION=f"Token {key}").status_code


def make_key(client: Client, name: str = "backup script", scope: str = "read", expires: str = "30d") -> str:
    answer = client.post(PAGE, {"action": "create", "name": name, "scope": scope, "expires": expires})
    assert answer.status_code == 302 and answer["Location"] == PAGE, answer.content.decode()[:2000]
    (key,) = KEY.findall(client.get(PAGE).content.decode())
    return key


def test_a_new_key_is_shown_once_works_and_is_stored_only_hashed(login, scenario: Scenario) -> None:
    client = login("alice")
    assert "You have no tokens." in client.get(PAGE).content.decode()
    before = timezone.now()
    key = make_key(client, name="nightly report", expires="7d")
    assert api_status(key) == 200
    again = client.get(PAGE).content.decode()
    assert key not in again
    token = ApiToken.objects.get(user=scenario.alice)
    assert f"<code>{token.shown_id}…</code>" in again and key.startswith(token.shown_id + "_")
    assert "<td>nightly report</td>" in again and "<td>read</td>" in again
    assert timedelta(days=7) <= token.expires_at - before <= timedelta(days=7, minutes=1)
    stored = [str(v) for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields]).get()]
    assert not any(key.split("_", 2)[2] in value for value in stored)  # the secret is nowhere, only its hash


def test_a_user_has_several_tokens_and_revokes_one(login, scenario: Scenario) -> None:
    client = login("alice")
    backup = make_key(client, name="backup")
    deploy = make_key(client, name="deploy", scope="write")
    assert backup != deploy and api_status(backup) == 200 and api_status(deploy) == 200
    page = client.get(PAGE).content.decode()
    assert "<td>backup</td>" in page and "<td>deploy</td>" in page and "<td>read and write</td>" in page
    token_id = ApiToken.objects.get(name="backup").token_id
    assert client.post(PAGE, {"action": "revoke", "token": token_id}).status_code == 302
    refused = Client().get("/api/clusters/", HTTP_AUTHORIZATION=f"Token {backup}")
    assert refused.status_code == 401 and "was revoked" in refused.json()["detail"]
    assert api_status(deploy) == 200
    page = client.get(PAGE).content.decode()
    assert "<td>backup</td>" not in page and "<td>deploy</td>" in page


def test_an_expired_token_is_marked_and_can_be_revoked(login, scenario: Scenario) -> None:
    client = login("alice")
    key = make_key(client, name="old")
    ApiToken.objects.filter(user=scenario.alice).update(expires_at=timezone.now() - timedelta(seconds=1))
    page = client.get(PAGE).content.decode()
    assert '<tr class="expired">' in page and "<strong>expired</strong>" in page
    assert api_status(key) == 401
    token_id = ApiToken.objects.get().token_id
    assert client.post(PAGE, {"action": "revoke", "token": token_id}).status_code == 302
    assert "You have no tokens." in client.get(PAGE).content.decode()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": "  "}, "name", "This field is required."),
        ({"name": "x" * 101}, "name", "at most 100 characters"),
        ({"scope": "admin"}, "scope", "Select a valid choice."),
        ({"expires": "never"}, "expires", "Select a valid choice."),
        ({"expires": "365d"}, "expires", "Select a valid choice."),
        ({"expires": "-1d"}, "expires", "Select a valid choice."),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_makes_nothing(
    login, scenario: Scenario, fields: dict[str, str], field: str, message: str
) -> None:
    client = login("alice")
    data = {"action": "create", "name": "ok", "scope": "read", "expires": "30d"} | fields
    answer = client.post(PAGE, data)
    body = answer.content.decode()
    assert answer.status_code == 400 and message in body
    assert re.search(rf'id="id_{field}"|name="{field}"', body)
    assert not ApiToken.objects.exists()


def test_the_operator_sets_the_longest_lifetime_and_whether_never_is_allowed(
    login, scenario: Scenario, settings
) -> None:
    client = login("alice")
    page = client.get(PAGE).content.decode()
    assert 'value="90d"' in page and 'value="180d"' not in page and 'value="never"' not in page
    settings.FLEET_API_TOKEN_MAX_DAYS = 400
    settings.FLEET_API_TOKEN_ALLOW_NO_EXPIRY = True
    page = client.get(PAGE).content.decode()
    assert 'value="365d"' in page and 'value="400d"' in page and 'value="never"' in page
    key = make_key(client, name="forever", expires="never")
    assert ApiToken.objects.get().expires_at is None and api_status(key) == 200
    assert "<td>never</td>" in client.get(PAGE).content.decode()


def test_nobody_revokes_anothers_token(login, scenario: Scenario) -> None:
    bobs = new_key(scenario.bob)
    token_id = ApiToken.objects.get(user=scenario.bob).token_id
    answer = login("alice").post(PAGE, {"action": "revoke", "token": token_id})
    assert answer.status_code == 404 and "No such token of yours." in answer.content.decode()
    assert api_status(bobs) == 200 and ApiToken.objects.get().revoked_at is None


def test_each_user_sees_only_their_tokens(login, scenario: Scenario) -> None:
    make_key(login("bob"), name="bobs secret project")
    page = login("alice").get(PAGE).content.decode()
    assert "bobs secret project" not in page and "You have no tokens." in page


def test_names_are_escaped(login, scenario: Scenario) -> None:
    client = login("alice")
    make_key(client, name="<script>alert(1)</script>")
    page = client.get(PAGE).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_unknown_action_changes_nothing(login, scenario: Scenario) -> None:
    client = login("alice")
    key = make_key(client)
    answer = client.post(PAGE, {"action": "drop-table"})
    assert answer.status_code == 400 and "Unknown action" in answer.content.decode()
    assert api_status(key) == 200 and ApiToken.objects.count() == 1


def test_anonymous_callers_are_sent_to_log_in(db: None) -> None:
    answer = Client().post(PAGE, {"action": "create", "name": "x", "scope": "read", "expires": "30d"})
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    assert not ApiToken.objects.exists()


def test_the_page_is_csrf_protected(login, scenario: Scenario) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(scenario.alice)
    answer = client.post(PAGE, {"action": "create", "name": "x", "scope": "read", "expires": "30d"})
    assert answer.status_code == 403 and not ApiToken.objects.exists()


def test_the_old_address_leads_to_the_page(login, scenario: Scenario) -> None:
    answer = login("alice").get("/account/token/")
    assert answer.status_code == 301 and answer["Location"] == PAGE

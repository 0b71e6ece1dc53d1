"""`fleet token`: an operator makes a token for an account (the key printed once works on the API), lists
and revokes tokens; bad input is one clear line and makes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from fleet.cli.main import cli
from fleet.tokens.models import ApiToken

pytestmark = pytest.mark.django_db


def fleet(*args: str) -> Result:
    return CliRunner().invoke(cli, ["token", *args])


@pytest.fixture
def bob(db: None) -> User:
    return User.objects.create_user("bob")


def test_create_prints_a_working_key_once(bob: User) -> None:
    made = fleet("create", "--user", "bob", "--scope", "write", "--expires", "30d", "--name", "deploy")
    assert made.exit_code == 0, made.output
    key = made.stdout.strip()
    assert key.startswith("fleet_") and "\n" not in key
    assert "read and write" in made.stderr and "for bob" in made.stderr and key not in made.stderr
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.scope) == (bob, "deploy", "write")
    assert timedelta(days=29, hours=23) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert Client(HTTP_AUTHORIZATION=f"Bearer {key}").get("/api/clusters/").status_code == 200
    listed = json.loads(fleet("list", "--json").stdout)
    assert [(t["user"], t["name"], t["scope"]) for t in listed] == [("bob", "deploy", "write")]
    assert key not in fleet("list").stdout and token.token_id in fleet("list").stdout


def test_revoke_stops_the_key_at_once(bob: User) -> None:
    key = fleet("create", "--user", "bob", "--name", "ci").stdout.strip()
    token_id = ApiToken.objects.get().token_id
    revoked = fleet("revoke", token_id)
    assert revoked.exit_code == 0 and f"Revoked fleet_{token_id} (ci) of bob." in revoked.stdout
    answer = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/clusters/")
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    again = fleet("revoke", f"fleet_{token_id}")
    assert again.exit_code == 1 and "revoked already" in again.stderr
    assert json.loads(fleet("list", "--json").stdout) == []
    assert [t["id"] for t in json.loads(fleet("list", "--all", "--json").stdout)] == [token_id]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--user", "nobody", "--name", "x"], "no account named 'nobody'"),
        (["--user", "bob", "--name", " "], "Say what the token is for."),
        (["--user", "bob", "--name", "x", "--scope", "admin"], "'admin' is not one of"),
        (["--user", "bob", "--name", "x", "--expires", "91d"], "longer than the 90 days"),
        (["--user", "bob", "--name", "x", "--expires", "never"], "Tokens must expire"),
        (["--user", "bob", "--name", "x", "--expires", "3 weeks"], "not a lifetime"),
        (["--user", "bob", "--name", "x", "--expires", "0d"], "not a lifetime"),
    ],
)
def test_bad_input_says_what_and_makes_nothing(bob: User, args: list[str], fragment: str) -> None:
    result = fleet("create", *args)
    assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.output
    assert not ApiToken.objects.exists()


def test_never_where_the_operator_allows_it(bob: User, settings) -> None:
    settings.FLEET_API_TOKEN_ALLOW_NO_EXPIRY = True
    made = fleet("create", "--user", "bob", "--name", "monitoring", "--expires", "never")
    assert made.exit_code == 0 and "with no expiry" in made.stderr
    assert ApiToken.objects.get().expires_at is None


def test_revoking_an_unknown_token_fails(bob: User) -> None:
    result = fleet("revoke", "0123456789")
    assert result.exit_code == 1 and "no token '0123456789'" in result.stderr

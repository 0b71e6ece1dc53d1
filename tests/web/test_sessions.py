"""Sessions read their account with themselves, and stay server-side: a logout, a deactivated, changed or
deleted account count at the next request, wherever the session cookie comes from."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fleet.web.models import Session

pytestmark = pytest.mark.django_db


def logged_in(username: str = "erin", password: str = "pw-erin-1") -> tuple[User, Client]:
    user = User.objects.create_user(username, password=password)
    client = Client()
    assert client.post("/login/", {"username": username, "password": password}).status_code == 302
    return user, client


def copy_of(client: Client) -> Client:
    """Another browser holding the same session cookie (a second worker, or a stolen copy)."""
    other = Client()
    other.cookies = client.cookies
    return other


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_a_page_reads_the_session_and_its_user_in_one_statement() -> None:
    user, client = logged_in()
    assert Session.objects.get().user == user
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(client)
    sessions = [q["sql"] for q in queries if "web_session" in q["sql"]]
    users = [q["sql"] for q in queries if 'FROM "auth_user"' in q["sql"]]
    assert len(sessions) == 1 and 'JOIN "auth_user"' in sessions[0], sessions
    assert users == []


def test_a_logout_ends_the_session_for_every_copy_of_the_cookie() -> None:
    _, client = logged_in()
    other = copy_of(client)
    assert signed_in(other)
    assert client.post("/logout/").status_code == 302
    assert not signed_in(other)
    assert not Session.objects.filter(user__username="erin").exists()


def test_a_deactivated_account_is_logged_out_at_its_next_request() -> None:
    user, client = logged_in()
    user.is_active = False
    user.save()
    assert not signed_in(client)


def test_a_new_password_ends_the_other_sessions() -> None:
    user, client = logged_in()
    user.set_password("pw-erin-2")
    user.save()
    assert not signed_in(client)


def test_a_deleted_account_takes_its_sessions_with_it() -> None:
    user, client = logged_in()
    user.delete()
    assert not Session.objects.exists()
    assert not signed_in(client)


def test_two_accounts_on_one_worker_each_get_their_own() -> None:
    _, erin = logged_in("erin")
    _, frank = logged_in("frank", "pw-frank-1")
    for _ in range(2):
        assert "erin (user)" in erin.get("/").content.decode()
        assert "frank (user)" in frank.get("/").content.decode()

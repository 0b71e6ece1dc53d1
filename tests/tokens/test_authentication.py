"""The API's token authentication and scope, through HTTP: who a key is, when it stops working and why,
what a read token may not do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from fleet.operations.models import Operation
from fleet.tokens.models import ApiToken
from tests.inventory.scenario import Scenario
from tests.tokens import new_key

pytestmark = pytest.mark.django_db
WRITE = "/api/test-write/"


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice", password="pw")


def get(header: str, path: str = "/api/clusters/") -> tuple[int, dict[str, str], str]:
    answer = Client(HTTP_AUTHORIZATION=header).get(path)
    return answer.status_code, answer.json(), answer.get("WWW-Authenticate", "")


def test_a_key_works_as_token_or_bearer(alice: User) -> None:
    key = new_key(alice)
    for header in (f"Token {key}", f"Bearer {key}", f"bearer {key}"):
        assert get(header)[0] == 200, header


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token", "Invalid token header"),
        ("Token a b", "Invalid token header"),
        ("Bearer not-a-key", "not a Fleet API key"),
        ("Token fleet_0123456789_" + "A" * 43, "Invalid token."),
        ("Token 0123456789abcdef0123456789abcdef01234567", "Invalid token."),
    ],
)
def test_bad_keys_are_401_saying_so(alice: User, header: str, detail: str) -> None:
    new_key(alice)
    status, body, challenge = get(header)
    assert status == 401 and detail in body["detail"] and challenge == "Token"


def test_a_wrong_secret_with_a_real_id_is_refused(alice: User) -> None:
    key = new_key(alice)
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    status, body, _ = get(f"Token {forged}")
    assert status == 401 and body["detail"] == "Invalid token."


def test_an_expired_key_is_refused_with_the_date(alice: User) -> None:
    key = new_key(alice)
    assert get(f"Token {key}")[0] == 200
    past = timezone.now() - timedelta(seconds=1)
    ApiToken.objects.update(expires_at=past)
    status, body, _ = get(f"Token {key}")
    assert status == 401 and f"expired on {past:%Y-%m-%d %H:%M} UTC" in body["detail"]


def test_a_revoked_key_and_a_disabled_account_are_refused(alice: User) -> None:
    key, other = new_key(alice), new_key(alice)
    ApiToken.objects.filter(token_id=key[6:16]).update(revoked_at=timezone.now())
    status, body, _ = get(f"Token {key}")
    assert status == 401 and "was revoked on" in body["detail"]
    assert get(f"Token {other}")[0] == 200
    User.objects.filter(pk=alice.pk).update(is_active=False)
    status, body, _ = get(f"Token {other}")
    assert status == 401 and body["detail"] == "The token's account is disabled."


def test_the_last_use_is_written_at_most_once_a_minute(alice: User) -> None:
    key = new_key(alice)
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    get(f"Token {key}")
    first = ApiToken.objects.get().last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=30)
    recent = timezone.now() - timedelta(seconds=50)
    ApiToken.objects.update(last_used_at=recent)
    get(f"Token {key}")
    assert ApiToken.objects.get().last_used_at == recent  # used again within the minute: not written
    ApiToken.objects.update(last_used_at=timezone.now() - timedelta(seconds=61))
    get(f"Token {key}")
    assert timezone.now() - ApiToken.objects.get().last_used_at < timedelta(seconds=30)


@pytest.mark.urls("tests.tokens.urls")
def test_only_write_tokens_may_post_to_an_endpoint_that_declares_nothing(alice: User) -> None:
    read, write = new_key(alice, "read"), new_key(alice, "write")
    refused = Client(HTTP_AUTHORIZATION=f"Bearer {read}").post(
        WRITE, {"x": "1"}, content_type="application/json"
    )
    assert refused.status_code == 403 and "may only read" in refused.json()["detail"]
    allowed = Client(HTTP_AUTHORIZATION=f"Bearer {write}").post(
        WRITE, {"x": "1"}, content_type="application/json"
    )
    assert allowed.status_code == 200 and allowed.json() == {"user": "alice", "data": {"x": "1"}}
    assert Client().post(WRITE, {"x": "1"}, content_type="application/json").status_code == 401


@pytest.mark.urls("tests.tokens.urls")
def test_a_session_may_post_with_its_csrf_token_only(alice: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    refused = client.post(WRITE, {"x": "1"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    client.get("/account/tokens/")  # the page sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    allowed = client.post(WRITE, {"x": "1"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf)
    assert allowed.status_code == 200 and allowed.json()["user"] == "alice"


def test_read_tokens_are_refused_every_unsafe_method_on_the_real_api(alice: User) -> None:
    read, write = new_key(alice, "read"), new_key(alice, "write")
    for method in ("post", "put", "patch", "delete"):
        refused = getattr(Client(HTTP_AUTHORIZATION=f"Token {read}"), method)("/api/clusters/")
        assert refused.status_code == 403, method
        allowed = getattr(Client(HTTP_AUTHORIZATION=f"Token {write}"), method)("/api/clusters/")
        assert allowed.status_code == 405, method  # past the scope: the read-only viewset has no such method
    assert Client(HTTP_AUTHORIZATION=f"Token {read}").options("/api/clusters/").status_code == 200


def test_the_schema_describes_the_token_scheme() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    assert {"tokenAuth": []} in schema["paths"]["/api/clusters/"]["get"]["security"]


def test_an_instance_action_needs_a_write_token_and_a_read_tokens_attempt_is_audited(
    scenario: Scenario,
) -> None:
    path = f"/api/instances/{scenario['vm-a0'].pk}/reboot/"
    read, write = new_key(scenario.alice, "read"), new_key(scenario.alice, "write")
    refused = Client(HTTP_AUTHORIZATION=f"Bearer {read}").post(path, {}, content_type="application/json")
    assert refused.status_code == 403 and "may only read" in refused.json()["detail"]
    attempt = Operation.objects.get()
    assert (attempt.status, attempt.requester, attempt.via) == ("refused", scenario.alice, "api")
    assert refused.json()["operation"]["id"] == attempt.pk
    # An instance the token's user may not see is a 404, as with any credential.
    theirs = f"/api/instances/{scenario['vm-a7'].pk}/reboot/"
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {read}")
        .post(theirs, {}, content_type="application/json")
        .status_code
        == 404
    )
    done = Client(HTTP_AUTHORIZATION=f"Bearer {write}").post(path, {}, content_type="application/json")
    assert done.status_code == 202, done.content
    assert Operation.objects.get(pk=done.json()["id"]).status == "pending"

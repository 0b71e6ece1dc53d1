"""The authorization matrix through the faces: every account x the instance actions x every condition, as
POSTs to the API and to the instance page. Allowed: recorded (202, or 409 when something is already under
way on the instance); not allowed: 403 with the policy's reason, or 404 where the account may not even see
the instance; and no refused or invalid request leaves an operation for the worker to submit (pending), so
nothing of it can reach a cluster. The expected answers are the hand-written ones of tests/access."""

from __future__ import annotations

import pytest
from django.test import Client

from fleet.access.policy import Action
from fleet.inventory.models import Cluster
from fleet.operations.models import Operation, OperationStatus
from tests.access.test_matrix import ALLOWED, WHO, expected
from tests.access.world import CONDITIONS, World, build

pytestmark = pytest.mark.django_db

ACTIONS = {  # the verb, and a request that asks for it
    Action.POWER: ("reboot", {"kind": "hard"}),
    Action.MIGRATE: ("migrate", {}),
    Action.LOCK: ("unlock", {}),  # "locked" is locked; on the others the state refuses it (409) if allowed
    Action.OWNERS: ("owners", {"change": "add", "kind": "user", "name": "dave"}),
    Action.MODIFY: ("modify", {"vcpus": 2}),
    Action.ISOLATE: ("isolate", {"allow_from": ["192.0.2.0/28"]}),
    # allowed: awaiting the mailed link (202), or refused for the instance's state (409: rename a running one)
    Action.REINSTALL: ("reinstall", {"os": "noop"}),
    Action.RENAME: ("rename", {"new_name": "renamed.example.org"}),
    Action.DESTROY: ("destroy", {}),
}


@pytest.fixture
def world() -> World:
    made = build()
    Cluster.objects.update(os_names=["noop"])  # a reinstall names an OS its cluster offers
    return made


def client_of(world: World, who: str) -> Client:
    client = Client()
    user = world.accounts[who]
    if user.is_authenticated:
        client.force_login(user)
    return client


def pending() -> set[int]:
    return set(Operation.objects.filter(status=OperationStatus.PENDING).values_list("pk", flat=True))


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("who", WHO)
def test_the_api_and_the_page_answer_as_the_policy_decides(world: World, who: str, condition: str) -> None:
    client = client_of(world, who)
    instance = world.instances[condition]
    for verb, (action, body) in ACTIONS.items():
        allowed, reason = expected(who, verb, condition)
        before = pending()
        api = client.post(f"/api/instances/{instance.pk}/{action}/", body, content_type="application/json")
        page = client.post(
            f"/instances/{instance.cluster.name}/{instance.name}/",
            {"action": "add_owner" if action == "owners" else action, **body},
        )
        case = (who, condition, action, api.status_code, page.status_code)
        if who == "anonymous":
            assert api.status_code in (401, 403) and page.status_code == 302, case  # to the login page
        elif allowed:
            assert api.status_code in (202, 409) and page.status_code in (303, 409), case
        elif not ALLOWED[who]:
            assert api.status_code == page.status_code == 404, case
        else:
            assert api.status_code == page.status_code == 403, case
            assert api.json()["detail"].startswith(reason), case
        if not allowed:
            assert pending() == before, case  # nothing for the worker to send

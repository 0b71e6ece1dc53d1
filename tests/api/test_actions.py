"""The API's instance actions over HTTP: each records an operation (202), a retry with the same
Idempotency-Key is the same operation, bad bodies are 400s naming the field, refusals are 403 or 409 with the
reason and their record, and an instance the caller may not see is a 404. The worker's side is in
tests/operations."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fleet.jobs.models import Job, JobStatus, JobTarget
from fleet.operations.models import Operation, OperationStatus
from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post(path, body or {}, content_type="application/json", headers=headers)


def url(scenario: Scenario, name: str, action: str) -> str:
    return f"/api/instances/{scenario[name].pk}/{action}/"


def test_an_owner_reboots_and_gets_the_operation(scenario: Scenario, login: Any) -> None:
    response = post(login("alice"), url(scenario, "vm-a0", "reboot"), {"kind": "hard", "reason": "stuck"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["instance"], body["cluster"]) == (
        "reboot",
        "pending",
        "vm-a0.example.org",
        "alpha.example.org",
    )
    assert (body["params"], body["requester"], body["via"], body["reason"], body["job"]) == (
        {"type": "hard"},
        "alice",
        "api",
        "stuck",
        None,
    )
    assert body["client_address"] == "127.0.0.1"
    row = Operation.objects.get(pk=body["id"])
    assert row.status == OperationStatus.PENDING and row.requester == scenario.alice
    detail = login("alice").get(f"/api/operations/{row.pk}/")
    assert detail.status_code == 200 and detail.json()["uuid"] == str(row.uuid)


def test_a_retry_with_the_same_key_is_the_same_operation(scenario: Scenario, login: Any) -> None:
    client = login("alice")
    first = post(client, url(scenario, "vm-a0", "shutdown"), {"timeout": 30}, **{"Idempotency-Key": "abc-1"})
    again = post(client, url(scenario, "vm-a0", "shutdown"), {"timeout": 30}, **{"Idempotency-Key": "abc-1"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Operation.objects.count() == 1
    other = post(client, url(scenario, "vm-a1", "shutdown"), {}, **{"Idempotency-Key": "abc-1"})
    assert other.status_code == 409
    assert other.json() == {
        "detail": f"Idempotency-Key already used for another request (operation {first.json()['id']})."
    }
    assert Operation.objects.count() == 1


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("reboot", {"kind": "sideways"}, "kind"),
        ("shutdown", {"timeout": -1}, "timeout"),
        ("shutdown", {"timeout": 10**9}, "timeout"),
        ("shutdown", {"timeout": "soon"}, "timeout"),
        ("start", {"reason": "x" * 2001}, "reason"),
        ("migrate", {"live": "perhaps"}, "live"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field_and_records_nothing(
    scenario: Scenario, login: Any, action: str, body: dict[str, Any], field: str
) -> None:
    response = post(login("root"), url(scenario, "vm-a0", action), body)
    assert response.status_code == 400
    errors = response.json()
    assert field in errors and all(isinstance(m, str) for m in errors[field]), errors
    assert not Operation.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"change": "add", "kind": "user", "name": "x" * 200}, "name"),
        ({"change": "add", "kind": "user", "name": "ünï"}, "name"),
        ({"change": "add", "kind": "robot", "name": "bob"}, "kind"),
        ({"change": "swap", "kind": "user", "name": "bob"}, "change"),
    ],
)
def test_a_bad_owner_change_is_a_400_as_the_schema_says(
    scenario: Scenario, login: Any, body: dict[str, Any], field: str
) -> None:
    response = post(login("root"), url(scenario, "vm-a0", "owners"), body)
    assert response.status_code == 400 and list(response.json()) == [field], response.json()
    assert not Operation.objects.exists()


def test_the_api_takes_json_bodies_only(scenario: Scenario, login: Any) -> None:
    response = login("root").post(url(scenario, "vm-a0", "reboot"), {"kind": "hard"})  # a form body
    assert response.status_code == 415
    assert response["Content-Type"] == "application/json"
    assert not Operation.objects.exists()


def test_an_instance_of_someone_else_is_a_404_and_the_attempt_is_not_submitted(
    scenario: Scenario, login: Any
) -> None:
    response = post(login("carol"), url(scenario, "vm-a0", "reboot"))
    assert response.status_code == 404
    assert not Operation.objects.filter(status=OperationStatus.PENDING).exists()


def test_helpdesk_sees_but_may_not_act(scenario: Scenario, login: Any) -> None:
    response = post(login("helpdesk"), url(scenario, "vm-a0", "reboot"))
    assert response.status_code == 403
    body = response.json()
    assert body["detail"] and body["operation"]["status"] == "refused"
    assert Operation.objects.get().status == OperationStatus.REFUSED


def test_owners_may_not_migrate(scenario: Scenario, login: Any) -> None:
    response = post(login("alice"), url(scenario, "vm-a0", "migrate"))
    assert response.status_code == 403
    assert "administrators" in response.json()["detail"]


def test_a_second_action_while_one_is_open_is_a_409_naming_it(scenario: Scenario, login: Any) -> None:
    client = login("alice")
    first = post(client, url(scenario, "vm-a0", "reboot"))
    assert first.status_code == 202
    second = post(client, url(scenario, "vm-a0", "shutdown"))
    assert second.status_code == 409
    assert f"operation {first.json()['id']}" in second.json()["detail"]
    assert "reboot by alice" in second.json()["detail"]


def test_a_job_under_way_on_the_instance_refuses_the_action(scenario: Scenario, login: Any) -> None:
    job = Job.objects.create(
        cluster=scenario.alpha, job_id=4242, status=JobStatus.RUNNING, summary=["INSTANCE_MIGRATE(vm-a1)"]
    )
    JobTarget.objects.create(job=job, cluster=scenario.alpha, kind="instance", name="vm-a1.example.org")
    response = post(login("alice"), url(scenario, "vm-a1", "reboot"))
    assert response.status_code == 409
    assert "job 4242" in response.json()["detail"]


def test_the_state_refuses_what_makes_no_sense(scenario: Scenario, login: Any) -> None:
    client = login("root")
    running = post(client, url(scenario, "vm-a0", "start"))
    assert running.status_code == 409 and "already running" in running.json()["detail"]
    stopped = post(client, url(scenario, "vm-a8", "reboot"))
    assert stopped.status_code == 409 and "start it instead" in stopped.json()["detail"]


def test_an_instance_is_addressed_by_uuid_or_cluster_and_name(scenario: Scenario, login: Any) -> None:
    instance = scenario["vm-a0"]
    instance.uuid = "0b6a6d0e-8b0c-4b1e-9a53-0b1f6c1d2e3f"
    instance.save()
    client = login("alice")
    by_uuid = client.get(f"/api/instances/{instance.uuid}/")
    by_name = client.get("/api/instances/alpha.example.org:vm-a0.example.org/")
    assert by_uuid.status_code == by_name.status_code == 200
    assert by_uuid.json()["id"] == by_name.json()["id"] == instance.pk
    assert client.get("/api/instances/nonsense/").status_code == 404
    assert client.get("/api/instances/alpha.example.org:vm-a9.example.org/").status_code == 404  # not hers
    acted = post(client, "/api/instances/alpha.example.org:vm-a0.example.org/reboot/")
    assert acted.status_code == 202


def test_the_audit_log_shows_users_their_own_and_admins_everything(scenario: Scenario, login: Any) -> None:
    post(login("alice"), url(scenario, "vm-a0", "reboot"))
    post(login("carol"), url(scenario, "vm-a0", "reboot"))  # 404, recorded as refused
    post(login("root"), url(scenario, "vm-a6", "shutdown"))
    assert Operation.objects.count() == 3
    seen = {
        name: login(name).get("/api/operations/").json() for name in ("alice", "carol", "helpdesk", "root")
    }
    assert [row["requester"] for row in seen["alice"]["results"]] == ["carol", "alice"]  # hers, and on hers
    assert [row["requester"] for row in seen["carol"]["results"]] == ["carol"]
    assert seen["helpdesk"]["count"] == seen["root"]["count"] == 3
    refused = login("root").get("/api/operations/?status=refused").json()["results"]
    assert [row["requester"] for row in refused] == ["carol"]


def test_an_owner_cancels_a_queued_job_on_her_instance(scenario: Scenario, login: Any) -> None:
    queued = Job.objects.create(
        cluster=scenario.alpha, job_id=777, status=JobStatus.QUEUED, instance=scenario["vm-a0"]
    )
    ended = Job.objects.create(
        cluster=scenario.alpha, job_id=778, status=JobStatus.SUCCESS, instance=scenario["vm-a0"]
    )
    assert post(login("carol"), f"/api/jobs/{queued.pk}/cancel/").status_code == 404
    assert post(login("alice"), f"/api/jobs/{ended.pk}/cancel/").status_code == 403  # owners: queued only
    done = post(login("root"), f"/api/jobs/{ended.pk}/cancel/")
    assert done.status_code == 409 and "has ended" in done.json()["detail"]
    answer = post(login("alice"), f"/api/jobs/{queued.pk}/cancel/", {"reason": "wrong VM"})
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert (body["kind"], body["params"], body["instance"], body["reason"]) == (
        "cancel_job",
        {"job_id": 777},
        "vm-a0.example.org",
        "wrong VM",
    )
    assert post(login("alice"), "/api/jobs/99999999/cancel/").status_code == 404

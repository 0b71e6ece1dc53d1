"""The instance page's actions over HTTP: the panel offers what the policy allows, a POST records the
operation and goes back to the page, a form sent twice records one operation, refusals and bad fields give
the page again with the reason and the right status; the operation's partial polls while it is open; the
audit log page lists what each account may see."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from fleet.operations.models import Operation, OperationStatus
from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db

PAGE = "/instances/alpha.example.org/{}.example.org/"


def act(client: Client, vm: str, action: str, **fields: str) -> Any:
    return client.post(PAGE.format(vm), {"action": action, **fields})


def test_the_panel_offers_what_the_policy_allows(scenario: Scenario, login: Any) -> None:
    owner = login("alice").get(PAGE.format("vm-a0")).content.decode()
    assert 'value="reboot"' in owner and 'value="shutdown"' in owner
    assert 'value="migrate"' not in owner  # administrators only
    admin = login("root").get(PAGE.format("vm-a0")).content.decode()
    assert 'value="migrate"' in admin and 'value="failover"' in admin
    helpdesk = login("helpdesk").get(PAGE.format("vm-a0")).content.decode()
    assert 'name="action"' not in helpdesk  # sees the page, may act on nothing


def test_a_post_records_the_operation_and_goes_back_to_the_page(scenario: Scenario, login: Any) -> None:
    client = login("alice")
    response = act(client, "vm-a0", "reboot", kind="full", reason="testing", form_key="form-1")
    assert response.status_code == 303
    assert response["Location"] == PAGE.format("vm-a0")
    operation = Operation.objects.get()
    assert (operation.kind, operation.params, operation.via, operation.reason) == (
        "reboot",
        {"type": "full"},
        "web",
        "testing",
    )
    again = act(client, "vm-a0", "reboot", kind="full", reason="testing", form_key="form-1")
    assert again.status_code == 303 and Operation.objects.count() == 1  # the same form sent twice
    page = client.get(PAGE.format("vm-a0")).content.decode()
    assert 'id="operation" hx-get="/instances/alpha.example.org/vm-a0.example.org/operation/"' in page
    assert 'data-status="pending"' in page


def test_an_ended_operation_stops_the_polling(scenario: Scenario, login: Any) -> None:
    client = login("alice")
    act(client, "vm-a0", "reboot")
    Operation.objects.update(status=OperationStatus.FAILED, error="OpExecError: <b>boom</b>")
    partial = client.get(PAGE.format("vm-a0") + "operation/").content.decode()
    assert "hx-trigger" not in partial
    assert "OpExecError: &lt;b&gt;boom&lt;/b&gt;" in partial


def test_refusals_and_bad_fields_give_the_page_with_the_reason(scenario: Scenario, login: Any) -> None:
    refused = act(login("helpdesk"), "vm-a0", "reboot")
    assert refused.status_code == 403
    assert "Only its owners and administrators may start, shut down or reboot vm-a0.example.org." in (
        refused.content.decode()
    )
    bad = act(login("alice"), "vm-a0", "reboot", kind="sideways")
    assert bad.status_code == 400 and "kind: one of soft, hard, full" in bad.content.decode()
    unknown = act(login("alice"), "vm-a0", "format-disk")
    assert unknown.status_code == 400 and "Choose one of the actions offered." in unknown.content.decode()
    act(login("alice"), "vm-a0", "reboot")
    busy = act(login("alice"), "vm-a0", "shutdown")
    assert busy.status_code == 409 and "is busy: reboot by alice" in busy.content.decode()
    assert Operation.objects.filter(status=OperationStatus.PENDING).count() == 1


def test_someone_elses_instance_is_a_404_and_the_attempt_is_on_record(scenario: Scenario, login: Any) -> None:
    response = act(login("carol"), "vm-a0", "reboot")
    assert response.status_code == 404
    missing = act(login("carol"), "no-such-vm", "reboot")
    assert missing.status_code == 404
    assert list(Operation.objects.values_list("requester_name", "status")) == [("carol", "refused")]


def test_the_audit_log_page_lists_what_each_account_may_see(scenario: Scenario, login: Any) -> None:
    act(login("alice"), "vm-a0", "reboot", reason="alice's reason")
    act(login("root"), "vm-a6", "shutdown", reason="root's reason")
    alice = login("alice").get("/audit/").content.decode()
    assert "alice&#x27;s reason" in alice and "root&#x27;s reason" not in alice
    root = login("root").get("/audit/?requester=root").content.decode()
    assert "root&#x27;s reason" in root and "alice&#x27;s reason" not in root
    assert login("root").get("/audit/?status=nonsense").status_code == 400


def test_the_list_shows_what_is_under_way_and_offers_the_same_actions(scenario: Scenario, login: Any) -> None:
    client = login("alice")
    act(client, "vm-a0", "reboot")
    rows = client.get("/?q=vm-a0").content.decode()
    assert "Reboot under way" in rows
    assert f'<form method="post" action="{PAGE.format("vm-a0")}">' in rows
    assert 'value="reboot">Reboot</button>' in rows and 'value="migrate"' not in rows
    assert "<summary>Actions</summary>" not in login("helpdesk").get("/?q=vm-a0").content.decode()
    # the menu's form is the page's: it acts the same way
    key = rows.split('name="form_key" value="', 1)[1].split('"', 1)[0]
    assert act(client, "vm-a1", "shutdown", form_key=key).status_code == 303
    assert Operation.objects.filter(instance_name="vm-a1.example.org", kind="shutdown").count() == 1


def test_the_job_page_cancels_a_queued_job(scenario: Scenario, login: Any) -> None:
    from fleet.jobs.models import Job, JobStatus

    Job.objects.create(
        cluster=scenario.alpha, job_id=777, status=JobStatus.QUEUED, instance=scenario["vm-a0"]
    )
    page = "/jobs/alpha.example.org/777/"
    assert 'value="cancel"' in login("alice").get(page).content.decode()
    assert 'value="cancel"' not in login("helpdesk").get(page).content.decode()
    assert login("carol").post(page, {"action": "cancel"}).status_code == 404
    refused = login("helpdesk").post(page, {"action": "cancel"})
    assert refused.status_code == 403
    done = login("alice").post(page, {"action": "cancel", "reason": "not this one", "form_key": "k"})
    assert done.status_code == 303 and done["Location"] == page
    assert Operation.objects.filter(kind="cancel_job", status=OperationStatus.PENDING).count() == 1

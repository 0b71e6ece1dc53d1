"""Applying for a VM through the pages: the form's checks (each on its field), the reviewers mailed a link,
the review page's manual placement and its checks, refusal mailed with its reason, withdrawal, and the
edit and resubmission of a failed application."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings

from fleet.conf.config import load
from fleet.inventory.models import AllocPolicy, Network, NetworkConnection, Node, NodeGroup
from fleet.notify.models import Mail
from fleet.operations.models import Operation
from fleet.requests.models import Application, ApplicationStatus
from tests.conf.test_config import KEY, SECRET
from tests.inventory.scenario import Scenario

NEW = "/applications/new/"
STORAGE = """
[limits]
memory_max_mb = 8192
vcpus_max = 4
data_disks_max = 2

[storage.fast]
description = "SSD"
max_gb = 50
on = [{ cluster = "alpha.example.org", vg = "ssd" }]

[storage.bulk]
min_gb = 10
max_gb = 2000
on = [{ cluster = "alpha.example.org", vg = "hdd", disk_templates = ["plain"] }]
"""
GOOD = {
    "hostname": "web1.example.org",
    "memory_mb": "2048",
    "vcpus": "2",
    "disk0_class": "fast",
    "disk0_gb": "10",
    "disk1_class": "bulk",
    "disk1_gb": "500",
    "os": "debootstrap+default",
    "network": "public_500",
    "organisation": "GRNET",
    "comments": "a web server",
    "accept_terms": "on",
}


@pytest.fixture
def configured(tmp_path, scenario: Scenario):
    path = tmp_path / "fleet.toml"
    path.write_text(f'secret_key = "{SECRET}"\ncredentials_key = "{KEY}"\n{STORAGE}')
    config = load({"FLEET_CONFIG": str(path)})
    scenario.alpha.os_names = ["debootstrap+default", "image+debian"]
    scenario.alpha.save()
    Network.objects.filter(name="public_500").update(free_count=200, reserved_count=3)
    reviewer = User.objects.create_user("rita", email="rita@example.org")
    reviewer.user_permissions.add(Permission.objects.get(codename="review_application"))
    User.objects.filter(username="root").update(email="root@example.org")
    User.objects.filter(username="alice").update(email="alice@example.org")
    with override_settings(FLEET_STORAGE=config.storage, FLEET_LIMITS=config.limits):
        yield reviewer


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def apply(client, **changes):
    return client.post(NEW, GOOD | changes)


def test_a_user_applies_and_the_reviewers_are_mailed_a_link(login, configured, scenario: Scenario) -> None:
    client = login("alice")
    form = client.get(NEW).content.decode()
    assert "fast: SSD" in form and "debootstrap+default" in form and "public_500" in form
    answer = apply(client)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    application = Application.objects.get()
    assert (application.applicant, application.status, application.memory_mb) == (
        scenario.alice,
        "pending",
        2048,
    )
    assert application.disks == [
        {"storage_class": "fast", "size_gb": 10},
        {"storage_class": "bulk", "size_gb": 500},
    ]
    mails = {tuple(m.to): m for m in Mail.objects.filter(template="application_new")}
    assert set(mails) == {("rita@example.org",), ("root@example.org",)}  # one each, no shared To:
    body = mails[("rita@example.org",)].body
    assert f"http://localhost:8000/applications/{application.pk}/review/" in body and "500 GiB bulk" in body
    page = client.get(answer["Location"]).content.decode()
    assert "pending review" in page and "Data disk 1: 500 GiB bulk" in page
    assert login("bob").get(answer["Location"]).status_code == 404  # nobody else's business
    assert login("bob").get(f"/applications/{application.pk}/review/").status_code == 404


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"hostname": "Web1.example.org"}, "hostname", "lower case"),
        ({"hostname": "web1"}, "hostname", "fully qualified"),
        ({"hostname": "-x.example.org"}, "hostname", "fully qualified"),
        ({"hostname": "vm-a0.example.org"}, "hostname", "already a VM named"),
        ({"memory_mb": "100"}, "memory_mb", "greater than or equal to 512"),
        ({"memory_mb": "9000"}, "memory_mb", "less than or equal to 8192"),
        ({"memory_mb": "lots"}, "memory_mb", "whole number"),
        ({"vcpus": "5"}, "vcpus", "less than or equal to 4"),
        ({"vcpus": "0"}, "vcpus", "greater than or equal to 1"),
        ({"disk0_class": ""}, "disk0_class", "required"),
        ({"disk0_class": "gold"}, "disk0_class", "Select a valid choice"),
        ({"disk0_gb": "51"}, "disk0_gb", "A fast disk is 1 to 50 GiB, not 51"),
        ({"disk1_gb": "5"}, "disk1_gb", "A bulk disk is 10 to 2000 GiB"),
        ({"disk1_gb": ""}, "disk1_gb", "Give this disk a size"),
        ({"disk2_gb": "20"}, "disk2_class", "Choose a storage class"),
        ({"os": "windows"}, "os", "Select a valid choice"),
        (
            {"network": "vian85"},
            "network",
            "Select a valid choice",
        ),  # beta's: not offered while beta is drained
        ({"organisation": ""}, "organisation", "required"),
        ({"accept_terms": ""}, "accept_terms", "required"),
    ],
)
def test_bad_input_is_refused_on_its_field(login, configured, scenario, changes, field, says) -> None:
    scenario.beta.drained = True
    scenario.beta.save()
    answer = apply(login("alice"), **changes)
    page = answer.content.decode()
    assert answer.status_code == 400
    assert (
        f'data-field="{field}">' in page and says in page.split(f'data-field="{field}">', 1)[1].split("<")[0]
    )
    assert not Application.objects.exists() and not Mail.objects.exists()


def test_an_open_application_holds_its_hostname(login, configured) -> None:
    assert apply(login("alice")).status_code == 302
    again = apply(login("bob"))
    assert again.status_code == 400 and "already asked for in another application" in again.content.decode()


def test_the_reviewer_refuses_with_a_mailed_reason(login, configured) -> None:
    apply(login("alice"))
    application = Application.objects.get()
    review = f"/applications/{application.pk}/review/"
    rita = client_of(configured)
    assert "Waiting for review" in rita.get("/applications/").content.decode()
    empty = rita.post(review, {"action": "refuse", "reason": " "})
    assert empty.status_code == 400 and 'data-field="reason"' in empty.content.decode()
    assert rita.post(review, {"action": "refuse", "reason": "Use the <b>shared</b> host"}).status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REFUSED and application.reviewer.username == "rita"
    (refused,) = Mail.objects.filter(template="application_refused")
    assert refused.to == ["alice@example.org"] and "Reason: Use the <b>shared</b> host" in refused.body
    page = login("alice").get(f"/applications/{application.pk}/").content.decode()
    assert "Use the &lt;b&gt;shared&lt;/b&gt; host" in page
    again = rita.post(review, {"action": "approve"})
    assert again.status_code in (400, 409)
    assert apply(login("bob")).status_code == 302  # a refused application frees its hostname


def test_the_reviewer_places_and_approves(login, configured, scenario: Scenario) -> None:
    apply(login("alice"))
    application = Application.objects.get()
    review = f"/applications/{application.pk}/review/"
    group = NodeGroup.objects.get(cluster=scenario.alpha)
    public = Network.objects.get(name="public_500")
    beta_group = NodeGroup.objects.get(cluster=scenario.beta)
    vian = Network.objects.get(name="vian85")
    rita = client_of(configured)
    page = rita.get(review).content.decode()
    assert "alpha.example.org / public_500 (200 free, 3 reserved)" in page
    assert "beta.example.org / vian85 (0 free, 0 reserved): no free IPs" in page
    cases = [
        (
            {"group": beta_group.pk, "network": vian.pk},
            "group",
            "Storage class fast is not on beta.example.org",
        ),
        ({"network": vian.pk}, "network", "Choose a network of alpha.example.org"),
        ({"disk_template": "drbd"}, "disk_template", "Storage class bulk takes plain there, not drbd"),
        ({"disk_template": "ext"}, "disk_template", "does not enable the ext disk template"),
        ({"group": "x"}, "group", "whole number"),
    ]
    base = {"action": "approve", "group": group.pk, "network": public.pk, "disk_template": "plain"}
    for changes, field, says in cases:
        answer = rita.post(review, base | changes)
        assert answer.status_code == 400 and says in answer.content.decode(), (changes, field)
        assert f'data-field="{field}"' in answer.content.decode()
    NodeGroup.objects.filter(pk=group.pk).update(alloc_policy=AllocPolicy.UNALLOCABLE)
    assert "is unallocable" in rita.post(review, base).content.decode()
    NodeGroup.objects.filter(pk=group.pk).update(alloc_policy=AllocPolicy.PREFERRED)
    assert rita.post(review, base | {"comment": "ok"}).status_code == 302
    application.refresh_from_db()
    assert (application.status, application.cluster, application.node_group, application.disk_template) == (
        "submitted",
        scenario.alpha,
        group.name,
        "plain",
    )
    # the approval recorded the create as the reviewer's operation on the cluster, for the worker to send
    operation = application.operation
    assert operation is not None
    assert (operation.kind, operation.status, operation.cluster, operation.instance_name) == (
        "create",
        "pending",
        scenario.alpha,
        application.hostname,
    )
    assert operation.requester.username == "rita" and operation.instance is None
    assert operation.params["applicant"] == "alice" and operation.params["application"] == application.pk
    assert operation.params["spec"]["instance_name"] == application.hostname
    assert "application" in operation.reason and "alice" in operation.reason
    # approving again changes nothing: the application is on its way, its one create recorded
    again = rita.post(review, base | {"comment": "ok"})
    assert again.status_code == 409 and "being created" in again.content.decode()
    assert Operation.objects.filter(kind="create").count() == 1
    assert login("alice").post(f"/applications/{application.pk}/", {"action": "withdraw"}).status_code == 409


def test_a_failed_application_is_edited_and_resubmitted(login, configured) -> None:
    client = login("alice")
    apply(client)
    application = Application.objects.get()
    assert client.get(f"/applications/{application.pk}/edit/").status_code == 404  # only a failed one
    Application.objects.filter(pk=application.pk).update(status="failed", error="OpPrereqError: no VG ssd")
    page = client.get(f"/applications/{application.pk}/").content.decode()
    assert "OpPrereqError: no VG ssd" in page and "Edit and resubmit" in page
    form = client.get(f"/applications/{application.pk}/edit/").content.decode()
    assert 'value="web1.example.org"' in form  # its own hostname is not "already asked for"
    assert client.post(f"/applications/{application.pk}/edit/", GOOD | {"disk0_gb": "20"}).status_code == 302
    application.refresh_from_db()
    assert (application.status, application.error, application.disks[0]["size_gb"]) == ("pending", "", 20)
    assert Mail.objects.filter(template="application_new").count() == 4  # the reviewers again
    assert client.post(f"/applications/{application.pk}/", {"action": "withdraw"}).status_code == 302
    application.refresh_from_db()
    assert application.status == "withdrawn"


def test_automatic_placement_says_why_and_reserves(login, configured, scenario: Scenario) -> None:
    group = NodeGroup.objects.get(cluster=scenario.alpha)
    public = Network.objects.get(name="public_500")
    NetworkConnection.objects.get_or_create(
        network=public, group=group, defaults={"mode": "routed", "link": "rt"}
    )
    nodes = Node.objects.filter(cluster=scenario.alpha)
    nodes.update(
        memory_free=0, cpu_total=16, disk_free=1_000_000, vm_capable=True, offline=False, drained=False
    )
    nodes.filter(pk=nodes.order_by("pk")[0].pk).update(memory_free=3000)
    alice = login("alice")
    apply(alice)
    apply(alice, hostname="web2.example.org")
    first, second = Application.objects.order_by("pk")
    rita = client_of(configured)
    page = rita.get(f"/applications/{first.pk}/review/").content.decode()
    assert "<td>alpha.example.org / default</td><td>chosen: most free memory left</td>" in page
    assert "<td>beta.example.org / default</td><td>storage class" in page and "not here</td>" in page
    assert rita.post(f"/applications/{first.pk}/review/", {"action": "auto"}).status_code == 302
    first.refresh_from_db()
    assert (first.status, first.cluster, first.node_group, first.disk_template, first.network) == (
        "submitted",
        scenario.alpha,
        "default",
        "plain",
        "public_500",
    )
    # the first approval holds 2048 of alpha's 3000 MiB until its VM exists: the second does not fit
    page = rita.get(f"/applications/{second.pk}/review/").content.decode()
    assert "<td>alpha.example.org / default</td><td>952 MiB free, 2048 needed</td>" in page
    refused = rita.post(f"/applications/{second.pk}/review/", {"action": "auto"})
    assert refused.status_code == 409 and "No node group can take it." in refused.content.decode()
    second.refresh_from_db()
    assert second.status == "pending"

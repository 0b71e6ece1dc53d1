"""Whatever a cluster or a user wrote is shown as text, never as markup, on every page and htmx partial
(instances, clusters, nodes, jobs, the audit log, an operation's live panel).

Three payloads (a ``<script>``, an attribute breaking out into an ``<img onerror>``, a client-side template
expression) go into every field the pages show that comes from Ganeti or from a user, each marked with the
field's name; each page must show each of its fields escaped, and no element or event handler of them.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from fleet.inventory.models import (
    ClusterHealth,
    InstanceOwner,
    Network,
    NetworkConnection,
    Nic,
    NodeGroup,
)
from fleet.jobs.models import Job, JobStatus, JobTarget
from fleet.jobs.targets import TargetKind
from fleet.operations.models import Operation, OperationKind, OperationStatus
from tests.inventory import factories

pytestmark = pytest.mark.django_db

PAYLOADS = {
    "script": "<script>{}</script>",  # short, as some fields are (32 characters on PostgreSQL)
    "img": '"><img src=x onerror={}>',
    "template": "{{{{7*7}}}}{}",
}


def mark(kind: str, field: str) -> str:
    """The ``kind`` payload for ``field``."""
    return PAYLOADS[kind].format(field)


# Ganeti's IP addresses are typed on PostgreSQL (inet): markup cannot be stored there, only on SQLite.
IP_HOLDS_TEXT = connection.vendor != "postgresql"

LIST_FIELDS = ["instance", "cluster", "node", "nic-network", "nic-link", "user-owner", "group-owner"]
DETAIL_FIELDS = [
    *LIST_FIELDS,
    "secondary",
    "os",
    "tag",
    "nic-link2",
    "job-summary",
]
CLUSTER_FIELDS = ["cluster", "description", "version", "hypervisor", "master", "ipolicy-key", "ipolicy-value"]
CLUSTER_DETAIL_FIELDS = [
    *CLUSTER_FIELDS,
    "enabled-hypervisor",
    "disk-template",
    "last-error",
    "group",
    "network",
    "connection-link",
]
NODE_FIELDS = ["node", "cluster", "group"]
JOB_FIELDS = ["cluster", "instance", "job-summary", "requester"]
JOB_DETAIL_FIELDS = [
    "cluster",
    "instance",
    "job-summary",
    "requester",
    "target",
    "reason",
    "error-class",
    "error-message",
    "opcode",
    "log",
]
AUDIT_FIELDS = ["instance", "cluster", "requester", "op-reason", "op-error"]
PANEL_FIELDS = ["requester", "op-error", "log"]  # the instance page's last operation
BANNER_FIELDS = ["cluster", "last-error"]  # the banner on every page (the cluster is unreachable)


def build(kind: str) -> dict[str, object]:
    """A cluster whose every shown field holds the ``kind`` payload; the objects' names."""
    now = timezone.now()
    cluster = factories.cluster(
        mark(kind, "cluster"),
        description=mark(kind, "description"),
        software_version=mark(kind, "version"),
        default_hypervisor=mark(kind, "hypervisor"),
        master_node=mark(kind, "master"),
        enabled_hypervisors=[mark(kind, "enabled-hypervisor")],
        enabled_disk_templates=[mark(kind, "disk-template")],
        ipolicy={
            "std": {"memory-size": 128, mark(kind, "ipolicy-key"): 1},
            "vcpu-ratio": mark(kind, "ipolicy-value"),
        },
        health=ClusterHealth.UNREACHABLE,
        last_sync_at=now - dt.timedelta(hours=1),
        last_error=mark(kind, "last-error"),
        last_error_at=now,
    )
    group = NodeGroup.objects.create(cluster=cluster, name=mark(kind, "group"))
    node = factories.node(cluster, mark(kind, "node"), group=group, memory_total=1024, memory_free=512)
    other = factories.node(cluster, mark(kind, "secondary"), group=group)
    network = Network.objects.create(cluster=cluster, name=mark(kind, "network"), network="10.0.0.0/24")
    NetworkConnection.objects.create(
        network=network, group=group, mode="bridged", link=mark(kind, "connection-link")
    )
    instance = factories.instance(
        cluster,
        mark(kind, "instance"),
        tags=[mark(kind, "tag"), "fleet:needsreboot"],
        primary_node=node,
        os=mark(kind, "os"),
    )
    instance.secondary_nodes.add(other)
    Nic.objects.create(
        instance=instance,
        index=0,
        ip=mark(kind, "nic-ip") if IP_HOLDS_TEXT else "10.0.0.5",
        network_name=mark(kind, "nic-network"),
        link=mark(kind, "nic-link2"),
    )
    Nic.objects.create(instance=instance, index=1, link=mark(kind, "nic-link"))
    # Owner names as the read model could hold them (the tag grammar would set such tags aside).
    InstanceOwner.objects.create(instance=instance, kind="user", name=mark(kind, "user-owner"))
    InstanceOwner.objects.create(instance=instance, kind="group", name=mark(kind, "group-owner"))
    requester = User.objects.create_user(mark(kind, "requester"), f"{kind}@example.org", "pw")
    job = Job.objects.create(
        cluster=cluster,
        job_id=7,
        status=JobStatus.ERROR,
        summary=[mark(kind, "job-summary")],
        op_ids=[mark(kind, "opcode")],
        op_statuses=["error"],
        received_at=now,
        requester=requester,
        reason=mark(kind, "reason"),
        instance=instance,
        log=[
            [1, [now.timestamp(), 0], "message", mark(kind, "log")],
            [2, [now.timestamp(), 0], "remote-import", {"progress": mark(kind, "log-structure")}],
        ],
        error_class=mark(kind, "error-class"),
        error_message=mark(kind, "error-message"),
    )
    JobTarget.objects.create(job=job, cluster=cluster, kind=TargetKind.NODE, name=mark(kind, "target"))
    Operation.objects.create(
        kind=OperationKind.REBOOT,
        status=OperationStatus.FAILED,
        cluster=cluster,
        cluster_name=cluster.name,
        instance=instance,
        instance_name=instance.name,
        requester=requester,
        requester_name=requester.username,
        reason=mark(kind, "op-reason"),
        error=mark(kind, "op-error"),
        job=job,
        ganeti_job_id=job.job_id,
    )
    return {"cluster": cluster.name, "instance": instance.name, "job": job.job_id}


class Markup(HTMLParser):
    """The elements and attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe(html: str, kind: str, fields: list[str], where: str) -> None:
    """Each of ``fields`` shows on the page as escaped text; the payload makes no element or handler."""
    parser = Markup()
    parser.feed(html)
    scripts = [dict(attrs).get("src") or "" for tag, attrs in parser.tags if tag == "script"]
    assert all("/static/fleet/vendor/htmx" in src for src in scripts), (where, scripts)
    assert not [tag for tag, _ in parser.tags if tag == "img"], where
    handlers = [(tag, name) for tag, attrs in parser.tags for name, _ in attrs if name.startswith("on")]
    assert not handlers, (where, handlers)
    for field in fields:
        payload = mark(kind, field)
        assert escape(payload) in html, f"{where}: {field} is not shown escaped"
        if payload != escape(payload):
            assert payload not in html, f"{where}: {field} is shown as markup"


@pytest.fixture
def root_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    return client


@pytest.mark.parametrize("kind", PAYLOADS)
def test_every_page_and_partial_shows_what_clusters_and_users_wrote_as_text(
    root_client: Client, kind: str
) -> None:
    names = build(kind)
    cluster, instance = str(names["cluster"]), str(names["instance"])
    ip = ["nic-ip"] if IP_HOLDS_TEXT else []
    pages = {
        reverse("instance-list"): [*LIST_FIELDS, *ip],
        reverse("instance-detail", args=[cluster, instance]): [*DETAIL_FIELDS, *PANEL_FIELDS, *ip],
        reverse("cluster-list"): CLUSTER_FIELDS[:4],
        reverse("cluster-detail", args=[cluster]): CLUSTER_DETAIL_FIELDS,
        reverse("node-list"): NODE_FIELDS,
        reverse("job-list"): JOB_FIELDS,
        reverse("job-detail", args=[cluster, names["job"]]): JOB_DETAIL_FIELDS,
        reverse("audit-log"): AUDIT_FIELDS,
    }
    lists = ("instance-list", "cluster-list", "node-list", "job-list", "audit-log")
    partials = [reverse(name) for name in lists]
    for url, fields in pages.items():
        response = root_client.get(url)
        assert response.status_code == 200, url
        assert_safe(response.content.decode(), kind, [*fields, *BANNER_FIELDS], url)
    for url in partials:
        response = root_client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200, url
        assert_safe(response.content.decode(), kind, pages[url], f"{url} (htmx)")
    panel = root_client.get(reverse("instance-operation", args=[cluster, instance]))
    assert panel.status_code == 200
    assert_safe(panel.content.decode(), kind, PANEL_FIELDS, "the operation's live partial")
    searched = root_client.get(reverse("instance-list"), {"q": mark(kind, "instance")})
    assert_safe(searched.content.decode(), kind, LIST_FIELDS, "the list searched for the payload")


@pytest.mark.parametrize("kind", PAYLOADS)
def test_the_owner_sees_the_same_fields_escaped(kind: str) -> None:
    names = build(kind)
    owner = User.objects.create_user(mark(kind, "user-owner"), "owner@example.org", "pw")
    client = Client()
    client.force_login(owner)
    instance_page = reverse("instance-detail", args=[names["cluster"], names["instance"]])
    for url, fields in {
        reverse("instance-list"): LIST_FIELDS,
        instance_page: DETAIL_FIELDS,
        # the master node is for helpdesk and admins (fleet.access.policy.visible_fields)
        reverse("cluster-detail", args=[names["cluster"]]): [f for f in CLUSTER_FIELDS if f != "master"],
        reverse("job-detail", args=[names["cluster"], names["job"]]): JOB_DETAIL_FIELDS,
    }.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert_safe(response.content.decode(), kind, [*fields, "cluster"], url)

"""Cluster, node and job pages, instance details, and the banner of clusters that are down or stale."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.inventory.scenario import BETA_ERROR, Scenario

pytestmark = pytest.mark.django_db


def body(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()


def alerts(html: str) -> list[str]:
    return re.findall(r'<div class="alert[^"]*" role="alert" data-cluster="([^"]+)">', html)


def test_banner_names_unreachable_and_stale_clusters_with_the_escaped_error(login) -> None:
    html = body(login("root"), "/")
    assert alerts(html) == ["beta.example.org", "gamma.example.org"]
    assert "is unreachable (3 failed attempts)" in html
    assert "has not been synced yet" in html
    assert BETA_ERROR not in html
    assert (
        "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt; "
        "connect to beta.example.org:5080 timed out &amp; gave up" in html
    )


def test_banner_shows_users_only_their_clusters_and_not_the_error_text(login) -> None:
    html = body(login("alice"), "/")
    assert alerts(html) == ["beta.example.org"]
    assert "timed out" not in html
    assert alerts(body(login("carol"), "/")) == []


def test_banner_appears_on_every_page_and_goes_when_the_cluster_is_back(login, scenario: Scenario) -> None:
    client = login("helpdesk")
    for path in ["/clusters/", "/nodes/", "/jobs/", "/clusters/alpha.example.org/"]:
        assert "beta.example.org" in alerts(body(client, path))
    scenario.beta.health = "healthy"
    scenario.beta.last_sync_at = timezone.now()
    scenario.beta.save()
    assert "beta.example.org" not in alerts(body(client, "/"))


def test_offline_clusters_raise_no_alert(login, scenario: Scenario) -> None:
    scenario.gamma.offline = True
    scenario.gamma.save()
    assert alerts(body(login("root"), "/")) == ["beta.example.org"]


CLUSTER_LINK = re.compile(r'<td><a href="/clusters/([^"]+)/">')


def test_cluster_list_and_detail(login) -> None:
    html = body(login("root"), "/clusters/")
    assert len(CLUSTER_LINK.findall(html)) == 3
    detail = body(login("root"), "/clusters/alpha.example.org/")
    for text in ["3.0.2", "kvm", "drbd, plain", "Main &lt;b&gt;cluster&lt;/b&gt;", "public_500",
                 "83.212.168.0/24", "default"]:  # fmt: skip
        assert text in detail, text
    assert "Main <b>cluster</b>" not in detail
    # The instance policy as a table, not a Python dict.
    assert '<tr><th scope="row">Memory</th><td class="num">128 MB</td></tr>' in detail
    assert "<dt>vCPUs per physical CPU</dt><dd>4.0</dd>" in detail
    assert "{&#x27;" not in detail and "vcpu-ratio" not in detail


def test_users_see_clusters_of_their_instances_without_infrastructure(login) -> None:
    alice = login("alice")
    assert CLUSTER_LINK.findall(body(alice, "/clusters/")) == ["alpha.example.org", "beta.example.org"]
    detail = body(alice, "/clusters/alpha.example.org/")
    assert "3.0.2" in detail and "public_500" not in detail
    body(alice, "/clusters/gamma.example.org/", 404)
    body(login("carol"), "/clusters/alpha.example.org/", 404)
    body(login("root"), "/clusters/nowhere.example.org/", 404)


NODE_ROW = re.compile(r"<tr>\s*<td>([^<]+)</td>\s*<td><span class=\"role\"[^>]*>(\w)</span>")


def test_nodes_page_has_bars_roles_counts_and_groups(login) -> None:
    html = body(login("helpdesk"), "/nodes/")
    assert NODE_ROW.findall(html) == [
        ("alpha-n1.example.org", "M"), ("alpha-n2.example.org", "C"), ("beta-n1.example.org", "D"),
        ("gamma-n1.example.org", "O"),
    ]  # fmt: skip
    assert 'title="75% used"' in html  # alpha-n1: 16 of 64 GiB free
    assert 'title="0% used"' in html
    assert "alpha.example.org</a> / default" in html
    assert re.search(r'title="Master">M</span>: 1 .*title="Offline">O</span>: 1', html, re.S)
    assert '?node=alpha-n1.example.org">0</a>' in html  # the synced pinst_cnt


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("cluster=alpha.example.org", ["alpha-n1.example.org", "alpha-n2.example.org"]),
        ("role=D", ["beta-n1.example.org"]),
        ("role=M&role=O", ["alpha-n1.example.org", "gamma-n1.example.org"]),
        ("q=n2", ["alpha-n2.example.org"]),
        ("group=default&cluster=gamma.example.org", ["gamma-n1.example.org"]),
        (
            "sort=-name",
            ["gamma-n1.example.org", "beta-n1.example.org", "alpha-n2.example.org", "alpha-n1.example.org"],
        ),
    ],
)
def test_node_filters(login, query: str, names: list[str]) -> None:
    assert [name for name, _ in NODE_ROW.findall(body(login("root"), f"/nodes/?{query}"))] == names


def test_nodes_are_hidden_from_users(login) -> None:
    html = body(login("alice"), "/nodes/")
    assert NODE_ROW.findall(html) == []
    assert 'href="/nodes/"' not in body(login("alice"), "/")


JOB_ROW = re.compile(r'<td><a href="/jobs/([^/]+)/(\d+)/">')


@pytest.mark.parametrize(
    ("who", "query", "jobs"),
    [
        ("root", "", [("gamma.example.org", "1"), ("beta.example.org", "7"), ("alpha.example.org", "102"),
                      ("alpha.example.org", "101")]),
        ("root", "status=error", [("alpha.example.org", "102")]),
        ("root", "status=running&status=queued", [("gamma.example.org", "1"), ("beta.example.org", "7")]),
        ("root", "cluster=alpha.example.org&sort=job_id",
         [("alpha.example.org", "101"), ("alpha.example.org", "102")]),
        ("root", "q=migrate", [("beta.example.org", "7")]),
        ("alice", "", [("alpha.example.org", "101")]),
        ("bob", "", [("beta.example.org", "7")]),
        ("carol", "", []),
    ],
)  # fmt: skip
def test_jobs_page(login, who: str, query: str, jobs: list[tuple[str, str]]) -> None:
    assert JOB_ROW.findall(body(login(who), f"/jobs/?{query}")) == jobs


def test_job_detail_shows_opcodes_log_and_error(login) -> None:
    html = body(login("root"), "/jobs/alpha.example.org/102/")
    assert (
        "OP_INSTANCE_STARTUP" in html and "OpPrereqError (insufficient_resources): Not enough memory" in html
    )
    log = body(login("alice"), "/jobs/alpha.example.org/101/")
    assert "Rebooting &lt;instance&gt;" in log and "2023-11-14 22:13:20" in log
    body(login("carol"), "/jobs/alpha.example.org/101/", 404)
    body(login("bob"), "/jobs/alpha.example.org/101/", 404)
    body(login("root"), "/jobs/alpha.example.org/999/", 404)


def test_instance_detail_is_404_for_whoever_may_not_see_it(login) -> None:
    path = "/instances/alpha.example.org/aai-box.grnet.gr/"
    html = body(login("alice"), path)
    assert "83.212.168.153" in html and "Needs reboot" in html and "aa:00:00:12:34:56" in html
    assert "<dt>Owners</dt><dd>alice </dd>" in html and "<dt>Secondary nodes</dt><dd>—</dd>" in html
    mirrored = body(login("root"), "/instances/beta.example.org/vm-b1.example.org/")
    assert "<dt>Secondary nodes</dt><dd>alpha-n2.example.org</dd>" in mirrored
    assert "<dt>Owners</dt><dd>ops (group) </dd>" in mirrored
    body(login("helpdesk"), path)
    body(login("bob"), path, 404)
    body(login("carol"), path, 404)
    body(login("root"), "/instances/beta.example.org/aai-box.grnet.gr/", 404)


def test_anonymous_gets_nothing(client: Client, scenario: Scenario) -> None:
    paths = ["/", "/clusters/", "/nodes/", "/jobs/", "/clusters/alpha.example.org/"]
    paths += ["/instances/alpha.example.org/aai-box.grnet.gr/", "/jobs/alpha.example.org/101/"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_pages_work_without_javascript(login) -> None:
    html = body(login("root"), "/")
    assert '<form method="get" class="filters" action="/"' in html
    assert '<button type="submit">Apply</button>' in html
    assert "/static/fleet/vendor/htmx-2.0.11.min.js" in html


def test_logout_is_a_post(login) -> None:
    client = login("alice")
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302

"""What the detail pages show of structured values and of owners: the instance policy as a table, whatever
shape a cluster sends; owners whose names no account has yet; e-mail addresses for admins only."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from fleet.inventory.models import Instance
from fleet.inventory.owners import sync_owners
from fleet.jobs.models import Job, JobStatus
from fleet.simulator.defaults import IPOLICY
from tests.inventory import factories

pytestmark = pytest.mark.django_db


def page(user: User, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def cells(html: str) -> list[list[str]]:
    """The rows of the instance policy's table, as text."""
    table = re.search(r'<table class="ipolicy">(.*?)</table>', html, re.S)
    assert table, "no instance policy table"
    return [
        re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row) for row in re.findall(r"<tr>(.*?)</tr>", table[1])
    ]


@pytest.fixture
def root(db: None) -> User:
    return User.objects.create_superuser("root", "root@example.org", "pw")


def test_ganeti_s_instance_policy_is_a_table_of_bounds_and_settings(root: User) -> None:
    factories.cluster("c.example.org", ipolicy=IPOLICY)
    html = page(root, "/clusters/c.example.org/")
    assert cells(html) == [
        ["Parameter", "Minimum", "Maximum", "Standard"],
        ["Memory", "128 MB", "32.0 GB", "128 MB"],
        ["CPUs", "1", "8", "1"],
        ["Disk size", "1.0 GB", "1.0 TB", "1.0 GB"],
        ["Disks", "1", "16", "1"],
        ["NICs", "1", "8", "1"],
        ["Spindles", "1", "12", "1"],
    ]
    templates = ", ".join(IPOLICY["disk-templates"])
    assert f"<dt>Disk templates</dt><dd>{templates}</dd>" in html
    assert "<dt>vCPUs per physical CPU</dt><dd>4.0</dd>" in html
    assert "<dt>Instances per spindle</dt><dd>32.0</dd>" in html
    assert "{&#x27;" not in html and "minmax" not in html


def test_several_bound_sets_and_unknown_keys_get_columns_and_rows_of_their_own(root: User) -> None:
    low, high = {"memory-size": 128, "cpu-count": 1}, {"memory-size": 2048, "cpu-count": 2}
    ipolicy = {
        "minmax": [{"min": low, "max": high}, {"min": high, "max": {"memory-size": 8192}}],
        "new-knob": 3,
    }
    factories.cluster("c.example.org", ipolicy=ipolicy)
    html = page(root, "/clusters/c.example.org/")
    assert cells(html) == [
        ["Parameter", "Minimum (1)", "Maximum (1)", "Minimum (2)", "Maximum (2)"],
        ["Memory", "128 MB", "2.0 GB", "2.0 GB", "8.0 GB"],
        ["CPUs", "1", "2", "2", ""],
    ]
    assert "<dt>new-knob</dt><dd>3</dd>" in html


@pytest.mark.parametrize(
    "ipolicy",
    [
        [1, 2],
        "text",
        {"minmax": "x", "std": [1]},
        {"minmax": [None, {"min": 5}]},
        {"std": {"cpu-count": None}},
    ],
)
def test_an_instance_policy_of_any_shape_gives_a_page(root: User, ipolicy: object) -> None:
    factories.cluster("c.example.org", ipolicy=ipolicy)
    html = page(root, "/clusters/c.example.org/")
    assert "Traceback" not in html and "{&#x27;" not in html


OWNED = ["fleet:user:alice", "fleet:user:ghost", "fleet:group:team", "fleet:group:nobody-yet"]


@pytest.fixture
def shared(db: None) -> Instance:
    """An instance owned by alice, by a user and a group that have no account yet, and by the group team,
    of which bob is a member."""
    cluster = factories.cluster("c.example.org")
    instance = factories.instance(cluster, "vm.example.org", OWNED)
    User.objects.create_user("alice", "alice.private@example.org", "pw")
    User.objects.create_user("bob", "bob.private@example.org", "pw").groups.add(
        Group.objects.create(name="team")
    )
    sync_owners(Instance.objects.all())
    return instance


DETAIL = "/instances/c.example.org/vm.example.org/"


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_owners_without_an_account_show_and_users_see_no_e_mail(shared: Instance, who: str) -> None:
    html = page(User.objects.get(username=who), DETAIL)
    assert "<dt>Owners</dt><dd>alice ghost nobody-yet (group) team (group) </dd>" in html
    listed = page(User.objects.get(username=who), "/")
    owners = re.findall(r'<a href="\?owner=([^"]+)"', listed)
    assert owners == ["alice", "ghost", "nobody-yet", "team"]
    for text in (html, listed):
        assert "@example.org" not in text


def test_admins_see_the_owners_e_mail_and_which_names_have_no_account(shared: Instance, root: User) -> None:
    html = page(root, DETAIL)
    owners = re.search(r"<dt>Owners</dt><dd>(.*?)</dd>", html)
    assert owners, html
    assert re.sub(r"<[^>]+>", "", owners[1]) == (
        "alice &lt;alice.private@example.org&gt; ghost (no account yet) "
        "nobody-yet (group) (no such group yet) team (group) "
    )
    assert '<a href="mailto:alice.private@example.org">' in owners[1]


@pytest.mark.parametrize("name", ["odd/name.example.org", "per%2Fcent%.example.org", "a%25b/c"])
def test_a_name_no_host_name_holds_still_links_to_its_pages(root: User, name: str) -> None:
    cluster = factories.cluster(f"{name}.cluster")
    factories.instance(cluster, name)
    listed = page(root, "/")
    links = re.findall(r'<td><a href="(/instances/[^"]+)">', listed)
    assert len(links) == 1
    detail = page(root, links[0])
    assert f"<h1>{name} " in detail
    cluster_link = re.search(r'<a href="(/clusters/[^"]+)">', detail)
    assert cluster_link and f"<h1>{name}.cluster</h1>" in page(root, cluster_link[1])


def test_a_job_log_entry_that_is_a_structure_shows_as_json(root: User) -> None:
    cluster = factories.cluster("alpha.example.org")
    Job.objects.create(
        cluster=cluster,
        job_id=9,
        status=JobStatus.SUCCESS,
        log=[[1, [1_700_000_000, 0], "remote-import", {"recent_output": ["a", "b"], "progress": 50}]],
    )
    html = page(root, "/jobs/alpha.example.org/9/")
    assert "{&quot;progress&quot;: 50, &quot;recent_output&quot;: [&quot;a&quot;, &quot;b&quot;]}" in html
    assert "{&#x27;" not in html  # not Python's repr

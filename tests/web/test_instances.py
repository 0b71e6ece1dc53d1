"""The instance list (home page): scoping, filters and search with exact counts, sorting, paging, cost."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from fleet.inventory import filtersets, paging
from fleet.inventory.models import Instance
from fleet.inventory.owners import sync_owners
from tests.inventory import factories
from tests.inventory.scenario import Scenario

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<td><a href="/instances/[^"]+/">(?!Details<)([^<]+)</a></td>')


def listed(client: Client, query: str = "") -> list[str]:
    response = client.get("/" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.content[:2000]
    return ROW.findall(response.content.decode())


def test_anonymous_is_sent_to_login(client: Client, scenario: Scenario) -> None:
    response = client.get("/?q=x")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_login_form_logs_in(client: Client, scenario: Scenario) -> None:
    response = client.post("/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert len(listed(client)) == 5


@pytest.mark.parametrize(
    ("who", "count"), [("alice", 5), ("bob", 5), ("carol", 0), ("helpdesk", 18), ("root", 18)]
)
def test_each_role_sees_its_instances(login, who: str, count: int) -> None:
    assert len(listed(login(who), "page_size=50")) == count


def test_user_list_is_exactly_their_instances(login) -> None:
    assert sorted(listed(login("bob"))) == [
        "vm-a3.example.org",
        "vm-a4.example.org",
        "vm-a5.example.org",
        "vm-b0.example.org",
        "vm-b1.example.org",
    ]


FILTERS = [
    ("q=aai", 1),
    ("q=83.212.168", 2),
    ("q=aa:00:00:12", 1),
    ("q=AA-00-00-12-34-56", 1),
    ("q=alice", 5),
    ("q=ops", 5),
    ("q=example.org", 17),
    ("q=%25", 1),
    ("q=_", 1),
    ("q=%CE%B4%CE%BF%CE%BA%CE%B9%CE%BC%CE%AE", 1),
    ("q=nothing-like-this", 0),
    ("name=vm-a", 10),
    ("name=VM-A", 10),
    ("cluster=alpha.example.org", 11),
    ("cluster=alpha.example.org&cluster=beta.example.org", 17),
    ("cluster=nowhere.example.org", 0),
    ("status=running", 14),
    ("status=ADMIN_down", 3),
    ("status=ERROR_down", 1),
    ("status=running&status=ERROR_down", 15),
    ("owner=alice", 5),
    ("owner=ops", 5),
    ("owner=alice&owner=ops", 9),
    ("owner=dave", 1),  # the tag names dave, who has no account yet
    ("owner__ic=ali", 5),
    ("node=alpha-n1.example.org", 6),
    ("node=alpha-n2.example.org", 6),
    ("node__ic=beta-n", 6),
    ("network=public_500", 2),
    ("network=vian85", 1),
    ("network__ic=vian", 1),
    ("ip=83.212.168.1", 2),
    ("ip=83.212.168.15", 1),
    ("mac=12:34", 1),
    ("vcpus_min=4", 4),
    ("vcpus_max=1", 4),
    ("vcpus_min=2&vcpus_max=3", 10),
    ("memory_min=4096", 6),
    ("memory_max=1024", 5),
    ("memory_min=0&memory_max=9007199254740992", 18),
    ("memory_min=5000&memory_max=10", 0),
    ("disk_min=61440", 6),
    ("disk_max=0", 7),
    ("cluster=alpha.example.org&status=running&owner=alice", 4),
]


@pytest.mark.parametrize(("query", "count"), FILTERS)
def test_filters_and_search_give_exact_counts(login, query: str, count: int) -> None:
    assert len(listed(login("root"), f"{query}&page_size=100")) == count


@pytest.mark.parametrize(
    ("query", "count"), [("q=vm-a", 3), ("cluster=beta.example.org", 1), ("owner=ops", 1)]
)
def test_filters_stay_within_what_the_user_sees(login, query: str, count: int) -> None:
    assert len(listed(login("alice"), query)) == count


@pytest.mark.parametrize(
    ("sort", "first", "last"),
    [
        ("name", "50%_off.example.org", None),
        ("memory", "vm-a0.example.org", "ünïcode-δοκιμή.example.org"),
        ("-memory", "ünïcode-δοκιμή.example.org", "vm-a5.example.org"),
        ("vcpus", "50%_off.example.org", "ünïcode-δοκιμή.example.org"),
        ("-disk", "vm-a9.example.org", None),
        ("cluster", "aai-box.grnet.gr", "ünïcode-δοκιμή.example.org"),
        ("-cluster", "ünïcode-δοκιμή.example.org", None),
        ("node", "aai-box.grnet.gr", None),
        ("status", "vm-a7.example.org", None),
    ],
)
def test_sorting(login, sort: str, first: str, last: str | None) -> None:
    rows = listed(login("root"), f"sort={sort}&page_size=50")
    assert len(rows) == 18
    assert rows[0] == first
    if last:
        assert rows[-1] == last


def test_sort_ties_are_broken_by_id_so_pages_never_overlap(login, scenario: Scenario) -> None:
    for n in range(45):
        factories.instance(scenario.alpha, f"same{n:02d}.example.org", memory=777)
    client = login("root")
    pages = [
        listed(client, f"memory_min=777&memory_max=777&sort=memory&page_size=20&page={p}") for p in (1, 2, 3)
    ]
    assert [len(page) for page in pages] == [20, 20, 5]
    assert len({name for page in pages for name in page}) == 45


@pytest.mark.parametrize(
    ("size", "pages"), [(20, [20, 20, 20, 20, 20, 20, 18]), (50, [50, 50, 38]), (100, [100, 38])]
)
def test_page_sizes(login, scenario: Scenario, size: int, pages: list[int]) -> None:
    for n in range(120):
        factories.instance(scenario.alpha, f"bulk{n:03d}.example.org")
    client = login("root")
    assert [len(listed(client, f"page_size={size}&page={p}")) for p in range(1, len(pages) + 1)] == pages
    body = client.get(f"/?page_size={size}").content.decode()
    assert f"of {Instance.objects.count()} entries" in body


def test_a_page_past_the_end_shows_the_last_page(login) -> None:
    client = login("root")
    assert listed(client, "page=999999") == listed(client, "page=1")  # 18 rows: one page
    assert listed(client, "page_size=50&page=2") == listed(client, "page_size=50")


def test_a_page_size_not_offered_is_a_400_naming_it(login) -> None:
    response = login("root").get("/?page_size=7")
    assert response.status_code == 400
    assert "page_size" in response.content.decode()


def test_state_lives_in_the_url_and_the_form_shows_it(login) -> None:
    body = login("root").get("/?q=vm-a&status=running&page_size=50&sort=-memory").content.decode()
    assert 'name="q" value="vm-a"' in body
    assert '<option value="running" selected>' in body
    assert '<option value="50" selected>' in body
    assert 'name="sort" value="-memory"' in body
    assert "sort=memory" in body  # the Memory header now sorts the other way


def test_htmx_gets_only_the_results(login) -> None:
    response = login("root").get("/?q=aai", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'class="filters"' not in body  # no page, no filter form: the rows
    assert ROW.findall(body) == ["aai-box.grnet.gr"]


def test_row_shows_the_talks_columns(login) -> None:
    body = login("alice").get("/?q=aai").content.decode()
    for text in ["alpha.example.org", "alpha-n1.example.org", "6.0 GB", "10.0 GB, 50.0 GB", ">6<", "Running",
                 "Needs reboot", "83.212.168.153@public_500", ">alice<",
                 "<summary>Actions</summary>"]:  # fmt: skip
        assert text in body, text


def test_network_and_owner_cells(login, scenario: Scenario) -> None:
    """Each NIC on its own line, as ip@network (a link), ip@link or link; users, then groups; all escaped."""
    instance = factories.instance(
        scenario.alpha, "cells.example.org", tags=["fleet:user:alice", "fleet:group:ops", "fleet:user:root"]
    )
    instance.nics.create(index=0, ip="10.9.9.1", network_name="net <a&b>")
    instance.nics.create(index=1, network_name="bare")
    instance.nics.create(index=2, ip="10.9.9.3", link="br<0>")
    instance.nics.create(index=3, ip="10.9.9.4")
    instance.nics.create(index=4, link="br9")
    sync_owners(Instance.objects.all())
    body = login("root").get("/?q=cells.example").content.decode()
    assert (
        '<td><a href="?network=net%20%3Ca%26b%3E">10.9.9.1@net &lt;a&amp;b&gt;</a><br>'
        '<a href="?network=bare">bare</a><br>10.9.9.3@br&lt;0&gt;<br>10.9.9.4<br>br9</td>'
    ) in body
    assert (
        '<td><a href="?owner=alice">alice</a> <a href="?owner=root">root</a> '
        '<a href="?owner=ops" class="group">ops</a> </td>'
    ) in body


def test_names_and_descriptions_are_escaped(login, scenario: Scenario) -> None:
    factories.instance(scenario.alpha, "<img src=x onerror=alert(1)>.example.org", tags=["fleet:user:alice"])
    sync_owners(Instance.objects.all())
    body = login("alice").get("/").content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;.example.org" in body
    factories.cluster('<b class="x">c</b>.example.org')
    body = login("root").get("/?cluster=%3Cb+class%3D%22x%22%3Ec%3C%2Fb%3E.example.org").content.decode()
    assert '<option value="&lt;b class=&quot;x&quot;&gt;c&lt;/b&gt;.example.org" selected>' in body
    assert "<b class" not in body


def test_query_count_is_fixed_whatever_the_page_size(
    login, scenario: Scenario, django_assert_num_queries
) -> None:
    for n in range(120):
        instance = factories.instance(scenario.alpha, f"bulk{n:03d}.example.org", tags=["fleet:user:root"])
        instance.nics.create(
            index=0, ip=f"10.0.{n}.1", mac=f"aa:00:00:00:{n:02x}:01", network_name="public_500"
        )
    sync_owners(Instance.objects.all())
    client = login("root")
    client.get("/")  # warms the session
    # the session with its user, count, the page (with its NICs and owners), the clusters (choices and
    # banner), and for the Actions column what the caller may do on the page's rows and what is under way
    for size in (20, 100):
        with django_assert_num_queries(6):
            assert client.get(f"/?page_size={size}").status_code == 200
    # and a global search first reads the ids its owner, IP and MAC lookups find
    with django_assert_num_queries(7):
        client.get("/?q=bulk&cluster=alpha.example.org&status=running&owner=root&sort=-memory&page_size=50")


def test_query_count_for_a_user(login, django_assert_num_queries) -> None:
    client = login("alice")
    client.get("/")
    # the same as an admin's, plus the user's permissions (user and group), which decide the role
    with django_assert_num_queries(8):
        assert client.get("/?page_size=50").status_code == 200


@pytest.mark.parametrize("path", ["/", "/jobs/", "/nodes/", "/clusters/"])
def test_the_all_option_of_a_choice_filter_filters_nothing(login, path: str) -> None:
    """The forms' "All" option sends an empty value (``status=``, ``role=``, ``health=``): no 400."""
    client = login("root")
    for param in ("status", "role", "health"):
        assert client.get(f"{path}?{param}=").status_code == 200


def test_a_search_with_no_match_says_so(login) -> None:
    response = login("root").get("/?q=nothing-is-called-this")
    assert response.status_code == 200
    assert b"No instance matches." in response.content and b"No entries" in response.content


def test_a_long_list_counts_to_a_bound_and_its_last_page_is_one_click_away(login, scenario: Scenario) -> None:
    Instance.objects.bulk_create(
        Instance(cluster=scenario.alpha, name=f"bulk{n:04d}.example.org") for n in range(paging.COUNT_BOUND)
    )
    total = Instance.objects.count()  # the bound plus the scenario's 18
    client = login("root")
    body = client.get("/?page_size=50").content.decode()
    assert f"Showing 1 to 50 of more than {paging.COUNT_BOUND} entries" in body
    assert '<a href="?page_size=50&amp;page=2" rel="next">Next</a>' in body
    assert '<a href="?page_size=50&amp;page=last">Last</a>' in body
    last = client.get("/?page_size=50&page=last").content.decode()
    assert f"Showing {total - total % 50 + 1} to {total} of {total} entries" in last
    assert ROW.findall(last) == listed(client, "page_size=50&page=999")
    # a page past the bound counts them all, and every page holds what an exact count would give it
    deep = client.get("/?page_size=50&page=21").content.decode()
    assert f"Showing 1001 to 1018 of {total} entries" in deep
    names = sorted(Instance.objects.values_list("name", flat=True))
    assert [name for p in (20, 21) for name in listed(client, f"page_size=50&page={p}")] == names[950:]


SEARCHES = [(query, count) for query, count in FILTERS if query.startswith("q=")]


@pytest.mark.parametrize("bound", [0, 1, 4, 5])
@pytest.mark.parametrize(("query", "count"), SEARCHES)
def test_a_search_finds_the_same_whether_its_other_matches_are_inlined_or_not(
    login, monkeypatch: pytest.MonkeyPatch, query: str, count: int, bound: int
) -> None:
    """Owner, IP and MAC matches go into the statement as constants, or as a subquery past a bound (alice
    owns 5 instances: ``q=alice`` is inlined from a bound of 5, not below)."""
    inline = listed(login("root"), f"{query}&page_size=100")
    monkeypatch.setattr(filtersets, "SEARCH_INLINE_IDS", bound)
    assert listed(login("root"), f"{query}&page_size=100") == inline
    assert len(inline) == count

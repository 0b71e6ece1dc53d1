"""The instance list in a real browser against `fleet demo`: each account sees what it may, and search,
filters, sorting and paging work and live in the URL; a black-holed cluster gets a banner."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Stack, Truth, log_in

pytestmark = pytest.mark.browser

SUMMARY = "#results .summary > span"
ROWS = "#results table.instances tbody tr"


def summary(page: Page) -> tuple[int, int, int]:
    """(first, last, total) of "Showing first to last of total entries"."""
    text = page.locator(SUMMARY).first.inner_text()
    match = re.fullmatch(r"Showing (\d+) to (\d+) of (\d+) entries", text.strip())
    assert match, text
    first, last, total = (int(g) for g in match.groups())
    return first, last, total


def column(page: Page, index: int) -> list[str]:
    """The text of column ``index`` (from 1) of every row shown."""
    return [text.strip() for text in page.locator(f"{ROWS} td:nth-child({index})").all_inner_texts()]


def gib(text: str) -> float:
    number, unit = text.split()
    return float(number) * {"MB": 1 / 1024, "GB": 1, "TB": 1024}[unit]


def test_the_admin_sees_every_instance(page: Page, stack: Stack, truth: Truth) -> None:
    log_in(page, stack, stack.admin)
    total = len(truth.names)
    assert total >= 100
    assert summary(page) == (1, 20, total)
    assert len(column(page, 1)) == 20
    expect(page.locator("header.top")).to_contain_text("(admin)")
    expect(page.locator("header.top nav")).to_contain_text("Nodes")


def test_the_user_sees_only_their_instances(page: Page, stack: Stack, truth: Truth) -> None:
    user = stack.user["username"]
    names = truth.user_names
    assert 0 < len(names) < len(truth.names)
    log_in(page, stack, stack.user)
    page.select_option("select[name=page_size]", "100")
    expect(page.locator(SUMMARY).first).to_have_text(f"Showing 1 to {len(names)} of {len(names)} entries")
    assert sorted(column(page, 1)) == names
    assert all(user in owners.split() for owners in column(page, 9))
    expect(page.locator("header.top nav")).not_to_contain_text("Nodes")


def test_global_search_finds_an_instance_by_name(page: Page, stack: Stack, truth: Truth) -> None:
    name = truth.names[37]
    log_in(page, stack, stack.admin)
    page.fill("input[name=q]", name)
    expect(page.locator(SUMMARY).first).to_have_text("Showing 1 to 1 of 1 entries")
    assert column(page, 1) == [name]
    expect(page).to_have_url(re.compile(r"[?&]q=" + re.escape(name)))
    page.fill("input[name=q]", "no-such-instance-anywhere")
    expect(page.locator("#results")).to_contain_text("No instance matches.")


def test_a_column_filter_narrows_the_list(page: Page, stack: Stack, truth: Truth) -> None:
    cluster = stack.facts["clusters"][1]
    count = truth.per_cluster[cluster]
    log_in(page, stack, stack.admin)
    page.select_option("select[name=cluster]", cluster)
    expect(page).to_have_url(re.compile(r"[?&]cluster=" + re.escape(cluster)))
    expect(page.locator(SUMMARY).first).to_have_text(f"Showing 1 to 20 of {count} entries")
    assert set(column(page, 2)) == {cluster}


def test_sorting_by_a_column_orders_the_rows(page: Page, stack: Stack) -> None:
    log_in(page, stack, stack.admin)
    page.click("th a.sort:has-text('Memory')")
    expect(page).to_have_url(re.compile(r"[?&]sort=memory\b"))
    ascending = [gib(v) for v in column(page, 4)]
    assert ascending == sorted(ascending)
    page.click("th a.sort:has-text('Memory')")
    expect(page).to_have_url(re.compile(r"[?&]sort=-memory\b"))
    descending = [gib(v) for v in column(page, 4)]
    assert descending == sorted(descending, reverse=True)
    assert descending[0] > ascending[0]
    page.click("th a.sort:has-text('Name')")
    names = column(page, 1)
    assert names == sorted(names)


def test_page_size_and_page_two_live_in_the_url(page: Page, stack: Stack) -> None:
    log_in(page, stack, stack.admin)
    total = summary(page)[2]
    page.select_option("select[name=page_size]", "50")
    expect(page.locator(SUMMARY).first).to_have_text(f"Showing 1 to 50 of {total} entries")
    first_page = column(page, 1)
    page.locator("#results nav.pages a[rel=next]").first.click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(SUMMARY).first).to_have_text(f"Showing 51 to 100 of {total} entries")
    second_page = column(page, 1)
    assert len(second_page) == 50 and not set(first_page) & set(second_page)
    assert re.search(r"[?&]page_size=50\b", page.url)
    page.reload()
    expect(page.locator(SUMMARY).first).to_have_text(f"Showing 51 to 100 of {total} entries")
    assert column(page, 1) == second_page
    expect(page.locator("select[name=page_size]")).to_have_value("50")
    expect(page.locator("#results nav.pages [aria-current=page]").first).to_have_text("2")


def test_filters_and_sort_survive_a_reload(page: Page, stack: Stack) -> None:
    cluster = stack.facts["clusters"][0]
    log_in(page, stack, stack.admin)
    page.select_option("select[name=cluster]", cluster)
    expect(page).to_have_url(re.compile(r"cluster="))
    page.click("th a.sort:has-text('CPUs')")
    page.click("th a.sort:has-text('CPUs')")
    expect(page).to_have_url(re.compile(r"sort=-vcpus"))
    before = (summary(page), column(page, 1))
    page.reload()
    assert (summary(page), column(page, 1)) == before
    expect(page.locator("select[name=cluster]")).to_have_value(cluster)
    cpus = [int(v) for v in column(page, 6)]
    assert cpus == sorted(cpus, reverse=True)


def test_logout_ends_the_session(page: Page, stack: Stack) -> None:
    log_in(page, stack, stack.user)
    page.click("header.top form button:has-text('Log out')")
    expect(page).to_have_url(f"{stack.url}login/")
    page.goto(stack.url)
    expect(page).to_have_url(f"{stack.url}login/?next=/")


def test_a_black_holed_cluster_gets_a_banner_after_a_worker_pass(page: Page, stack: Stack) -> None:
    cluster = stack.facts["clusters"][-1]
    faults = f"{stack.facts['control_url']}/clusters/{cluster}/faults"
    log_in(page, stack, stack.admin)
    banner = page.locator(f".alerts .alert[data-cluster='{cluster}']")
    expect(banner).to_have_count(0)
    httpx.put(faults, json={"blackhole": True}, timeout=10).raise_for_status()
    try:
        _reload_until(page, lambda: banner.count() == 1)
        expect(banner).to_contain_text("is unreachable")
        expect(banner.locator("pre.last-error")).to_be_visible()  # the admin sees the error
        page.screenshot(path=str(stack.state_dir / "banner.png"))
    finally:
        httpx.delete(faults, timeout=10).raise_for_status()
    _reload_until(page, lambda: banner.count() == 0)


def _reload_until(page: Page, done: object, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the page did not change in time"
        page.wait_for_timeout(500)
        page.reload()

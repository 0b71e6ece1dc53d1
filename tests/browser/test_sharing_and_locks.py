"""Co-owners, the lock and isolation in a real browser against `fleet demo`: an owner adds a co-owner through
the page (the picker suggests the name), the worker runs the tag job on the simulator, and the co-owner, in
a browser of their own, then sees the VM; an admin locks a VM and the owner's reboot is refused on the page
with the reason; an admin isolates a VM with an allow-from range and the badge appears."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Stack, log_in

pytestmark = pytest.mark.browser

PASSWORD = "co-owner-password-1"


def owned_vm(stack: Stack, index: int) -> tuple[str, str]:
    """The demo user's ``index``-th running VM by name (the other browser tests use the first)."""
    user = stack.user["username"]
    cluster, name = stack.query(
        "from fleet.inventory.models import InstanceOwner\n"
        f"rows = InstanceOwner.objects.filter(name={user!r}, kind='user', instance__status='running')"
        ".select_related('instance__cluster').order_by('instance__name')\n"
        f"o = rows[{index}]\n"
        "result = [o.instance.cluster.name, o.instance.name]"
    )
    return cluster, name


def until(page: Page, check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Reload ``page`` until ``check()`` holds: the worker resyncs what a job changed once it ended."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the page never showed it"
        time.sleep(0.5)
        page.reload()


@pytest.fixture
def second(browser: Browser) -> Iterator[Page]:
    """A page in a browser context of its own: another person, logged in beside the first."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_an_owner_adds_a_co_owner_who_then_sees_the_vm(page: Page, second: Page, stack: Stack) -> None:
    stack.query(
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.create_user('cobrowser', 'cobrowser@example.org', {PASSWORD!r})\n"
        "result = 1"
    )
    cluster, name = owned_vm(stack, 1)
    co_owner = {"username": "cobrowser", "password": PASSWORD}
    log_in(second, stack, co_owner)
    second.goto(f"{stack.url}?q={name}")
    expect(second.locator("#results")).not_to_contain_text(name)

    log_in(page, stack, stack.user)
    page.goto(f"{stack.url}instances/{cluster}/{name}/")
    field = page.locator("form.owner-form input[name=name]")
    field.press_sequentially("cobr")
    suggestion = page.locator("#owner-names option[value=cobrowser]")
    expect(suggestion).to_have_count(1)  # the picker's answer, by htmx
    expect(suggestion).to_have_text("")  # a name, no e-mail address, for an owner
    field.fill("cobrowser")
    page.click("form.owner-form button[value=add_owner]")
    panel = page.locator("#operation")
    expect(panel).to_contain_text("Change owners by " + stack.user["username"])
    expect(panel).to_have_attribute("data-status", "succeeded", timeout=60_000)

    until(second, lambda: second.locator(f"#results a:text-is('{name}')").count() == 1)
    second.goto(f"{stack.url}instances/{cluster}/{name}/")
    expect(second.locator("dl.facts")).to_contain_text("cobrowser")


def test_an_admin_locks_a_vm_and_the_owners_reboot_is_refused(page: Page, second: Page, stack: Stack) -> None:
    cluster, name = owned_vm(stack, 2)
    url = f"{stack.url}instances/{cluster}/{name}/"
    log_in(second, stack, stack.user)
    second.goto(url)  # the owner's page, open before the lock
    expect(second.locator("section.actions button[value=reboot]")).to_have_count(1)

    log_in(page, stack, stack.admin)
    page.goto(url)
    page.fill("section.actions input[name=reason]", "abuse report 7")
    page.click("section.actions button[value=lock]")
    expect(page.locator("#operation")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    until(page, lambda: page.locator("h1 .badge", has_text="Admin lock").count() == 1)

    second.click("section.actions button[value=reboot]")
    expect(second.locator("section.actions .alert")).to_contain_text(f"{name} is locked by an administrator.")
    second.goto(url)
    expect(second.locator("section.actions button[value=reboot]")).to_have_count(0)  # no longer offered


def test_an_admin_isolates_a_vm_with_an_allow_from_range(page: Page, stack: Stack) -> None:
    cluster, name = owned_vm(stack, 3)
    log_in(page, stack, stack.admin)
    page.goto(f"{stack.url}instances/{cluster}/{name}/")
    page.fill("section.actions input[name=allow_from]", "192.0.2.0/24")  # too wide: refused, said why
    page.click("section.actions button[value=isolate]")
    expect(page.locator("section.actions .alert")).to_contain_text("192.0.2.0/24 is too wide")
    page.fill("section.actions input[name=allow_from]", "192.0.2.0/28")
    page.click("section.actions button[value=isolate]")
    expect(page.locator("#operation")).to_have_attribute("data-status", "succeeded", timeout=60_000)
    until(page, lambda: page.locator("h1 .badge", has_text="Isolated").count() == 1)
    expect(page.locator("form.allow-from-form")).to_contain_text("192.0.2.0/28")
    expect(page.locator("section.actions button[value=deisolate]")).to_have_count(1)
    page.goto(f"{stack.url}?q={name}")
    expect(
        page.locator("#results tbody tr", has_text=name).locator(".badge", has_text="Isolated")
    ).to_have_count(1)

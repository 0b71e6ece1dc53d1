"""The browser tests' stack: `fleet demo` itself (tests/demo.py: a tiny simulated fleet, synced, the worker
and gunicorn on a free port, an admin and a user who owns VMs), and Debian's Chromium driven by Playwright.

Playwright's own browser downloads are never used: the tests launch /usr/bin/chromium (scripts/bootstrap
installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.demo import Stack, running_demo
from tests.notify.smtpd import SmtpServer

__all__ = ["Stack"]  # the browser tests import it from here

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SYNC_INTERVAL = 1.0  # the worker's pass interval: a fault shows on the pages within a few seconds
INSTANCES = 130  # enough for several pages at every page size


@pytest.fixture(scope="package")
def smtp_server() -> Iterator[SmtpServer]:
    """The SMTP server the demo's worker sends its mails to (a test reads what arrived)."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory, smtp_server: SmtpServer) -> Iterator[Stack]:
    """`fleet demo --profile tiny` on a free port, its mail to ``smtp_server``, until the session ends."""
    options = [
        "--instances", str(INSTANCES), "--interval", str(SYNC_INTERVAL), "--rapi-timeout", "1",
        "--time-scale", "0.1", "--smtp", f"127.0.0.1:{smtp_server.port}",
    ]  # fmt: skip
    with running_demo(tmp_path_factory.mktemp("demo"), *options) as running:
        yield running


@dataclass(frozen=True)
class Truth:
    """What the demo's database holds, to compare the pages with: read once, in one process."""

    names: list[str]  # every instance, by name
    per_cluster: dict[str, int]
    user_names: list[str]  # what the demo user may see, by the access policy


@pytest.fixture(scope="package")
def truth(stack: Stack) -> Truth:
    user = stack.user["username"]
    facts = stack.query(
        "from django.contrib.auth import get_user_model\n"
        "from django.db.models import Count\n"
        "from fleet.access.policy import Action, restrict\n"
        "from fleet.inventory.models import Instance\n"
        f"user = get_user_model().objects.get(username={user!r})\n"
        "rows = Instance.objects.order_by()\n"
        "mine = restrict(Instance.objects.all(), user, Action.VIEW)\n"
        "result = {\n"
        "    'names': sorted(rows.values_list('name', flat=True)),\n"
        "    'per_cluster': dict(rows.values_list('cluster__name').annotate(n=Count('pk'))),\n"
        "    'user_names': sorted(mine.values_list('name', flat=True)),\n"
        "}"
    )
    return Truth(**facts)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that create VMs on the shared stack run last, after those that compare its VMs with ``truth``."""
    items.sort(key=lambda item: item.get_closest_marker("adds_instances") is not None)


# Playwright's sync API runs an event loop in this thread for as long as it lives: it must end with the
# browser tests, or every later test that starts a loop of its own (asyncio.run, Django's async checks) fails.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run scripts/bootstrap (apt-get install chromium)"
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) and page per test."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Page, stack: Stack, account: dict[str, str]) -> None:
    """Log in through the login form and land on the instance list."""
    page.goto(stack.url)
    expect(page).to_have_url(f"{stack.url}login/?next=/")
    page.fill("#id_username", account["username"])
    page.fill("#id_password", account["password"])
    page.click("form.login button[type=submit]")
    expect(page).to_have_url(stack.url)
    expect(page.locator("header.top")).to_contain_text(account["username"])

"""The API token page in a real browser: the demo user makes a key and a script reads the API with it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Stack, Truth, log_in

pytestmark = pytest.mark.browser


def test_a_user_makes_a_key_that_a_script_can_use(page: Page, stack: Stack, truth: Truth) -> None:
    log_in(page, stack, stack.user)
    page.get_by_role("link", name="API token").click()
    page.get_by_role("button", name="Create a key").click()
    key = page.locator("pre.token-key").inner_text().strip()
    assert len(key) == 40
    answer = httpx.get(
        stack.url + "api/instances/",
        params={"page_size": 100},
        headers={"Authorization": f"Token {key}"},
        timeout=30,
    )
    answer.raise_for_status()
    assert sorted(row["name"] for row in answer.json()["results"]) == truth.user_names
    page.reload()
    expect(page.locator("pre.token-key")).to_have_count(0)
    expect(page.locator("main")).to_contain_text(f"starting with {key[:6]}")

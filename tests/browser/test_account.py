"""The API tokens page in a real browser: the demo user makes a read token that a script uses, sees it in the
list without its key, and revokes it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Stack, Truth, log_in

pytestmark = pytest.mark.browser


def test_a_user_makes_a_read_token_a_script_uses_then_revokes_it(
    page: Page, stack: Stack, truth: Truth
) -> None:
    log_in(page, stack, stack.user)
    page.get_by_role("link", name="API tokens").click()
    expect(page.locator("main")).to_contain_text("You have no tokens.")
    page.get_by_label("Name (what it is for)").fill("inventory report")
    page.get_by_label("read", exact=True).check()
    page.get_by_label("Expires after").select_option("7d")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("pre.token-key").inner_text().strip()
    assert key.startswith("fleet_") and len(key) == 60
    script = httpx.Client(base_url=stack.url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    answer = script.get("api/instances/", params={"page_size": 100})
    answer.raise_for_status()
    assert sorted(row["name"] for row in answer.json()["results"]) == truth.user_names
    refused = script.post("api/instances/", json={})
    assert refused.status_code == 403 and "may only read" in refused.json()["detail"]

    page.reload()
    expect(page.locator("pre.token-key")).to_have_count(0)
    row = page.locator("table.tokens tr", has_text="inventory report")
    expect(row).to_contain_text(key[:16])
    expect(row).to_contain_text("read")
    row.get_by_role("button", name="Revoke inventory report").click()
    expect(page.locator("main")).to_contain_text("You have no tokens.")
    answer = script.get("api/instances/")
    assert answer.status_code == 401 and "was revoked" in answer.json()["detail"]

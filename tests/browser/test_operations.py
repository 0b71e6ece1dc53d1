"""Operating a VM in a real browser against `fleet demo`: the owner reboots a VM from its page and watches
the job to its end without reloading; the audit log shows it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Stack, log_in

pytestmark = pytest.mark.browser


def test_a_user_reboots_a_vm_and_watches_the_job_to_its_end(page: Page, stack: Stack) -> None:
    user = stack.user["username"]
    cluster, name = stack.query(
        "from fleet.inventory.models import InstanceOwner\n"
        f"o = InstanceOwner.objects.filter(name={user!r}, kind='user', instance__status='running')"
        ".select_related('instance__cluster').order_by('instance__name').first()\n"
        "result = [o.instance.cluster.name, o.instance.name]"
    )
    log_in(page, stack, stack.user)
    page.goto(f"{stack.url}instances/{cluster}/{name}/")
    expect(page.locator("section.actions button[value=migrate]")).to_have_count(0)  # administrators only
    page.fill("section.actions input[name=reason]", "watched from a browser")
    page.select_option("section.actions select[name=kind]", "hard")
    page.click("section.actions button[value=reboot]")
    expect(page).to_have_url(f"{stack.url}instances/{cluster}/{name}/")
    page.evaluate("window.fleetMarker = 'still the same page'")  # gone if the page reloads
    panel = page.locator("#operation")
    expect(panel).to_contain_text("Reboot by " + user)
    expect(panel).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(panel.locator("a")).to_contain_text("job ")
    assert page.evaluate("window.fleetMarker") == "still the same page"  # followed live, by htmx
    page.goto(f"{stack.url}audit/")
    expect(page.locator("table.operations tbody tr").first).to_contain_text("watched from a browser")
    expect(page.locator("table.operations tbody tr").first).to_contain_text("Succeeded")

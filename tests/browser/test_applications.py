"""Getting a VM in a real browser against `fleet demo`: the user adds an ed25519 key and applies with a fast
OS disk and a bulk data disk; the reviewer's mail reaches the local SMTP server; the reviewer opens its link
and approves with automatic placement; the demo's worker sends the create to the simulator and follows it;
the VM shows in the user's list, running, theirs by its owner tag, and they are mailed."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Stack, log_in
from tests.notify.smtpd import SmtpServer
from tests.requests.keys import line

pytestmark = pytest.mark.browser
HOSTNAME = "newvm.example.org"


@pytest.mark.adds_instances
def test_a_user_applies_and_the_reviewer_approves_from_the_mail(
    page: Page, browser: Browser, stack: Stack, smtp_server: SmtpServer
) -> None:
    log_in(page, stack, stack.user)
    page.click("text=SSH keys")
    page.fill("#id_public_key", line("ed25519", "me@laptop"))
    page.click("button[value=add]")
    expect(page.locator("code.fingerprint")).to_have_text(re.compile(r"SHA256:[A-Za-z0-9+/]{43}"))

    page.click("nav >> text=Applications")
    page.click("text=Apply for a VM")
    page.fill("#id_hostname", HOSTNAME)
    page.fill("#id_memory_mb", "1024")
    page.fill("#id_vcpus", "1")
    page.select_option("#id_disk0_class", "fast")
    page.fill("#id_disk0_gb", "10")
    page.select_option("#id_disk1_class", "bulk")
    page.fill("#id_disk1_gb", "200")
    page.select_option("#id_os", "debootstrap+default")
    page.select_option("#id_network", index=0)
    page.fill("#id_organisation", "GRNET")
    page.check("#id_accept_terms")
    page.click("form.application-form button[type=submit]")
    expect(page.locator("td.status-pending")).to_have_text("pending review")
    expect(page.locator("ul.disks")).to_contain_text("Data disk 1: 200 GiB bulk")

    deadline = time.monotonic() + 30
    while not [m for m in smtp_server.inbox.arrived if HOSTNAME in str(m.message["Subject"])]:
        assert time.monotonic() < deadline, f"no mail arrived: {smtp_server.inbox.subjects()}"
        time.sleep(0.2)
    mails = [m for m in smtp_server.inbox.arrived if HOSTNAME in str(m.message["Subject"])]
    admin = stack.admin
    (mail,) = [m for m in mails if m.recipients == [f"{admin['username']}@localhost"]]
    match = re.search(r"http://\S+/applications/\d+/review/", mail.text())
    assert match is not None, mail.text()

    reviewer = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    log_in(reviewer, stack, admin)
    reviewer.goto(match.group(0))
    expect(reviewer.locator("table.automatic tr.chosen")).to_contain_text("chosen: most free memory left")
    reviewer.click("button[value=auto]")
    expect(reviewer.locator("td[class^=status-]")).to_have_text(re.compile("being created|created"))
    expect(reviewer.locator("table.application")).to_contain_text(", plain")  # bulk takes plain only

    # the worker sends the create and follows its job to the end
    deadline = time.monotonic() + 30
    while page.locator("td.status-succeeded").count() == 0:
        assert time.monotonic() < deadline, page.locator("table.application").inner_text()
        time.sleep(0.5)
        page.reload()
    expect(page.locator("td.status-succeeded")).to_have_text("created")
    deadline = time.monotonic() + 30
    while not [m for m in smtp_server.inbox.arrived if "is ready" in str(m.message["Subject"])]:
        assert time.monotonic() < deadline, f"no mail arrived: {smtp_server.inbox.subjects()}"
        time.sleep(0.2)
    (ready,) = [m for m in smtp_server.inbox.arrived if "is ready" in str(m.message["Subject"])]
    assert ready.recipients == [f"{stack.user['username']}@localhost"] and HOSTNAME in ready.text()

    # the job's resync brought the VM in: in the user's list, running, theirs by its owner tag
    row = page.locator("#results table.instances tbody tr", has_text=HOSTNAME)
    deadline = time.monotonic() + 30
    while True:
        page.goto(f"{stack.url}?q={HOSTNAME}")
        if row.count() == 1 and "Running" in row.inner_text():
            break
        assert time.monotonic() < deadline, page.locator("#results").inner_text()
        time.sleep(0.5)
    expect(row).to_contain_text(stack.user["username"])
    row.locator(f"a:text-is('{HOSTNAME}')").click()
    expect(page.locator("code", has_text=f":user:{stack.user['username']}")).to_have_count(1)

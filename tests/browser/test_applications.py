"""Getting a VM in a real browser against `fleet demo`, as far as it goes today: the user adds an ed25519
key and applies with a fast OS disk and a bulk data disk; the reviewer's mail reaches the local SMTP server;
the reviewer opens its link and approves with automatic placement."""

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
    expect(reviewer.locator("td.status-approved")).to_have_text("approved")
    expect(reviewer.locator("table.application")).to_contain_text(", plain")  # bulk takes plain only

    page.reload()
    expect(page.locator("td.status-approved")).to_have_text("approved")

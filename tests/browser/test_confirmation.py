"""A reinstall confirmed from the mailed link, in a real browser against `fleet demo`: the owner asks for
it with the OS parameters cleared, reads the mail that arrived at the local SMTP server, opens the link,
confirms, and watches the job end; the simulated cluster then holds no OS parameters for the instance."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Stack, log_in
from tests.notify.smtpd import SmtpServer

pytestmark = pytest.mark.browser

RAPI = (
    "from fleet.inventory.models import Instance\n"
    "from fleet.rapi import Credentials, Pin, RapiClient, instances, query, qfilter\n"
    "from fleet.rapi.flows import wait_for_job\n"
    "i = Instance.objects.select_related('cluster').get(name=NAME)\n"
    "c = i.cluster\n"
    "client = RapiClient.connect(c.rapi_url, trust=Pin(c.rapi_fingerprint),"
    " credentials=Credentials(c.rapi_username, c.rapi_password()))\n"
    "named = qfilter.and_(qfilter.eq('name', NAME))\n"
)
IMAGE = {"img_id": "debian-12", "img_format": "diskdump"}


def cluster_osparams(stack: Stack, name: str) -> dict[str, object]:
    """The instance's own OS parameters, as the simulated cluster holds them (query2, as an operator)."""
    return dict(
        stack.query(
            f"NAME = {name!r}\n{RAPI}"
            "rows = client.call(query.run('instance', ['custom_osparams'], named))\n"
            "result = rows.records()[0]['custom_osparams']"
        )
    )


def test_a_reinstall_confirmed_from_the_mailed_link_clears_the_os_parameters(
    page: Page, stack: Stack, smtp_server: SmtpServer
) -> None:
    user = stack.user["username"]
    cluster, name = stack.query(
        "from fleet.inventory.models import InstanceOwner\n"
        f"o = InstanceOwner.objects.filter(name={user!r}, kind='user', instance__status='running')"
        ".exclude(instance__disk_sizes=[]).select_related('instance__cluster')"
        ".order_by('-instance__name').first()\n"
        "result = [o.instance.cluster.name, o.instance.name]"
    )
    # An operator gives the instance OS parameters of its image, outside Fleet; the worker reads them.
    stack.query(
        f"NAME = {name!r}\n{RAPI}"
        f"job = client.call(instances.modify(NAME, osparams={IMAGE!r}))\n"
        "result = client.run(wait_for_job(job)).status"
    )
    assert cluster_osparams(stack, name) == IMAGE
    read = (
        f"from fleet.inventory.models import Instance\nresult = Instance.objects.get(name={name!r}).osparams"
    )
    deadline = time.monotonic() + 30
    while stack.query(read) != IMAGE:
        assert time.monotonic() < deadline, "the worker did not read the OS parameters"
        time.sleep(0.5)

    log_in(page, stack, stack.user)
    page.goto(f"{stack.url}instances/{cluster}/{name}/")
    form = page.locator("form.reinstall-form")
    form.locator("select[name=os]").select_option("debootstrap+default")
    form.locator("input[name=clear_osparams]").check()
    form.locator("input[name=reason]").fill("a clean system")
    form.locator("button[value=reinstall]").click()
    expect(page).to_have_url(f"{stack.url}instances/{cluster}/{name}/")
    panel = page.locator("#operation")
    expect(panel).to_have_attribute("data-status", "awaiting")
    expect(panel).to_contain_text("a link was mailed to " + user)

    deadline = time.monotonic() + 30
    while not [m for m in smtp_server.inbox.arrived if name in str(m.message["Subject"])]:
        assert time.monotonic() < deadline, f"no mail arrived: {smtp_server.inbox.subjects()}"
        time.sleep(0.2)
    (mail,) = [m for m in smtp_server.inbox.arrived if name in str(m.message["Subject"])]
    assert mail.recipients == [f"{user}@localhost"]
    text = mail.text()
    assert f"{user} asked Fleet, from 127.0.0.1 through the Web, to reinstall {name}" in text
    assert "OS parameters cleared" in text and "a clean system" in text
    match = re.search(r"http://\S+/confirm/[A-Za-z0-9_-]+/", text)
    assert match is not None, text

    page.goto(match.group(0))
    expect(page.locator("p.what")).to_contain_text(f"Reinstall {name} with debootstrap+default")
    expect(page.locator("dd[data-status]")).to_have_text("Awaiting confirmation")  # opening it did nothing
    page.click("form.confirm-form button")
    expect(page).to_have_url(f"{stack.url}instances/{cluster}/{name}/")
    expect(panel).to_have_attribute("data-status", "succeeded", timeout=60_000)
    expect(panel.locator("a")).to_have_count(2)  # the modify that cleared them, then the reinstall
    assert cluster_osparams(stack, name) == {}
    page.goto(f"{stack.url}audit/")
    row = page.locator("table.operations tbody tr").first
    expect(row).to_contain_text("a clean system")
    expect(row).to_contain_text("(mailed link, from 127.0.0.1)")

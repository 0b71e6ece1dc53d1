"""The instance list on a 1,366 x 768 screen (the smallest laptop the NOC uses): no horizontal scrolling, even
with an instance of a long name, many NICs and many owners, made so on the simulated cluster and synced."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import NamedTuple

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import Stack, log_in

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
LONG = "a-rather-long-instance-name-some-project-chose-for-its-replica"
NICS = 8  # the instance's first NIC and seven more
OWNERS = [f"fleet:user:owner-with-a-long-account-name-{n}@research.example.org" for n in range(4)]
GROUPS = [f"fleet:group:a-group-of-people-with-a-long-name-{n}" for n in range(3)]
SYNC_TIMEOUT = 30.0

# A stopped instance that the demo user does not own (their list stays as the other tests expect) gets seven
# more NICs, seven owners and a long name: three jobs, queued at once, followed to their ends.
CROWD = """
from fleet.inventory.models import Instance
from fleet.rapi import instances
from fleet.sync.connect import Connection
victim = (
    Instance.objects.select_related("cluster").filter(status="ADMIN_down")
    .exclude(owners__name=USER).order_by("name").first()
)
nic = {"link": "br-a-long-bridge-name"}
nics = [("add", -1, {**nic, "ip": f"2001:db8:aaaa:bbbb:cccc:dddd:eeee:{n:04x}"}) for n in range(1, NICS)]
with Connection.of(victim.cluster).client() as client:
    jobs = [
        client.call(instances.modify(victim.name, nics=nics)),
        client.call(instances.add_tags(victim.name, TAGS)),
        client.call(instances.rename(victim.name, NEW, name_check=False, ip_check=False)),
    ]
    result = [client.wait_for_job(job).status for job in jobs]
"""

SYNCED = """
from fleet.inventory.models import Instance
row = Instance.objects.filter(name=NEW).first()
result = None if row is None else [row.nics.count(), row.owners.count()]
"""


@pytest.fixture(scope="module")
def crowded(stack: Stack) -> Crowded:
    """The crowded instance, once Fleet shows it synced."""
    name = f"{LONG}.example.org"
    values = {
        "USER": repr(stack.user["username"]),
        "NEW": repr(name),
        "NICS": str(NICS),
        "TAGS": repr(OWNERS + GROUPS),
    }
    assert stack.query(_fill(CROWD, values)) == ["success"] * 3
    deadline = time.monotonic() + SYNC_TIMEOUT
    # the instance keeps the owners it had
    while not (
        (synced := stack.query(_fill(SYNCED, values)))
        and synced[0] == NICS
        and synced[1] >= len(OWNERS + GROUPS)
    ):
        assert time.monotonic() < deadline, f"not synced in time: (NICs, owners) {synced}"
        time.sleep(1)
    return Crowded(name, synced[1])


class Crowded(NamedTuple):
    name: str
    owners: int


def _fill(code: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        code = code.replace(key, value)
    return code


@pytest.fixture
def small_screen(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def overflow(page: Page) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the page's scrolling element."""
    widths: list[int] = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    return widths[0], widths[1]


def lines(element: Locator) -> int:
    """How many lines of text ``element`` takes on screen."""
    count: int = element.evaluate(
        "el => { const r = document.createRange(); r.selectNodeContents(el);"
        " return new Set([...r.getClientRects()].map(rect => Math.round(rect.top))).size; }"
    )
    return count


def test_the_instance_list_fits_a_1366_pixel_screen(
    small_screen: Page, stack: Stack, crowded: Crowded
) -> None:
    page = small_screen
    log_in(page, stack, stack.admin)
    page.select_option("select[name=page_size]", "100")
    expect(page.locator("#results table.instances tbody tr")).to_have_count(100)
    row = page.locator("#results table.instances tbody tr", has_text=crowded.name)
    expect(row).to_have_count(1)
    expect(row.locator("td:nth-child(8)")).to_contain_text(
        "2001:db8:aaaa:bbbb:cccc:dddd:eeee:7@br-a-long-bridge-name"
    )
    assert lines(row.locator("td:nth-child(8)")) >= NICS  # every NIC on a line of its own
    expect(row.locator("td:nth-child(9) a")).to_have_count(crowded.owners)
    scroll, client = overflow(page)
    assert scroll <= client, f"the list is {scroll} pixels wide on a {client}-pixel screen"
    # The last column (per-row actions) is narrow and on screen, its menu on one line.
    options = row.locator("td:last-child")
    box = options.bounding_box()
    assert box is not None and box["x"] + box["width"] <= client and box["width"] < 120, box
    assert lines(options.locator("summary")) == 1
    # Sizes stay whole: numbers are not broken to make room.
    assert lines(row.locator("td:nth-child(5)")) == 1
    page.screenshot(path=str(stack.state_dir / "list-1366.png"), full_page=True)

"""The console against `fleet demo`: its simulator's RFB servers, `fleet console-proxy` and the pages.

The browser walks the whole path (log in, the Console button, noVNC draws the VM's screen, the "send text"
box and Ctrl-Alt-Del arrive at the VM's VNC server, as its log shows). Over plain HTTP and WebSocket: a token
works once, an expired, tampered or foreign one is refused without reaching a node, a user who does not own
the VM gets none, a stopped VM gets the message, and a VNC server that never answers is a timeout with a
message.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import socket
import ssl
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from django.core import signing
from playwright.sync_api import Page, expect

from fleet.console import tokens
from tests.browser.conftest import Stack, log_in

pytestmark = pytest.mark.browser

OTHER, OTHER_PASSWORD = "console-outsider", "console-outsider-password-1"
KEYSYM = {"ctrl": 0xFFE3, "alt": 0xFFE9, "delete": 0xFFFF, "return": 0xFF0D}


_OWNED: dict[str, list[tuple[str, str]]] = {}


def owned(stack: Stack, status: str, index: int = 0) -> tuple[str, str]:
    """The demo user's ``index``-th VM with ``status``, from the end by name (the power tests use the first
    ones); read once per module, in one process."""
    if not _OWNED:
        user = stack.user["username"]
        _OWNED.update(
            stack.query(
                "from fleet.inventory.models import InstanceOwner\n"
                f"rows = InstanceOwner.objects.filter(name={user!r}, kind='user')"
                ".select_related('instance__cluster').order_by('-instance__name')\n"
                "result = {}\n"
                "for o in rows:\n"
                "    vm = [o.instance.cluster.name, o.instance.name]\n"
                "    result.setdefault(o.instance.status, []).append(vm)"
            )
        )
    cluster, name = _OWNED[status][index]
    return cluster, name


def rfb_log(stack: Stack, instance: str) -> list[dict[str, Any]]:
    """What the simulator's VNC server of ``instance`` received."""
    path = Path(stack.facts["simulator_state_dir"]) / "consoles.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [event for event in map(json.loads, lines) if event["instance"] == instance]


def forge(stack: Stack, token: str, **changes: Any) -> str:
    """``token`` with ``changes`` (expires, host, port), signed with the demo's own secret key."""
    secret = tomllib.loads(Path(stack.facts["config"]).read_text())["secret_key"]
    payload = signing.loads(token, key=secret, salt=tokens.SALT)
    payload.update({{"expires": "e", "host": "h", "port": "p"}[k]: v for k, v in changes.items()})
    return signing.dumps(payload, key=secret, salt=tokens.SALT)


def session(stack: Stack, session_id: str) -> dict[str, Any]:
    return dict(
        stack.query(
            "from fleet.console.models import ConsoleSession\n"
            f"s = ConsoleSession.objects.select_related('operation').get(pk={session_id!r})\n"
            "result = {'outcome': s.outcome, 'detail': s.detail, 'claimed': s.claimed_at is not None,"
            " 'operation': [s.operation.kind, s.operation.status, s.operation.requester_name]}"
        )
    )


class Web:
    """A logged-in HTTP session on the demo's pages."""

    def __init__(self, stack: Stack, username: str, password: str) -> None:
        self.client = httpx.Client(base_url=stack.url, timeout=30, follow_redirects=False)
        self.client.get("login/")
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.csrf}
        assert self.client.post("login/", data=form).status_code == 302

    @property
    def csrf(self) -> str:
        return str(self.client.cookies["csrftoken"])

    def status(self, session: str) -> dict[str, str]:
        return dict(self.client.get(f"console/{session}/").json())

    def token(self, cluster: str, name: str) -> httpx.Response:
        url = f"instances/{cluster}/{name}/console/token/"
        return self.client.post(url, headers={"X-CSRFToken": self.csrf, "Referer": str(self.client.base_url)})


async def _rfb_greeting(url: str) -> bytes | None:
    """Connect to the proxy with ``url`` and read what a VNC viewer gets first (None: refused)."""
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(
                url, protocols=["binary"], timeout=aiohttp.ClientWSTimeout(ws_close=5)
            ) as ws:
                message = await ws.receive(timeout=15)
                if message.type == aiohttp.WSMsgType.BINARY:
                    return bytes(message.data)
                return None
        except aiohttp.ClientError:
            return None


def greeting(url: str) -> bytes | None:
    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _rfb_greeting(url)).result()


@pytest.fixture(scope="module")
def owner(stack: Stack) -> Iterator[Web]:
    web = Web(stack, stack.user["username"], stack.user["password"])
    yield web
    web.client.close()


def test_console_in_the_browser(page: Page, stack: Stack) -> None:
    cluster, name = owned(stack, "running", 4)
    log_in(page, stack, stack.user)
    page.goto(f"{stack.url}instances/{cluster}/{name}/")
    page.click("a.console")
    expect(page.locator("#console")).to_have_attribute("data-state", "connected")
    canvas = page.locator("#console-screen canvas")
    expect(canvas).to_be_visible()
    # noVNC drew the VM's screen: the simulator's background and its name's light pixels.
    deadline = time.monotonic() + 10
    while True:
        colours = page.evaluate(
            "() => { const c = document.querySelector('#console-screen canvas');"
            " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const s = new Set();"
            " for (let i = 0; i < d.length; i += 4 * 97) s.add(d[i] + ',' + d[i+1] + ',' + d[i+2]);"
            " return s.size; }"
        )
        if colours >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert colours >= 2, "the console's framebuffer is blank"
    shot = page.locator("#console-screen").screenshot()
    assert len(set(shot[len(shot) // 2 :])) > 2  # the screenshot too is not one flat colour

    page.fill("#console-text", "echo hello\n")
    page.click("#console-send")
    page.click("#console-cad")
    wanted = [ord(c) for c in "echo hello"] + [KEYSYM["return"]]
    deadline = time.monotonic() + 10
    while True:
        pressed = [e["keysym"] for e in rfb_log(stack, name) if e["event"] == "key" and e["down"]]
        typed = [k for k in pressed if k < 0xFF00 or k == KEYSYM["return"]]
        if (typed[-len(wanted) :] == wanted and KEYSYM["delete"] in pressed) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert typed[-len(wanted) :] == wanted, pressed
    cad = pressed[pressed.index(KEYSYM["ctrl"], len(pressed) - 4) :]
    assert cad[:3] == [KEYSYM["ctrl"], KEYSYM["alt"], KEYSYM["delete"]], pressed

    # The audit log has the session, by its kind.
    page.goto(f"{stack.url}audit/")
    expect(page.locator("main")).to_contain_text("Console")

    # A stopped VM: the page says so, and no token was minted.
    cluster, stopped = owned(stack, "ADMIN_down")
    page.goto(f"{stack.url}instances/{cluster}/{stopped}/console/")
    expect(page.locator("#console-message")).to_contain_text("is not running")


def test_a_token_works_once(stack: Stack, owner: Web) -> None:
    cluster, name = owned(stack, "running", 5)
    answer = owner.token(cluster, name)
    assert answer.status_code == 200, answer.text
    minted = answer.json()
    assert greeting(minted["url"]) == b"RFB 003.008\n"
    assert greeting(minted["url"]) is None  # replayed
    seen = session(stack, minted["session"])
    assert seen["claimed"] and seen["operation"] == ["console", "succeeded", stack.user["username"]]
    assert seen["outcome"] == "ended"


def test_tampered_expired_and_foreign_tokens_are_refused(stack: Stack, owner: Web) -> None:
    cluster, name = owned(stack, "running", 5)
    minted = owner.token(cluster, name).json()
    url, token = minted["url"].split("?token=")
    payload, stamp, signature = token.split(":")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    assert greeting(f"{url}?token={payload}:{stamp}:{flipped}") is None
    foreign = "eyJzIjoiMCJ9:1xYjgV:" + signature
    assert greeting(f"{url}?token={foreign}") is None
    assert owner.status(minted["session"])["outcome"] == "minted"  # a tampered token claimed nothing
    # An expired token: signed by this Fleet, its seconds over.
    expired = forge(stack, token, expires=time.time() - 1)
    assert greeting(f"{url}?token={expired}") is None
    status = owner.status(minted["session"])
    assert status["outcome"] == "expired" and "expired" in status["message"]


def test_a_user_who_does_not_own_the_vm_gets_no_token(stack: Stack) -> None:
    cluster, name = owned(stack, "running", 5)
    stack.query(
        "from django.contrib.auth import get_user_model\n"
        f"u, _ = get_user_model().objects.get_or_create(username={OTHER!r})\n"
        f"u.set_password({OTHER_PASSWORD!r}); u.save()\n"
        "result = u.pk"
    )
    outsider = Web(stack, OTHER, OTHER_PASSWORD)
    answer = outsider.token(cluster, name)
    assert answer.status_code == 404 and "url" not in answer.text
    assert outsider.client.get(f"instances/{cluster}/{name}/console/").status_code == 404
    minted = stack.query(
        "from fleet.console.models import ConsoleSession\n"
        f"result = ConsoleSession.objects.filter(user__username={OTHER!r}).count()"
    )
    assert minted == 0


def test_a_stopped_vm_gets_the_message(stack: Stack, owner: Web) -> None:
    cluster, name = owned(stack, "ADMIN_down")
    answer = owner.token(cluster, name)
    assert answer.status_code == 409 and "is not running" in answer.json()["error"]


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts and never says a word, as a hung VNC server."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_vnc_server_that_never_answers_times_out_and_a_closed_port_is_unreachable(
    stack: Stack, owner: Web, silent_server: int
) -> None:
    cluster, name = owned(stack, "running", 5)
    minted = owner.token(cluster, name).json()
    url, token = minted["url"].split("?token=")
    token = forge(stack, token, host="127.0.0.1", port=silent_server)
    assert greeting(f"{url}?token={token}") is None
    status = owner.status(minted["session"])
    assert status["outcome"] == "timeout" and "did not answer" in status["message"], status
    # Nobody listens there: the node is unreachable, at once.
    minted = owner.token(cluster, name).json()
    url, token = minted["url"].split("?token=")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert greeting(f"{url}?token={forge(stack, token, host='127.0.0.1', port=port)}") is None
    status = owner.status(minted["session"])
    assert status["outcome"] == "unreachable" and "could not be reached" in status["message"], status


def test_a_hypervisor_without_a_console_gives_ganetis_message(stack: Stack, owner: Web) -> None:
    cluster, name = owned(stack, "running", 6)
    clusters = json.loads((Path(stack.facts["simulator_state_dir"]) / "clusters.json").read_text())
    row = next(r for r in clusters if r["name"] == cluster)
    with httpx.Client(
        base_url=row["url"],
        verify=ssl.create_default_context(cafile=row["cert_file"]),
        auth=(row["username"], row["password"]),
    ) as rapi:
        # No VNC address and no serial console: Ganeti's KVM answers a console dict of kind msg.
        job = rapi.put(f"/2/instances/{name}/modify", json={"hvparams": {"vnc_bind_address": ""}}).json()
        deadline = time.monotonic() + 30
        while rapi.get(f"/2/jobs/{job}").json()["status"] != "success":
            assert time.monotonic() < deadline, f"job {job} did not succeed"
            time.sleep(0.2)
        said = rapi.get(f"/2/instances/{name}/console").json()
    assert said["kind"] == "msg"
    answer = owner.token(cluster, name)
    assert answer.status_code == 409 and answer.json()["error"] == said["message"]


def test_the_clusters_vnc_password_is_what_the_proxy_answers_with(stack: Stack, owner: Web) -> None:
    cluster, name = owned(stack, "running", 5)
    password_file = stack.state_dir / "vnc-password"  # what the demo's simulated nodes ask for
    removed = stack.fleet("console-password", cluster, "--remove")
    try:
        assert removed.returncode == 0, removed.stderr
        minted = owner.token(cluster, name).json()
        assert greeting(minted["url"]) is None
        status = owner.status(minted["session"])
        assert status["outcome"] == "refused" and "Fleet has none for this cluster" in status["message"]
    finally:
        stored = stack.fleet("console-password", cluster, "--password-file", str(password_file))
    assert stored.returncode == 0 and "stored (encrypted)" in stored.stdout, stored.stderr
    minted = owner.token(cluster, name).json()
    assert greeting(minted["url"]) == b"RFB 003.008\n"

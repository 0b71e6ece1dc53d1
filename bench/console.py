"""What a console costs, measured in one run against `fleet demo` (its simulator's VNC servers ask for the
VNC password, which the proxy answers: the production path).

- C1: from the click on "Console" to noVNC's first framebuffer drawn on the canvas (Chromium through
  Playwright), side by side with loading the instance page itself (the ratio is what the console adds to a
  page the user already waited for), and the token's POST alone (policy, the RAPI console check, the rows).
- C2: how many simultaneous console sessions one `fleet console-proxy` holds: up to 200 WebSocket clients,
  each through the RFB handshake and a full framebuffer, kept open; at each step the proxy's memory, its
  own and its per-session children's (websockify forks one per connection): RSS added up, and PSS (shared
  pages split among those that share them, the honest total).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.common import report
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.demo import Stack, running_demo

CLICK_RUNS = 20
STEPS = (0, 25, 50, 100, 150, 200)
DRAWN = (
    "() => { const c = document.querySelector('#console-screen canvas'); if (!c || !c.width) return false;"
    " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; const s = new Set();"
    " for (let i = 0; i < d.length; i += 4 * 97) s.add(d[i] * 65536 + d[i+1] * 256 + d[i+2]);"
    " return s.size >= 2; }"
)


def _running_vms(stack: Stack, count: int) -> list[tuple[str, str]]:
    user = stack.user["username"]
    rows = stack.query(
        "from fleet.inventory.models import InstanceOwner\n"
        f"rows = InstanceOwner.objects.filter(name={user!r}, kind='user', instance__status='running')"
        ".select_related('instance__cluster').order_by('instance__name')\n"
        f"result = [[o.instance.cluster.name, o.instance.name] for o in rows[:{count}]]"
    )
    return [(c, n) for c, n in rows]


def _login(stack: Stack) -> httpx.Client:
    client = httpx.Client(base_url=stack.url, timeout=30)
    client.get("login/")
    form = {**stack.user, "csrfmiddlewaretoken": client.cookies["csrftoken"]}
    form.pop("owns", None)
    client.post("login/", data=form)
    return client


def _mint(client: httpx.Client, cluster: str, name: str) -> str:
    answer = client.post(
        f"instances/{cluster}/{name}/console/token/",
        headers={"X-CSRFToken": client.cookies["csrftoken"], "Referer": str(client.base_url)},
    )
    answer.raise_for_status()
    return str(answer.json()["url"])


def click_to_frame(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    cluster, name = _running_vms(stack, 1)[0]
    detail = f"{stack.url}instances/{cluster}/{name}/"
    rows: dict[str, list[float]] = {"instance page load": [], "Console click to first framebuffer": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(f"{stack.url}login/")
        page.fill("#id_username", stack.user["username"])
        page.fill("#id_password", stack.user["password"])
        page.click("form.login button[type=submit]")
        page.wait_for_url(stack.url)
        for _ in range(CLICK_RUNS):
            t0 = time.perf_counter()
            page.goto(detail)
            rows["instance page load"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            page.click("a.console")
            page.wait_for_function(DRAWN, polling="raf", timeout=15_000)
            rows["Console click to first framebuffer"].append(time.perf_counter() - t0)
        browser.close()
    client = _login(stack)
    with contextlib.closing(client):
        rows["token POST alone (policy, RAPI check, rows)"] = []
        for _ in range(CLICK_RUNS):
            t0 = time.perf_counter()
            _mint(client, cluster, name)
            rows["token POST alone (policy, RAPI check, rows)"].append(time.perf_counter() - t0)
    report("C1: click to the first framebuffer", rows, "instance page load")


async def _session(url: str, held: asyncio.Event, ready: asyncio.Queue[bool]) -> None:
    """A VNC viewer's side: handshake, one full framebuffer, then idle until released."""
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, protocols=["binary"], max_msg_size=0) as ws,
    ):
        buffer = bytearray()

        async def need(n: int) -> bytes:
            while len(buffer) < n:
                message = await ws.receive(timeout=30)
                if message.type != aiohttp.WSMsgType.BINARY:
                    raise RuntimeError(f"the proxy closed: {message.extra}")
                buffer.extend(message.data)
            out = bytes(buffer[:n])
            del buffer[:n]
            return out

        await need(12)
        await ws.send_bytes(b"RFB 003.008\n")
        await need(2)
        await ws.send_bytes(b"\x01")
        await need(4)
        await ws.send_bytes(b"\x01")
        header = await need(24)
        width, height = struct.unpack(">HH", header[:4])
        await need(struct.unpack(">I", header[20:24])[0])
        await ws.send_bytes(struct.pack(">BBHHHH", 3, 0, 0, 0, width, height))
        await need(4 + 12)
        await need(width * height * 4)
        await ready.put(True)
        await held.wait()


def _memory(pid: int) -> tuple[int, float, float]:
    """(processes, RSS MiB, PSS MiB) of ``pid`` and its children."""
    pids = [pid, *(int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    rss = pss = 0.0
    for each in pids:
        try:
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                key, _, value = line.partition(":")
                if key == "Rss":
                    rss += int(value.split()[0]) / 1024
                elif key == "Pss":
                    pss += int(value.split()[0]) / 1024
        except FileNotFoundError:
            continue
    return len(pids), rss, pss


def _proxy_pid(stack: Stack) -> int:
    for child in Path(f"/proc/{stack.process.pid}/task/{stack.process.pid}/children").read_text().split():
        if b"console-proxy" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise RuntimeError("no console-proxy under the demo")


async def _hold(stack: Stack) -> list[dict[str, Any]]:
    vms = _running_vms(stack, 10)
    pid = _proxy_pid(stack)
    held, ready = asyncio.Event(), asyncio.Queue[bool]()
    tasks: list[asyncio.Task[None]] = []
    curve = []
    client = _login(stack)
    with contextlib.closing(client):
        for step in STEPS:
            while len(tasks) < step:
                cluster, name = vms[len(tasks) % len(vms)]
                tasks.append(asyncio.create_task(_session(_mint(client, cluster, name), held, ready)))
            deadline = time.monotonic() + 120
            while ready.qsize() < step:
                failed = [t for t in tasks if t.done() and t.exception() is not None]
                if failed:
                    raise RuntimeError(f"a session failed: {failed[0].exception()}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {ready.qsize()} of {step} sessions came up")
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # let the children settle
            processes, rss, pss = _memory(pid)
            curve.append({"sessions": step, "processes": processes, "rss": rss, "pss": pss})
    held.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return curve


def sessions_held(stack: Stack) -> None:
    curve = asyncio.run(_hold(stack))
    print("\n== C2: simultaneous sessions held by one console proxy (each with a full framebuffer received)")
    base = curve[0]
    print(
        f"  {'sessions':>8}  {'processes':>9}  {'RSS MiB (sum)':>14}  {'PSS MiB':>8}  {'PSS per session':>16}"
    )
    for row in curve:
        per = (row["pss"] - base["pss"]) / row["sessions"] if row["sessions"] else 0.0
        print(
            f"  {row['sessions']:>8}  {row['processes']:>9}  {row['rss']:>14.1f}  {row['pss']:>8.1f}"
            f"  {per:>13.2f} MiB"
        )


def main() -> None:
    with (
        tempfile.TemporaryDirectory(prefix="fleet-bench-console-") as state,
        running_demo(Path(state), "--instances", "40", "--interval", "5", "--time-scale", "0.1") as stack,
    ):
        click_to_frame(stack)
        sessions_held(stack)


if __name__ == "__main__":
    main()

"""The simulator's servers: one asyncio loop, one HTTPS site per cluster, and the plain-HTTP control endpoint.

Request handling follows Ganeti's order: route (404), method (501), authentication (401/403), body (415/400),
handler; faults act before all of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import ssl
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fleet.simulator import routes
from fleet.simulator.auth import REALM, UsersFile
from fleet.simulator.base import Ctx, HttpError, Runtime, dumps
from fleet.simulator.control import control_app
from fleet.simulator.defaults import SOFTWARE_VERSION

SERVER_HEADER = f"Ganeti {SOFTWARE_VERSION}"
ARCHIVE_INTERVAL = 1.0


def _response(status: int, payload: bytes, headers: dict[str, str] | None = None) -> web.Response:
    resp = web.Response(
        status=status,
        body=payload,
        content_type="application/json",
        headers={"Server": SERVER_HEADER, **(headers or {})},
    )
    resp.force_close()
    return resp


def _error(err: HttpError) -> web.Response:
    return _response(err.code, dumps(err.body()), err.headers)


@dataclass
class Simulator:
    """Every simulated cluster served from one loop."""

    runtimes: list[Runtime]
    users: UsersFile
    cert_file: str
    key_file: str
    require_auth: bool = False
    control_host: str = "127.0.0.1"
    control_port: int | None = None
    on_change: Any = None  # called with the simulator after a failover, e.g. to rewrite clusters.json
    _sites: dict[str, web.TCPSite] = field(default_factory=dict)
    _runners: list[web.AppRunner] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _ssl: ssl.SSLContext | None = None
    _rng: random.Random = field(default_factory=random.Random)
    control_url: str | None = None
    console_log: str | None = None  # where the RFB servers log what they receive (fleet.simulator.rfb)
    vnc_password: str | None = None  # the consoles ask for it (VNC authentication) when set

    def runtime(self, name: str) -> Runtime | None:
        """The cluster of that name (or its short name)."""
        for rt in self.runtimes:
            if rt.cluster.name == name or rt.cluster.name.split(".")[0] == name:
                return rt
        return None

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open every cluster's site and the control endpoint, and start the archiver."""
        from fleet.simulator.tls import server_context

        self._ssl = server_context(self.cert_file, self.key_file)
        from fleet.simulator.rfb import Consoles

        for rt in self.runtimes:
            rt.extra["consoles"] = Consoles(rt.host, self.console_log, self.vnc_password)
            app = web.Application(client_max_size=64 * 1024 * 1024)
            app["rt"] = rt
            app.router.add_route("*", "/{tail:.*}", self._dispatch)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handle_signals=False)
            await runner.setup()
            self._runners.append(runner)
            rt.extra["runner"] = runner
            await self._open_site(rt)
        if self.control_port is not None:
            runner = web.AppRunner(control_app(self), access_log=None, handle_signals=False)
            await runner.setup()
            self._runners.append(runner)
            site = web.TCPSite(runner, self.control_host, self.control_port, reuse_address=True)
            await site.start()
            self.control_url = f"http://{self.control_host}:{self.control_port}"
        self._tasks.append(asyncio.create_task(self._archiver()))

    async def _open_site(self, rt: Runtime) -> None:
        site = web.TCPSite(rt.extra["runner"], rt.host, rt.port, ssl_context=self._ssl, reuse_address=True)
        await site.start()
        self._sites[rt.cluster.name] = site

    async def stop(self) -> None:
        """Stop the jobs, the sites and the archiver."""
        for task in self._tasks:
            task.cancel()
        for rt in self.runtimes:
            await rt.queue.close()
            await rt.extra["consoles"].close()
        for runner in self._runners:
            with contextlib.suppress(Exception):
                await runner.cleanup()

    async def failover(self, rt: Runtime) -> None:
        """Master failover: the RAPI moves to the other address, and another node becomes the master."""
        site = self._sites.pop(rt.cluster.name)
        await site.stop()
        rt.host, rt.failover_host = rt.failover_host, rt.host
        cluster = rt.cluster
        old = cluster.nodes[cluster.master()]
        new = next(
            (
                n
                for n in sorted(cluster.nodes)
                if cluster.nodes[n]["master_candidate"]
                and not cluster.nodes[n]["offline"]
                and n != old["name"]
            ),
            None,
        )
        if new is not None:
            old["master"] = False
            cluster.nodes[new]["master"] = True
            cluster.info["master"] = new
            cluster.refresh_nodes([old["name"], new])
        await self._open_site(rt)
        if self.on_change is not None:
            self.on_change(self)

    async def _archiver(self) -> None:
        while True:
            await asyncio.sleep(ARCHIVE_INTERVAL)
            for rt in self.runtimes:
                rt.queue.archive_old()
                if rt.faults.archive_early:
                    rt.queue.archive_finished()
                instances = rt.cluster.instances
                await rt.extra["consoles"].sweep(
                    lambda name, instances=instances: bool(instances.get(name, {}).get("oper_state"))
                )

    # -- requests ------------------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        rt: Runtime = request.app["rt"]
        rt.requests += 1
        faults = rt.faults
        if faults.blackhole:
            await asyncio.Event().wait()
        if faults.reset_rate and self._rng.random() < faults.reset_rate:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if faults.latency:
            await asyncio.sleep(faults.latency)
        if faults.error_rate and self._rng.random() < faults.error_rate:
            message = {
                502: "Master seems to be unreachable",
                503: "Job queue is drained, cannot submit",
                504: "Timeout while talking to the master daemon",
            }.get(faults.error_status)
            return _error(HttpError(faults.error_status, message))
        try:
            response = await self._handle(rt, request)
        except HttpError as err:
            return _error(err)
        if faults.drop_after_write and request.method != "GET" and not request.path.startswith("/2/query/"):
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return response

    async def _handle(self, rt: Runtime, request: web.Request) -> web.StreamResponse:
        found = routes.resolve(request.path)
        if found is None:
            raise HttpError(404)
        methods, items = found
        method = request.method.upper()
        if method not in methods:
            raise HttpError(501, f"Method {method} is unsupported for path {request.path}")
        handler, access = methods[method]
        self._authorize(request, access)
        raw = await request.read()
        body = None
        if raw:
            ctype = request.headers.get("Content-Type", "application/octet-stream")
            if ctype.lower() != "application/json":
                raise HttpError(415)
            try:
                body = json.loads(raw)
            except ValueError:
                raise HttpError(400, "Unable to parse JSON data") from None
        ctx = Ctx(rt, method, tuple(items), request.query, body)
        result = handler(ctx)
        if asyncio.iscoroutine(result):
            result = await result
        return _response(200, result if isinstance(result, bytes) else dumps(result))

    def _authorize(self, request: web.Request, access: tuple[str, ...]) -> None:
        user = self.users.authenticate(request.headers.get("Authorization"))
        unauthorized = HttpError(401, headers={"WWW-Authenticate": f'Basic realm="{REALM}"'})
        if user is False:
            raise unauthorized
        if not access and not self.require_auth:
            return
        if user is None:
            raise unauthorized
        assert not isinstance(user, bool)
        if access and not (user.options & set(access)):
            raise HttpError(403)


def write_clusters_file(sim: Simulator, path: str, fingerprint: str, credentials: dict[str, str]) -> None:
    """Write `clusters.json`: where each cluster listens and how to log in."""
    rows = [
        {
            "name": rt.cluster.name,
            "host": rt.host,
            "port": rt.port,
            "url": f"https://{rt.host}:{rt.port}",
            "fingerprint": fingerprint,
            "cert_file": sim.cert_file,
            **credentials,
        }
        for rt in sim.runtimes
    ]
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(rows, f, indent=2)
    os.replace(tmp, path)

"""The control endpoint: plain HTTP on loopback, JSON, to inspect clusters and inject faults at runtime.

GET    /clusters                    every cluster: name, url, faults
GET    /clusters/NAME/faults        the cluster's faults
PUT    /clusters/NAME/faults        {"latency": 0.5, "blackhole": true, ...}: set some faults
DELETE /clusters/NAME/faults        clear every fault
POST   /clusters/NAME/failover      move the cluster's RAPI to its other address
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from fleet.simulator.faults import FaultError

if TYPE_CHECKING:
    from fleet.simulator.base import Runtime
    from fleet.simulator.server import Simulator


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _describe(rt: Runtime) -> dict[str, Any]:
    return {
        "name": rt.cluster.name,
        "host": rt.host,
        "port": rt.port,
        "url": f"https://{rt.host}:{rt.port}",
        "faults": rt.faults.as_dict(),
        "jobs": len(rt.queue.jobs),
        "instances": len(rt.cluster.instances),
        "requests": rt.requests,
    }


def control_app(sim: Simulator) -> web.Application:
    """The aiohttp application of the control endpoint."""

    def runtime(request: web.Request) -> Runtime:
        rt = sim.runtime(request.match_info["name"])
        if rt is None:
            raise web.HTTPNotFound(text=f"no cluster {request.match_info['name']!r}\n")
        return rt

    async def clusters(request: web.Request) -> web.Response:
        return _json([_describe(rt) for rt in sim.runtimes])

    async def get_faults(request: web.Request) -> web.Response:
        return _json(runtime(request).faults.as_dict())

    async def set_faults(request: web.Request) -> web.Response:
        rt = runtime(request)
        try:
            settings = orjson.loads(await request.read() or b"{}")
            if not isinstance(settings, dict):
                raise FaultError("the body must be a JSON object")
            rt.faults.update(settings)
        except (FaultError, ValueError, TypeError) as exc:
            return _json({"error": str(exc)}, 400)
        if rt.faults.archive_early:
            rt.queue.archive_finished()
        return _json(rt.faults.as_dict())

    async def clear_faults(request: web.Request) -> web.Response:
        rt = runtime(request)
        rt.faults.clear()
        return _json(rt.faults.as_dict())

    async def failover(request: web.Request) -> web.Response:
        rt = runtime(request)
        await sim.failover(rt)
        return _json(_describe(rt))

    app = web.Application()
    app.router.add_get("/clusters", clusters)
    app.router.add_get("/clusters/{name}/faults", get_faults)
    app.router.add_put("/clusters/{name}/faults", set_faults)
    app.router.add_post("/clusters/{name}/faults", set_faults)
    app.router.add_delete("/clusters/{name}/faults", clear_faults)
    app.router.add_post("/clusters/{name}/failover", failover)
    return app

"""What every handler shares: the per-cluster runtime, the request context, HTTP errors, opcode submission."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import orjson
from multidict import MultiDictProxy

from fleet.simulator import validate
from fleet.simulator.faults import Faults
from fleet.simulator.jobs import JobQueue
from fleet.simulator.state import Cluster

PUBLIC: tuple[str, ...] = ()
READ: tuple[str, ...] = ("read", "write")
WRITE: tuple[str, ...] = ("write",)


class HttpError(Exception):
    """An HTTP error with Ganeti's JSON body {code, message, explain}."""

    def __init__(self, code: int, message: str | None = None, headers: dict[str, str] | None = None) -> None:
        short, long = BaseHTTPRequestHandler.responses.get(code, ("Unknown", "Unknown"))
        super().__init__(message or short)
        self.code = code
        self.message = message or short
        self.explain = long
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The error body."""
        import html

        return {"code": self.code, "message": html.escape(self.message), "explain": self.explain}


@dataclass
class Runtime:
    """One simulated cluster as the server runs it: state, job queue, faults, and where it listens."""

    cluster: Cluster
    queue: JobQueue
    faults: Faults
    host: str
    port: int
    failover_host: str
    extra: dict[str, Any] = field(default_factory=dict)
    requests: int = 0  # RAPI requests received, for measuring what a client costs the cluster


@dataclass
class Ctx:
    """One request: the cluster it reaches, the URL's items, the query arguments and the JSON body."""

    rt: Runtime
    method: str
    items: tuple[str, ...]
    query: MultiDictProxy[str]
    body: Any

    @property
    def cluster(self) -> Cluster:
        """The cluster's state."""
        return self.rt.cluster

    def int_arg(self, name: str, default: int = 0) -> int:
        """An integer query argument; `true` and the like give Ganeti's 400."""
        values = self.query.getall(name, [])
        if not values:
            return default
        try:
            return int(values[0])
        except ValueError:
            raise HttpError(400, f"Invalid value for the '{name}' parameter") from None

    def bool_arg(self, name: str) -> bool:
        """A boolean query argument, given as an integer."""
        return bool(self.int_arg(name))

    def str_arg(self, name: str, default: str | None = None) -> str | None:
        """A string query argument."""
        values = self.query.getall(name, [])
        return values[0] if values else default

    def dry_run(self) -> bool:
        """The `dry-run` query flag."""
        return self.bool_arg("dry-run")

    def body_dict(self) -> dict[str, Any]:
        """The body, which must be a JSON object (an absent body counts as {})."""
        if self.body is None:
            return {}
        if not isinstance(self.body, dict):
            raise HttpError(400, f"Body contents: Type is '{_pytype(self.body)}', but 'dict' is expected")
        return dict(self.body)

    def reason(self, resource: str) -> list[list[Any]]:
        """The reason trail RAPI adds: the user's `reason` argument, then its own entry."""
        trail: list[list[Any]] = []
        text = self.str_arg("reason")
        if text is not None:
            trail.append(["gnt:user", text, time.time_ns()])
        trail.append([f"gnt:library:rlib2:{resource}", "", time.time_ns()])
        return trail

    def submit(
        self,
        op_id: str,
        body: dict[str, Any] | None = None,
        static: dict[str, Any] | None = None,
        renames: dict[str, str] | None = None,
        resource: str = "",
    ) -> int:
        """Build an opcode from the body and static parameters, submit it as a one-opcode job."""
        return self.submit_ops([self.opcode(op_id, body, static, renames, resource)])

    def opcode(
        self,
        op_id: str,
        body: dict[str, Any] | None = None,
        static: dict[str, Any] | None = None,
        renames: dict[str, str] | None = None,
        resource: str = "",
    ) -> dict[str, Any]:
        """Build one opcode as RAPI does, or raise its 400."""
        params = dict(body or {})
        params["reason"] = [*(params.get("reason") or []), *self.reason(resource or op_id[3:].lower())]
        try:
            return validate.build(op_id, params, static, renames)
        except validate.BadParams as exc:
            raise HttpError(400, str(exc)) from None

    def submit_ops(self, ops: list[dict[str, Any]]) -> int:
        """Submit a job of opcodes.

        Ganeti 3.0.2's luxid writes job files in the C locale: a job holding any non-ASCII text (a tag, a
        name, a reason) is a 500, and the job id it took is never used."""
        if not dumps(ops).isascii():
            queue = self.rt.queue
            job_id, queue.next_id = queue.next_id, queue.next_id + 1
            raise HttpError(
                500,
                f"Failed to write /var/lib/ganeti/queue/job-{job_id}: /var/lib/ganeti/queue/job-{job_id}.tmp:"
                " commitBuffer: invalid argument (invalid character)",
            )
        return self.rt.queue.submit(ops)


def _pytype(value: Any) -> str:
    return {list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(type(value), "NoneType")


def dumps(value: Any) -> bytes:
    """JSON as the RAPI serves it."""
    return orjson.dumps(value)

"""The sync and async RAPI clients: they execute the calls and flows built elsewhere, nothing more.

    client = RapiClient.connect("https://cluster1:5080", trust=Pin(fp), credentials=Credentials("fleet", pw))
    info = client.call(cluster.info())
    job = client.wait_for_job(client.call(instances.startup("web1")), on_log=print_entry)

`AsyncRapiClient` has the same methods, awaited. Both take any transport with a `handle(Request) -> Response`
method, so tests (and the simulator, in-process) can stand in for the network.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Protocol, TypeVar, cast

from fleet.rapi import flows
from fleet.rapi.errors import RapiError
from fleet.rapi.models import Job
from fleet.rapi.transport import AsyncHttpxTransport, Credentials, HttpxTransport, Timeouts, Trust
from fleet.rapi.wire import Call, Flow, Request, Response

__all__ = ["AsyncRapiClient", "AsyncTransport", "RapiClient", "Transport"]

T = TypeVar("T")
R = TypeVar("R")


class Transport(Protocol):
    """Sends one request and returns the answer, raising `errors.TransportError` on network failures."""

    def handle(self, request: Request) -> Response: ...

    def close(self) -> None: ...


class AsyncTransport(Protocol):
    """The asyncio counterpart of `Transport`."""

    async def handle(self, request: Request) -> Response: ...

    async def aclose(self) -> None: ...


class RapiClient:
    """Blocking RAPI v2 client for one cluster (the CLI and views)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        trust: Trust,
        credentials: Credentials | None = None,
        timeouts: Timeouts | None = None,
        name: str | None = None,
    ) -> RapiClient:
        """A client over HTTPS to `url` (`https://host:port` or `host:port`), verifying TLS with `trust`;
        log lines name the cluster `name` (host:port by default)."""
        return cls(HttpxTransport(url, trust=trust, credentials=credentials, timeouts=timeouts, name=name))

    def call(self, call: Call[T]) -> T:
        """Send one call and return its parsed result; errors are `fleet.rapi.errors.RapiError`s."""
        return call.result(self.transport.handle(call.request))

    def run(self, flow: Flow[R]) -> R:
        """Drive a flow: send each call it yields and feed back the result (or throw in the error)."""
        value: Any = None
        error: RapiError | None = None
        try:
            while True:
                try:
                    call = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    return cast(R, stop.value)
                try:
                    value, error = self.call(call), None
                except RapiError as exc:
                    value, error = None, exc
        finally:
            flow.close()

    def wait_for_job(
        self,
        job_id: int | str,
        *,
        on_log: flows.LogCallback | None = None,
        max_wait: float | None = None,
        check: bool = True,
    ) -> Job:
        """Follow the job to its end (see `flows.wait_for_job`); raises JobFailed if it failed."""
        return self.run(flows.wait_for_job(job_id, on_log=on_log, max_wait=max_wait, check=check))

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()

    def __enter__(self) -> RapiClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncRapiClient:
    """Asyncio RAPI v2 client for one cluster (the worker)."""

    def __init__(self, transport: AsyncTransport) -> None:
        self.transport = transport

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        trust: Trust,
        credentials: Credentials | None = None,
        timeouts: Timeouts | None = None,
        name: str | None = None,
    ) -> AsyncRapiClient:
        """A client over HTTPS to `url` (`https://host:port` or `host:port`), verifying TLS with `trust`;
        log lines name the cluster `name` (host:port by default)."""
        return cls(
            AsyncHttpxTransport(url, trust=trust, credentials=credentials, timeouts=timeouts, name=name)
        )

    async def call(self, call: Call[T]) -> T:
        """Send one call and return its parsed result; errors are `fleet.rapi.errors.RapiError`s."""
        return call.result(await self.transport.handle(call.request))

    async def run(self, flow: Flow[R]) -> R:
        """Drive a flow: send each call it yields and feed back the result (or throw in the error)."""
        value: Any = None
        error: RapiError | None = None
        try:
            while True:
                try:
                    call = flow.send(value) if error is None else flow.throw(error)
                except StopIteration as stop:
                    return cast(R, stop.value)
                try:
                    value, error = await self.call(call), None
                except RapiError as exc:
                    value, error = None, exc
        finally:
            flow.close()

    async def wait_for_job(
        self,
        job_id: int | str,
        *,
        on_log: flows.LogCallback | None = None,
        max_wait: float | None = None,
        check: bool = True,
    ) -> Job:
        """Follow the job to its end (see `flows.wait_for_job`); raises JobFailed if it failed."""
        return await self.run(flows.wait_for_job(job_id, on_log=on_log, max_wait=max_wait, check=check))

    async def aclose(self) -> None:
        """Close the transport."""
        await self.transport.aclose()

    async def __aenter__(self) -> AsyncRapiClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

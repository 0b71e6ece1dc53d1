"""A cluster loop's RAPI clients: the current one, built from the cluster's connection settings, and those
it replaced, each closed as soon as the last request using it (a follower's long poll, say) is done."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from fleet.rapi import AsyncRapiClient
from fleet.sync.connect import Connection

__all__ = ["Clients"]


class Clients:
    """See the module docstring. Requests hold a client with :meth:`using`."""

    def __init__(self) -> None:
        self.current: AsyncRapiClient | None = None
        self.connection: Connection | None = None
        self._users: dict[AsyncRapiClient, int] = {}
        self._retired: set[AsyncRapiClient] = set()
        self._closing: set[asyncio.Task[None]] = set()

    async def set(self, connection: Connection | None) -> None:
        """Use ``connection`` from now on: a new client when it differs from the last one (none for a
        cluster that is offline or gone); the old client is closed once no request uses it."""
        if connection == self.connection:
            return
        old, self.connection = self.current, connection
        contactable = connection is not None and not connection.offline
        self.current = connection.async_client() if contactable and connection else None
        if old is not None:
            self._retired.add(old)
            self._close_idle()

    @contextlib.contextmanager
    def using(self, client: AsyncRapiClient) -> Iterator[AsyncRapiClient]:
        """Hold ``client`` for one request (or a long poll)."""
        self._users[client] = self._users.get(client, 0) + 1
        try:
            yield client
        finally:
            self._users[client] -= 1
            if not self._users[client]:
                del self._users[client]
            self._close_idle()

    async def close(self) -> None:
        """Close every client (the loop is stopping), and wait for those being closed."""
        if self.current is not None:
            self._retired.add(self.current)
            self.current, self.connection = None, None
        for client in list(self._retired):
            self._retired.discard(client)
            await client.aclose()
        await asyncio.gather(*self._closing, return_exceptions=True)

    def _close_idle(self) -> None:
        for client in [c for c in self._retired if c not in self._users]:
            self._retired.discard(client)
            task = asyncio.get_running_loop().create_task(client.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    @property
    def open_count(self) -> int:
        """How many clients are open: the current one, and replaced ones still in use."""
        return (self.current is not None) + len(self._retired) + len(self._closing)

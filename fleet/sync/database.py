"""The worker's database threads: ORM work never runs on the event loop.

Each pass parses and writes on one of a few threads; job follow-ups, small and waited for by a user, have a
thread of their own, so that they never queue behind the passes of other clusters.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from django.db import close_old_connections, connections

__all__ = ["Database"]

CLOSE_TIMEOUT = 10.0  # seconds the threads wait for one another when closing
P = ParamSpec("P")
T = TypeVar("T")


class Database:
    """Runs ORM work on a few threads of its own, never on the event loop.

    Each thread keeps its Django connection; a connection that broke is replaced before the next call.
    :meth:`urgent` work (job follow-ups: small, and waited for by a user) has a thread of its own unless
    ``urgent_thread`` is False. On SQLite one thread does everything (SQLite has one writer at a time
    anyway).
    """

    def __init__(self, threads: int, urgent_thread: bool = True) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fleet-db")
        self._urgent = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleet-db-urgent") if urgent_thread else None
        )
        self.threads = threads

    @classmethod
    def for_default(cls, threads: int = 4) -> Database:
        """One thread on SQLite, ``threads`` and one for urgent work otherwise."""
        if connections["default"].vendor == "sqlite":
            return cls(1, urgent_thread=False)
        return cls(threads)

    async def run(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` on a database thread."""
        return await self._run(self._pool, func, *args, **kwargs)

    async def urgent(self, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``func(*args, **kwargs)`` on the urgent thread, ahead of whatever queues for the others."""
        return await self._run(self._urgent or self._pool, func, *args, **kwargs)

    @staticmethod
    async def _run(pool: ThreadPoolExecutor, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        def call() -> T:
            close_old_connections()
            return func(*args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(pool, call)

    def close(self) -> None:
        """Close the threads' connections and stop the threads."""
        # One closing call per thread: each waits at the barrier until all have started, so no thread
        # takes two while another (and its connection) is left out.
        everyone = threading.Barrier(self.threads)

        def close_mine() -> None:
            connections.close_all()
            with contextlib.suppress(threading.BrokenBarrierError):
                everyone.wait(timeout=CLOSE_TIMEOUT)

        for _ in range(self.threads):
            self._pool.submit(close_mine)
        self._pool.shutdown(wait=True)
        if self._urgent is not None:
            self._urgent.submit(connections.close_all)
            self._urgent.shutdown(wait=True)

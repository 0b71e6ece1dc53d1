"""The worker's mail task: a sending pass of the outbox (``fleet.notify.courier``) every few seconds, after
ending the requests whose confirmation link expired unused (``fleet.operations.confirmation``).

Its I/O is the database and SMTP only, on a thread of its own: a mail server that is slow or down holds
neither the event loop nor the threads that write the clusters' state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connections

from fleet.notify import courier
from fleet.operations import confirmation

__all__ = ["MailTask"]

log = logging.getLogger("fleet.notify")


def _one_pass() -> courier.Pass:
    close_old_connections()
    expired = confirmation.expire_due()
    if expired:
        log.info("%d unconfirmed request(s) expired", expired)
    return courier.deliver_due()


class MailTask:
    """Sends what is due every ``interval`` seconds until the worker stops; :meth:`once` for one pass."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleet-mail")

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            await self.once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.interval)

    async def once(self) -> courier.Pass | None:
        """One pass; None if it failed (the database is down: the next pass tries again)."""
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, _one_pass)
        except Exception as exc:
            log.error("cannot send mail: %s", exc)
            return None

    def close(self) -> None:
        """Wait for a pass in progress, then close the thread's database connection."""
        self._thread.submit(connections.close_all)
        self._thread.shutdown(wait=True)

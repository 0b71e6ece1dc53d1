"""Django's PostgreSQL backend, whose connection health check runs only after the connection sat idle.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request that reuses a
persistent connection: a round trip on every page, to catch a server that went away (restarted, or the
connection dropped) while the connection was not in use. A connection that answered a query moments ago is
no more likely to be broken than one that answered ``SELECT 1``, so the check runs only when the connection
has not been used for :data:`IDLE_BEFORE_CHECK` seconds; within that time a busy server skips it.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.backends.postgresql import base

IDLE_BEFORE_CHECK = 5.0
"""Seconds without a query after which the next request checks its connection first."""


class DatabaseWrapper(base.DatabaseWrapper):  # type: ignore[misc]
    """``django.db.backends.postgresql`` that skips the health check of a connection used recently."""

    used_at = float("-inf")  # monotonic time of the last cursor made on this connection

    def create_cursor(self, name: str | None = None) -> Any:
        cursor = super().create_cursor(name)
        self.used_at = time.monotonic()
        return cursor

    def close_if_unusable_or_obsolete(self) -> None:
        super().close_if_unusable_or_obsolete()
        if self.connection is not None and time.monotonic() - self.used_at < IDLE_BEFORE_CHECK:
            self.health_check_done = True

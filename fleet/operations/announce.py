"""Telling the worker that an operation waits to be submitted: at once on PostgreSQL, at its next scan
elsewhere."""

from __future__ import annotations

from django.db import connections, router

from fleet.operations.models import Operation

__all__ = ["DUE_CHANNEL", "announce"]

DUE_CHANNEL = "fleet_operation_due"
"""The PostgreSQL channel on which an operation due is announced (payload: the cluster's pk and the
operation's pk), so that the worker submits it at once rather than at its next scan."""


def announce(operation: Operation) -> None:
    """Announce ``operation`` (on PostgreSQL, when the transaction commits)."""
    connection = connections[router.db_for_write(Operation)]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_notify(%s, %s)", [DUE_CHANNEL, f"{operation.cluster_id} {operation.pk}"]
            )

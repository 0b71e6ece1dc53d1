"""Upkeep of the read model's tables that PostgreSQL would otherwise do too late.

A first sync of a fleet writes tens of thousands of rows at once. Until autovacuum gets round to analyzing
them (up to minutes later), the planner has no statistics on them: it takes the 40,000-row instance table
for a few rows, and the instance list, which should walk an index and stop after one page, reads and sorts
every matching row instead, ten times slower. :func:`analyze` brings the statistics up to date at once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

from fleet.inventory.models import (
    Instance,
    InstanceOwner,
    Network,
    NetworkConnection,
    Nic,
    Node,
    NodeGroup,
)

READ_MODEL: tuple[type[Model], ...] = (
    Instance,
    Nic,
    InstanceOwner,
    Instance.secondary_nodes.through,
    Node,
    NodeGroup,
    Network,
    NetworkConnection,
)
"""The tables a sync fills from the clusters."""


def analyze(models: Iterable[type[Model]] = READ_MODEL, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Refresh the planner's statistics on the tables of ``models`` (PostgreSQL's ``ANALYZE``), and say
    whether it ran: on other databases it does nothing.

    It samples each table (at most 30,000 rows with the default statistics target), so it costs tens of
    milliseconds at the design's scale; call it after a sync that created or deleted many rows, not after
    every pass. It may run inside a transaction, and then counts that transaction's own rows too.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
    if not tables:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
    return True

"""Which worker syncs which cluster: PostgreSQL advisory-lock leases, or a single worker on SQLite.

On PostgreSQL every worker holds, on a connection of its own, a shared advisory lock that says "I am a
worker", and an exclusive advisory lock per cluster it syncs. Each lease period it counts the live workers,
takes free clusters up to its fair share and gives back what it holds beyond that, so the clusters spread
over the workers. A worker that dies loses its connection, hence its locks, and the others take its clusters
at their next period. Locks are session locks: no row is written to hold them.

On SQLite one worker runs: it holds an exclusive lock on a file beside the database, and a second worker
refuses to start.
"""

from __future__ import annotations

import fcntl
import math
import os
import random
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from django.db import connections

__all__ = ["AdvisoryLeases", "Claim", "LeaseError", "Leases", "SingleWorker", "for_database"]

CLUSTER_NAMESPACE = 0x466C7431  # first key of a cluster's lock (the second is its id)
WORKER_NAMESPACE = 0x466C7432  # the shared "I am a worker" lock, key (WORKER_NAMESPACE, 0)


class LeaseError(Exception):
    """This worker may not run (another one holds the SQLite lock)."""


@dataclass(frozen=True)
class Claim:
    """The outcome of one lease period: the clusters held now, and those to give back once stopped."""

    held: frozenset[int]
    surplus: frozenset[int]


class Leases(Protocol):
    """Blocking lease operations; the worker runs them on a thread."""

    def claim(self, cluster_ids: Collection[int]) -> Claim: ...

    def release(self, cluster_ids: Collection[int]) -> None: ...

    def close(self) -> None: ...


class SingleWorker:
    """SQLite: the only worker syncs every cluster; a lock file keeps a second one out."""

    def __init__(self, lock_path: Path | None) -> None:
        self._file: IO[str] | None = None
        if lock_path is None:  # an in-memory database is private to this process anyway
            return
        handle = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 -- held for the worker's lifetime
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise LeaseError(
                f"another fleet worker already runs on this SQLite database ({lock_path} is locked); "
                "several workers need PostgreSQL"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def claim(self, cluster_ids: Collection[int]) -> Claim:
        return Claim(frozenset(cluster_ids), frozenset())

    def release(self, cluster_ids: Collection[int]) -> None:
        pass

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class AdvisoryLeases:
    """PostgreSQL advisory locks on a dedicated connection, used from one thread only."""

    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fleet-leases")
        self._connection: Any = None
        self._order = random.random()  # each worker tries free clusters in its own order

    def _run(self, func: Any, *args: Any) -> Any:
        return self._thread.submit(func, *args).result()

    def _cursor(self) -> Any:
        if self._connection is None or not self._connection.is_usable():
            if self._connection is not None:
                self._connection.close()
            self._connection = connections.create_connection("default")
            self._connection.ensure_connection()
            with self._connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock_shared(%s::int, 0)", [WORKER_NAMESPACE])
        return self._connection.cursor()

    def claim(self, cluster_ids: Collection[int]) -> Claim:
        """Take free clusters up to the fair share; name those held beyond it."""
        return self._run(self._claim, frozenset(cluster_ids))  # type: ignore[no-any-return]

    def _claim(self, wanted: frozenset[int]) -> Claim:
        with self._cursor() as cursor:
            cursor.execute(
                "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND classid = %s::oid AND objsubid = 2 AND granted",
                [CLUSTER_NAMESPACE & 0xFFFFFFFF],
            )
            held = {int(row[0]) for row in cursor.fetchall()}
            cursor.execute(
                "SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::oid "
                "AND objid = 0 AND objsubid = 2 AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [WORKER_NAMESPACE],
            )
            workers = max(1, int(cursor.fetchone()[0]))
            share = math.ceil(len(wanted) / workers) if wanted else 0
            gone = held - wanted
            for cluster_id in gone:
                cursor.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", [CLUSTER_NAMESPACE, cluster_id])
            held &= wanted
            free = sorted(wanted - held, key=lambda c: hash((self._order, c)))
            for cluster_id in free:
                if len(held) >= share:
                    break
                cursor.execute(
                    "SELECT pg_try_advisory_lock(%s::int, %s::int)", [CLUSTER_NAMESPACE, cluster_id]
                )
                if cursor.fetchone()[0]:
                    held.add(cluster_id)
            surplus = sorted(held)[share:] if len(held) > share else []
        return Claim(frozenset(held), frozenset(surplus))

    def release(self, cluster_ids: Collection[int]) -> None:
        """Give the clusters back (their loops have stopped)."""
        self._run(self._release, list(cluster_ids))

    def _release(self, cluster_ids: list[int]) -> None:
        with self._cursor() as cursor:
            for cluster_id in cluster_ids:
                cursor.execute("SELECT pg_advisory_unlock(%s::int, %s::int)", [CLUSTER_NAMESPACE, cluster_id])

    def close(self) -> None:
        """Drop the connection, which releases every lock."""

        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        self._run(close)
        self._thread.shutdown(wait=True)


def for_database() -> Leases:
    """Advisory leases on PostgreSQL, the single-worker lock on SQLite."""
    connection = connections["default"]
    if connection.vendor == "postgresql":
        return AdvisoryLeases()
    name = str(connection.settings_dict.get("NAME") or "")
    in_memory = name in ("", ":memory:") or "mode=memory" in name
    return SingleWorker(None if in_memory else Path(name + ".worker-lock"))

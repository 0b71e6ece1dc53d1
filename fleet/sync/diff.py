"""Comparing what a cluster reports with the stored rows of one kind, and writing the difference.

:func:`compare` sorts fetched values against stored rows into created, changed (change markers moved), live
(only the columns Ganeti changes without a marker moved), unchanged and vanished; :func:`write` then creates
the new rows with ``fleet.sync.bulk`` (COPY on PostgreSQL), rewrites the changed ones, updates the live
columns and deletes what vanished, counting all of it in :class:`Stats`. ``fleet.sync.snapshot`` does this
for each kind.

Writes commute: a row's ``synced_at`` is when the read that last wrote it began, and a read applies only to
rows older than itself. A row written by a newer read (a job's resync, while a full pass was reading) is
left as it is, neither rewritten nor deleted, whichever write comes last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

from fleet.sync import bulk
from fleet.sync.rows import Record

__all__ = ["Diff", "Stats", "Written", "chunks", "compare", "delete_rows", "row_key", "stored_rows", "write"]

M = TypeVar("M", bound=models.Model)
T = TypeVar("T")


@dataclass
class Stats:
    """What a pass (``fleet.sync.snapshot.apply``) found and wrote."""

    seen: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)  # instances a partial pass found gone, by name

    @property
    def writes(self) -> int:
        """Rows created, updated and deleted, of every kind."""
        return sum(self.created.values()) + sum(self.updated.values()) + sum(self.deleted.values())

    def count(self, kind: str, created: int = 0, updated: int = 0, deleted: int = 0) -> None:
        for table, n in ((self.created, created), (self.updated, updated), (self.deleted, deleted)):
            if n:
                table[kind] = table.get(kind, 0) + n

    def as_dict(self) -> dict[str, Any]:
        """JSON for ``Cluster.last_sync_stats``."""
        return {"seen": self.seen, "created": self.created, "updated": self.updated, "deleted": self.deleted}


@dataclass
class Diff:
    """The outcome of comparing fetched values with stored rows of one kind."""

    created: list[tuple[dict[str, Any], Record]] = field(default_factory=list)
    changed: list[tuple[int, dict[str, Any], Record]] = field(default_factory=list)  # markers moved
    live: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # only live columns moved
    unchanged: list[int] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)
    newer: int = 0  # rows a newer read wrote: left alone
    pks: dict[str, int] = field(default_factory=dict)  # key (uuid or name) -> pk, of every row kept


@dataclass(frozen=True)
class Written:
    """A row created (``new``) or rewritten because its markers moved: its pk, its values, its record."""

    pk: int
    values: dict[str, Any]
    record: Record
    new: bool


def row_key(uuid: Any, name: str) -> str:
    return str(uuid) if uuid else name


def compare(
    existing: Iterable[Sequence[Any]],
    fetched: Iterable[tuple[dict[str, Any], Record]],
    compared: Sequence[str],
    read_at: dt.datetime | None = None,
) -> Diff:
    """Compare fetched values with stored rows ``(pk, uuid, name, serial_no, mtime, synced_at, *compared)``
    (:func:`stored_rows`); rows synced after ``read_at`` are newer than the fetched values, and kept."""
    stored: dict[str, tuple[int, str, tuple[Any, ...], tuple[Any, ...]]] = {}
    newer: set[str] = set()
    for pk, uuid, name, serial_no, mtime, synced_at, *rest in existing:
        key = row_key(uuid, name)
        stored[key] = (pk, name, (serial_no, mtime), tuple(rest))
        if read_at is not None and synced_at is not None and synced_at > read_at:
            newer.add(key)
    diff = Diff()
    for values, rec in fetched:
        key = row_key(values["uuid"], values["name"])
        row = stored.pop(key, None)
        if row is None:
            diff.created.append((values, rec))
            continue
        pk, name, markers, current = row
        diff.pks[key] = pk
        if key in newer:
            diff.newer += 1
        elif name != values["name"] or markers != (values["serial_no"], values["mtime"]):
            diff.changed.append((pk, values, rec))
        elif current != tuple(values[c] for c in compared):
            diff.live.append((pk, {c: values[c] for c in compared}))
        else:
            diff.unchanged.append(pk)
    diff.vanished = [pk for key, (pk, *_) in stored.items() if key not in newer]
    diff.newer += sum(1 for key in stored if key in newer)
    return diff


def write(
    model: type[M],
    cluster_id: int,
    diff: Diff,
    compared: Sequence[str],
    read_at: dt.datetime,
    stats: Stats,
    kind: str,
    delete: bool = True,
    keep_raw: bool = True,
    touch: bool = False,
) -> list[Written]:
    """Create, update and (unless ``delete`` is False) delete rows as ``diff`` says, each row written marked
    as read at ``read_at``; returns the rows created and fully updated, with their pks, for the caller to
    write their dependents. ``keep_raw`` stores each RAPI record in ``raw``; without it ``raw`` is cleared.
    ``touch`` marks the unchanged rows as read at ``read_at`` too: a partial pass reads few rows, and so
    makes an older read in flight leave them alone."""

    def raw(rec: Record) -> dict[str, Any] | None:
        return dict(rec) if keep_raw else None

    common = {"cluster_id": cluster_id, "synced_at": read_at}
    if keep_raw:
        created = [{**v, "raw": dict(rec)} for v, rec in diff.created]
    else:  # no copy of each row's values: thousands of instances on a first sync
        created, common["raw"] = [v for v, _ in diff.created], None
    pks = bulk.insert(model, created, common)
    written = [Written(pk, v, rec, True) for pk, (v, rec) in zip(pks, diff.created, strict=True)]
    for row in written:
        diff.pks[row_key(row.values["uuid"], row.values["name"])] = row.pk
    changed = [
        model(pk=pk, cluster_id=cluster_id, raw=raw(rec), synced_at=read_at, **v)
        for pk, v, rec in diff.changed
    ]
    if changed:
        columns = [*diff.changed[0][1], "raw", "synced_at"]
        model._default_manager.bulk_update(changed, columns, batch_size=bulk.BATCH)
    written += [Written(pk, v, rec, False) for pk, v, rec in diff.changed]
    live = [model(pk=pk, synced_at=read_at, **v) for pk, v in diff.live]
    if live:
        model._default_manager.bulk_update(live, [*compared, "synced_at"], batch_size=bulk.BATCH)
    if touch:
        for chunk in chunks(diff.unchanged):
            model._default_manager.filter(pk__in=chunk).update(synced_at=read_at)
    stats.count(kind, created=len(pks), updated=len(changed) + len(live))
    if delete:
        delete_rows(model, diff.vanished, stats, kind)
    return written


def delete_rows(model: type[models.Model], pks: Sequence[int], stats: Stats, kind: str) -> None:
    for chunk in chunks(pks):
        model._default_manager.filter(pk__in=chunk).delete()
    stats.count(kind, deleted=len(pks))


def stored_rows(model: type[models.Model], query: Q, compared: Sequence[str]) -> Iterable[Sequence[Any]]:
    return model._default_manager.filter(query).values_list(
        "pk", "uuid", "name", "serial_no", "mtime", "synced_at", *compared
    )


def chunks(items: Sequence[T], size: int = 900) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

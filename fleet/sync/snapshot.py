"""Fetch → diff → bulk write for one cluster: what the cluster's RAPI says becomes the read model's rows.

A :class:`Snapshot` is what one pass fetched: all groups, nodes and networks, and either every instance (a
full pass) or the instances a finished job touched (a partial pass), plus the jobs Ganeti reports. A full
pass reads instances in two steps (``fleet.sync.fetch``): the markers and live fields of every instance,
compared with the stored rows by :func:`changed_instances`, then the full records of those that changed.
:func:`apply` writes it in one transaction: rows whose change markers (``serial_no``, ``mtime``) and live
columns match the stored ones are not touched, changed rows are written with ``bulk_update``, new ones with
``fleet.sync.bulk`` (COPY on PostgreSQL), and rows of objects that vanished are deleted (``fleet.sync.diff``
does this for one kind of object). A pass that finds nothing changed writes no row.

One cluster is only ever applied by the loop that owns it (``fleet.sync.loop``), so two applies of the same
cluster never overlap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models import Q

from fleet.inventory.models import Cluster, Instance, Network, NetworkConnection, Nic, Node, NodeGroup
from fleet.inventory.owners import sync_owner_tags
from fleet.jobs.lifecycle import apply_job_info
from fleet.jobs.models import Job
from fleet.sync import bulk, collector, rows
from fleet.sync.diff import Diff, Stats, Written, chunks, compare, delete_rows, row_key, stored_rows, write
from fleet.sync.rows import Record

__all__ = [
    "JobCursor",
    "Snapshot",
    "Stats",
    "apply",
    "changed_instances",
    "has_instances",
    "job_cursor",
    "job_info",
]


@dataclass(frozen=True)
class Snapshot:
    """What one pass fetched from a cluster. ``instance_scope`` is None for a full pass (every instance was
    fetched, so any other is gone), or the names a partial pass asked for. ``instance_markers``, when not
    None, holds every instance's marker record (a full pass in two steps): ``instances`` then holds the full
    records of some of them, and an instance without one is only compared by its markers and live
    columns (it is created or rewritten only from a full record). ``read_from``, when set, is when the pass
    began reading: an instance row written after that (by the resync of a job that ended meanwhile) is
    newer than this snapshot, and is not deleted for missing from it."""

    info: Mapping[str, Any] | None
    groups: Sequence[Record]
    nodes: Sequence[Record]
    networks: Sequence[Record]
    instances: Sequence[Record]
    jobs: Sequence[Record] = ()
    instance_scope: frozenset[str] | None = None
    instance_markers: Sequence[Record] | None = None
    read_from: dt.datetime | None = None


@dataclass(frozen=True)
class JobCursor:
    """Which jobs the next pass must ask for: those after ``last_id``, and the ``unfinished`` ones we know."""

    last_id: int | None
    unfinished: tuple[int, ...]


def has_instances(cluster_id: int) -> bool:
    """Whether the read model holds any instance of the cluster (else a pass has nothing to compare)."""
    return Instance.objects.filter(cluster_id=cluster_id).exists()


def job_cursor(cluster_id: int) -> JobCursor:
    """The job cursor of a cluster, from its Job rows."""
    last = Job.objects.filter(cluster_id=cluster_id).aggregate(last=models.Max("job_id"))["last"]
    unfinished = Job.objects.unfinished().filter(cluster_id=cluster_id).values_list("job_id", flat=True)
    return JobCursor(last, tuple(sorted(unfinished)))


def changed_instances(cluster_id: int, markers: Iterable[Record]) -> set[str]:
    """The names of the instances whose full records a pass needs: those without a row, and those whose
    name or change markers differ from their row's."""
    stored = {
        row_key(uuid, name): (name, serial_no, mtime)
        for uuid, name, serial_no, mtime in Instance.objects.filter(cluster_id=cluster_id).values_list(
            "uuid", "name", "serial_no", "mtime"
        )
    }
    changed = set()
    for rec in markers:
        values = rows.instance_marker_values(rec, {})
        row = stored.get(row_key(values["uuid"], values["name"]))
        if row != (values["name"], values["serial_no"], values["mtime"]):
            changed.add(values["name"])
    return changed


def apply(cluster_id: int, snap: Snapshot, now: dt.datetime) -> Stats:
    """Write ``snap`` into the read model of the cluster, in one transaction; return what was done."""
    stats = Stats()
    with collector.gc_paused(), transaction.atomic():
        if snap.info is not None:
            _cluster_info(cluster_id, snap.info, stats)
        groups = _groups(cluster_id, snap.groups, now, stats)
        network_pks = _networks(cluster_id, snap.networks, groups.by_name, now, stats)
        nodes = _nodes(cluster_id, snap.nodes, groups.by_uuid, now, stats)
        _instances(cluster_id, snap, nodes.by_name, network_pks, now, stats)
        _jobs(cluster_id, snap.jobs, now, stats)
        # Vanished nodes and groups go last: their instances and nodes have moved off them above.
        delete_rows(Node, nodes.vanished, stats, "nodes")
        delete_rows(NodeGroup, groups.vanished, stats, "groups")
    return stats


# Cluster ----------------------------------------------------------------------------------------------------


def _cluster_info(cluster_id: int, info: Mapping[str, Any], stats: Stats) -> None:
    values = rows.cluster_values(info)
    current = Cluster.objects.filter(pk=cluster_id).values(*values).first()
    if current is None:
        return
    current["uuid"] = str(current["uuid"]) if current["uuid"] else None
    changed = {k: v for k, v in values.items() if current[k] != v}
    if changed:
        Cluster.objects.filter(pk=cluster_id).update(raw_info=dict(info), **changed)
        stats.count("cluster", updated=1)


# Groups, networks, nodes ------------------------------------------------------------------------------------

_GROUP_COMPARED = (*rows.GROUP_LIVE, "alloc_policy")
_NETWORK_COMPARED = rows.NETWORK_LIVE
_NODE_COMPARED = (*rows.NODE_LIVE, "group_id", "role", "offline", "drained")


@dataclass(frozen=True)
class _Kept:
    """The rows of one kind after writing: pks by name and by uuid, and the vanished ones to delete last."""

    by_name: dict[str, int]
    by_uuid: dict[str, int]
    vanished: list[int]

    @classmethod
    def of(cls, diff: Diff, fetched: Sequence[tuple[dict[str, Any], Record]]) -> _Kept:
        by_name = {v["name"]: diff.pks[row_key(v["uuid"], v["name"])] for v, _ in fetched}
        by_uuid = {str(v["uuid"]): diff.pks[row_key(v["uuid"], v["name"])] for v, _ in fetched if v["uuid"]}
        return cls(by_name, by_uuid, diff.vanished)


def _groups(cluster_id: int, records: Sequence[Record], now: dt.datetime, stats: Stats) -> _Kept:
    stats.seen["groups"] = len(records)
    fetched = [(rows.group_values(r), r) for r in records]
    diff = compare(
        stored_rows(NodeGroup, Q(cluster_id=cluster_id), _GROUP_COMPARED), fetched, _GROUP_COMPARED
    )
    write(NodeGroup, cluster_id, diff, _GROUP_COMPARED, now, stats, "groups", delete=False)
    return _Kept.of(diff, fetched)


def _networks(
    cluster_id: int,
    records: Sequence[Record],
    group_pks: Mapping[str, int],
    now: dt.datetime,
    stats: Stats,
) -> dict[str, int]:
    stats.seen["networks"] = len(records)
    fetched = [(rows.network_values(r), r) for r in records]
    diff = compare(
        stored_rows(Network, Q(cluster_id=cluster_id), _NETWORK_COMPARED), fetched, _NETWORK_COMPARED
    )
    write(Network, cluster_id, diff, _NETWORK_COMPARED, now, stats, "networks")
    pks = {row_key(v["uuid"], v["name"]): diff.pks[row_key(v["uuid"], v["name"])] for v, _ in fetched}
    by_uuid = {str(v["uuid"]): pks[row_key(v["uuid"], v["name"])] for v, _ in fetched if v["uuid"]}
    # Connections live on the group side in Ganeti (connecting bumps the group's serial, not the network's),
    # so they are compared as a set every pass: a few rows per cluster.
    wanted = {
        (pks[row_key(v["uuid"], v["name"])], *conn)
        for v, r in fetched
        for conn in rows.network_connections(r, group_pks)
    }
    existing = {
        (network_id, group_id, mode, link, vlan): pk
        for pk, network_id, group_id, mode, link, vlan in NetworkConnection.objects.filter(
            network__cluster_id=cluster_id
        ).values_list("pk", "network_id", "group_id", "mode", "link", "vlan")
    }
    stale = [pk for conn, pk in existing.items() if conn not in wanted]
    if stale:
        NetworkConnection.objects.filter(pk__in=stale).delete()
    new = [
        NetworkConnection(network_id=n, group_id=g, mode=m, link=li, vlan=vl)
        for n, g, m, li, vl in sorted(wanted - existing.keys())
    ]
    NetworkConnection.objects.bulk_create(new)
    stats.count("network_connections", created=len(new), deleted=len(stale))
    return by_uuid


def _nodes(
    cluster_id: int,
    records: Sequence[Record],
    group_pks: Mapping[str, int],
    now: dt.datetime,
    stats: Stats,
) -> _Kept:
    stats.seen["nodes"] = len(records)
    fetched = [(rows.node_values(r, group_pks), r) for r in records]
    diff = compare(stored_rows(Node, Q(cluster_id=cluster_id), _NODE_COMPARED), fetched, _NODE_COMPARED)
    write(Node, cluster_id, diff, _NODE_COMPARED, now, stats, "nodes", delete=False)
    return _Kept.of(diff, fetched)


# Instances --------------------------------------------------------------------------------------------------

_INSTANCE_COMPARED = (*rows.INSTANCE_LIVE, "primary_node_id")


def _instances(
    cluster_id: int,
    snap: Snapshot,
    node_pks: Mapping[str, int],
    network_pks: Mapping[str, int],
    now: dt.datetime,
    stats: Stats,
) -> None:
    records = snap.instances
    fetched = [(rows.instance_values(r, node_pks), r) for r in records]
    stand_ins: set[int] = set()  # id() of the marker records that stand in for an instance's full record
    if snap.instance_markers is not None:
        full = {v["name"] for v, _ in fetched}
        for rec in snap.instance_markers:
            if rec["name"] not in full:
                stand_ins.add(id(rec))
                fetched.append((rows.instance_marker_values(rec, node_pks), rec))
    where = Q(cluster_id=cluster_id)
    if snap.instance_scope is not None:
        names = set(snap.instance_scope) | {v["name"] for v, _ in fetched}
        uuids = [v["uuid"] for v, _ in fetched if v["uuid"]]
        where &= Q(name__in=names) | Q(uuid__in=uuids)
    else:
        stats.seen["instances"] = len(fetched)
    diff = compare(stored_rows(Instance, where, _INSTANCE_COMPARED), fetched, _INSTANCE_COMPARED)
    if stand_ins:
        # An instance whose markers moved after the first step, or that appeared then, has no full record
        # yet: its row stays as it is (and is not vanished) until the next pass fetches one.
        diff.created = [(v, rec) for v, rec in diff.created if id(rec) not in stand_ins]
        diff.changed = [(pk, v, rec) for pk, v, rec in diff.changed if id(rec) not in stand_ins]
    if snap.instance_scope is not None:
        # A partial pass only knows about the names it asked for: a row it matched by uuid alone is kept.
        diff.vanished = [
            pk
            for pk, name in Instance.objects.filter(pk__in=diff.vanished).values_list("pk", "name")
            if name in snap.instance_scope
        ]
    if snap.read_from is not None and diff.vanished:
        diff.vanished = list(
            Instance.objects.filter(pk__in=diff.vanished, synced_at__lt=snap.read_from).values_list(
                "pk", flat=True
            )
        )
    # Instances keep no copy of the RAPI record: tens of thousands of them would cost more to write than
    # everything else the sync does. Nodes, groups and networks, a few dozen per cluster, keep theirs.
    written = write(Instance, cluster_id, diff, _INSTANCE_COMPARED, now, stats, "instances", keep_raw=False)
    if written:
        _instance_dependents(written, node_pks, network_pks, stats)


def _instance_dependents(
    instances: Sequence[Written],
    node_pks: Mapping[str, int],
    network_pks: Mapping[str, int],
    stats: Stats,
) -> None:
    """Rewrite the NICs, secondary nodes and owners of instances that were created or changed."""
    secondary = Instance.secondary_nodes.through
    old_nics = old_links = 0
    for chunk in chunks([i.pk for i in instances if not i.new]):
        old_nics += Nic.objects.filter(instance_id__in=chunk).delete()[0]
        old_links += secondary.objects.filter(instance_id__in=chunk).delete()[0]
    nics: list[dict[str, Any]] = []
    for i in instances:
        for values in rows.nic_values(i.record, network_pks):
            values["instance_id"] = i.pk
            nics.append(values)
    nic_pks = bulk.insert(Nic, nics)
    links = bulk.insert(
        secondary,
        [
            {"instance_id": i.pk, "node_id": node_id}
            for i in instances
            for node_id in rows.secondary_nodes(i.record, node_pks)
        ],
    )
    stats.count("nics", created=len(nic_pks), deleted=old_nics)
    stats.count("secondary_nodes", created=len(links), deleted=old_links)
    report = sync_owner_tags(
        [(i.pk, i.values["name"], i.values["tags"]) for i in instances],
        fresh=frozenset(i.pk for i in instances if i.new),
    )
    stats.count("owners", created=report.added, deleted=report.removed)


# Jobs -------------------------------------------------------------------------------------------------------


def _jobs(cluster_id: int, records: Sequence[Record], now: dt.datetime, stats: Stats) -> None:
    """Record jobs seen on the cluster: new ones are created, unfinished ones advanced, final ones left."""
    if not records:
        return
    by_id = {int(r["id"]): r for r in records if r.get("id") is not None and r.get("status")}
    known = {job.job_id: job for job in Job.objects.filter(cluster_id=cluster_id, job_id__in=list(by_id))}
    new: list[Job] = []
    changed: list[Job] = []
    fields: set[str] = set()
    for job_id, rec in by_id.items():
        job = known.get(job_id)
        if job is None:
            job = Job(cluster_id=cluster_id, job_id=job_id)
            apply_job_info(job, rec)
            new.append(job)
            continue
        updated = apply_job_info(job, rec)
        if updated:
            job.updated_at = now  # bulk_update does not apply auto_now
            changed.append(job)
            fields.update(updated)
    Job.objects.bulk_create(new, batch_size=bulk.BATCH)
    if changed:
        Job.objects.bulk_update(changed, [*sorted(fields), "updated_at"], batch_size=bulk.BATCH)
    stats.count("jobs", created=len(new), updated=len(changed))


def job_info(job: Any) -> dict[str, Any]:
    """A `fleet.rapi.models.Job` in the shape `fleet.jobs.lifecycle.apply_job_info` reads (RAPI's own)."""

    def ts(value: float | None) -> list[int] | None:
        if value is None:
            return None
        seconds = int(value)
        return [seconds, round((value - seconds) * 1e6)]

    return {
        "status": job.status,
        "summary": job.summary,
        "ops": job.ops,
        "opstatus": job.opstatus,
        "opresult": job.opresult,
        "oplog": [[[e.serial, ts(e.timestamp), e.kind, e.message] for e in log] for log in job.oplog],
        "received_ts": ts(job.received_ts),
        "start_ts": ts(job.start_ts),
        "end_ts": ts(job.end_ts),
    }

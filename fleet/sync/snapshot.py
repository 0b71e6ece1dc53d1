"""Fetch → diff → bulk write for one cluster: what the cluster's RAPI says becomes the read model's rows.

A :class:`Snapshot` is what one pass fetched: all groups, nodes and networks, and either every instance (a
full pass) or the instances a finished job touched (a partial pass), plus the jobs Ganeti reports. A full
pass reads instances in two steps (``fleet.sync.fetch``): the markers and live fields of every instance,
compared with the stored rows by :func:`plan_instances`, then the full records of those that changed.
:func:`apply` writes it in one transaction: rows whose change markers (``serial_no``, ``mtime``) and live
columns match the stored ones are not touched, changed rows are written with ``bulk_update``, new ones with
``fleet.sync.bulk`` (COPY on PostgreSQL), and rows of objects that vanished are deleted (``fleet.sync.diff``
does this for one kind of object). A pass that finds nothing changed writes no row.

Each write carries the time its read began and leaves alone the rows a newer read wrote, so that a full
pass and a job's resync give the same rows in whichever order their writes come (``fleet.sync.diff``). One
cluster is only ever applied by the loop that owns it (``fleet.sync.loop``), one write at a time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q

from fleet.inventory.models import Cluster, Instance, Network, NetworkConnection, Nic, Node, NodeGroup
from fleet.inventory.owners import sync_owner_tags
from fleet.sync import bulk, collector, rows
from fleet.sync.diff import Diff, Stats, Written, chunks, compare, delete_rows, row_key, stored_rows, write
from fleet.sync.rows import Record

__all__ = ["InstancePlan", "Snapshot", "Stats", "apply", "has_instances", "plan_instances"]


@dataclass(frozen=True)
class Snapshot:
    """What one pass fetched from a cluster. ``instance_scope`` is None for a full pass (every instance was
    fetched, so any other is gone), or the names a partial pass asked for. ``instance_markers``, when not
    None, holds every instance's marker record (a full pass in two steps): ``instances`` then holds the full
    records of some of them, and an instance without one is only compared by its markers and live
    columns (it is created or rewritten only from a full record); with ``instances_at_rest`` the first step
    found them all as stored, and they are not compared again. ``deleted_since`` names instances that a
    newer read found gone: this one's records of them are older, and do not bring them back."""

    info: Mapping[str, Any] | None
    groups: Sequence[Record]
    nodes: Sequence[Record]
    networks: Sequence[Record]
    instances: Sequence[Record]
    instance_scope: frozenset[str] | None = None
    instance_markers: Sequence[Record] | None = None
    instances_at_rest: bool = False
    deleted_since: frozenset[str] = frozenset()
    os_names: Sequence[str] | None = None  # what /2/os listed, with ``info``


def has_instances(cluster_id: int) -> bool:
    """Whether the read model holds any instance of the cluster (else a pass has nothing to compare)."""
    return Instance.objects.filter(cluster_id=cluster_id).exists()


@dataclass(frozen=True)
class InstancePlan:
    """What a full pass's first step found of the instances: the names whose full records it needs (new, or
    markers moved), and whether every instance is exactly as stored (the same set, markers and live columns),
    so that the write has nothing to compare."""

    changed: set[str]
    at_rest: bool


def plan_instances(cluster_id: int, markers: Iterable[Record]) -> InstancePlan:
    """Compare every instance's marker record with the stored rows (see :class:`InstancePlan`).

    By name and ``serial_no`` (Ganeti bumps it with every change of an object's configuration, ``mtime``
    with it), and the live columns: the cheapest columns to read and compare, since a cluster at rest
    costs this every pass.
    """
    node_pks = dict(Node.objects.filter(cluster_id=cluster_id).values_list("name", "pk"))
    stored = {
        name: rest
        for name, *rest in Instance.objects.filter(cluster_id=cluster_id).values_list(
            "name", "serial_no", *rows.INSTANCE_LIVE, "primary_node_id"
        )
    }
    changed = set()
    same = 0
    for rec in markers:
        name = rec["name"]
        row = stored.get(name)
        if row is None or row[0] != int(rec.get("serial_no") or 0):
            changed.add(name)
        elif row[1:] == [*rows.instance_live_values(rec), node_pks.get(rec.get("pnode") or "")]:
            same += 1
    return InstancePlan(changed, at_rest=not changed and same == len(stored))


def apply(cluster_id: int, snap: Snapshot, read_at: dt.datetime) -> Stats:
    """Write ``snap``, read from ``read_at`` on, into the read model of the cluster, in one transaction; rows
    a newer read wrote are left alone. Returns what was done."""
    stats = Stats()
    touch = snap.instance_scope is not None  # a partial pass: few rows, all marked as read
    with collector.gc_paused(), transaction.atomic():
        if snap.info is not None:
            _cluster_info(cluster_id, snap.info, stats, snap.os_names)
        groups = _groups(cluster_id, snap.groups, read_at, stats, touch)
        network_pks = _networks(cluster_id, snap.networks, groups.by_name, read_at, stats, touch)
        nodes = _nodes(cluster_id, snap.nodes, groups.by_uuid, read_at, stats, touch)
        _instances(cluster_id, snap, nodes.by_name, network_pks, read_at, stats)
        # Vanished nodes and groups go last: their instances and nodes have moved off them above.
        delete_rows(Node, nodes.vanished, stats, "nodes")
        delete_rows(NodeGroup, groups.vanished, stats, "groups")
    return stats


# Cluster ----------------------------------------------------------------------------------------------------


def _cluster_info(
    cluster_id: int, info: Mapping[str, Any], stats: Stats, os_names: Sequence[str] | None
) -> None:
    values = rows.cluster_values(info)
    if os_names is not None:
        values["os_names"] = sorted(os_names)
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


def _groups(
    cluster_id: int, records: Sequence[Record], read_at: dt.datetime, stats: Stats, touch: bool
) -> _Kept:
    stats.seen["groups"] = len(records)
    fetched = [(rows.group_values(r), r) for r in records]
    stored = stored_rows(NodeGroup, Q(cluster_id=cluster_id), _GROUP_COMPARED)
    diff = compare(stored, fetched, _GROUP_COMPARED, read_at)
    write(NodeGroup, cluster_id, diff, _GROUP_COMPARED, read_at, stats, "groups", delete=False, touch=touch)
    return _Kept.of(diff, fetched)


def _networks(
    cluster_id: int,
    records: Sequence[Record],
    group_pks: Mapping[str, int],
    read_at: dt.datetime,
    stats: Stats,
    touch: bool,
) -> dict[str, int]:
    stats.seen["networks"] = len(records)
    fetched = [(rows.network_values(r), r) for r in records]
    stored = stored_rows(Network, Q(cluster_id=cluster_id), _NETWORK_COMPARED)
    diff = compare(stored, fetched, _NETWORK_COMPARED, read_at)
    write(Network, cluster_id, diff, _NETWORK_COMPARED, read_at, stats, "networks", touch=touch)
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
    read_at: dt.datetime,
    stats: Stats,
    touch: bool,
) -> _Kept:
    stats.seen["nodes"] = len(records)
    fetched = [(rows.node_values(r, group_pks), r) for r in records]
    stored = stored_rows(Node, Q(cluster_id=cluster_id), _NODE_COMPARED)
    diff = compare(stored, fetched, _NODE_COMPARED, read_at)
    write(Node, cluster_id, diff, _NODE_COMPARED, read_at, stats, "nodes", delete=False, touch=touch)
    return _Kept.of(diff, fetched)


# Instances --------------------------------------------------------------------------------------------------

_INSTANCE_COMPARED = (*rows.INSTANCE_LIVE, "primary_node_id")


def _instances(
    cluster_id: int,
    snap: Snapshot,
    node_pks: Mapping[str, int],
    network_pks: Mapping[str, int],
    read_at: dt.datetime,
    stats: Stats,
) -> None:
    if snap.instances_at_rest and snap.instance_markers is not None:
        stats.seen["instances"] = len(snap.instance_markers)  # as stored when read: nothing to write
        return
    records = [r for r in snap.instances if r["name"] not in snap.deleted_since]
    fetched = [(rows.instance_values(r, node_pks), r) for r in records]
    stand_ins: set[int] = set()  # id() of the marker records that stand in for an instance's full record
    if snap.instance_markers is not None:
        full = {v["name"] for v, _ in fetched}
        for rec in snap.instance_markers:
            if rec["name"] not in full and rec["name"] not in snap.deleted_since:
                stand_ins.add(id(rec))
                fetched.append((rows.instance_marker_values(rec, node_pks), rec))
    where = Q(cluster_id=cluster_id)
    if snap.instance_scope is not None:
        names = set(snap.instance_scope) | {v["name"] for v, _ in fetched}
        uuids = [v["uuid"] for v, _ in fetched if v["uuid"]]
        where &= Q(name__in=names) | Q(uuid__in=uuids)
    else:
        stats.seen["instances"] = len(fetched)
    diff = compare(stored_rows(Instance, where, _INSTANCE_COMPARED), fetched, _INSTANCE_COMPARED, read_at)
    if stand_ins:
        # An instance whose markers moved after the first step, or that appeared then, has no full record
        # yet: its row stays as it is (and is not vanished) until the next pass fetches one.
        diff.created = [(v, rec) for v, rec in diff.created if id(rec) not in stand_ins]
        diff.changed = [(pk, v, rec) for pk, v, rec in diff.changed if id(rec) not in stand_ins]
    if snap.instance_scope is not None and diff.vanished:
        # A partial pass only knows about the names it asked for: a row it matched by uuid alone is kept.
        vanished = dict(
            Instance.objects.filter(pk__in=diff.vanished, name__in=snap.instance_scope).values_list(
                "pk", "name"
            )
        )
        diff.vanished = list(vanished)
        stats.gone.update(vanished.values())
    # Instances keep no copy of the RAPI record: tens of thousands of them would cost more to write than
    # everything else the sync does. Nodes, groups and networks, a few dozen per cluster, keep theirs.
    written = write(
        Instance,
        cluster_id,
        diff,
        _INSTANCE_COMPARED,
        read_at,
        stats,
        "instances",
        keep_raw=False,
        touch=snap.instance_scope is not None,
    )
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

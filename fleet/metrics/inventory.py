"""Capacity and counts from the read model: per cluster, node group and node (memory, disk and vCPUs: size,
used and free; instance counts; roles), instances per cluster by status, and IP pool usage per network.

A scrape costs three aggregate queries whatever the fleet's size: the nodes (a few thousand rows at the
design's scale), the instances summed per primary node and status in the database (one scan), and the
networks. Label values are cluster, group, node and network names and a few fixed statuses and roles:
never an instance or a job, so the series stay bounded at 40,000 VMs.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import Count, Sum
from prometheus_client.core import Metric

from fleet.inventory.models import Instance, InstanceStatus, Network, Node, NodeRole
from fleet.metrics.families import MIB, Families, mib

ROLES = {
    NodeRole.MASTER: "master",
    NodeRole.CANDIDATE: "candidate",
    NodeRole.REGULAR: "regular",
    NodeRole.DRAINED: "drained",
    NodeRole.OFFLINE: "offline",
}


@dataclass
class Capacity:
    """What a node, a group or a cluster holds and has left; ``None`` where Ganeti reported nothing."""

    memory_size: float | None = None
    memory_free: float | None = None
    memory_instances: float = 0.0
    disk_size: float | None = None
    disk_free: float | None = None
    vcpus: float | None = None
    vcpus_used: float = 0.0
    instances: float = 0.0
    nodes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROLES.values(), 0))

    def absorb(self, other: Capacity) -> None:
        """Add a node's figures to a group's or a cluster's."""
        for name in ("memory_size", "memory_free", "disk_size", "disk_free", "vcpus"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if theirs is not None:
                setattr(self, name, (mine or 0.0) + theirs)
        self.memory_instances += other.memory_instances
        self.vcpus_used += other.vcpus_used
        self.instances += other.instances


def _declare(families: Families, level: str, labels: tuple[str, ...]) -> None:
    """The capacity families of one level (``cluster``, ``node_group``, ``node``)."""
    where = {"cluster": "cluster", "node_group": "node group", "node": "node"}[level]
    prefix = f"fleet_{level}"
    families.gauge(f"{prefix}_memory_size_bytes", f"Memory of the {where} (Ganeti's mtotal).", *labels)
    families.gauge(f"{prefix}_memory_free_bytes", f"Free memory of the {where} (Ganeti's mfree).", *labels)
    families.gauge(f"{prefix}_memory_used_bytes", f"Memory in use on the {where} (mtotal - mfree).", *labels)
    families.gauge(
        f"{prefix}_memory_instances_bytes",
        f"Memory (maxmem) of the instances whose primary node is in the {where}.",
        *labels,
    )
    families.gauge(f"{prefix}_disk_size_bytes", f"Disk space of the {where} (Ganeti's dtotal).", *labels)
    families.gauge(f"{prefix}_disk_free_bytes", f"Free disk space of the {where} (Ganeti's dfree).", *labels)
    families.gauge(
        f"{prefix}_disk_used_bytes", f"Disk space in use on the {where} (dtotal - dfree).", *labels
    )
    families.gauge(f"{prefix}_vcpus", f"Logical CPUs of the {where} (Ganeti's ctotal).", *labels)
    families.gauge(
        f"{prefix}_vcpus_used", f"vCPUs given to instances with a primary in the {where}.", *labels
    )
    families.gauge(
        f"{prefix}_vcpus_free", "Logical CPUs minus the vCPUs given (negative: overcommitted).", *labels
    )


def _emit(families: Families, level: str, capacity: Capacity, labels: tuple[str, ...]) -> None:
    prefix = f"fleet_{level}"
    c = capacity
    families[f"{prefix}_memory_size_bytes"].add(c.memory_size, *labels)
    families[f"{prefix}_memory_free_bytes"].add(c.memory_free, *labels)
    used = None if c.memory_size is None or c.memory_free is None else c.memory_size - c.memory_free
    families[f"{prefix}_memory_used_bytes"].add(used, *labels)
    families[f"{prefix}_memory_instances_bytes"].add(c.memory_instances, *labels)
    families[f"{prefix}_disk_size_bytes"].add(c.disk_size, *labels)
    families[f"{prefix}_disk_free_bytes"].add(c.disk_free, *labels)
    disk_used = None if c.disk_size is None or c.disk_free is None else c.disk_size - c.disk_free
    families[f"{prefix}_disk_used_bytes"].add(disk_used, *labels)
    families[f"{prefix}_vcpus"].add(c.vcpus, *labels)
    families[f"{prefix}_vcpus_used"].add(c.vcpus_used, *labels)
    families[f"{prefix}_vcpus_free"].add(None if c.vcpus is None else c.vcpus - c.vcpus_used, *labels)


def collect_inventory(clusters: dict[int, str]) -> Iterable[Metric]:
    """The inventory's families; ``clusters`` maps each Cluster pk to its name."""
    families = Families()
    _declare(families, "cluster", ("cluster",))
    _declare(families, "node_group", ("cluster", "group"))
    _declare(families, "node", ("cluster", "group", "node"))
    node_role = families.gauge("fleet_node_role", "1, labelled with the node's role as Ganeti gives it.",
                               "cluster", "group", "node", "role")  # fmt: skip
    node_instances = families.gauge(
        "fleet_node_instances",
        "Instances on the node, as primary or secondary.",
        *("cluster", "group", "node", "kind"),
    )
    group_nodes = families.gauge(
        "fleet_node_group_nodes", "Nodes of the group by role.", "cluster", "group", "role"
    )
    group_instances = families.gauge(
        "fleet_node_group_instances", "Instances whose primary node is in the group.", "cluster", "group"
    )
    cluster_nodes = families.gauge("fleet_cluster_nodes", "Nodes of the cluster by role.", "cluster", "role")
    cluster_instances = families.gauge(
        "fleet_cluster_instances", "Instances of the cluster by Ganeti's status.", "cluster", "status"
    )

    # one scan of the instances for both their load per primary node and their count per status
    per_node: dict[int, dict[str, int]] = defaultdict(lambda: {"vcpus": 0, "memory": 0, "count": 0})
    per_status: dict[tuple[int, str], int] = defaultdict(int)
    for row in (
        Instance.objects.order_by()
        .values("cluster_id", "primary_node_id", "status")
        .annotate(vcpus=Sum("vcpus"), memory=Sum("memory"), count=Count("pk"))
    ):
        per_status[(row["cluster_id"], row["status"])] += row["count"]
        if row["primary_node_id"] is not None:
            load = per_node[row["primary_node_id"]]
            for key in ("vcpus", "memory", "count"):
                load[key] += row[key] or 0
    groups: dict[tuple[str, str], Capacity] = defaultdict(Capacity)
    totals: dict[str, Capacity] = {name: Capacity() for name in clusters.values()}
    nodes = Node.objects.order_by().values_list(
        "pk", "cluster_id", "group__name", "name", "role", "memory_total", "memory_free", "disk_total",
        "disk_free", "cpu_total", "primary_instance_count", "secondary_instance_count",
    )  # fmt: skip
    for pk, cluster_id, group, name, role, mtotal, mfree, dtotal, dfree, ctotal, pinst, sinst in nodes:
        cluster = clusters.get(cluster_id)
        if cluster is None:
            continue
        group = group or ""
        load = per_node.get(pk) or {}
        node = Capacity(
            memory_size=mib(mtotal),
            memory_free=mib(mfree),
            memory_instances=(load.get("memory") or 0) * MIB,
            disk_size=mib(dtotal),
            disk_free=mib(dfree),
            vcpus=ctotal,
            vcpus_used=load.get("vcpus") or 0,
            instances=load.get("count") or 0,
        )
        labels = (cluster, group, name)
        _emit(families, "node", node, labels)
        role_name = ROLES.get(role, "regular")
        node_role.add(1, *labels, role_name)
        node_instances.add(pinst, *labels, "primary")
        node_instances.add(sinst, *labels, "secondary")
        for level in (groups[(cluster, group)], totals[cluster]):
            level.absorb(node)
            level.nodes[role_name] += 1

    for (cluster, group), capacity in sorted(groups.items()):
        _emit(families, "node_group", capacity, (cluster, group))
        group_instances.add(capacity.instances, cluster, group)
        for role_name, count in capacity.nodes.items():
            group_nodes.add(count, cluster, group, role_name)
    for cluster, capacity in sorted(totals.items()):
        _emit(families, "cluster", capacity, (cluster,))
        for role_name, count in capacity.nodes.items():
            cluster_nodes.add(count, cluster, role_name)

    statuses: dict[str, dict[str, int]] = {name: dict.fromkeys(InstanceStatus.values, 0) for name in totals}
    for (cluster_id, status), count in per_status.items():
        cluster = clusters.get(cluster_id)
        if cluster is not None:
            statuses[cluster][status] = count
    for cluster, counts in sorted(statuses.items()):
        for status, count in counts.items():
            cluster_instances.add(count, cluster, status)

    yield from families
    yield from _networks(clusters)


def _networks(clusters: dict[int, str]) -> Iterator[Metric]:
    """IP pool usage per network: its IPv4 size, free, reserved (gateway, network and broadcast addresses,
    external reservations) and used (by instances) addresses, and the node groups it is connected to."""
    families = Families()
    labels = ("cluster", "network")
    size = families.gauge("fleet_network_addresses", "IPv4 addresses of the network's range.", *labels)
    free = families.gauge("fleet_network_addresses_free", "Free addresses of the pool.", *labels)
    reserved = families.gauge("fleet_network_addresses_reserved", "Reserved addresses of the pool.", *labels)
    used = families.gauge("fleet_network_addresses_used", "Addresses held by instances' NICs.", *labels)
    groups = families.gauge("fleet_network_groups", "Node groups the network is connected to.", *labels)
    rows = (
        Network.objects.order_by()
        .annotate(connected=Count("connections"))
        .values_list("cluster_id", "name", "network", "free_count", "reserved_count", "connected")
    )
    for cluster_id, name, cidr, free_count, reserved_count, connected in rows:
        cluster = clusters.get(cluster_id)
        if cluster is None or not cidr:
            continue
        try:
            addresses = ipaddress.ip_network(cidr, strict=False).num_addresses
        except ValueError:
            continue
        size.add(addresses, cluster, name)
        free.add(free_count, cluster, name)
        reserved.add(reserved_count, cluster, name)
        used.add(max(0, addresses - free_count - reserved_count), cluster, name)
        groups.add(connected, cluster, name)
    yield from families

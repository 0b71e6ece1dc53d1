"""The read model as automatic placement sees it (``fleet.placement``): one ``GroupCapacity`` per node
group of the clusters open to new VMs, for one application's storage classes, less what approved
applications not yet created will take (their reservation, until the sync shows their VMs).

Free disk per storage class: a class on a volume group counts the group's nodes' free disk as the sync read
it (Ganeti's node query reports the cluster's default volume group); a class on an ExtStorage provider or
on a template without a pool is not bounded by Fleet (Ganeti does not report their free space), and Ganeti
refuses the create if it does not fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Count, Q, Sum

from fleet.conf.storage import StorageConfig
from fleet.inventory.models import Instance, NetworkConnection, NodeGroup
from fleet.placement.capacity import GroupCapacity, Request
from fleet.requests.forms import placeable_clusters
from fleet.requests.models import Application, ApplicationStatus

TEMPLATE_PREFERENCE = ("drbd", "plain", "ext", "rbd", "sharedfile", "file", "gluster", "blockdev")
UNBOUNDED_GB = 1 << 40


def request_of(application: Application) -> Request:
    return Request(
        memory_mb=application.memory_mb,
        vcpus=application.vcpus,
        disks=tuple((d["storage_class"], int(d["size_gb"])) for d in application.disks),
        network=application.network,
        templates=TEMPLATE_PREFERENCE,
    )


def _bounds(ipolicy: Any) -> tuple[int, int, float]:
    policy = ipolicy if isinstance(ipolicy, dict) else {}
    minmax = policy.get("minmax") or [{}]
    top = (minmax[0] or {}).get("max") or {}
    return (
        int(top.get("memory-size") or 0),
        int(top.get("cpu-count") or 0),
        float(policy.get("vcpu-ratio") or 4.0),
    )


def group_capacities(application: Application, storage: StorageConfig) -> list[GroupCapacity]:
    """Every node group of the placeable clusters, for ``application``'s classes, reservations deducted."""
    usable = Q(nodes__vm_capable=True, nodes__offline=False, nodes__drained=False)
    groups = (
        NodeGroup.objects.filter(cluster__in=placeable_clusters())
        .select_related("cluster")
        .annotate(
            free_memory=Sum("nodes__memory_free", filter=usable),
            cpus=Sum("nodes__cpu_total", filter=usable),
            free_disk=Sum("nodes__disk_free", filter=usable),
            usable_nodes=Count("nodes", filter=usable),
        )
        .order_by("cluster__name", "name")
    )
    used = dict(
        Instance.objects.filter(primary_node__group__in=groups)
        .values_list("primary_node__group")
        .annotate(vcpus=Sum("vcpus"))
        .values_list("primary_node__group", "vcpus")
    )
    ips: dict[int, dict[str, int]] = {}
    for group_id, name, free in NetworkConnection.objects.filter(group__in=groups).values_list(
        "group", "network__name", "network__free_count"
    ):
        ips.setdefault(group_id, {})[name] = free
    classes = {d["storage_class"] for d in application.disks}
    capacities = {}
    for group in groups:
        cluster = group.cluster
        disk: dict[str, int] = {}
        templates = [t for t in TEMPLATE_PREFERENCE if t in (cluster.enabled_disk_templates or [])]
        for name in classes:
            storage_class = storage.classes.get(name)
            site = storage_class.site(cluster.name, group.name) if storage_class else None
            if site is None:
                continue
            disk[name] = (group.free_disk or 0) // 1024 if site.vg else UNBOUNDED_GB
            templates = [t for t in templates if t in site.disk_templates]
        max_memory, max_vcpus, ratio = _bounds(group.ipolicy or cluster.ipolicy)
        capacities[(cluster.name, group.name)] = GroupCapacity(
            cluster=cluster.name,
            group=group.name,
            free_memory_mb=group.free_memory or 0,
            physical_cpus=group.cpus or 0,
            used_vcpus=used.get(group.pk) or 0,
            vcpu_ratio=ratio,
            free_disk_gb=disk,
            free_ips=ips.get(group.pk, {}),
            templates=tuple(templates),
            alloc_policy=group.alloc_policy,
            max_memory_mb=max_memory,
            max_vcpus=max_vcpus,
            nodes=group.usable_nodes or 0,
        )
    for reserved in _reservations(application):
        key = (reserved.cluster.name, reserved.node_group)  # type: ignore[union-attr]
        if key in capacities:
            capacities[key] = capacities[key].minus(request_of(reserved))
    return list(capacities.values())


def _reservations(application: Application) -> Sequence[Application]:
    """Approved applications not yet created, whose resources their groups do not show yet."""
    return list(
        Application.objects.filter(
            status__in=[ApplicationStatus.APPROVED, ApplicationStatus.SUBMITTED], cluster__isnull=False
        )
        .exclude(pk=application.pk)
        .select_related("cluster")
    )

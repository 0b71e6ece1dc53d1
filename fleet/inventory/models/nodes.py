"""Node groups and nodes: where instances run, and how much room is left there."""

from __future__ import annotations

from django.db import models

from fleet.inventory.models.base import GanetiObject
from fleet.inventory.models.clusters import Cluster


class AllocPolicy(models.TextChoices):
    """A node group's ``alloc_policy``: whether the allocator may place new instances there."""

    PREFERRED = "preferred", "Preferred"
    LAST_RESORT = "last_resort", "Last resort"
    UNALLOCABLE = "unallocable", "Unallocable"


class NodeGroup(GanetiObject):
    """A Ganeti node group: a set of nodes that DRBD pairs stay within, with its own policy and networks."""

    # No index of its own: the unique (cluster, name) starts with it.
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="node_groups", db_index=False)
    name = models.CharField(max_length=253)
    alloc_policy = models.CharField(max_length=16, choices=AllocPolicy.choices, default=AllocPolicy.PREFERRED)
    node_count = models.PositiveIntegerField(default=0)
    ipolicy = models.JSONField(null=True, blank=True, help_text="The group's filled instance policy.")

    class Meta:
        ordering = ["cluster", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="nodegroup_unique_name"),
            models.UniqueConstraint(fields=["cluster", "uuid"], name="nodegroup_unique_uuid"),
        ]

    def __str__(self) -> str:
        return f"{self.cluster_id}/{self.name}"


class NodeRole(models.TextChoices):
    """A node's role as RAPI's ``role`` field gives it: one letter."""

    MASTER = "M", "Master"
    CANDIDATE = "C", "Master candidate"
    REGULAR = "R", "Regular"
    DRAINED = "D", "Drained"
    OFFLINE = "O", "Offline"


class Node(GanetiObject):
    """A Ganeti node: its role and flags, its capacity and free resources, and how many instances it carries.

    Sizes are MiB as Ganeti reports them. The live figures (memory, disk, spindles, CPUs) are null when Ganeti
    has none, i.e. for offline nodes and nodes that are not vm_capable.
    """

    # No index of its own: the unique (cluster, name) starts with it.
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="nodes", db_index=False)
    group = models.ForeignKey(
        NodeGroup, on_delete=models.PROTECT, related_name="nodes", null=True, blank=True
    )
    name = models.CharField(max_length=253)
    role = models.CharField(max_length=1, choices=NodeRole.choices, default=NodeRole.REGULAR)

    offline = models.BooleanField(default=False)
    drained = models.BooleanField(default=False)
    master_candidate = models.BooleanField(default=False)
    master_capable = models.BooleanField(default=True)
    vm_capable = models.BooleanField(default=True)

    memory_total = models.PositiveBigIntegerField(null=True, blank=True, help_text="mtotal, MiB")
    memory_node = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="mnode: used by the node, MiB"
    )
    memory_free = models.PositiveBigIntegerField(null=True, blank=True, help_text="mfree, MiB")
    disk_total = models.PositiveBigIntegerField(null=True, blank=True, help_text="dtotal, MiB")
    disk_free = models.PositiveBigIntegerField(null=True, blank=True, help_text="dfree, MiB")
    spindles_total = models.PositiveIntegerField(null=True, blank=True, help_text="sptotal")
    spindles_free = models.PositiveIntegerField(null=True, blank=True, help_text="spfree")
    cpu_total = models.PositiveIntegerField(null=True, blank=True, help_text="ctotal: logical CPUs")
    cpu_nodes = models.PositiveIntegerField(null=True, blank=True, help_text="cnodes: NUMA nodes")
    cpu_sockets = models.PositiveIntegerField(null=True, blank=True, help_text="csockets")

    primary_ip = models.GenericIPAddressField(null=True, blank=True)
    secondary_ip = models.GenericIPAddressField(null=True, blank=True)
    primary_instance_count = models.PositiveIntegerField(default=0, help_text="pinst_cnt")
    secondary_instance_count = models.PositiveIntegerField(default=0, help_text="sinst_cnt")

    class Meta:
        ordering = ["cluster", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="node_unique_name"),
            models.UniqueConstraint(fields=["cluster", "uuid"], name="node_unique_uuid"),
        ]
        indexes = [models.Index(fields=["name"], name="node_name_idx")]

    def __str__(self) -> str:
        return self.name

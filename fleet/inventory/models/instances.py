"""Instances (the VMs), their NICs, and who owns them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import Group
from django.db import models

from fleet.access.tags import OwnerKind
from fleet.inventory.models.base import GanetiObject
from fleet.inventory.models.clusters import Cluster
from fleet.inventory.models.networks import Network, NicMode
from fleet.inventory.models.nodes import Node

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


class InstanceStatus(models.TextChoices):
    """RAPI's ``status``: the admin state and what the node reports, combined by Ganeti."""

    RUNNING = "running", "Running"
    ADMIN_DOWN = "ADMIN_down", "Stopped"
    USER_DOWN = "USER_down", "Shut down from inside"
    ADMIN_OFFLINE = "ADMIN_offline", "Offline"
    ERROR_UP = "ERROR_up", "Running, should be stopped"
    ERROR_DOWN = "ERROR_down", "Stopped, should be running"
    ERROR_WRONGNODE = "ERROR_wrongnode", "Running on the wrong node"
    ERROR_NODEDOWN = "ERROR_nodedown", "Node down"
    ERROR_NODEOFFLINE = "ERROR_nodeoffline", "Node offline"


class AdminState(models.TextChoices):
    """RAPI's ``admin_state``: what the administrator asked for."""

    UP = "up", "Up"
    DOWN = "down", "Down"
    OFFLINE = "offline", "Offline"


class DiskTemplate(models.TextChoices):
    """Ganeti's disk templates."""

    DISKLESS = "diskless", "Diskless"
    FILE = "file", "File"
    SHAREDFILE = "sharedfile", "Shared file"
    PLAIN = "plain", "Plain LVM"
    BLOCKDEV = "blockdev", "Block device"
    DRBD = "drbd", "DRBD"
    RBD = "rbd", "RBD (Ceph)"
    EXT = "ext", "External storage"
    GLUSTER = "gluster", "Gluster"


class InstanceQuerySet(models.QuerySet["Instance"]):
    """Queries on instances that more than one caller needs."""

    def owned_by(self, user: AbstractBaseUser) -> InstanceQuerySet:
        """Instances ``user`` owns, directly (a user tag naming their username) or through a group they
        belong to now (a group tag naming it).

        Names, not ids: an account made after the sync, renamed, or given a group owns at once what the tags
        name. One query: the ids from both lookups, united, select the instances; each is an index lookup.
        """
        groups = Group.objects.filter(user__pk=user.pk).order_by().values("name")
        owners = InstanceOwner.objects.order_by()
        direct = owners.filter(kind=OwnerKind.USER, name=user.get_username()).values("instance_id")
        via_group = owners.filter(kind=OwnerKind.GROUP, name__in=groups).values("instance_id")
        return self.filter(pk__in=direct.union(via_group))

    def on_node(self, node: Node) -> InstanceQuerySet:
        """Instances with ``node`` as their primary or one of their secondaries."""
        secondary = Instance.secondary_nodes.through.objects.filter(node_id=node.pk).values("instance_id")
        return self.filter(models.Q(primary_node=node) | models.Q(pk__in=secondary))


class Instance(GanetiObject):
    """A Ganeti instance: where it runs, its state, its resources, its NICs, its OS, and its owners.

    Sizes are MiB. ``memory`` and ``vcpus`` are the configured values (beparams ``maxmem`` and ``vcpus``), the
    ``oper_*`` ones what runs now. ``disk_total`` is the sum of ``disk_sizes``, so that lists can sort on it.
    The owners are derived from the tags (``fleet.inventory.owners``) and stored by name in
    :class:`InstanceOwner`, so that "what may user X see" is an indexed query; the tags remain the truth.
    """

    # No index of its own: the unique (cluster, name) starts with it.
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="instances", db_index=False)
    name = models.CharField(max_length=253)
    primary_node = models.ForeignKey(
        Node, on_delete=models.SET_NULL, null=True, blank=True, related_name="primary_instances"
    )
    secondary_nodes = models.ManyToManyField(Node, related_name="secondary_instances", blank=True)

    status = models.CharField(
        max_length=20, choices=InstanceStatus.choices, default=InstanceStatus.ADMIN_DOWN
    )
    admin_state = models.CharField(max_length=8, choices=AdminState.choices, default=AdminState.DOWN)
    oper_state = models.BooleanField(null=True, blank=True, help_text="Whether it actually runs.")
    oper_ram = models.PositiveIntegerField(
        null=True, blank=True, help_text="MiB in use now; null while down."
    )
    oper_vcpus = models.PositiveIntegerField(null=True, blank=True)

    memory = models.PositiveIntegerField(default=0, help_text="beparams maxmem, MiB")
    min_memory = models.PositiveIntegerField(default=0, help_text="beparams minmem, MiB")
    vcpus = models.PositiveIntegerField(default=0)

    disk_template = models.CharField(max_length=16, choices=DiskTemplate.choices, blank=True)
    disk_sizes = models.JSONField(default=list, blank=True, help_text="Size of each disk, MiB, in order.")
    disk_total = models.PositiveBigIntegerField(default=0, help_text="Sum of disk_sizes, MiB.")
    disk_usage = models.PositiveBigIntegerField(
        default=0, help_text="Space used on the nodes, with DRBD, MiB."
    )

    os = models.CharField("OS", max_length=128, blank=True)
    hypervisor = models.CharField(
        max_length=16, blank=True, help_text="kvm, xen-pvm, fake...; blank: unknown."
    )
    osparams = models.JSONField(
        "OS parameters",
        default=dict,
        blank=True,
        help_text="The instance's own (custom) public OS parameters.",
    )
    hvparams = models.JSONField(default=dict, blank=True, help_text="The hypervisor parameters Fleet shows.")
    network_port = models.PositiveIntegerField(null=True, blank=True, help_text="VNC/SPICE port on the node.")

    objects = InstanceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="instance_unique_name"),
            models.UniqueConstraint(fields=["cluster", "uuid"], name="instance_unique_uuid"),
        ]
        indexes = [
            # The list's order; on PostgreSQL a search and a count by status or cluster read only this index.
            models.Index(fields=["name", "id"], include=["status", "cluster"], name="instance_name_idx"),
            models.Index(fields=["status", "name"], name="instance_status_idx"),
            models.Index(fields=["memory"], name="instance_memory_idx"),
            models.Index(fields=["vcpus"], name="instance_vcpus_idx"),
            models.Index(fields=["disk_total"], name="instance_disk_total_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Nic(models.Model):
    """One network interface of an instance, in Ganeti's order: address, MAC, where it is plugged."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="nics")
    index = models.PositiveSmallIntegerField(help_text="Position among the instance's NICs, from 0.")
    name = models.CharField(max_length=128, blank=True)
    uuid = models.UUIDField(null=True, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    mac = models.CharField("MAC", max_length=17, blank=True)
    mode = models.CharField(max_length=16, choices=NicMode.choices, blank=True)
    link = models.CharField(max_length=64, blank=True)
    network = models.ForeignKey(
        Network, on_delete=models.SET_NULL, null=True, blank=True, related_name="nics"
    )
    network_name = models.CharField(
        max_length=253, blank=True, help_text="As RAPI named it, even if unsynced."
    )

    class Meta:
        ordering = ["instance", "index"]
        constraints = [models.UniqueConstraint(fields=["instance", "index"], name="nic_unique_index")]
        indexes = [
            models.Index(fields=["ip"], name="nic_ip_idx"),
            models.Index(fields=["mac"], name="nic_mac_idx"),
        ]

    def __str__(self) -> str:
        return f"nic{self.index} {self.ip or ''} {self.mac}".strip()


class InstanceOwner(models.Model):
    """A user or a group that an ownership tag names (``<prefix>:user:<name>``, ``<prefix>:group:<name>``).

    No link to an account: the name is matched when someone asks, so that a tag naming an account that does
    not exist yet grants nothing until it does, then everything it names. Names compare exactly (Ganeti's
    tags and Django's usernames are both case-sensitive).
    """

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="owners", db_index=False)
    kind = models.CharField(max_length=5, choices=[(k.value, k.value) for k in OwnerKind])
    name = models.CharField(max_length=128, help_text="A username or a group name, as the tag writes it.")

    class Meta:
        ordering = ["instance", "kind", "name"]
        constraints = [
            # Who owns what: "instances of user X" reads this index alone.
            models.UniqueConstraint(fields=["kind", "name", "instance"], name="instanceowner_unique"),
        ]
        indexes = [
            # An instance's owners (the list's column, the sync's rewrite), from this index alone.
            models.Index(fields=["instance", "kind", "name"], name="instanceowner_instance_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} owns instance {self.instance_id}"

"""Instances (the VMs), their NICs, and who owns them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

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
        """Instances ``user`` owns, directly (a user tag) or through a group they belong to (a group tag).

        One query: the ids from both owner tables, united, select the instances; each side is an index lookup.
        """
        memberships = Group.user_set.through.objects.filter(user_id=user.pk).values("group_id")
        direct = InstanceUserOwner.objects.filter(user_id=user.pk).values("instance_id")
        via_group = InstanceGroupOwner.objects.filter(group_id__in=memberships).values("instance_id")
        return self.filter(pk__in=direct.union(via_group))

    def on_node(self, node: Node) -> InstanceQuerySet:
        """Instances with ``node`` as their primary or one of their secondaries."""
        secondary = Instance.secondary_nodes.through.objects.filter(node_id=node.pk).values("instance_id")
        return self.filter(models.Q(primary_node=node) | models.Q(pk__in=secondary))


class Instance(GanetiObject):
    """A Ganeti instance: where it runs, its state, its resources, its NICs, its OS, and its owners.

    Sizes are MiB. ``memory`` and ``vcpus`` are the configured values (beparams ``maxmem`` and ``vcpus``), the
    ``oper_*`` ones what runs now. ``disk_total`` is the sum of ``disk_sizes``, so that lists can sort on it.
    The owners are derived from the tags (``fleet.inventory.owners``) and stored in two tables, so that "what
    may user X see" is an indexed query; the tags remain the truth.
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
    hvparams = models.JSONField(default=dict, blank=True, help_text="The hypervisor parameters Fleet shows.")
    network_port = models.PositiveIntegerField(null=True, blank=True, help_text="VNC/SPICE port on the node.")

    owner_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="InstanceUserOwner", related_name="owned_instances", blank=True
    )
    owner_groups = models.ManyToManyField(
        Group, through="InstanceGroupOwner", related_name="owned_instances", blank=True
    )

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


class InstanceUserOwner(models.Model):
    """A user who owns an instance, from a ``<prefix>:user:<name>`` tag."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="user_owner_links")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="instance_owner_links",
        db_index=False,
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "instance"], name="instanceuserowner_unique")]

    def __str__(self) -> str:
        return f"user {self.user_id} owns instance {self.instance_id}"


class InstanceGroupOwner(models.Model):
    """A group whose members own an instance, from a ``<prefix>:group:<name>`` tag."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="group_owner_links")
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, related_name="instance_owner_links", db_index=False
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "instance"], name="instancegroupowner_unique")
        ]

    def __str__(self) -> str:
        return f"group {self.group_id} owns instance {self.instance_id}"

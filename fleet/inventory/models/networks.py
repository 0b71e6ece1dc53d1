"""Ganeti networks (IP pools) and their connections to node groups."""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ValidationError
from django.db import models

from fleet.inventory.models.base import GanetiObject
from fleet.inventory.models.clusters import Cluster
from fleet.inventory.models.nodes import NodeGroup


def validate_cidr(value: str) -> None:
    """An IPv4 or IPv6 network in CIDR notation, with no host bits set."""
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValidationError(f"{value!r} is not a network in CIDR notation: {exc}") from None


class NicMode(models.TextChoices):
    """How a NIC, or a network's connection to a group, reaches the wire."""

    BRIDGED = "bridged", "Bridged"
    ROUTED = "routed", "Routed"
    OPENVSWITCH = "openvswitch", "Open vSwitch"


class Network(GanetiObject):
    """A Ganeti network: an IP pool, its gateway, counts of free and reserved addresses, its group links."""

    # No index of its own: the unique (cluster, name) starts with it.
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="networks", db_index=False)
    name = models.CharField(max_length=253)
    network = models.CharField(
        max_length=43, validators=[validate_cidr], help_text="IPv4 CIDR, e.g. 192.0.2.0/24"
    )
    gateway = models.GenericIPAddressField(null=True, blank=True)
    network6 = models.CharField(max_length=43, blank=True, validators=[validate_cidr])
    gateway6 = models.GenericIPAddressField(null=True, blank=True, protocol="IPv6")
    mac_prefix = models.CharField(max_length=8, blank=True)
    free_count = models.PositiveIntegerField(default=0)
    reserved_count = models.PositiveIntegerField(default=0)
    groups = models.ManyToManyField(
        NodeGroup, through="NetworkConnection", related_name="networks", blank=True
    )

    class Meta:
        ordering = ["cluster", "name"]
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="network_unique_name"),
            models.UniqueConstraint(fields=["cluster", "uuid"], name="network_unique_uuid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.network})"


class NetworkConnection(models.Model):
    """A network connected to a node group, as one entry of the network's ``group_list``: mode, link, VLAN."""

    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="connections")
    group = models.ForeignKey(NodeGroup, on_delete=models.CASCADE, related_name="network_connections")
    mode = models.CharField(max_length=16, choices=NicMode.choices)
    link = models.CharField(max_length=64)
    vlan = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["network", "group"], name="networkconnection_unique")]

    def __str__(self) -> str:
        return f"{self.network_id} on {self.group_id}: {self.mode} {self.link}"

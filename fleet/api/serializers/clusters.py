"""Clusters, node groups, nodes and networks as the API shows them. Credentials never leave Fleet."""

from __future__ import annotations

from rest_framework import serializers

from fleet.api.serializers.policy import PolicyFieldsMixin
from fleet.inventory.models import Cluster, Network, NetworkConnection, Node, NodeGroup


class ClusterSerializer(PolicyFieldsMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A cluster; a VM owner sees what it offers and how fresh Fleet's copy is, not its master node, tags or
    last error (``policy.visible_fields``, which the cluster page follows too)."""

    class Meta:
        model = Cluster
        fields = [
            "id",
            "name",
            "description",
            "software_version",
            "master_node",
            "default_hypervisor",
            "enabled_hypervisors",
            "enabled_disk_templates",
            "ipolicy",
            "tags",
            "drained",
            "offline",
            "health",
            "last_sync_at",
            "last_attempt_at",
            "last_error",
            "last_error_at",
            "consecutive_failures",
            "latency_ms",
        ]


class NodeGroupSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster.name")

    class Meta:
        model = NodeGroup
        fields = ["id", "name", "cluster", "alloc_policy", "node_count", "ipolicy", "tags", "synced_at"]


class NodeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster.name")
    group = serializers.CharField(source="group.name", allow_null=True, default=None)

    class Meta:
        model = Node
        fields = [
            "id",
            "name",
            "cluster",
            "group",
            "role",
            "offline",
            "drained",
            "master_candidate",
            "master_capable",
            "vm_capable",
            "memory_total",
            "memory_free",
            "disk_total",
            "disk_free",
            "cpu_total",
            "primary_ip",
            "secondary_ip",
            "primary_instance_count",
            "secondary_instance_count",
            "tags",
            "synced_at",
        ]


class NetworkConnectionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    group = serializers.CharField(source="group.name")

    class Meta:
        model = NetworkConnection
        fields = ["group", "mode", "link", "vlan"]


class NetworkSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster.name")
    connections = NetworkConnectionSerializer(many=True)

    class Meta:
        model = Network
        fields = [
            "id",
            "name",
            "cluster",
            "network",
            "gateway",
            "network6",
            "gateway6",
            "mac_prefix",
            "free_count",
            "reserved_count",
            "connections",
            "tags",
            "synced_at",
        ]

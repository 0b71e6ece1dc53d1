"""Instances as the API shows them: placement, state, resources, NICs, owners and badges."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fleet.access.tags import Flag, OwnerKind, flags_from_tags
from fleet.inventory.models import Instance, Nic


class NicSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    network = serializers.CharField(source="network_name")

    class Meta:
        model = Nic
        fields = ["index", "name", "ip", "mac", "mode", "link", "network"]


class OwnersSerializer(serializers.Serializer):  # type: ignore[type-arg]
    users = serializers.ListField(child=serializers.CharField())
    groups = serializers.ListField(child=serializers.CharField())


class InstanceSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster.name")
    primary_node = serializers.CharField(source="primary_node.name", allow_null=True, default=None)
    secondary_nodes = serializers.SerializerMethodField()
    nics = NicSerializer(many=True)
    owners = serializers.SerializerMethodField()
    flags = serializers.SerializerMethodField()

    class Meta:
        model = Instance
        fields = [
            "id",
            "name",
            "cluster",
            "primary_node",
            "secondary_nodes",
            "status",
            "admin_state",
            "oper_state",
            "memory",
            "vcpus",
            "disk_template",
            "disk_sizes",
            "disk_total",
            "os",
            "hypervisor",
            "nics",
            "owners",
            "flags",
            "tags",
            "ctime",
            "mtime",
            "synced_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_secondary_nodes(self, instance: Instance) -> list[str]:
        """The names of the secondary nodes (DRBD's mirror), in name order."""
        return sorted(node.name for node in instance.secondary_nodes.all())

    @extend_schema_field(OwnersSerializer)
    def get_owners(self, instance: Instance) -> dict[str, list[str]]:
        """The users and groups the instance's tags name, whether or not such an account exists yet."""
        owners = instance.owners.all()
        return {
            "users": sorted(o.name for o in owners if o.kind == OwnerKind.USER),
            "groups": sorted(o.name for o in owners if o.kind == OwnerKind.GROUP),
        }

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=[f.value for f in Flag]))
    )
    def get_flags(self, instance: Instance) -> list[str]:
        return sorted(flags_from_tags(instance.tags or [], settings.FLEET_TAG_PREFIX))

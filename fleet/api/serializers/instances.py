"""Instances as the API shows them: placement, state, resources, NICs, owners and badges."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fleet.access.tags import Flag, flags_from_tags
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
            "status",
            "admin_state",
            "oper_state",
            "memory",
            "vcpus",
            "disk_template",
            "disk_sizes",
            "disk_total",
            "os",
            "nics",
            "owners",
            "flags",
            "tags",
            "ctime",
            "mtime",
            "synced_at",
        ]

    @extend_schema_field(OwnersSerializer)
    def get_owners(self, instance: Instance) -> dict[str, list[str]]:
        return {
            "users": sorted(user.get_username() for user in instance.owner_users.all()),
            "groups": sorted(group.name for group in instance.owner_groups.all()),
        }

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=[f.value for f in Flag]))
    )
    def get_flags(self, instance: Instance) -> list[str]:
        return sorted(flags_from_tags(instance.tags or [], settings.FLEET_TAG_PREFIX))

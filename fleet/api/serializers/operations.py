"""Operations (the audit log) as the API shows them, and the bodies of the actions that record them."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fleet.access.tags import max_owner_name
from fleet.operations.configuration import BOOT_ORDERS, DISK_TYPES, NIC_TYPES
from fleet.operations.image_urls import MAX_URL_LENGTH
from fleet.operations.models import Operation
from fleet.operations.power import MAX_SHUTDOWN_TIMEOUT, REBOOT_KINDS

OWNER_NAME = r"^[A-Za-z0-9_.+*/@-]+$"  # fleet.access.tags.NAME_PATTERN, spelled out: ASCII in every engine


class OperationJobSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The Ganeti job an operation became."""

    cluster = serializers.CharField()
    job_id = serializers.IntegerField()
    status = serializers.CharField()


class OperationSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    cluster = serializers.CharField(source="cluster_name")
    instance = serializers.CharField(source="instance_name")
    requester = serializers.CharField(source="requester_name")
    job = serializers.SerializerMethodField()
    job_ids = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Ganeti's ids of its jobs so far, in order.",
    )

    class Meta:
        model = Operation
        fields = [
            "id",
            "uuid",
            "kind",
            "status",
            "cluster",
            "instance",
            "instance_uuid",
            "params",
            "requester",
            "client_address",
            "via",
            "reason",
            "job",
            "step",
            "job_ids",
            "error",
            "conflict",
            "created_at",
            "attempted_at",
            "submitted_at",
            "ended_at",
        ]

    @extend_schema_field(OperationJobSerializer(allow_null=True))
    def get_job(self, operation: Operation) -> dict[str, object] | None:
        if operation.ganeti_job_id is None:
            return None
        job = operation.job
        return {
            "cluster": operation.cluster_name,
            "job_id": operation.ganeti_job_id,
            "status": job.status if job is not None else "unknown",
        }


class ReasonSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What every action takes: why (kept in the audit log and sent in Ganeti's reason trail)."""

    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ShutdownSerializer(ReasonSerializer):
    timeout = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=MAX_SHUTDOWN_TIMEOUT,
        help_text="Seconds to wait for the guest before a hard stop (Ganeti's default: 120).",
    )


class RebootSerializer(ReasonSerializer):
    kind = serializers.ChoiceField(
        choices=REBOOT_KINDS,
        default="soft",
        help_text="soft: inside the guest; hard: the hypervisor restarts it; full: a shutdown and a start.",
    )


class MigrateSerializer(ReasonSerializer):
    live = serializers.BooleanField(default=True, help_text="Live migration (false: stop, move, start).")


class OwnerChangeSerializer(ReasonSerializer):
    change = serializers.ChoiceField(choices=["add", "remove"], help_text="Add the owner, or remove it.")
    kind = serializers.ChoiceField(
        choices=["user", "group"], help_text="A Fleet user, or every member of a group."
    )
    name = serializers.RegexField(
        OWNER_NAME,
        max_length=max_owner_name(settings.FLEET_TAG_PREFIX),
        help_text="The user's or group's name (an account may come later): what a Ganeti tag can hold.",
    )


class ModifySerializer(ReasonSerializer):
    """The settings to change; those left out stay as they are. Checked by ``fleet.operations.modify``."""

    boot_order = serializers.ChoiceField(choices=BOOT_ORDERS, required=False, help_text="KVM's boot device.")
    cdrom_image_url = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_URL_LENGTH,
        help_text='An http(s) URL of a CD image on a public host (KVM reads it at start); "" removes it.',
    )
    cdrom_disk_type = serializers.ChoiceField(
        choices=["", *DISK_TYPES], required=False, help_text='The CD-ROM\'s bus; "": as the disk type.'
    )
    nic_type = serializers.ChoiceField(choices=NIC_TYPES, required=False, help_text="The NICs' model.")
    disk_type = serializers.ChoiceField(choices=DISK_TYPES, required=False, help_text="The disks' bus.")
    use_localtime = serializers.BooleanField(
        required=False, default=None, allow_null=True, help_text="The clock in local time (Windows)."
    )
    memory = serializers.IntegerField(
        required=False, min_value=1, help_text="MiB (maxmem and minmem), within the node group's policy."
    )
    vcpus = serializers.IntegerField(required=False, min_value=1, help_text="Within the node group's policy.")

"""Operations (the audit log) as the API shows them, and the bodies of the actions that record them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fleet.access.tags import ALLOW_FROM_NETWORK_PATTERNS, max_owner_name
from fleet.operations.configuration import BOOT_ORDERS, DISK_TYPES, NIC_TYPES
from fleet.operations.image_urls import MAX_URL_LENGTH
from fleet.operations.models import Confirmation, Operation
from fleet.operations.power import MAX_SHUTDOWN_TIMEOUT, REBOOT_KINDS

OWNER_NAME = r"^[A-Za-z0-9_.+*/@-]+$"  # fleet.access.tags.NAME_PATTERN, spelled out: ASCII in every engine


class OperationJobSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The Ganeti job an operation became."""

    cluster = serializers.CharField()
    job_id = serializers.IntegerField()
    status = serializers.CharField()


class ConfirmationSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """How an action that needs a confirmation was (or is to be) confirmed."""

    expires_at = serializers.DateTimeField(help_text="Until when the mailed link works.")
    confirmed_at = serializers.DateTimeField(allow_null=True)
    confirmed_by = serializers.CharField(help_text="link (the mailed link) or name (typed by an admin).")
    confirmed_from = serializers.IPAddressField(allow_null=True)
    confirmed_via = serializers.CharField()


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
    confirmation = serializers.SerializerMethodField()

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
            "confirmation",
        ]

    @extend_schema_field(ConfirmationSerializer(allow_null=True))
    def get_confirmation(self, operation: Operation) -> dict[str, object] | None:
        try:
            confirmation = operation.confirmation
        except Confirmation.DoesNotExist:
            return None
        return dict(ConfirmationSerializer(confirmation).data)

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


class _JSONTyped:
    """A body field that takes only the JSON type its schema states: DRF would turn 0 into "0" or False, and
    "30" into 30, which the schema refuses."""

    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, self.json_types) or (bool not in self.json_types and isinstance(data, bool)):
            self.fail("invalid", input=data)  # type: ignore[attr-defined]  # DRF's own message
        return super().to_internal_value(data)  # type: ignore[misc]


class Text(_JSONTyped, serializers.CharField):
    json_types = (str,)


class Pattern(_JSONTyped, serializers.RegexField):
    json_types = (str,)


class Whole(_JSONTyped, serializers.IntegerField):
    json_types = (int,)


class YesNo(_JSONTyped, serializers.BooleanField):
    json_types = (bool,)


class ReasonSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """What every action takes: why (kept in the audit log and sent in Ganeti's reason trail)."""

    reason = Text(required=False, allow_blank=True, default="", max_length=2000)


class ShutdownSerializer(ReasonSerializer):
    timeout = Whole(
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
    live = YesNo(default=True, help_text="Live migration (false: stop, move, start).")


class OwnerChangeSerializer(ReasonSerializer):
    change = serializers.ChoiceField(choices=["add", "remove"], help_text="Add the owner, or remove it.")
    kind = serializers.ChoiceField(
        choices=["user", "group"], help_text="A Fleet user, or every member of a group."
    )
    name = Pattern(
        OWNER_NAME,
        max_length=max_owner_name(settings.FLEET_TAG_PREFIX),
        help_text="The user's or group's name (an account may come later): what a Ganeti tag can hold.",
    )


class ModifySerializer(ReasonSerializer):
    """The settings to change; those left out stay as they are. Checked by ``fleet.operations.modify``."""

    boot_order = serializers.ChoiceField(choices=BOOT_ORDERS, required=False, help_text="KVM's boot device.")
    cdrom_image_url = Text(
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
    use_localtime = YesNo(
        required=False, default=None, allow_null=True, help_text="The clock in local time (Windows)."
    )
    memory = Whole(
        required=False, min_value=1, help_text="MiB (maxmem and minmem), within the node group's policy."
    )
    vcpus = Whole(required=False, min_value=1, help_text="Within the node group's policy.")


_RANGES = (
    "Networks such as 192.0.2.0/26 or 2001:db8::/64, or single addresses; at most a /26 (IPv4) or a /64 "
    "(IPv6), with no host bits set."
)


_MIGRATE = (
    "Live-migrate the instance once its tags are set, if it runs and can move, so that its node applies "
    "the rules at once (otherwise at its next start or reboot)."
)


@extend_schema_field(
    {
        "anyOf": [
            {"type": "string", "format": "ipv4"},
            {"type": "string", "format": "ipv6"},
            *({"type": "string", "pattern": pattern} for pattern in ALLOW_FROM_NETWORK_PATTERNS),
        ],
        "description": "An address, or a network no wider than a /26 or a /64, with no host bits set "
        "(IPv6 networks narrower than a /64 are taken too, in any spelling).",
    }
)
class RangeField(Text):
    """An allow-from range, checked by ``fleet.access.tags.parse_allow_from`` (in fleet.operations)."""


def _ranges(help_text: str, **kwargs: Any) -> serializers.ListField:
    child = RangeField(max_length=64, trim_whitespace=False)
    return serializers.ListField(child=child, max_length=16, help_text=f"{help_text} {_RANGES}", **kwargs)


class IsolateSerializer(ReasonSerializer):
    allow_from = _ranges(
        "The ranges that may still reach the isolated instance.", required=False, default=list
    )
    migrate = YesNo(default=True, help_text=_MIGRATE)


class DeisolateSerializer(ReasonSerializer):
    migrate = YesNo(default=True, help_text=_MIGRATE)


class AllowFromChangeSerializer(ReasonSerializer):
    add = _ranges("Ranges to allow too.", required=False, default=list)
    remove = _ranges("Ranges to take off the list.", required=False, default=list)
    migrate = YesNo(default=True, help_text=_MIGRATE)


class ConfirmSerializer(ReasonSerializer):
    confirm = serializers.CharField(
        required=False,
        max_length=253,
        help_text="Administrators: the instance's name, to confirm at once. Others get a link by mail.",
    )


class OsParamSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One OS parameter: a list of these, since an object's keys cannot be constrained in the schema."""

    name = serializers.RegexField(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$", help_text="e.g. img_id")
    value = serializers.RegexField(
        r"^[ -~]*$", max_length=1024, allow_blank=True, trim_whitespace=False, help_text="printable ASCII"
    )


class ReinstallSerializer(ConfirmSerializer):
    os = serializers.CharField(max_length=128, help_text="An OS the cluster offers (name+variant).")
    clear_osparams = serializers.BooleanField(
        default=False, help_text="Clear the instance's OS parameters (kept by default)."
    )
    osparams = serializers.ListField(
        child=OsParamSerializer(),
        required=False,
        max_length=32,
        help_text='OS parameters to set besides (those of the new image); the value "default" removes one.',
    )
    start = serializers.BooleanField(default=True, help_text="Start it once reinstalled.")

    def validate_osparams(self, value: list[dict[str, str]]) -> dict[str, str]:
        return {item["name"]: item["value"] for item in value}


class RenameSerializer(ConfirmSerializer):
    new_name = serializers.RegexField(
        r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$",  # Ganeti's host names, before it lower-cases them
        max_length=255,
        help_text="The new host name (a stopped instance).",
    )


class DestroySerializer(ConfirmSerializer):
    pass

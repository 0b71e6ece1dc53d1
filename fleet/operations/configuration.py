"""An instance's configuration (owners): the CD image to boot from, the boot device, the NIC and disk
models, the clock, memory and vCPUs.

One ``PUT /2/instances/N/modify`` job with ``hvparams`` and ``beparams`` (docs/ganeti-actions.md). Ganeti
writes them to the configuration and applies them at the next start of the hypervisor process, so a change to
a running instance also marks it ``<prefix>:needsreboot`` with a second job (the "Needs reboot" badge); a
start, a hard or full reboot, or a failover through Fleet applies the change and removes the mark
(``fleet.operations.power``). Values are checked here against KVM's domains and the instance policy of the
instance's node group as last synced, so that a bad one is a 400 naming the field rather than a failed job.
The policy comes first: a caller who may not change the instance learns nothing about its configuration
and cannot make Fleet resolve a name (ganetimgr checked neither ownership nor the URL's target).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from fleet.access import policy
from fleet.access.policy import Action
from fleet.access.tags import Flag, flag_tag, flags_from_tags
from fleet.inventory.models import Instance, InstanceStatus
from fleet.operations import image_urls
from fleet.operations.calls import Builder, plans
from fleet.operations.core import Caller, Invalid, record
from fleet.operations.models import Operation, OperationKind
from fleet.rapi import Call, instances

__all__ = ["BOOT_ORDERS", "DISK_TYPES", "NIC_TYPES", "modify"]

BOOT_ORDERS = ("disk", "cdrom", "network")
"""KVM's ``boot_order`` but ``floppy``: Fleet sets no floppy image, and a floppy boot without one fails."""
NIC_TYPES = (
    "paravirtual", "rtl8139", "e1000", "ne2k_pci", "ne2k_isa", "i82551", "i82557b", "i82559er", "pcnet",
)  # fmt: skip
DISK_TYPES = (
    "paravirtual", "scsi", "ide", "sd", "mtd", "pflash", "scsi-hd", "scsi-cd", "scsi-block", "scsi-generic",
)  # fmt: skip
KVM_DEFAULTS = {"boot_order": "disk", "cdrom_image_path": "", "cdrom_disk_type": ""}
MAX_MEMORY = 16 * 1024 * 1024  # MiB: 16 TiB, beyond any node, whatever the policy says
MAX_VCPUS = 4096
HV_FIELDS = {  # argument: KVM's hypervisor parameter
    "boot_order": "boot_order",
    "cdrom_image_url": "cdrom_image_path",
    "cdrom_disk_type": "cdrom_disk_type",
    "nic_type": "nic_type",
    "disk_type": "disk_type",
    "use_localtime": "use_localtime",
}
BE_FIELDS = {"memory": "memory", "vcpus": "vcpus"}  # memory sets maxmem and minmem (Ganeti's rule)
SPECS = {"memory": ("memory-size", "MiB"), "vcpus": ("cpu-count", "vCPUs")}
RUNNING = frozenset({InstanceStatus.RUNNING, InstanceStatus.ERROR_UP, InstanceStatus.ERROR_WRONGNODE})
CLIP = 2048  # characters of a refused attempt's value kept in the audit log


def modify(
    instance: Instance,
    *,
    by: Caller,
    reason: str = "",
    boot_order: str | None = None,
    cdrom_image_url: str | None = None,
    cdrom_disk_type: str | None = None,
    nic_type: str | None = None,
    disk_type: str | None = None,
    use_localtime: bool | None = None,
    memory: int | None = None,
    vcpus: int | None = None,
) -> Operation:
    """Change the given settings of ``instance`` (None: unchanged; ``cdrom_image_url=""`` removes the CD
    image; ``cdrom_disk_type=""``: the CD-ROM's bus follows the disk type). Memory is MiB."""
    given = {
        name: value
        for name, value in {
            "boot_order": boot_order, "cdrom_image_url": cdrom_image_url, "cdrom_disk_type": cdrom_disk_type,
            "nic_type": nic_type, "disk_type": disk_type, "use_localtime": use_localtime, "memory": memory,
            "vcpus": vcpus,
        }.items()
        if value is not None
    }  # fmt: skip
    if policy.decide(by.user, Action.MODIFY, instance).allowed:
        params = _params(instance, given)
    else:  # refused (or invisible: a 404) and recorded by record(), before any check of the values
        params = {k: v[:CLIP] if isinstance(v, str) else v for k, v in given.items()}
    return record(OperationKind.MODIFY, instance, by=by, action=Action.MODIFY, params=params, reason=reason)


def _params(instance: Instance, given: Mapping[str, Any]) -> dict[str, Any]:
    """What to send: the hypervisor and backend parameters that change, and the mark if it will be due."""
    errors: dict[str, str] = {}
    hv: dict[str, Any] = {}
    be: dict[str, Any] = {}
    hypervisor = instance.hypervisor or instance.cluster.default_hypervisor
    current = {**KVM_DEFAULTS, **(instance.hvparams or {})}
    for field, value in given.items():
        try:
            if field in HV_FIELDS:
                if hypervisor != "kvm":
                    raise ValueError(_not_kvm(hypervisor))
                name = HV_FIELDS[field]
                if value == current.get(name):  # unchanged, though perhaps not what Fleet would set
                    continue
                checked = _hv_value(field, value)
                if checked != current.get(name):
                    hv[name] = checked
            else:
                checked = _whole(value, 1, MAX_MEMORY if field == "memory" else MAX_VCPUS)
                if checked != getattr(instance, field):
                    be[BE_FIELDS[field]] = checked
        except ValueError as exc:
            errors[field] = str(exc)
    if not errors:
        errors.update(_cdrom_boot(hv, {**current, **hv}))
    if not errors and be:
        errors.update(_within_policy(instance, be))
    if errors:
        raise Invalid(errors)
    if not hv and not be:
        raise Invalid({"non_field_errors": f"Nothing to change: {instance.name} has these settings already."})
    params: dict[str, Any] = {}
    if hv:
        params["hvparams"] = hv
    if be:
        params["beparams"] = be
    mark = flag_tag(Flag.NEEDS_REBOOT, str(settings.FLEET_TAG_PREFIX))
    running = instance.status in RUNNING or instance.oper_state is True
    if running and Flag.NEEDS_REBOOT not in flags_from_tags(instance.tags or [], settings.FLEET_TAG_PREFIX):
        params["mark"] = mark
    return params


def _not_kvm(hypervisor: str) -> str:
    if not hypervisor:
        return "not known to be supported: Fleet has not read this instance's hypervisor yet"
    return f"not supported by this instance's hypervisor ({hypervisor}): only KVM has it"


def _hv_value(field: str, value: Any) -> Any:
    """A hypervisor parameter as Ganeti takes it, or ValueError saying what is expected."""
    if field == "use_localtime":
        if not isinstance(value, bool):
            raise ValueError("true or false")
        return value
    if not isinstance(value, str):
        raise ValueError("a string")
    if field == "cdrom_image_url":
        if value == "":
            return ""
        try:
            return image_urls.check_image_url(value.strip(), settings.FLEET_CDROM)
        except image_urls.UrlRefused as exc:
            raise ValueError(str(exc)) from None
    domain: Sequence[str] = {
        "boot_order": BOOT_ORDERS, "nic_type": NIC_TYPES, "disk_type": DISK_TYPES,
        "cdrom_disk_type": ("", *DISK_TYPES),
    }[field]  # fmt: skip
    if value not in domain:
        shown = ", ".join(v or '"" (as the disk type)' for v in domain)
        raise ValueError(f"one of {shown}")
    return value


def _whole(value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"a whole number from {low} to {high}")
    if not low <= value <= high:
        raise ValueError(f"a whole number from {low} to {high}, not {value}")
    return value


def _cdrom_boot(changes: Mapping[str, Any], merged: Mapping[str, Any]) -> dict[str, str]:
    """KVM's rule: "Cannot boot from cdrom without an ISO path", told on the field that changed."""
    if merged.get("boot_order") != "cdrom" or merged.get("cdrom_image_path"):
        return {}
    if "boot_order" in changes:
        return {"boot_order": "booting from cdrom needs a CD image URL (cdrom_image_url)"}
    return {"cdrom_image_url": "the instance boots from cdrom: give an image, or boot from disk"}


def _within_policy(instance: Instance, be: Mapping[str, int]) -> dict[str, str]:
    """The node group's instance policy (min/max specs, the cluster's if the group has none) over memory and
    vCPUs as they will be: Ganeti checks both (maxmem and minmem) with any change of either."""
    group = instance.primary_node.group if instance.primary_node_id and instance.primary_node else None
    if group is not None and group.ipolicy:
        ipolicy, where = group.ipolicy, f"node group {group.name}"
    else:
        ipolicy, where = instance.cluster.ipolicy or {}, f"cluster {instance.cluster.name}"
    pairs = [p for p in ipolicy.get("minmax") or [] if isinstance(p, dict)]
    if not pairs:
        return {}
    values = {
        "memory": [be["memory"]] if "memory" in be else sorted({instance.memory, instance.min_memory} - {0}),
        "vcpus": [be.get("vcpus", instance.vcpus)],
    }
    best: dict[str, str] | None = None
    for pair in pairs:
        errors = {}
        for field, (spec, unit) in SPECS.items():
            low, high = (pair.get("min") or {}).get(spec), (pair.get("max") or {}).get(spec)
            for value in values[field]:
                if (low is not None and value < low) or (high is not None and value > high):
                    now = "" if field in be else f"{instance.name} has {value} {unit}, and "
                    errors[field] = f"{now}the instance policy of {where} allows {_range(low, high, unit)}"
        if best is None or len(errors) < len(best):
            best = errors
    return best or {}


def _range(low: int | None, high: int | None, unit: str) -> str:
    if low is None:
        return f"at most {high} {unit}"
    if high is None:
        return f"at least {low} {unit}"
    return f"{low} to {high} {unit}"


# What it sends ----------------------------------------------------------------------------------------------


def _modify_call(operation: Operation, reason: str) -> Call[int]:
    return instances.modify(
        operation.instance_name,
        hvparams=operation.params.get("hvparams"),
        beparams=operation.params.get("beparams"),
        reason=reason,
    )


def _mark_call(operation: Operation, reason: str) -> Call[int]:
    return instances.add_tags(operation.instance_name, [operation.params["mark"]], reason=reason)


@plans(OperationKind.MODIFY)
def _plan(operation: Operation) -> tuple[Builder, ...]:
    return (_modify_call, _mark_call) if "mark" in operation.params else (_modify_call,)

"""The instance page's Configuration form: the settings ``fleet.operations.modify`` changes, prefilled with
what the instance has as last synced, for callers the policy allows to change them."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from fleet.access import policy
from fleet.access.tags import Flag, flags_from_tags
from fleet.inventory.models import Instance
from fleet.operations.configuration import BOOT_ORDERS, DISK_TYPES, KVM_DEFAULTS, NIC_TYPES

BOOLEANS = {"true": True, "false": False}


def configuration_panel(instance: Instance, allowed: frozenset[policy.Action]) -> dict[str, Any]:
    """The form's current values and choices (``configuration``: None if the caller may not change it), and
    whether the instance waits for a reboot to apply a change (``needs_reboot``)."""
    marked = Flag.NEEDS_REBOOT in flags_from_tags(instance.tags or [], settings.FLEET_TAG_PREFIX)
    panel: dict[str, Any] = {"needs_reboot": marked and policy.Action.POWER in allowed, "configuration": None}
    if policy.Action.MODIFY not in allowed:
        return panel
    hv = {**KVM_DEFAULTS, **(instance.hvparams or {})}
    panel["configuration"] = {
        "kvm": (instance.hypervisor or instance.cluster.default_hypervisor) == "kvm",
        "boot_order": hv.get("boot_order", ""),
        "boot_orders": BOOT_ORDERS,
        "cdrom_image_url": hv.get("cdrom_image_path", ""),
        "cdrom_disk_type": hv.get("cdrom_disk_type", ""),
        "nic_type": hv.get("nic_type", ""),
        "nic_types": NIC_TYPES,
        "disk_type": hv.get("disk_type", ""),
        "disk_types": DISK_TYPES,
        "use_localtime": "true" if hv.get("use_localtime") else "false",
        "memory": instance.memory,
        "vcpus": instance.vcpus,
    }
    return panel


def configuration_fields(form: dict[str, str]) -> dict[str, Any]:
    """The arguments of ``fleet.operations.modify`` from the form: each field sent, as a number or a
    boolean where it reads as one (anything else goes as sent, for the operation to refuse by name)."""
    fields: dict[str, Any] = {}
    for name in ("boot_order", "cdrom_image_url", "cdrom_disk_type", "nic_type", "disk_type"):
        if name in form:
            fields[name] = form[name]
    if form.get("use_localtime", "") != "":
        fields["use_localtime"] = BOOLEANS.get(form["use_localtime"], form["use_localtime"])
    for name in ("memory", "vcpus"):
        text = form.get(name, "").strip()
        if text:
            fields[name] = int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else text
    return fields

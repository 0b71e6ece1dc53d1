"""Hypervisor and backend parameter checks of an instance modify, as LUInstanceSetParams makes them.

The order is Ganeti's: global hypervisor parameters are refused first (`CheckParamsNotGlobal`), then the
merged dicts are type-checked (`utils.ForceDictType`: TypeEnforcementError), then the hypervisor checks the
syntax of its full parameter set (`CheckParameterSyntax`: HypervisorError), then each node validates what
needs the node (`ValidateParameters`: a file path must exist there, so an ISO path a simulated node does not
have fails while a URL passes). The simulator's clusters run KVM; the tables are Ganeti 3.0.2's
`constants.HVS_PARAMETER_TYPES`, `BES_PARAMETER_TYPES` and `hv_kvm.KVMHypervisor.PARAMETERS`, for the
parameters Fleet changes (boot order, CD-ROM image, NIC and disk models, local time) and their types for the
rest.
"""

from __future__ import annotations

import re
from typing import Any

from fleet.simulator.defaults import KVM_HVPARAMS
from fleet.simulator.effects import OpError

HVC_GLOBALS = frozenset({"migration_bandwidth", "migration_mode", "migration_port", "xen_cmd"})
KVM_NIC_TYPES = (
    "e1000", "i82551", "i82557b", "i82559er", "ne2k_isa", "ne2k_pci", "paravirtual", "pcnet", "rtl8139",
)  # fmt: skip
KVM_DISK_TYPES = (
    "ide", "mtd", "paravirtual", "pflash", "scsi", "scsi-block", "scsi-cd", "scsi-generic", "scsi-hd", "sd",
)  # fmt: skip
KVM_BOOT_ORDERS = ("cdrom", "disk", "floppy", "network")
# (required, the set of valid values); a None set means "an absolute normalized path or a URL"
KVM_CHECKS: dict[str, tuple[bool, tuple[str, ...] | None]] = {
    "boot_order": (True, KVM_BOOT_ORDERS),
    "nic_type": (True, KVM_NIC_TYPES),
    "disk_type": (True, KVM_DISK_TYPES),
    "cdrom_disk_type": (False, KVM_DISK_TYPES),
    "cdrom_image_path": (False, None),
    "cdrom2_image_path": (False, None),
}
URL = re.compile(r"(https?|ftps?)://")
SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?)\s*([mgt]?)i?b?\s*$", re.IGNORECASE)
BES_TYPES = {
    "always_failover": "bool", "auto_balance": "bool", "maxmem": "size", "memory": "size", "minmem": "size",
    "spindle_use": "int", "vcpus": "int",
}  # fmt: skip


def _hv_type(name: str, default: Any) -> str:
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, int):
        return "int"
    return "maybe-string" if name == "root_path" else "string"


HVS_TYPES = {name: _hv_type(name, value) for name, value in KVM_HVPARAMS.items()} | {"xen_cmd": "string"}


def _type_error(message: str) -> OpError:
    return OpError("TypeEnforcementError", message, None)


def force_types(params: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    """`utils.ForceDictType`: unknown keys are refused, values converted to their type (sizes in MiB)."""
    out = {}
    for key, value in params.items():
        kind = types.get(key)
        if kind is None:
            raise _type_error(f"Unknown parameter '{key}'")
        if kind in ("string", "maybe-string"):
            if value is False:
                value = ""
            elif not isinstance(value, str) and not (value is None and kind == "maybe-string"):
                raise _type_error(f"'{key}' (value {value}) is not a valid string")
        elif kind == "bool":
            if isinstance(value, str) and value:
                if value.lower() not in ("true", "false"):
                    raise _type_error(f"'{key}' (value {value}) is not a valid boolean")
                value = value.lower() == "true"
            else:
                value = bool(value)
        elif kind == "size":
            value = _size(key, value)
        elif kind == "int":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise _type_error(f"'{key}' (value {value}) is not a valid integer") from None
        out[key] = value
    return out


def _size(key: str, value: Any) -> int:
    """`utils.ParseUnit`: a number of MiB, or a string with a unit (M, G, T)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    match = SIZE.match(str(value))
    if match is None:
        raise _type_error(f"'{key}' (value {value}) is not a valid size. error: Invalid format")
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * {"": 1, "m": 1, "g": 1024, "t": 1024 * 1024}[unit])


def check_not_global(hvparams: dict[str, Any]) -> None:
    """`CheckParamsNotGlobal`: migration and Xen settings are the cluster's, not an instance's."""
    used = sorted(HVC_GLOBALS & set(hvparams))
    if used:
        raise OpError(
            "OpPrereqError",
            "The following hypervisor parameters are global and cannot be customized at instance level,"
            f" please modify them at cluster level: {', '.join(used)}",
            "wrong_input",
        )


def check_kvm(full: dict[str, Any], node: str) -> None:
    """KVM's `CheckParameterSyntax` on the master, then `ValidateParameters` on the primary node."""
    for key in full:
        if key not in KVM_HVPARAMS:
            raise OpError("HypervisorError", f"Parameter '{key}' is not supported", None)
    for key, (required, valid) in KVM_CHECKS.items():
        value = full[key]
        if not value and not required:
            continue
        if valid is not None and value not in valid:
            message = f"The value must be one of: {', '.join(valid)}"
        elif valid is None and not (_is_norm_abs_path(value) or URL.match(value)):
            message = "must be an absolute normalized path or a URL"
        else:
            continue
        raise OpError(
            "HypervisorError",
            f"Parameter '{key}' fails syntax check: {message} (current value: '{value}')",
            None,
        )
    if full["boot_order"] == "cdrom" and not full["cdrom_image_path"]:
        raise OpError("HypervisorError", "Cannot boot from cdrom without an ISO path", None)
    for key in ("cdrom_image_path", "cdrom2_image_path"):
        value = full[key]
        if value and not URL.match(value):  # a simulated node holds no ISO files
            raise OpError(
                "OpExecError",
                f"Hypervisor parameter validation failed on node {node}: Parameter '{key}' fails validation:"
                f" not found or not a file or URL (current value: '{value}')",
                None,
            )


def _is_norm_abs_path(path: str) -> bool:
    """`utils.IsNormAbsPath`: absolute, without `..`, `.` or doubled slashes."""
    import posixpath

    return path.startswith("/") and posixpath.normpath(path) == path and not path.startswith("//")

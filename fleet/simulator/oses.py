"""The OS definitions of a simulated cluster and Ganeti 3.0.2's rules for OS parameters.

Every simulated node carries the same OS definitions: the `debootstrap` and `image` scripts with their
variants, and `noop`, the script the conformance suite's real clusters install. An image-based OS declares
snf-image's parameters (`img_id`, `img_format`, `img_passwd`, `img_properties`); `debootstrap` declares none.
Ganeti checks parameters on the nodes (`backend.ValidateOS`), so its refusals are `OpExecError`s whose message
names the primary node.

How the instance's parameters change, as `LUInstanceSetParams` and `LUInstanceReinstall` do it:
- modify merges (`GetUpdatedParams`): a key set to `default` is removed, others are set;
- reinstall replaces: the instance keeps exactly the `osparams` the request gave, unmerged (so the value
  `default` is stored as the string "default"), and loses every private parameter, which RAPI cannot send.
"""

from __future__ import annotations

from typing import Any

from fleet.simulator.effects import OpError

VALUE_DEFAULT = "default"
IMAGE_PARAMETERS = ("img_format", "img_id", "img_passwd", "img_properties")
OS_DEFINITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # name: (variants, parameters)
    "debootstrap": (("default", "bookworm"), ()),
    "image": (("default", "debian-12", "ubuntu-22.04", "rocky-9"), IMAGE_PARAMETERS),
    "noop": ((), IMAGE_PARAMETERS),
}


def os_names() -> list[str]:
    """What GET /2/os lists: each OS with each of its variants, or its bare name when it has none."""
    names = []
    for name, (variants, _) in OS_DEFINITIONS.items():
        names.extend([f"{name}+{v}" for v in variants] or [name])
    return sorted(names)


def validate(os_name: str, params: dict[str, Any], node: str) -> None:
    """`CheckOSParams`: the OS must exist on the node and declare every parameter given."""
    base, _, variant = os_name.partition("+")
    definition = OS_DEFINITIONS.get(base)
    prefix = f"OS Parameters validation failed on node {node}: "
    if definition is None:
        raise OpError("OpExecError", f"{prefix}Directory for OS {base} not found in search path", None)
    variants, supported = definition
    if not variants and variant:
        message = f"OS '{base}' does not support variants ('{variant}' passed)"
    elif variants and not variant:
        message = f"OS name '{os_name}' must include a variant"
    elif variants and variant not in variants:
        message = f"OS '{base}' does not support variant '{variant}'"
    else:
        message = ""
    if message:
        raise OpError("OpExecError", prefix + message, None)
    unsupported = sorted(set(params) - set(supported))
    if unsupported:
        raise OpError(
            "OpExecError",
            f"{prefix}The following parameters are not supported by the OS {base}: {', '.join(unsupported)}",
            None,
        )


def updated(old: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`GetUpdatedParams`: the value `default` removes a key, any other value sets it."""
    new = dict(old)
    for key, value in changes.items():
        if value == VALUE_DEFAULT:
            new.pop(key, None)
        else:
            new[key] = value
    return new


def set_osparams(inst: dict[str, Any], public: dict[str, Any], private: dict[str, Any]) -> None:
    """Store an instance's OS parameters: custom as given, merged the same (the cluster sets none per OS)."""
    inst["custom_osparams"] = dict(public)
    inst["osparams"] = dict(public)
    inst["osparams_private"] = dict(private)

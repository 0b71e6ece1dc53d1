"""A Ganeti instance policy laid out for a page: a table of specs, then the policy's other settings.

``/2/info`` gives ``ipolicy = {minmax: [{min: S, max: S}, ...], std: S, disk-templates: [...], vcpu-ratio,
spindle-ratio}`` with ``S = {memory-size, cpu-count, disk-size, disk-count, nic-count, spindle-use}``. The
specs become one row per parameter and one column per bound (each ``minmax`` pair, then ``std``); the rest
become label/value pairs. The policy comes from a cluster: any shape is accepted, keys Fleet does not know
are shown under their own names, and values that are not what Ganeti sends are shown as text, never raised on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleet.web.templatetags.fleet import mib

SPECS = {
    "memory-size": "Memory",
    "cpu-count": "CPUs",
    "disk-size": "Disk size",
    "disk-count": "Disks",
    "nic-count": "NICs",
    "spindle-use": "Spindles",
}
"""The spec parameters in Ganeti's order, with their labels."""

_IN_MIB = frozenset({"memory-size", "disk-size"})

SETTINGS = {
    "disk-templates": "Disk templates",
    "vcpu-ratio": "vCPUs per physical CPU",
    "spindle-ratio": "Instances per spindle",
}


@dataclass(frozen=True)
class SpecRow:
    """One spec parameter: its label and its value under each column (``""`` where a bound lacks it)."""

    label: str
    values: list[str]


@dataclass(frozen=True)
class Policy:
    """What the page shows of an instance policy."""

    columns: list[str] = field(default_factory=list)
    specs: list[SpecRow] = field(default_factory=list)
    settings: list[tuple[str, str]] = field(default_factory=list)


def layout(ipolicy: Any) -> Policy | None:
    """``ipolicy`` as :class:`Policy`, or ``None`` when there is none (never synced, or not a mapping)."""
    if not isinstance(ipolicy, dict) or not ipolicy:
        return None
    bounds: list[tuple[str, Any]] = []
    minmax = ipolicy.get("minmax")
    pairs = [pair for pair in minmax if isinstance(pair, dict)] if isinstance(minmax, list) else []
    for number, pair in enumerate(pairs, start=1):
        suffix = f" ({number})" if len(pairs) > 1 else ""
        bounds += [(f"Minimum{suffix}", pair.get("min")), (f"Maximum{suffix}", pair.get("max"))]
    if "std" in ipolicy:
        bounds.append(("Standard", ipolicy["std"]))
    specs = [spec if isinstance(spec, dict) else {} for _, spec in bounds]
    seen = [key for key in SPECS if any(key in spec for spec in specs)]
    seen += sorted({key for spec in specs for key in spec} - set(SPECS))
    rows = [SpecRow(SPECS.get(key, key), [_spec_value(key, spec.get(key)) for spec in specs]) for key in seen]
    rest = [key for key in ipolicy if key not in ("minmax", "std")]
    ordered = [key for key in SETTINGS if key in rest] + sorted(key for key in rest if key not in SETTINGS)
    settings = [(SETTINGS.get(key, key), text(ipolicy[key])) for key in ordered]
    return Policy([label for label, _ in bounds], rows, settings)


def _spec_value(key: str, value: Any) -> str:
    if value is None:
        return ""
    if key in _IN_MIB and isinstance(value, int) and not isinstance(value, bool):
        return mib(value)
    return text(value)


def text(value: Any) -> str:
    """A setting as text: a list comma-separated, a mapping as ``key: value`` pairs, a number as Ganeti
    prints it (``4.0`` stays ``4.0``)."""
    if isinstance(value, list | tuple):
        return ", ".join(text(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {text(item)}" for key, item in value.items())
    if value is None:
        return "—"
    return str(value)

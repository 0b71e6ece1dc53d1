"""The ``[storage.<class>]`` and ``[limits]`` tables of fleet.toml: what users may ask for.

A **storage class** is what a user picks for each disk of a VM ("fast", "bulk"), shown by its name and
description. The operator says where it exists: on which clusters (``"*"``: every one) and, optionally, which
node group, and what it is there, a Ganeti volume group (``vg``, for the ``drbd`` and ``plain`` templates) or
an ExtStorage provider (``provider``, for ``ext``), or neither for the templates that need no pool (``file``,
``sharedfile``, ``rbd``, ``gluster``, ``blockdev``). Ganeti takes the ``vg`` or ``provider`` per disk in an
instance create, which is how one VM gets a small fast OS disk and a large slow data disk::

    [storage.fast]
    description = "SSD, mirrored"
    min_gb = 5
    max_gb = 100
    on = [{ cluster = "*", vg = "ssd" }]

    [storage.bulk]
    max_gb = 2000
    on = [{ cluster = "ganeti1.example.org", group = "storage", provider = "nfs" }]

``[limits]`` bounds the rest of an application (memory, vCPUs, how many data disks), so that ganetimgr's
limits hard-coded in its form are configuration here. Storage classes are read from the file only (a list of
tables does not fit in an environment variable); each ``[limits]`` key can be set as ``FLEET_LIMITS_<KEY>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

LIMIT_KEYS = ("memory_min_mb", "memory_max_mb", "vcpus_min", "vcpus_max", "data_disks_max")
CLASS_KEYS = ("description", "min_gb", "max_gb", "on")
SITE_KEYS = ("cluster", "group", "vg", "provider", "disk_templates")
CLASS_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
GANETI_NAME = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}"
)  # a VG, a provider or a group as Ganeti names them
VG_TEMPLATES = ("drbd", "plain")
PROVIDER_TEMPLATES = ("ext",)
POOLLESS_TEMPLATES = ("file", "sharedfile", "rbd", "gluster", "blockdev")
MAX_GB = 1024 * 1024  # a mebibyte of gibibytes: larger is a typo


@dataclass(frozen=True)
class StorageSite:
    """Where a storage class exists (a cluster, or one node group of it) and what Ganeti calls it there."""

    cluster: str  # a cluster's name, or "*" for every cluster
    group: str | None
    vg: str | None
    provider: str | None
    disk_templates: tuple[str, ...]

    def disk_params(self) -> dict[str, str]:
        """The per-disk parameters of a create or a disk add (``vg`` or ``provider``)."""
        if self.vg:
            return {"vg": self.vg}
        if self.provider:
            return {"provider": self.provider}
        return {}

    def matches(self, cluster: str, group: str | None) -> bool:
        return self.cluster in ("*", cluster) and (self.group is None or self.group == group)


@dataclass(frozen=True)
class StorageClass:
    """A kind of disk users choose by name, its size limits, and the sites it exists on."""

    name: str
    description: str
    min_gb: int
    max_gb: int
    sites: tuple[StorageSite, ...]

    def site(self, cluster: str, group: str | None = None) -> StorageSite | None:
        """The most specific site on ``cluster`` (and ``group``): the group's, then the cluster's, then
        every cluster's; None when the class does not exist there."""
        found = [site for site in self.sites if site.matches(cluster, group)]
        found.sort(key=lambda site: (site.group is None, site.cluster == "*"))
        return found[0] if found else None


@dataclass(frozen=True)
class Limits:
    """The bounds of an application besides its disks (whose bounds are their class's)."""

    memory_min_mb: int = 512
    memory_max_mb: int = 32768
    vcpus_min: int = 1
    vcpus_max: int = 8
    data_disks_max: int = 4


@dataclass(frozen=True)
class StorageConfig:
    """Every storage class, by name, in the order the file lists them."""

    classes: dict[str, StorageClass] = field(default_factory=dict)

    def on(self, cluster: str, group: str | None = None) -> dict[str, StorageSite]:
        """The classes that exist on ``cluster`` (in ``group``), each with its site there."""
        sites = {name: storage.site(cluster, group) for name, storage in self.classes.items()}
        return {name: site for name, site in sites.items() if site is not None}


class Table(Protocol):
    def get(self, key: str) -> Any: ...

    def origin(self, key: str) -> str: ...


def read_limits(table: Table) -> Limits:
    """Check the ``[limits]`` table (unknown keys are refused by the caller)."""
    default = Limits()
    values = {key: _whole(table.get(key), table.origin(key), getattr(default, key)) for key in LIMIT_KEYS}
    limits = Limits(**values)
    for low, high in (("memory_min_mb", "memory_max_mb"), ("vcpus_min", "vcpus_max")):
        if getattr(limits, low) < 1 or getattr(limits, low) > getattr(limits, high):
            raise ImproperlyConfigured(
                f"{table.origin(low)} must be at least 1 and at most {table.origin(high)}"
            )
    return limits


def read_storage(value: Any, where: str) -> StorageConfig:
    """Check the ``[storage]`` table, ``where`` naming the file for the errors."""
    if value is None:
        return StorageConfig()
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"storage {where} must be tables: [storage.fast], [storage.bulk], ...")
    return StorageConfig({name: _class(name, body, where) for name, body in value.items()})


def _class(name: str, body: Any, where: str) -> StorageClass:
    origin = f"storage.{name} {where}"
    if not CLASS_NAME.fullmatch(name):
        raise ImproperlyConfigured(f"{origin}: a class name is lower-case letters, digits and '-'")
    if not isinstance(body, dict):
        raise ImproperlyConfigured(f"{origin} must be a table")
    unknown = sorted(set(body) - set(CLASS_KEYS))
    if unknown:
        raise ImproperlyConfigured(f"storage.{name}.{unknown[0]} {where} is not a storage class setting")
    min_gb = _whole(body.get("min_gb"), f"storage.{name}.min_gb {where}", 1)
    max_gb = _whole(body.get("max_gb"), f"storage.{name}.max_gb {where}", 100)
    if not 1 <= min_gb <= max_gb <= MAX_GB:
        raise ImproperlyConfigured(f"{origin}: need 1 <= min_gb <= max_gb <= {MAX_GB}")
    sites = body.get("on")
    if not isinstance(sites, list) or not sites:
        raise ImproperlyConfigured(
            f"storage.{name}.on {where} must list where the class exists, e.g. "
            'on = [{ cluster = "*", vg = "xenvg" }]'
        )
    return StorageClass(
        name=name,
        description=str(body.get("description") or ""),
        min_gb=min_gb,
        max_gb=max_gb,
        sites=tuple(_site(item, f"storage.{name}.on[{n}] {where}") for n, item in enumerate(sites)),
    )


def _site(item: Any, origin: str) -> StorageSite:
    if not isinstance(item, dict):
        raise ImproperlyConfigured(f"{origin} must be a table: {{ cluster = ..., vg = ... }}")
    unknown = sorted(set(item) - set(SITE_KEYS))
    if unknown:
        raise ImproperlyConfigured(f"{origin}: {unknown[0]!r} is not one of {', '.join(SITE_KEYS)}")
    cluster = str(item.get("cluster") or "")
    if cluster != "*" and not GANETI_NAME.fullmatch(cluster):
        raise ImproperlyConfigured(f'{origin}: cluster must be a cluster\'s name or "*", not {cluster!r}')
    group, vg, provider = (_name(item.get(key), origin, key) for key in ("group", "vg", "provider"))
    if vg and provider:
        raise ImproperlyConfigured(
            f"{origin}: a site is a volume group (vg) or an ExtStorage provider, not both"
        )
    allowed = VG_TEMPLATES if vg else PROVIDER_TEMPLATES if provider else POOLLESS_TEMPLATES
    templates = item.get("disk_templates")
    if templates is None:
        chosen = allowed if (vg or provider) else ()
    elif isinstance(templates, list) and all(isinstance(t, str) for t in templates):
        chosen = tuple(templates)
    else:
        raise ImproperlyConfigured(f"{origin}: disk_templates must be a list of Ganeti disk templates")
    wrong = [template for template in chosen if template not in allowed]
    if wrong or not chosen:
        pool = "a vg" if vg else "a provider" if provider else "neither vg nor provider"
        raise ImproperlyConfigured(
            f"{origin}: with {pool}, disk_templates must be some of {', '.join(allowed)}"
            + (f", not {wrong[0]!r}" if wrong else "")
        )
    return StorageSite(cluster=cluster, group=group, vg=vg, provider=provider, disk_templates=chosen)


def _name(value: Any, origin: str, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not GANETI_NAME.fullmatch(value):
        raise ImproperlyConfigured(f"{origin}: {key} {value!r} is not a Ganeti name")
    return value


def _whole(value: Any, origin: str, default: int) -> int:
    if value is None or value == "":
        return default
    text = str(value).strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        raise ImproperlyConfigured(f"{origin} must be a whole number, not {value!r}")
    return int(text)

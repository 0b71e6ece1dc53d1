"""What placement knows of a node group, and what a request asks of one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Request:
    """A VM to place: memory, vCPUs, its disks as (storage class, GiB), its network's name, and the disk
    templates it may use (those its storage classes allow)."""

    memory_mb: int
    vcpus: int
    disks: tuple[tuple[str, int], ...]
    network: str
    templates: tuple[str, ...] = ("drbd", "plain")

    def disk_by_class(self) -> dict[str, int]:
        wanted: dict[str, int] = {}
        for name, size in self.disks:
            wanted[name] = wanted.get(name, 0) + size
        return wanted


@dataclass(frozen=True)
class GroupCapacity:
    """A node group as the last sync saw it, with what its cluster allows.

    ``free_disk_gb``: per storage class present in the group, the free GiB of its pool (DRBD's second copy
    already counted by the caller); ``free_ips``: per network connected to the group, its free addresses;
    ``vcpu_ratio``: the ipolicy's virtual-to-physical CPU ratio; ``max_memory_mb``/``max_vcpus``: the
    ipolicy's upper bounds for one instance (0: none).
    """

    cluster: str
    group: str
    free_memory_mb: int
    physical_cpus: int
    used_vcpus: int
    vcpu_ratio: float
    free_disk_gb: Mapping[str, int]
    free_ips: Mapping[str, int]
    templates: tuple[str, ...]
    alloc_policy: str = "preferred"
    cluster_drained: bool = False
    cluster_offline: bool = False
    max_memory_mb: int = 0
    max_vcpus: int = 0
    nodes: int = 1

    @property
    def key(self) -> tuple[str, str]:
        return (self.cluster, self.group)

    @property
    def free_vcpus(self) -> float:
        return self.physical_cpus * self.vcpu_ratio - self.used_vcpus

    def minus(self, request: Request) -> GroupCapacity:
        """The group once ``request`` is placed on it: a reservation until the next sync shows the VM."""
        disk = dict(self.free_disk_gb)
        for name, size in request.disk_by_class().items():
            disk[name] = disk.get(name, 0) - size
        ips = dict(self.free_ips)
        ips[request.network] = ips.get(request.network, 0) - 1
        return replace(
            self,
            free_memory_mb=self.free_memory_mb - request.memory_mb,
            used_vcpus=self.used_vcpus + request.vcpus,
            free_disk_gb=disk,
            free_ips=ips,
        )

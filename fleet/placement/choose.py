"""Choosing a node group for a request, with the reason each other group was not chosen.

A group is eligible when its cluster is online and not drained, its ``alloc_policy`` is not
``unallocable``, a disk template of the request is enabled there, every storage class of the request is
there with room, the network is connected with a free address, memory and vCPUs (within the vCPU ratio)
fit, and the ipolicy allows an instance that size. Among the eligible, ``preferred`` groups come before
``last_resort`` ones (as hail orders them), then the group with the most free memory left after the VM,
relative to its size: the fleet fills evenly instead of "the first N nodes" (ganetimgr) filling up first.
:func:`place_all` places requests one after the other, each reserving what it takes, so that approvals made
at the same moment spread rather than pile onto the group that looked emptiest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fleet.placement.capacity import GroupCapacity, Request

POLICY_ORDER = {"preferred": 0, "last_resort": 1}


@dataclass(frozen=True)
class Decision:
    """The group chosen (None: none fits), the template to use, and why each group was or was not chosen."""

    chosen: GroupCapacity | None
    template: str | None
    reasons: dict[tuple[str, str], str]


def refusal(group: GroupCapacity, request: Request) -> str:
    """Why ``request`` cannot go to ``group``, or ``""`` when it can."""
    if group.cluster_offline:
        return "cluster offline"
    if group.cluster_drained:
        return "cluster drained"
    if group.alloc_policy not in POLICY_ORDER:
        return f"node group {group.alloc_policy}"
    for name, size in request.disk_by_class().items():
        if name not in group.free_disk_gb:
            return f"storage class {name} not here"
        if group.free_disk_gb[name] < size:
            return f"storage class {name}: {group.free_disk_gb[name]} GiB free, {size} needed"
    if not any(template in group.templates for template in request.templates):
        return "no disk template it can use is enabled"
    if request.network not in group.free_ips:
        return f"network {request.network} not connected"
    if group.free_ips[request.network] < 1:
        return f"network {request.network} has no free address"
    if group.max_memory_mb and request.memory_mb > group.max_memory_mb:
        return f"ipolicy: at most {group.max_memory_mb} MiB"
    if group.max_vcpus and request.vcpus > group.max_vcpus:
        return f"ipolicy: at most {group.max_vcpus} vCPUs"
    if group.free_memory_mb < request.memory_mb:
        return f"{group.free_memory_mb} MiB free, {request.memory_mb} needed"
    if group.free_vcpus < request.vcpus:
        return f"{group.free_vcpus:g} vCPUs free at ratio {group.vcpu_ratio:g}, {request.vcpus} needed"
    return ""


def _score(group: GroupCapacity, request: Request) -> tuple[int, float]:
    left = (group.free_memory_mb - request.memory_mb) / max(group.nodes, 1)
    return (POLICY_ORDER[group.alloc_policy], -left)


def choose(request: Request, groups: Iterable[GroupCapacity]) -> Decision:
    """The best group for ``request`` among ``groups``, and the reason for every group."""
    reasons: dict[tuple[str, str], str] = {}
    eligible = []
    for group in groups:
        why = refusal(group, request)
        reasons[group.key] = why
        if not why:
            eligible.append(group)
    if not eligible:
        return Decision(None, None, reasons)
    best = min(eligible, key=lambda group: _score(group, request))
    for group in eligible:
        reasons[group.key] = (
            "chosen: most free memory left" if group is best else _behind(group, best, request)
        )
    template = next(t for t in request.templates if t in best.templates)
    return Decision(best, template, reasons)


def _behind(group: GroupCapacity, best: GroupCapacity, request: Request) -> str:
    if POLICY_ORDER[group.alloc_policy] > POLICY_ORDER[best.alloc_policy]:
        return "fits, but last resort"
    left = group.free_memory_mb - request.memory_mb
    return f"fits, less free memory left ({left} MiB)"


def place_all(requests: Sequence[Request], groups: Sequence[GroupCapacity]) -> list[Decision]:
    """Place ``requests`` in order, each reserving its resources before the next is placed."""
    current = {group.key: group for group in groups}
    decisions = []
    for request in requests:
        decision = choose(request, current.values())
        if decision.chosen is not None:
            current[decision.chosen.key] = decision.chosen.minus(request)
        decisions.append(decision)
    return decisions

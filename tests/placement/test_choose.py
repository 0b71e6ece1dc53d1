"""Automatic placement on synthetic fleets: full, drained and offline clusters, unallocable and last-resort
groups, templates not enabled, a storage class missing, networks out of addresses, the ipolicy, and 50
approvals at once spreading over the fleet instead of piling onto one group."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fleet.placement.capacity import GroupCapacity, Request
from fleet.placement.choose import choose, place_all

REQUEST = Request(
    memory_mb=4096, vcpus=2, disks=(("fast", 20), ("bulk", 500)), network="public", templates=("plain",)
)


def group(name: str, **changes: object) -> GroupCapacity:
    base = GroupCapacity(
        cluster=f"{name}.example.org",
        group="default",
        free_memory_mb=64 * 1024,
        physical_cpus=32,
        used_vcpus=0,
        vcpu_ratio=4.0,
        free_disk_gb={"fast": 1000, "bulk": 10000},
        free_ips={"public": 100},
        templates=("drbd", "plain"),
        nodes=4,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"free_memory_mb": 1024}, "1024 MiB free, 4096 needed"),
        ({"cluster_drained": True}, "cluster drained"),
        ({"cluster_offline": True}, "cluster offline"),
        ({"alloc_policy": "unallocable"}, "node group unallocable"),
        ({"templates": ("drbd",)}, "no disk template it can use is enabled"),
        ({"free_disk_gb": {"fast": 1000}}, "storage class bulk not here"),
        ({"free_disk_gb": {"fast": 10, "bulk": 10000}}, "storage class fast: 10 GiB free, 20 needed"),
        ({"free_ips": {"public": 0}}, "network public has no free address"),
        ({"free_ips": {"private": 9}}, "network public not connected"),
        ({"used_vcpus": 127}, "1 vCPUs free at ratio 4, 2 needed"),
        ({"max_memory_mb": 2048}, "ipolicy: at most 2048 MiB"),
        ({"max_vcpus": 1}, "ipolicy: at most 1 vCPUs"),
    ],
)
def test_each_reason_a_group_is_not_chosen(changes: dict[str, object], reason: str) -> None:
    bad, good = group("bad", **changes), group("good", free_memory_mb=8192)
    decision = choose(REQUEST, [bad, good])
    assert decision.chosen == good and decision.template == "plain"
    assert decision.reasons == {bad.key: reason, good.key: "chosen: most free memory left"}


def test_nothing_fits_and_every_group_says_why() -> None:
    decision = choose(REQUEST, [group("a", cluster_drained=True), group("b", free_ips={"public": 0})])
    assert decision.chosen is None and decision.template is None
    assert sorted(decision.reasons.values()) == ["cluster drained", "network public has no free address"]


def test_preferred_groups_before_last_resort_then_most_free_memory() -> None:
    roomy_last = group("roomy", alloc_policy="last_resort", free_memory_mb=512 * 1024)
    small, big = group("small", free_memory_mb=16 * 1024), group("big", free_memory_mb=32 * 1024)
    decision = choose(REQUEST, [roomy_last, small, big])
    assert decision.chosen == big
    assert decision.reasons[roomy_last.key] == "fits, but last resort"
    assert decision.reasons[small.key] == "fits, less free memory left (12288 MiB)"
    assert choose(REQUEST, [roomy_last]).chosen == roomy_last  # the last resort is still a resort


def test_fifty_simultaneous_approvals_spread_and_stop_when_full() -> None:
    fleet = [group(f"c{n}", free_memory_mb=48 * 1024) for n in range(5)]  # room for 12 each: 60 in all
    decisions = place_all([REQUEST] * 50, fleet)
    chosen = [d.chosen.cluster for d in decisions if d.chosen is not None]
    assert len(chosen) == 50
    counts = sorted(chosen.count(g.cluster) for g in fleet)
    assert counts == [10, 10, 10, 10, 10]  # without reservations all 50 would go to the first
    more = place_all([REQUEST] * 70, fleet)
    assert sum(d.chosen is not None for d in more) == 60
    assert more[-1].reasons[fleet[0].key] == "0 MiB free, 4096 needed"


def test_reservations_count_addresses_and_disks_too() -> None:
    tight = group("tight", free_ips={"public": 2}, free_disk_gb={"fast": 1000, "bulk": 1200})
    decisions = place_all([REQUEST] * 3, [tight])
    assert [d.chosen is not None for d in decisions] == [True, True, False]
    assert decisions[2].reasons[tight.key] == "storage class bulk: 200 GiB free, 500 needed"

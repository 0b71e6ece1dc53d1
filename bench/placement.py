"""Issue 14's placement figures, from the simulator's `large` fleet (30 clusters, ~1,000 nodes) read as
placement sees it (``fleet.placement.capacity.GroupCapacity`` per node group):

- the time of one decision over the whole fleet (p50, p95), against a bare scan of the groups;
- 2,000 requests placed by Fleet (reservations, most free memory left), by ganetimgr's "first N nodes" (the
  first groups listed, while they have room) and at random (any group, fit or not): how many were refused
  while some group still had room, and the spread of free memory across clusters afterwards.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from dataclasses import replace

from bench.common import report, side_by_side
from fleet.placement.capacity import GroupCapacity, Request
from fleet.placement.choose import choose, place_all, refusal
from fleet.simulator.generate import generate, profile
from fleet.simulator.state import Cluster

REQUESTS = 2000


def capacity(clusters: list[Cluster]) -> list[GroupCapacity]:
    """Each node group of the generated fleet as placement sees it; "bulk" only on every other group."""
    groups = []
    for cluster in clusters:
        ratio = float(cluster.info["ipolicy"].get("vcpu-ratio", 4.0))
        # a cluster's networks are named after it (c1-public): placement asks for the kind, "public"
        free_by_uuid = {
            net["uuid"]: (net["name"].split("-", 1)[-1], int(net["free_count"]))
            for net in cluster.networks.values()
        }
        for index, group in enumerate(cluster.groups.values()):
            nodes = [
                n for n in cluster.nodes.values() if n["group.uuid"] == group["uuid"] and n["vm_capable"]
            ]
            names = {n["name"] for n in nodes}
            used = sum(
                int(i["beparams"].get("vcpus", 1)) for i in cluster.instances.values() if i["pnode"] in names
            )
            disk_gb = sum(int(n["dfree"] or 0) for n in nodes) // 1024
            nets = dict(free_by_uuid[uuid] for uuid in group["networks"] if uuid in free_by_uuid)
            groups.append(
                GroupCapacity(
                    cluster=cluster.info["name"],
                    group=group["name"],
                    free_memory_mb=sum(int(n["mfree"] or 0) for n in nodes),
                    physical_cpus=sum(int(n["ctotal"] or 0) for n in nodes),
                    used_vcpus=used,
                    vcpu_ratio=min(ratio, 8.0),
                    free_disk_gb={"fast": disk_gb // 3, **({"bulk": disk_gb} if index % 2 == 0 else {})},
                    free_ips=nets,
                    templates=tuple(cluster.info["enabled_disk_templates"]),
                    alloc_policy=group["alloc_policy"],
                    nodes=len(nodes),
                )
            )
    return groups


def requests(groups: list[GroupCapacity], count: int, rng: random.Random) -> list[Request]:
    network = "public"
    return [
        Request(
            memory_mb=rng.choice([1024, 2048, 4096, 8192, 16384]),
            vcpus=rng.choice([1, 2, 4]),
            disks=(("fast", rng.choice([10, 20, 40])), *((("bulk", 200),) if rng.random() < 0.3 else ())),
            network=network,
            templates=("plain", "drbd"),
        )
        for _ in range(count)
    ]


def first_n(reqs: list[Request], groups: list[GroupCapacity]) -> list[GroupCapacity | None]:
    """ganetimgr's way: the first groups in the list's order take every VM while they have room."""
    current = list(groups)
    out: list[GroupCapacity | None] = []
    for request in reqs:
        chosen = next((g for g in current if not refusal(g, request)), None)
        if chosen is not None:
            current[current.index(chosen)] = chosen.minus(request)
        out.append(chosen)
    return out


def at_random(
    reqs: list[Request], groups: list[GroupCapacity], rng: random.Random
) -> list[GroupCapacity | None]:
    current = list(groups)
    out: list[GroupCapacity | None] = []
    for request in reqs:
        index = rng.randrange(len(current))
        chosen = current[index] if not refusal(current[index], request) else None
        if chosen is not None:
            current[index] = chosen.minus(request)
        out.append(chosen)
    return out


def outcome(
    name: str, reqs: list[Request], groups: list[GroupCapacity], placed: list[GroupCapacity | None]
) -> None:
    free = {g.key: g.free_memory_mb for g in groups}
    for request, group in zip(reqs, placed, strict=True):
        if group is not None:
            free[group.key] -= request.memory_mb
    refused_with_room = 0
    remaining = [replace(g, free_memory_mb=free[g.key]) for g in groups]
    for request, group in zip(reqs, placed, strict=True):
        if group is None and any(not refusal(g, request) for g in remaining):
            refused_with_room += 1
    per_cluster: dict[str, list[int]] = {}
    for g in groups:
        per_cluster.setdefault(g.cluster, []).append(free[g.key])
    totals = {g.cluster: 0 for g in groups}
    for g in groups:
        totals[g.cluster] += g.free_memory_mb
    used_share = [1 - sum(v) / max(totals[c], 1) for c, v in per_cluster.items()]
    placed_count = sum(g is not None for g in placed)
    print(
        f"  {name:22} placed {placed_count:5}  refused while room remained {refused_with_room:5}  "
        f"share of free memory used per cluster: max {max(used_share):.3f} "
        f"stdev {statistics.pstdev(used_share):.3f}"
    )


def main() -> None:
    clusters = generate(profile("large", 14), 14)
    groups = capacity(clusters)
    rng = random.Random(14)
    reqs = requests(groups, REQUESTS, rng)
    print(f"\n== placement over the large profile: {len(clusters)} clusters, {len(groups)} node groups")
    one = reqs[0]
    rows = side_by_side(
        {
            "scan of the groups": lambda: [g.free_memory_mb for g in groups],
            "choose()": lambda: choose(one, groups),
        },
        200,
    )
    report("one decision over the whole fleet", rows, "scan of the groups")
    print(f"\n== {REQUESTS} requests placed")
    strategies: dict[str, Callable[[], list[GroupCapacity | None]]] = {
        "Fleet (reservations)": lambda: [d.chosen for d in place_all(reqs, groups)],
        "first fit (ganetimgr)": lambda: first_n(reqs, groups),
        "random": lambda: at_random(reqs, groups, random.Random(14)),
    }
    for name, run in strategies.items():
        outcome(name, reqs, groups, run())


if __name__ == "__main__":
    main()

"""Seeded fleet generator: realistic clusters of groups, nodes, networks and instances.

Profiles: `grnet` (GRNET's ViMa: 14 clusters of 1-35 nodes, ~20 groups, ~1,600 instances), `large`
(30 clusters, 40,000 instances) and `tiny` (2 small clusters for tests). The same profile, sizes and seed
give the same fleet: every random choice, UUID and timestamp comes from a per-cluster `random.Random`.
"""

from __future__ import annotations

import copy
import ipaddress
import math
import random
import uuid
from dataclasses import dataclass
from typing import Any

from fleet.simulator.build import mac_address, make_group, make_info, make_instance, make_network, make_node
from fleet.simulator.defaults import RELAXED_IPOLICY
from fleet.simulator.state import Cluster

TAG_PREFIX = "fleet"
EPOCH = 1_600_000_000.0
FIRST_NAMES = [
    "alice",
    "bob",
    "carol",
    "dave",
    "erin",
    "frank",
    "grace",
    "heidi",
    "ivan",
    "judy",
    "mallory",
    "nick",
    "olivia",
    "peggy",
    "rupert",
    "sybil",
    "trent",
    "victor",
    "walter",
    "xenia",
    "yannis",
    "zoe",
    "anna",
    "nikos",
    "maria",
    "giorgos",
    "eleni",
    "kostas",
    "sofia",
    "dimitris",
    "katerina",
]
TEAMS = ["noc", "physics", "astro", "biology", "chem", "hpc", "lib", "web", "ml", "neuro", "geo", "math"]
OSES = (
    "debootstrap+default",
    "debootstrap+bookworm",
    "image+debian-12",
    "image+ubuntu-22.04",
    "image+rocky-9",
)


@dataclass(frozen=True)
class ClusterPlan:
    """The size and mix of one cluster to generate."""

    nodes: int
    instances: int
    groups: int
    templates: tuple[tuple[str, float], ...]
    offline_nodes: int = 0
    drained_nodes: int = 0


@dataclass(frozen=True)
class Profile:
    """A named fleet shape: the name prefix of its clusters and one plan per cluster."""

    name: str
    prefix: str
    plans: tuple[ClusterPlan, ...]


GRNET_TEMPLATES = (("drbd", 0.55), ("plain", 0.12), ("ext", 0.18), ("sharedfile", 0.08), ("file", 0.07))
LARGE_TEMPLATES = (("drbd", 0.7), ("plain", 0.1), ("ext", 0.2))
TINY_TEMPLATES = (("drbd", 0.5), ("plain", 0.2), ("ext", 0.2), ("file", 0.1))
GRNET_NODES = (35, 30, 24, 20, 16, 12, 10, 8, 6, 4, 3, 2, 2, 1)


def profile(
    name: str,
    seed: int,
    clusters: int | None = None,
    instances: int | None = None,
    nodes: int | None = None,
) -> Profile:
    """The plans of a named profile, with counts overridden (clusters, total instances, nodes per cluster)."""
    rng = random.Random(f"profile:{name}:{seed}")
    if name == "tiny":
        count = clusters or 2
        node_counts = [nodes or (3 if i % 2 == 0 else 2) for i in range(count)]
        total = instances if instances is not None else 20
        templates, prefix = TINY_TEMPLATES, "tiny"
    elif name == "grnet":
        count = clusters or len(GRNET_NODES)
        node_counts = [nodes or GRNET_NODES[i % len(GRNET_NODES)] for i in range(count)]
        total = instances if instances is not None else 1600
        templates, prefix = GRNET_TEMPLATES, "vima"
    elif name == "large":
        count = clusters or 30
        total = instances if instances is not None else 40_000
        node_counts = [nodes or 0 for _ in range(count)]
        templates, prefix = LARGE_TEMPLATES, "big"
    else:
        raise ValueError(f"unknown profile {name!r} (known: tiny, grnet, large)")
    if name == "large":
        # a quarter of the clusters hold most instances (2,000-5,000 each, the first the largest)
        big = max(1, count // 3)
        weights = [5000.0] + [rng.uniform(2000, 5000) for _ in range(big - 1)]
        weights += [rng.uniform(100, 400) for _ in range(count - big)]
    else:
        weights = [max(1, n) * rng.uniform(0.8, 1.2) for n in node_counts]
    per_cluster = _split(total, weights)
    plans = []
    for i in range(count):
        n_inst = per_cluster[i]
        n_nodes = node_counts[i] or max(4, math.ceil(n_inst / 40))
        groups = 1 if name == "tiny" else max(1, min(3, n_nodes // 12 + (1 if n_nodes > 8 else 0)))
        offline = 1 if name != "tiny" and n_nodes >= 10 and i % 3 == 0 else 0
        drained = 1 if name != "tiny" and n_nodes >= 6 and i % 4 == 1 else 0
        plans.append(ClusterPlan(n_nodes, n_inst, groups, templates, offline, drained))
    return Profile(name, prefix, tuple(plans))


def _split(total: int, weights: list[float]) -> list[int]:
    """Split a total into integer parts proportional to the weights, summing exactly to the total."""
    scale = sum(weights)
    parts = [int(total * w / scale) for w in weights]
    for i in range(total - sum(parts)):
        parts[i % len(parts)] += 1
    return parts


def generate(prof: Profile, seed: int, domain: str = "example.org") -> list[Cluster]:
    """Build every cluster of a profile. The test profile (`tiny`) has the relaxed instance policy of the
    real cluster the conformance suite runs against, so that small test instances fit."""
    clusters = [
        generate_cluster(f"{prof.prefix}{i + 1}.{domain}", i, plan, random.Random(f"{seed}:{i}"), domain)
        for i, plan in enumerate(prof.plans)
    ]
    if prof.name == "tiny":
        for cluster in clusters:
            cluster.info["ipolicy"] = copy.deepcopy(RELAXED_IPOLICY)
            for group in cluster.groups.values():
                group["ipolicy"] = copy.deepcopy(RELAXED_IPOLICY)
    return clusters


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _pool_prefix(addresses: int) -> int:
    return max(16, min(24, 32 - math.ceil(math.log2(max(addresses, 200)))))


def generate_cluster(name: str, index: int, plan: ClusterPlan, rng: random.Random, domain: str) -> Cluster:
    """One cluster: groups, nodes (the first is the master), networks connected to every group, instances."""
    short = name.split(".")[0]
    ctime = EPOCH + rng.uniform(0, 3e7)
    cluster = Cluster(name=name, info={})
    group_uuids = []
    for g in range(plan.groups):
        gname = "default" if g == 0 else f"{short}-g{g + 1}"
        group = make_group(gname, _uuid(rng), ctime)
        cluster.groups[gname] = group
        group_uuids.append(group["uuid"])
    per_node_inst = plan.instances / max(1, plan.nodes)
    memory = max(65536, 1 << math.ceil(math.log2(max(1, per_node_inst * 4096 * 1.5 + 4096))))
    disk = max(1 << 20, 1 << math.ceil(math.log2(max(1, per_node_inst * 2 * 40960 * 1.5))))
    for j in range(plan.nodes):
        nname = f"node{j + 1:02d}.{name}"
        group_uuid = group_uuids[j * plan.groups // plan.nodes]
        node = make_node(
            nname,
            _uuid(rng),
            group_uuid,
            f"10.{200 + index // 50}.{index % 50 * 5 + j // 250}.{j % 250 + 1}",
            f"192.168.{index % 250}.{j % 250 + 1}",
            ctime + j,
            memory=memory,
            disk=disk,
            cpus=rng.choice((32, 48, 64)),
            master=j == 0,
            candidate=0 < j < 10,
            offline=plan.nodes - plan.offline_nodes <= j,
            drained=plan.nodes - plan.offline_nodes - plan.drained_nodes
            <= j
            < plan.nodes - plan.offline_nodes,
        )
        cluster.nodes[nname] = node
    cluster.info = make_info(name, f"node01.{name}", _uuid(rng), ctime, [f"{TAG_PREFIX}:cluster:{short}"])
    public_prefix = _pool_prefix(int(plan.instances * 1.3) + 16)
    public = f"10.{index}.0.0/{public_prefix}"
    private = f"172.{16 + index // 16}.{index % 16 * 16}.0/20"
    links = (("public", public, "routed", "rt_public"), ("private", private, "bridged", "br-private"))
    for net_name, cidr, mode, link in links:
        gateway = str(ipaddress.IPv4Network(cidr).network_address + 1)
        net, pool = make_network(f"{short}-{net_name}", _uuid(rng), cidr, gateway, ctime)
        for g in cluster.groups.values():
            net["group_list"].append([g["name"], mode, link, ""])
            g["networks"] = [*g["networks"], net["uuid"]]
        cluster.networks[net["name"]] = net
        cluster.pools[net["name"]] = pool
    _add_instances(cluster, index, plan, rng, ctime, domain)
    cluster.refresh_nodes()
    for group in cluster.groups.values():
        cluster.refresh_group(group)
    for net in cluster.networks.values():
        cluster.refresh_network(net)
    return cluster


def _add_instances(
    cluster: Cluster, index: int, plan: ClusterPlan, rng: random.Random, ctime: float, domain: str
) -> None:
    short = cluster.name.split(".")[0]
    by_group: dict[str, list[str]] = {}
    for node in cluster.nodes.values():
        if not node["offline"] or plan.offline_nodes:
            by_group.setdefault(node["group.uuid"], []).append(node["name"])
    groups = [g for g in by_group.values() if g]
    nets = list(cluster.networks.values())
    templates = [t for t, _ in plan.templates]
    weights = [w for _, w in plan.templates]
    users = [f"{rng.choice(FIRST_NAMES)}{rng.randint(1, 99)}" for _ in range(max(5, plan.instances // 6))]
    port = 11000
    for k in range(plan.instances):
        members = groups[k % len(groups)]
        template = rng.choices(templates, weights)[0]
        if template == "drbd" and len(members) < 2:
            template = "plain"
        p = (k // len(groups) + rng.randrange(2)) % len(members)
        pnode = members[p]
        snodes = (
            [members[(p + 1 + rng.randrange(len(members) - 1)) % len(members)]] if template == "drbd" else []
        )
        tags = []
        if rng.random() < 0.93:
            tags.append(f"{TAG_PREFIX}:user:{rng.choice(users)}")
        if rng.random() < 0.3:
            tags.append(f"{TAG_PREFIX}:group:{rng.choice(TEAMS)}")
        nics = []
        for n, net in enumerate(nets[: 2 if rng.random() < 0.2 else 1]):
            pool = cluster.pools[net["name"]]
            mode, link = net["group_list"][0][1], net["group_list"][0][2]
            nics.append(
                {
                    "mac": mac_address(cluster.info["mac_prefix"], (index << 17) ^ (k << 1) ^ n),
                    "ip": pool.take_free(),
                    "mode": mode,
                    "link": link,
                    "network": net["uuid"],
                    "uuid": _uuid(rng),
                    "vlan": "",
                }
            )
        sizes = [rng.choice((10240, 20480, 40960, 81920))]
        if rng.random() < 0.15:
            sizes.append(rng.choice((51200, 102400)))
        roll = rng.random()
        admin_state, running = "up", True
        if roll < 0.08:
            admin_state, running = "down", False
        elif roll < 0.11:
            running = False
        elif roll < 0.12:
            admin_state = "down"
        elif roll < 0.13:
            admin_state, running = "offline", False
        if cluster.nodes[pnode]["offline"]:
            running = False
        port += 1
        inst = make_instance(
            cluster,
            f"{short}-vm{k + 1:05d}.{domain}",
            _uuid(rng),
            pnode=pnode,
            snodes=snodes,
            template=template,
            disk_sizes=sizes,
            nics=nics,
            vcpus=rng.choice((1, 1, 2, 2, 4, 8)),
            memory=rng.choice((1024, 2048, 2048, 4096, 4096, 8192)),
            os_name=rng.choice(OSES),
            tags=tags,
            admin_state=admin_state,
            running=running,
            network_port=port,
            ctime=ctime + 3600 + k * 60,
            disk_uuids=[_uuid(rng) for _ in sizes],
        )
        cluster.instances[inst["name"]] = inst
    cluster.next_port = port + 1


def summary(clusters: list[Cluster]) -> dict[str, Any]:
    """Counts over a generated fleet, for the start-up banner."""
    return {
        "clusters": len(clusters),
        "groups": sum(len(c.groups) for c in clusters),
        "nodes": sum(len(c.nodes) for c in clusters),
        "instances": sum(len(c.instances) for c in clusters),
    }

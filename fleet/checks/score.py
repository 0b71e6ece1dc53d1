"""hbal's cluster score of one node group, from what RAPI reports: the weighted sum of htools' metrics
(`src/Ganeti/HTools/Cluster/Metrics.hs`), for a check that must not need htools on the Icinga host.

Kept: the memory, disk and vCPU spreads (each twice, as hbal counts them again for forthcoming instances,
which RAPI clusters rarely have), the N+1 failures, the reserved memory's spread and total, the offline
nodes' instances and the load spreads (instance counts, htools' default utilisation). Left out: spindles,
exclusion tags and locations, which need cluster tags and ndparams most clusters never set; on such a
cluster the figure is hbal's "Initial score" less the spindles term.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

USES_MEMORY = frozenset({"running", "ERROR_up", "ERROR_wrongnode", "ERROR_nodedown", "ERROR_nodeoffline"})

NODE_FIELDS = [
    "name", "group", "offline", "drained", "vm_capable",
    "mtotal", "mnode", "mfree", "dtotal", "dfree", "ctotal", "cnos",
]  # fmt: skip
INSTANCE_FIELDS = [
    "name", "pnode", "snodes", "status", "disk_template", "disk_usage",
    "be/maxmem", "be/vcpus", "be/auto_balance", "oper_ram",
]  # fmt: skip


def _sd(values: list[float]) -> float:
    return statistics.pstdev(values) if values else 0.0


def group_scores(
    nodes: Iterable[Mapping[str, Any]], instances: Iterable[Mapping[str, Any]]
) -> dict[str, float]:
    """Per node group name, its score as hbal computes it (bar spindles, tags and locations)."""
    by_name = {n["name"]: n for n in nodes}
    prim: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    sec: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for inst in instances:
        prim[inst["pnode"]].append(inst)
        for s in (inst.get("snodes") or [])[:1]:
            sec[s].append(inst)
    groups: dict[str, list[str]] = defaultdict(list)
    for name, node in by_name.items():
        groups[node["group"]].append(name)
    return {group: _score(members, by_name, prim, sec) for group, members in sorted(groups.items())}


def instance_memory(inst: Mapping[str, Any]) -> int:
    """The memory htools counts for an instance: what it runs with, else its maxmem."""
    ram = inst.get("oper_ram")
    return int(ram) if isinstance(ram, int) else int(inst.get("be/maxmem") or 0)


def uses_secondary_memory(inst: Mapping[str, Any]) -> bool:
    """Whether a failover would bring the instance's memory to its secondary (htools' `usesSecMem`): it is
    not offline and Ganeti balances it (`auto_balance`), whether it runs now or not."""
    return inst.get("status") != "ADMIN_offline" and inst.get("be/auto_balance") is not False


def _score(
    members: list[str],
    nodes: Mapping[str, Mapping[str, Any]],
    prim: Mapping[str, list[Mapping[str, Any]]],
    sec: Mapping[str, list[Mapping[str, Any]]],
) -> float:
    p_mem, p_dsk, p_rem, p_cpu, n1 = [], [], [], [], 0
    loads: dict[str, list[float]] = {"cpu": [], "mem": [], "disk": [], "net": []}
    offline_all = offline_pri = 0
    for name in members:
        node = nodes[name]
        pri, sc = prim.get(name, []), sec.get(name, [])
        if node.get("offline") or node.get("drained") or not node.get("vm_capable"):
            offline_all += len(pri) + len(sc)
            offline_pri += len(pri)
            continue
        t_mem, f_mem = float(node.get("mtotal") or 0), float(node.get("mfree") or 0)
        i_mem = sum(instance_memory(i) for i in pri if i.get("status") in USES_MEMORY)
        unallocated = min(t_mem - float(node.get("mnode") or 0) - i_mem, f_mem)
        peers: dict[str, int] = defaultdict(int)
        for inst in sc:
            if uses_secondary_memory(inst):
                peers[inst["pnode"]] += instance_memory(inst)
        r_mem = max(peers.values(), default=0)
        t_dsk = float(node.get("dtotal") or 0)
        p_mem.append(unallocated / t_mem if t_mem else 0.0)
        p_dsk.append(float(node.get("dfree") or 0) / t_dsk if t_dsk else 1.0)
        p_rem.append(r_mem / t_mem if t_mem else 0.0)
        online_pri = [i for i in pri if i.get("status") != "ADMIN_offline"]
        u_cpu = float(node.get("cnos") or 0) + sum(int(i.get("be/vcpus") or 1) for i in online_pri)
        p_cpu.append(u_cpu / float(node.get("ctotal") or 1))
        if f_mem < r_mem:
            n1 += len(pri) + len(sc)
        for kind in ("cpu", "mem", "net"):
            loads[kind].append(float(len(pri)))
        loads["disk"].append(float(len(pri) + len(sc)))
    return (
        2 * 0.5 * _sd(p_mem)  # free_mem_cv, and again as its _forth twin
        + 2 * 0.5 * _sd(p_dsk)
        + n1
        + _sd(p_rem)
        + 4 * offline_all
        + 16 * offline_pri
        + 2 * 0.5 * _sd(p_cpu)
        + sum(_sd(v) for v in loads.values())
        + 0.25 * sum(p_rem)
    )

"""Node choice for instance creation: explicit nodes checked against the instance policy, or a basic hail.

hail, as Ganeti 3.0's htools run it for an allocation request: every node group is tried (those not connected
to a network the instance's NICs use are skipped with a message); in a group, the candidate nodes are the
online, undrained, vm-capable ones, and each candidate (each ordered primary/secondary pair for DRBD) either
fits or fails for one reason (`FailMem`, `FailDisk`, `FailCPU`, ...): the instance spec outside the group's
ipolicy, not enough free memory or disk, or too many virtual CPUs for the policy's vcpu ratio. The best
solution of a `preferred` group wins over one of a `last_resort` group; `unallocable` groups never give one.
When nothing fits, the request fails with every group's description, which LUInstanceCreate reports as an
`insufficient_resources` OpPrereqError.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from fleet.simulator.effects import OpError, get_node
from fleet.simulator.state import Cluster

FAIL_ORDER = (
    "FailMem",
    "FailDisk",
    "FailCPU",
    "FailN1",
    "FailTags",
    "FailMig",
    "FailDiskCount",
    "FailSpindles",
    "FailInternal",
)
POLICY_ORDER = {"preferred": 0, "last_resort": 1, "unallocable": 2}
DRBD_META_MB = 128


@dataclass
class Spec:
    """What an instance to create asks for."""

    name: str
    template: str
    memory: int
    vcpus: int
    spindle_use: int
    disk_sizes: list[int]
    nic_count: int
    networks: list[str]

    @property
    def disk_usage(self) -> int:
        """The space the disks take on a node's volume group (DRBD adds its metadata)."""
        if self.template == "drbd":
            return sum(self.disk_sizes) + DRBD_META_MB * len(self.disk_sizes)
        if self.template == "plain":
            return sum(self.disk_sizes)
        return 0


def round_memory(value: Any) -> int:
    """A memory size as Ganeti's `ParseUnit` keeps it: rounded up to a multiple of 4 MiB."""
    mem = int(value)
    return mem + (4 - mem % 4) % 4


def instance_spec(cluster: Cluster, op: dict[str, Any]) -> Spec:
    """The spec of an OP_INSTANCE_CREATE, with the cluster's beparams filling what it leaves out."""
    be = op.get("beparams") or {}
    defaults = cluster.info["beparams"]["default"]
    memory = be.get("maxmem") or be.get("memory") or defaults.get("maxmem") or 128
    return Spec(
        name=str(op.get("instance_name")),
        template=op.get("disk_template") or cluster.info["enabled_disk_templates"][0],
        memory=round_memory(memory),
        vcpus=int(be.get("vcpus") or defaults.get("vcpus") or 1),
        spindle_use=int(be.get("spindle_use") or defaults.get("spindle_use") or 1),
        disk_sizes=[int(d.get("size", 0)) for d in op.get("disks") or []],
        nic_count=len(op.get("nics") or []),
        networks=[n["network"] for n in op.get("nics") or [] if n.get("network")],
    )


def group_ipolicy(cluster: Cluster, group: dict[str, Any] | None) -> dict[str, Any]:
    """The ipolicy in force for a group (the cluster's when the group has none)."""
    return (group or {}).get("ipolicy") or cluster.info["ipolicy"]


def policy_violations(ipolicy: dict[str, Any], spec: Spec) -> list[str]:
    """Ganeti's `ComputeIPolicySpecViolation`: the spec's values outside the policy (best min/max pair)."""
    allowed = list(ipolicy.get("disk-templates") or [])
    out = []
    if not spec.disk_sizes and "diskless" not in allowed:
        out.append(f"Disk template diskless is not allowed (allowed templates {', '.join(allowed)})")
    if spec.disk_sizes and spec.template not in allowed:
        out.append(f"Disk template {spec.template} is not allowed (allowed templates: {', '.join(allowed)})")
    tests: list[tuple[str, str, int]] = [
        ("memory-size", "", spec.memory),
        ("cpu-count", "", spec.vcpus),
        ("nic-count", "", spec.nic_count),
        ("spindle-use", "", spec.spindle_use),
        *(("disk-size", str(i), size) for i, size in enumerate(spec.disk_sizes)),
    ]
    if spec.disk_sizes:
        tests.append(("disk-count", "", len(spec.disk_sizes)))
    best: list[str] | None = None
    for minmax in ipolicy.get("minmax") or [{"min": {}, "max": {}}]:
        errs = []
        for name, qualifier, value in tests:
            lo, hi = minmax["min"].get(name, value), minmax["max"].get(name, value)
            if value > hi or lo > value:
                fqn = f"{name}/{qualifier}" if qualifier else name
                errs.append(f"{fqn} value {value} is not in range [{lo}, {hi}]")
        if best is None or len(errs) < len(best):
            best = errs
    return out + (best or [])


def _policy_failure(ipolicy: dict[str, Any], spec: Spec) -> str | None:
    """htools' `instMatchesPolicy`: the failure mode of a spec outside the policy, or None."""
    if spec.template not in (ipolicy.get("disk-templates") or [spec.template]):
        return "FailDisk"
    checks = (
        ("memory-size", [spec.memory], "FailMem"),
        ("cpu-count", [spec.vcpus], "FailCPU"),
        ("disk-size", spec.disk_sizes, "FailDisk"),
        ("disk-count", [len(spec.disk_sizes)], "FailDiskCount"),
        ("spindle-use", [spec.spindle_use], "FailSpindles"),
    )
    failure = None
    for minmax in ipolicy.get("minmax") or []:
        failure = None
        for name, values, mode in checks:
            lo, hi = minmax["min"].get(name), minmax["max"].get(name)
            if any((lo is not None and v < lo) or (hi is not None and v > hi) for v in values):
                failure = mode
                break
        if failure is None:
            return None
    return failure


def _primary_failure(
    cluster: Cluster, node: dict[str, Any], spec: Spec, ipolicy: dict[str, Any]
) -> str | None:
    """htools' `addPri`: why the node cannot be the instance's primary, or None."""
    if (node["mfree"] or 0) - spec.memory <= 0:
        return "FailMem"
    if spec.disk_usage and (node["dfree"] or 0) - spec.disk_usage <= 0:
        return "FailDisk"
    ratio = float(ipolicy.get("vcpu-ratio") or 0)
    cpus = node.get("ctotal") or 0
    if ratio > 0 and cpus:
        used = sum(int(cluster.instances[i]["beparams"].get("vcpus") or 1) for i in node["pinst_list"])
        if (used + spec.vcpus) / cpus > ratio:
            return "FailCPU"
    return None


def _secondary_failure(node: dict[str, Any], spec: Spec) -> str | None:
    """htools' `addSec`: why the node cannot hold the instance's DRBD secondary, or None."""
    if spec.disk_usage and (node["dfree"] or 0) - spec.disk_usage <= 0:
        return "FailDisk"
    return None


def _describe(failures: list[str]) -> str:
    counts = Counter(failures)
    if not failures:
        return "No valid allocation solutions, failure reasons: unknown reasons"
    reasons = ", ".join(f"{mode}: {counts[mode]}" for mode in FAIL_ORDER if counts[mode])
    return f"No valid allocation solutions, failure reasons: {reasons}"


def _try_group(
    cluster: Cluster, group: dict[str, Any], spec: Spec, count: int
) -> tuple[list[str] | None, str]:
    """One group's best nodes (or None) and hail's description of the attempt."""
    ipolicy = group_ipolicy(cluster, group)
    nodes = sorted(
        (
            n
            for n in cluster.nodes.values()
            if n["group.uuid"] == group["uuid"] and not (n["offline"] or n["drained"] or not n["vm_capable"])
        ),
        key=lambda n: (-(n["mfree"] or 0), n["name"]),
    )
    head = f"Group {group['name']}"
    if not nodes:
        return None, f"{head}: error No online nodes"
    if count == 2 and len(nodes) < 2:
        return None, f"{head}: error Not enough online nodes"
    policy_fail = _policy_failure(ipolicy, spec)
    failures: list[str] = []
    found: list[list[str]] = []
    for p in nodes:
        seconds = [s for s in nodes if s is not p] if count == 2 else [None]
        for s in seconds:
            reason = policy_fail or _primary_failure(cluster, p, spec, ipolicy)
            if reason is None and s is not None:
                reason = _secondary_failure(s, spec)
            if reason is not None:
                failures.append(reason)
            else:
                found.append([p["name"]] if s is None else [p["name"], s["name"]])
    head = f"{head} ({group['alloc_policy']})"
    if not found:
        return None, f"{head}: {_describe(failures)}"
    reasons = _describe(failures).split("failure reasons: ", 1)[1] if failures else ""
    desc = (
        f"{head}: score: 0.00000000, successes {len(found)}, failures {len(failures)} ({reasons})"
        f" for node(s) {'/'.join(found[0])}"
    )
    return found[0], desc


def hail(cluster: Cluster, spec: Spec, count: int, group_name: str | None = None) -> list[str]:
    """The nodes hail chooses for a new instance, or the OpPrereqError LUInstanceCreate raises."""
    groups = sorted(cluster.groups.values(), key=lambda g: g["name"])
    if group_name:
        groups = [g for g in groups if g["name"] == group_name]
    messages: list[str] = []
    net_uuids = []
    for net_name in spec.networks:
        net = cluster.networks.get(net_name)
        if net is not None:
            net_uuids.append(net["uuid"])
    solutions = []
    for group in groups:
        if any(u not in group["networks"] for u in net_uuids):
            messages.append(
                f"group {group['name']} is not connected to a network required by instance {spec.name}"
            )
            continue
        nodes, desc = _try_group(cluster, group, spec, count)
        messages.append(desc)
        if nodes is not None and group["alloc_policy"] != "unallocable":
            free = cluster.nodes[nodes[0]]["mfree"] or 0
            solutions.append((POLICY_ORDER.get(group["alloc_policy"], 2), -free, group["name"], nodes))
    if not solutions:
        raise OpError(
            "OpPrereqError",
            f"Can't compute nodes using iallocator 'hail': Request failed: {', '.join(messages)}",
            "insufficient_resources",
        )
    return min(solutions)[3]


def pick_nodes(cluster: Cluster, op: dict[str, Any]) -> list[str]:
    """The nodes of a new instance, [primary] or [primary, secondary], checked against the group's policy."""
    spec = instance_spec(cluster, op)
    count = 2 if spec.template == "drbd" else 1
    if op.get("pnode"):
        pnode = get_node(cluster, op["pnode"])["name"]
        nodes = [pnode]
        if count == 2:
            if not op.get("snode"):
                raise OpError(
                    "OpPrereqError", "The networked disk templates need a mirror node", "wrong_input"
                )
            snode = get_node(cluster, op["snode"])["name"]
            if snode == pnode:
                raise OpError("OpPrereqError", "The secondary node cannot be the primary node", "wrong_input")
            nodes.append(snode)
    else:
        nodes = hail(cluster, spec, count, op.get("group_name"))
    check_policy(cluster, op, spec, nodes[0])
    return nodes


def check_policy(cluster: Cluster, op: dict[str, Any], spec: Spec, pnode: str) -> None:
    """LUInstanceCreate's ipolicy check against the primary node's group."""
    if op.get("ignore_ipolicy"):
        return
    group = cluster.group_by_uuid(cluster.nodes[pnode]["group.uuid"])
    violations = policy_violations(group_ipolicy(cluster, group), spec)
    if violations:
        gname = group["name"] if group else ""
        guuid = group["uuid"] if group else cluster.nodes[pnode]["group.uuid"]
        raise OpError(
            "OpPrereqError",
            f"Instance allocation to group {guuid} ({gname}) violates policy: {', '.join(violations)}",
            "wrong_input",
        )

"""Memory headroom of each node and the N+1 test: can every node's secondaries take its running DRBD
instances if it fails?

Reads the nodes (`mtotal`, `mfree`) and instances (`pnode`, `snodes`, `disk_template`, `admin_state`,
`be/maxmem`) with two query2 calls. A node's free memory is judged in per cent of its total (`-w 20: -c 10:`,
i.e. warn below 20 %, critical below 10 %). N+1, as Ganeti's `ENODEN1`: for each secondary S and each primary
P, the memory of P's DRBD instances mirrored on S must fit in S's free memory; each S that fails is counted in
`n1_fail` (WARNING, CRITICAL with `--n1-critical`). The instances counted are those htools counts (not
offline, `auto_balance` on, stopped ones too: they would start on S), with the memory they run with or their
maxmem. Offline and drained nodes are left out.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Any

import nagiosplugin

from fleet.checks import plugin
from fleet.checks.score import instance_memory, uses_secondary_memory
from fleet.rapi import RapiClient, query

NAME = "freemem"
RAPI = True
MEMORY_FIELDS = ["be/maxmem", "be/auto_balance"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--warning", type=plugin.range_arg, default=nagiosplugin.Range("20:"),
                        help="Range of a node's free memory in %% (default 20:, below 20 %%).")  # fmt: skip
    parser.add_argument("-c", "--critical", type=plugin.range_arg, default=nagiosplugin.Range("10:"),
                        help="Range of a node's free memory in %% (default 10:).")  # fmt: skip
    parser.add_argument("--n1-critical", action="store_true", help="An N+1 failure is CRITICAL, not WARNING.")


def n1_failures(
    nodes: dict[str, dict[str, Any]], instances: list[dict[str, Any]]
) -> dict[str, tuple[str, int]]:
    """The secondaries that could not take a failing primary's DRBD instances: secondary → (the primary
    whose failure it cannot absorb, MiB needed)."""
    needed: dict[tuple[str, str], int] = defaultdict(int)
    for inst in instances:
        if inst.get("disk_template") != "drbd" or not uses_secondary_memory(inst):
            continue
        for snode in (inst.get("snodes") or [])[:1]:
            needed[(snode, inst["pnode"])] += instance_memory(inst)
    failures: dict[str, tuple[str, int]] = {}
    for (snode, pnode), mem in sorted(needed.items()):
        node = nodes.get(snode)
        if node is None or node.get("offline") or node.get("drained") or node.get("mfree") is None:
            continue
        if mem > node["mfree"] and mem > failures.get(snode, ("", 0))[1]:
            failures[snode] = (pnode, mem)
    return failures


class Memory(nagiosplugin.Resource):
    """Free memory per online node, in per cent and MiB, and the N+1 failures."""

    def __init__(self, client: RapiClient) -> None:
        self.client = client
        self.failures: dict[str, tuple[str, int]] = {}

    def probe(self) -> list[nagiosplugin.Metric]:
        nodes = {
            n["name"]: n
            for n in self.client.call(
                query.get("node", ["name", "offline", "drained", "mtotal", "mfree"])
            ).records()
        }
        instances = self.client.call(
            query.get(
                "instance", ["name", "pnode", "snodes", "disk_template", "status", "oper_ram", *MEMORY_FIELDS]
            )
        ).records()
        metrics = []
        for name, node in sorted(nodes.items()):
            if node.get("offline") or node.get("drained") or not node.get("mtotal") or node["mfree"] is None:
                continue
            pct = round(100.0 * node["mfree"] / node["mtotal"], 1)
            metrics.append(nagiosplugin.Metric(f"{name}_mfree", pct, "%", min=0, max=100, context="mfree"))
        if not metrics:
            raise plugin.Unknown("no online node reports its memory")
        self.failures = n1_failures(nodes, instances)
        metrics.append(nagiosplugin.Metric("n1_fail", len(self.failures), min=0, context="n1"))
        return metrics


class Summary(nagiosplugin.Summary):
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def ok(self, results: nagiosplugin.Results) -> str:
        lowest = min((r.metric for r in results if r.metric.context == "mfree"), key=lambda m: m.value)
        return f"lowest free memory {lowest.value}% on {lowest.name[: -len('_mfree')]}; N+1 safe"

    def problem(self, results: nagiosplugin.Results) -> str:
        parts = [
            f"{r.metric.name[: -len('_mfree')]} has {r.metric.value}% free"
            for r in results
            if r.metric.context == "mfree" and r.state != nagiosplugin.Ok
        ]
        for snode, (pnode, mem) in sorted(self.memory.failures.items()):
            parts.append(f"{snode} cannot take {pnode}'s {mem} MiB if it fails (N+1)")
        return "; ".join(parts)


def build(args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check:
    assert client is not None
    memory = Memory(client)
    n1_range = nagiosplugin.Range("0")
    return nagiosplugin.Check(
        memory,
        nagiosplugin.ScalarContext("mfree", args.warning, args.critical),
        nagiosplugin.ScalarContext("n1", n1_range, n1_range if args.n1_critical else None),
        Summary(memory),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_freemem` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

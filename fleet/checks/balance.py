"""Whether a cluster needs rebalancing (hbal): the spread of memory use between the nodes of each group.

hbal's own score needs htools on a data file or the master; this check computes, from one query2 call on the
nodes, what drives most of that score: per node group, the difference in percentage points between the most
and the least used online node's memory (`mtotal - mfree`), and the population standard deviation of the free
memory share (htools' `cpu/mem` SD term, as a figure). The spread is judged by `-w`/`-c` (default 25 and 40
points); groups of a single online node are skipped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict

import nagiosplugin

from fleet.checks import plugin
from fleet.rapi import RapiClient, query

NAME = "balance"
RAPI = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--warning", type=plugin.range_arg, default=nagiosplugin.Range("25"),
                        help="Range of a group's memory-use spread in points (default 25).")  # fmt: skip
    parser.add_argument("-c", "--critical", type=plugin.range_arg, default=nagiosplugin.Range("40"),
                        help="Range of a group's memory-use spread in points (default 40).")  # fmt: skip


class Groups(nagiosplugin.Resource):
    """Per node group: the memory-use spread and the standard deviation of the free share."""

    def __init__(self, client: RapiClient) -> None:
        self.client = client
        self.extremes: dict[str, tuple[str, str]] = {}

    def probe(self) -> list[nagiosplugin.Metric]:
        fields = ["name", "group", "offline", "drained", "vm_capable", "mtotal", "mfree"]
        used: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for node in self.client.call(query.get("node", fields)).records():
            if node.get("offline") or node.get("drained") or not node.get("vm_capable"):
                continue
            if not node.get("mtotal") or node.get("mfree") is None:
                continue
            used[node["group"]].append(
                (100.0 * (node["mtotal"] - node["mfree"]) / node["mtotal"], node["name"])
            )
        metrics = []
        for group, values in sorted(used.items()):
            if len(values) < 2:
                continue
            low, high = min(values), max(values)
            self.extremes[group] = (high[1], low[1])
            spread = round(high[0] - low[0], 1)
            sd = round(statistics.pstdev(100.0 - v for v, _ in values) / 100.0, 4)
            metrics.append(
                nagiosplugin.Metric(f"{group}_spread", spread, "%", min=0, max=100, context="spread")
            )
            metrics.append(nagiosplugin.Metric(f"{group}_mem_sd", sd, min=0, context="sd"))
        if not metrics:
            metrics.append(nagiosplugin.Metric("groups", 0, min=0, context="sd"))
        return metrics


class Summary(nagiosplugin.Summary):
    def __init__(self, groups: Groups) -> None:
        self.groups = groups

    def _line(self, results: nagiosplugin.Results, bad_only: bool) -> str:
        parts = []
        for r in results:
            if r.metric.context != "spread" or (bad_only and r.state == nagiosplugin.Ok):
                continue
            group = r.metric.name.removesuffix("_spread")
            high, low = self.groups.extremes[group]
            parts.append(f"group {group}: memory use spread {r.metric.value} points ({high} to {low})")
        return "; ".join(parts)

    def ok(self, results: nagiosplugin.Results) -> str:
        return self._line(results, False) or "no node group with two online nodes"

    def problem(self, results: nagiosplugin.Results) -> str:
        return self._line(results, True) + "; hbal would move instances"


def build(args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check:
    assert client is not None
    groups = Groups(client)
    return nagiosplugin.Check(
        groups,
        nagiosplugin.ScalarContext("spread", args.warning, args.critical),
        plugin.Perf("sd"),
        Summary(groups),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_balance` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

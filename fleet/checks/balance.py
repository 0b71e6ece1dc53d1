"""Whether a cluster needs rebalancing (hbal): per node group, hbal's cluster score and the spread of
memory use between its nodes.

Two query2 calls (nodes, instances). The score is hbal's "Initial score" computed as htools does
(`fleet.checks.score`; without htools on the Icinga host, and without spindles, tags and locations), judged
by `--score-warning`/`--score-critical` when given. The spread is the difference in percentage points
between the most and the least used online node's memory (`mtotal - mfree`), judged by `-w`/`-c` (default
25 and 40 points). Groups of a single online node are skipped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict

import nagiosplugin

from fleet.checks import plugin, score
from fleet.rapi import RapiClient, query

NAME = "balance"
RAPI = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--warning", type=plugin.range_arg, default=nagiosplugin.Range("25"),
                        help="Range of a group's memory-use spread in points (default 25).")  # fmt: skip
    parser.add_argument("-c", "--critical", type=plugin.range_arg, default=nagiosplugin.Range("40"),
                        help="Range of a group's memory-use spread in points (default 40).")  # fmt: skip
    parser.add_argument("--score-warning", type=plugin.range_arg, help="Range of a group's hbal score.")
    parser.add_argument("--score-critical", type=plugin.range_arg, help="Range of a group's hbal score.")


class Groups(nagiosplugin.Resource):
    """Per node group: the memory-use spread and the standard deviation of the free share."""

    def __init__(self, client: RapiClient) -> None:
        self.client = client
        self.extremes: dict[str, tuple[str, str]] = {}

    def probe(self) -> list[nagiosplugin.Metric]:
        nodes = self.client.call(query.get("node", score.NODE_FIELDS)).records()
        instances = self.client.call(query.get("instance", score.INSTANCE_FIELDS)).records()
        scores = score.group_scores(nodes, instances)
        used: dict[str, list[tuple[float, str]]] = defaultdict(list)
        for node in nodes:
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
            metrics.append(
                nagiosplugin.Metric(f"{group}_score", round(scores[group], 6), min=0, context="score")
            )
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
            value = results[f"{group}_score"].metric.value
            spread = f"memory use spread {r.metric.value} points ({high} to {low})"
            parts.append(f"group {group}: score {value:.4f}, {spread}")
        return "; ".join(parts)

    def ok(self, results: nagiosplugin.Results) -> str:
        return self._line(results, False) or "no node group with two online nodes"

    def problem(self, results: nagiosplugin.Results) -> str:
        bad = [r for r in results if r.metric.context == "score" and r.state != nagiosplugin.Ok]
        spread = self._line(results, True)
        scores = "; ".join(
            f"group {r.metric.name.removesuffix('_score')}: score {r.metric.value:.4f}" for r in bad
        )
        return "; ".join(p for p in (spread, scores) if p) + "; hbal would move instances"


def build(args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check:
    assert client is not None
    groups = Groups(client)
    return nagiosplugin.Check(
        groups,
        nagiosplugin.ScalarContext("spread", args.warning, args.critical),
        plugin.Perf("sd"),
        nagiosplugin.ScalarContext("score", args.score_warning, args.score_critical),
        Summary(groups),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_balance` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

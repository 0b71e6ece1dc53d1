"""Node roles and liveness: drained or offline nodes nobody announced, unresponsive nodes, master
candidates.

A drained or offline node is expected when it, or its node group, carries Fleet's maintenance tag
(`<prefix>:maintenance`, the flag Fleet's access policy already reads on node groups; `--tag-prefix`,
`fleet` by default): it is then counted in `maintenance`, not judged. Otherwise `-w`/`-c` judge the
unannounced offline nodes (default `-w 0 -c 1`: one is WARNING, two are CRITICAL) and
`--drained-warning`/`--drained-critical` the drained ones (default one is WARNING). A node not marked
offline whose live fields come back empty did not answer its master: CRITICAL. Fewer master candidates
than `min(candidate_pool_size, master-capable nodes)` is a WARNING.
"""

from __future__ import annotations

import argparse
import sys

import nagiosplugin

from fleet.access.tags import Flag, flag_tag
from fleet.checks import plugin
from fleet.rapi import RapiClient, cluster, query

NAME = "nodes"
RAPI = True
NODE_FIELDS = [
    "name", "offline", "drained", "master_candidate", "master_capable", "vm_capable", "group", "tags",
    "mfree", "dfree",
]  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--warning", type=plugin.range_arg, default=nagiosplugin.Range("0"),
                        help="Range of unannounced offline nodes (default 0: one is WARNING).")  # fmt: skip
    parser.add_argument("-c", "--critical", type=plugin.range_arg, default=nagiosplugin.Range("1"),
                        help="Range of unannounced offline nodes (default 1: two are CRITICAL).")  # fmt: skip
    parser.add_argument("--drained-warning", type=plugin.range_arg, default=nagiosplugin.Range("0"))
    parser.add_argument("--drained-critical", type=plugin.range_arg, default=None)
    parser.add_argument("--tag-prefix", default="fleet", help="Fleet's tag prefix (FLEET_TAG_PREFIX).")


class Nodes(nagiosplugin.Resource):
    """Counts of nodes by role and condition; the names behind each count for the summary."""

    def __init__(self, client: RapiClient, prefix: str) -> None:
        self.client = client
        self.tag = flag_tag(Flag.MAINTENANCE, prefix)
        self.names: dict[str, list[str]] = {}

    def probe(self) -> list[nagiosplugin.Metric]:
        info = self.client.call(cluster.info())
        nodes = self.client.call(query.get("node", NODE_FIELDS)).records()
        groups = self.client.call(query.get("group", ["name", "tags"])).records()
        in_maintenance = {g["name"] for g in groups if self.tag in (g.get("tags") or [])}
        names: dict[str, list[str]] = {k: [] for k in ("offline", "drained", "maintenance", "unresponsive")}
        for node in nodes:
            announced = node.get("group") in in_maintenance or self.tag in (node.get("tags") or [])
            if node.get("offline") or node.get("drained"):
                names[
                    "maintenance" if announced else ("offline" if node.get("offline") else "drained")
                ].append(node["name"])
            if (
                not node.get("offline")
                and node.get("vm_capable")
                and node.get("mfree") is None
                and node.get("dfree") is None
            ):
                names["unresponsive"].append(node["name"])
        capable = [
            n for n in nodes if n.get("master_capable") and not n.get("offline") and not n.get("drained")
        ]
        candidates = sum(1 for n in nodes if n.get("master_candidate"))
        wanted = min(int(info.get("candidate_pool_size") or 0), len(capable))
        self.names = names
        self.names["candidates"] = [f"{candidates} master candidates of {wanted} wanted"]
        return [
            nagiosplugin.Metric("nodes", len(nodes), min=0, context="count"),
            nagiosplugin.Metric("offline", len(names["offline"]), min=0, context="offline"),
            nagiosplugin.Metric("drained", len(names["drained"]), min=0, context="drained"),
            nagiosplugin.Metric("maintenance", len(names["maintenance"]), min=0, context="count"),
            nagiosplugin.Metric("unresponsive", len(names["unresponsive"]), min=0, context="unresponsive"),
            nagiosplugin.Metric("master_candidates", candidates, min=0, context="candidates"),
            nagiosplugin.Metric("candidates_missing", max(0, wanted - candidates), min=0, context="missing"),
        ]


class Summary(nagiosplugin.Summary):
    def __init__(self, nodes: Nodes) -> None:
        self.nodes = nodes

    def ok(self, results: nagiosplugin.Results) -> str:
        count = results["nodes"].metric.value
        upkeep = self.nodes.names["maintenance"]
        text = f"{count} nodes, none drained or offline unannounced"
        return text + (f"; in maintenance: {', '.join(upkeep)}" if upkeep else "")

    def problem(self, results: nagiosplugin.Results) -> str:
        parts = []
        for key in ("offline", "drained", "unresponsive"):
            names = ", ".join(self.nodes.names[key])
            if names:
                parts.append(
                    f"{key}: {names}" if key == "unresponsive" else f"{key} without maintenance tag: {names}"
                )
        if results["candidates_missing"].state != nagiosplugin.Ok:
            parts.append(self.nodes.names["candidates"][0])
        return "; ".join(parts)


def build(args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check:
    assert client is not None
    nodes = Nodes(client, args.tag_prefix)
    return nagiosplugin.Check(
        nodes,
        plugin.Perf("count"),
        plugin.Perf("candidates"),
        nagiosplugin.ScalarContext("offline", args.warning, args.critical),
        nagiosplugin.ScalarContext("drained", args.drained_warning, args.drained_critical),
        nagiosplugin.ScalarContext("unresponsive", None, nagiosplugin.Range("0")),
        nagiosplugin.ScalarContext("missing", nagiosplugin.Range("0"), None),
        Summary(nodes),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_nodes` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

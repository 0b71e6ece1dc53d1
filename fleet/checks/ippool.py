"""Free addresses in each Ganeti network's pool.

Reads the networks (`network`, `free_count`, `reserved_count`, `group_list`) with one query2 call. Networks
connected to no node group (no instance can take an address from them) and IPv6-only ones are skipped. Each
network's free share is judged in per cent (`-w 10: -c 5:`: warn below 10 %, critical below 5 %), and, when
given, its free count by `--free-warning`/`--free-critical` (e.g. `--free-critical 5:`).
"""

from __future__ import annotations

import argparse
import sys

import nagiosplugin

from fleet.checks import plugin
from fleet.rapi import RapiClient, query

NAME = "ippool"
RAPI = True


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--warning", type=plugin.range_arg, default=nagiosplugin.Range("10:"),
                        help="Range of a network's free addresses in %% (default 10:).")  # fmt: skip
    parser.add_argument("-c", "--critical", type=plugin.range_arg, default=nagiosplugin.Range("5:"),
                        help="Range of a network's free addresses in %% (default 5:).")  # fmt: skip
    parser.add_argument(
        "--free-warning", type=plugin.range_arg, default=None, help="Range of free addresses."
    )
    parser.add_argument(
        "--free-critical", type=plugin.range_arg, default=None, help="Range of free addresses."
    )


class Pools(nagiosplugin.Resource):
    """Per connected IPv4 network: free addresses, as a count and a share of the pool."""

    def __init__(self, client: RapiClient) -> None:
        self.client = client

    def probe(self) -> list[nagiosplugin.Metric]:
        fields = ["name", "network", "free_count", "reserved_count", "group_list"]
        metrics = []
        for net in sorted(self.client.call(query.get("network", fields)).records(), key=lambda n: n["name"]):
            if not net.get("network") or not net.get("group_list") or net.get("free_count") is None:
                continue
            total = int(net["free_count"]) + int(net.get("reserved_count") or 0)
            free = int(net["free_count"])
            pct = round(100.0 * free / total, 1) if total else 0.0
            metrics.append(
                nagiosplugin.Metric(f"{net['name']}_free_pct", pct, "%", min=0, max=100, context="pct")
            )
            metrics.append(nagiosplugin.Metric(f"{net['name']}_free", free, min=0, max=total, context="free"))
        if not metrics:
            metrics.append(nagiosplugin.Metric("networks", 0, min=0, context="none"))
        return metrics


class Summary(nagiosplugin.Summary):
    def ok(self, results: nagiosplugin.Results) -> str:
        pcts = [r.metric for r in results if r.metric.context == "pct"]
        if not pcts:
            return "no IPv4 network connected to a node group"
        low = min(pcts, key=lambda m: m.value)
        return f"{len(pcts)} networks, the fullest {low.name[: -len('_free_pct')]} with {low.value}% free"

    def problem(self, results: nagiosplugin.Results) -> str:
        by_net: dict[str, dict[str, float]] = {}
        for r in results:
            if r.metric.context in ("pct", "free"):
                net = r.metric.name.removesuffix("_pct").removesuffix("_free")
                by_net.setdefault(net, {})[r.metric.context] = r.metric.value
                if r.state != nagiosplugin.Ok:
                    by_net[net]["bad"] = 1
        return "; ".join(
            f"{net} has {v['free']:.0f} addresses free ({v['pct']}%)"
            for net, v in by_net.items()
            if "bad" in v
        )


def build(args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check:
    assert client is not None
    return nagiosplugin.Check(
        Pools(client),
        nagiosplugin.ScalarContext("pct", args.warning, args.critical),
        nagiosplugin.ScalarContext("free", args.free_warning, args.free_critical),
        plugin.Perf("none"),
        Summary(),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_ippool` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

"""Overall health of a cluster from its RAPI: it answers, and no instance is in an error state.

`/2/info` must answer (an unreachable cluster is CRITICAL here: reachability is what this check is about);
then the instances' `status` are counted. An instance Ganeti reports as `ERROR_down`, `ERROR_nodedown`,
`ERROR_nodeoffline` or `ERROR_wrongnode` is judged by `-w`/`-c` (default `-c 0`: one is CRITICAL); one running
although marked down (`ERROR_up`) by `--up-warning` (default 0: one is WARNING).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import nagiosplugin

from fleet.checks import plugin
from fleet.rapi import RapiClient, cluster, query
from fleet.rapi import errors as rapi_errors

NAME = "cluster"
RAPI = True
ERRORS = ("ERROR_down", "ERROR_nodedown", "ERROR_nodeoffline", "ERROR_wrongnode")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--warning", type=plugin.range_arg, default=None,
                        help="Range of instances in an error state (default: none).")  # fmt: skip
    parser.add_argument("-c", "--critical", type=plugin.range_arg, default=nagiosplugin.Range("0"),
                        help="Range of instances in an error state (default 0).")  # fmt: skip
    parser.add_argument("--up-warning", type=plugin.range_arg, default=nagiosplugin.Range("0"),
                        help="Range of instances running although marked down (default 0).")  # fmt: skip


class Health(nagiosplugin.Resource):
    """Whether the cluster answers, its name and master, and its instances counted by status."""

    def __init__(self, client: RapiClient) -> None:
        self.client = client
        self.detail = ""
        self.bad: list[str] = []

    def probe(self) -> list[nagiosplugin.Metric]:
        try:
            info = self.client.call(cluster.info())
        except (rapi_errors.Unreachable, rapi_errors.ConnectTimeout, rapi_errors.Unavailable) as exc:
            self.detail = str(exc)
            return [nagiosplugin.Metric("reachable", 0, min=0, max=1, context="reachable")]
        self.detail = f"{info.get('name')} (master {info.get('master')})"
        rows = self.client.call(query.get("instance", ["name", "status"])).records()
        counts = Counter(r.get("status") for r in rows)
        self.bad = sorted(
            f"{r['name']} {r['status']}" for r in rows if r.get("status") in (*ERRORS, "ERROR_up")
        )
        return [
            nagiosplugin.Metric("reachable", 1, min=0, max=1, context="reachable"),
            nagiosplugin.Metric("instances", len(rows), min=0, context="count"),
            nagiosplugin.Metric("running", counts["running"], min=0, context="count"),
            nagiosplugin.Metric("admin_down", counts["ADMIN_down"], min=0, context="count"),
            nagiosplugin.Metric("user_down", counts["USER_down"], min=0, context="count"),
            nagiosplugin.Metric("error", sum(counts[s] for s in ERRORS), min=0, context="error"),
            nagiosplugin.Metric("error_up", counts["ERROR_up"], min=0, context="error_up"),
        ]


class Summary(nagiosplugin.Summary):
    def __init__(self, health: Health) -> None:
        self.health = health

    def ok(self, results: nagiosplugin.Results) -> str:
        return f"{self.health.detail}: {results['instances'].metric.value} instances, none in an error state"

    def problem(self, results: nagiosplugin.Results) -> str:
        if results["reachable"].metric.value == 0:
            return f"cluster unreachable: {self.health.detail}"
        shown = ", ".join(self.health.bad[:10]) + (" ..." if len(self.health.bad) > 10 else "")
        return f"{self.health.detail}: {shown}"


def build(args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check:
    assert client is not None
    health = Health(client)
    return nagiosplugin.Check(
        health,
        nagiosplugin.ScalarContext("reachable", None, nagiosplugin.Range("1:")),
        plugin.Perf("count"),
        nagiosplugin.ScalarContext("error", args.warning, args.critical),
        nagiosplugin.ScalarContext("error_up", args.up_warning, None),
        Summary(health),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_cluster` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

"""How full a cluster's job queue is, against Ganeti's hard limit.

Ganeti refuses new jobs once its queue holds `jobQueueSizeHardLimit` (5000) unarchived jobs: every
action, the watcher's included, fails until the watcher archives old ones. Counts the unarchived jobs from
`/2/jobs` (their ids only), and the queued, waiting and running ones with a query2 call filtered on
status (so that neither reads the archive, which a long-lived cluster keeps large). The total is judged
by `-w`/`-c` (default 60 % and 80 % of `--limit`: `-w 3000 -c 4000`); queued, waiting and running counts
are perfdata. Whether the queue is drained is
the master-local `watcher` check's business (RAPI does not say).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import nagiosplugin

from fleet.checks import plugin
from fleet.rapi import RapiClient, jobs, qfilter, query

NAME = "queue"
RAPI = True
HARD_LIMIT = 5000
"""Ganeti's `jobQueueSizeHardLimit` (src/Ganeti/Constants.hs)."""
ACTIVE = ("queued", "waiting", "running")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-w", "--warning", type=plugin.range_arg, help="Range of unarchived jobs (default 60%% of the limit)."
    )
    parser.add_argument(
        "-c",
        "--critical",
        type=plugin.range_arg,
        help="Range of unarchived jobs (default 80%% of the limit).",
    )
    parser.add_argument("--limit", type=int, default=HARD_LIMIT, help="The queue's hard limit (5000).")


class Jobs(nagiosplugin.Resource):
    """The unarchived jobs, counted by status."""

    def __init__(self, client: RapiClient, limit: int) -> None:
        self.client = client
        self.limit = limit

    def probe(self) -> list[nagiosplugin.Metric]:
        total = len(self.client.call(jobs.list()))
        active = qfilter.or_(*(qfilter.eq("status", s) for s in ACTIVE))
        counts = Counter(
            r.get("status") for r in self.client.call(query.run("job", ["status"], active)).records()
        )
        return [
            nagiosplugin.Metric("jobs_total", total, min=0, max=self.limit, context="total"),
            *(nagiosplugin.Metric(s, counts[s], min=0, context="count") for s in ACTIVE),
        ]


class Summary(nagiosplugin.Summary):
    def __init__(self, limit: int) -> None:
        self.limit = limit

    def ok(self, results: nagiosplugin.Results) -> str:
        return f"{results['jobs_total'].metric.value} unarchived jobs of Ganeti's limit {self.limit}"

    def problem(self, results: nagiosplugin.Results) -> str:
        total = results["jobs_total"].metric.value
        return f"{total} unarchived jobs, near Ganeti's limit {self.limit} (new jobs fail at the limit)"


def build(args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check:
    assert client is not None
    warning = args.warning or nagiosplugin.Range(str(int(args.limit * 0.6)))
    critical = args.critical or nagiosplugin.Range(str(int(args.limit * 0.8)))
    return nagiosplugin.Check(
        Jobs(client, args.limit),
        nagiosplugin.ScalarContext("total", warning, critical),
        plugin.Perf("count"),
        Summary(args.limit),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_queue` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

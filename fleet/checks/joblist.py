"""Failed and stuck jobs in a cluster's queue.

Reads the jobs Ganeti has not archived (`/2/jobs?bulk=1`). Jobs that ended in `error` within `--window`
seconds (default 3600) are judged by `-w`/`-c` (default `-w 0 -c 4`: one is WARNING, five CRITICAL); those
whose summary matches `--ignore-op` (a regular expression, e.g. `CLUSTER_VERIFY`) are not counted. A job
running longer than `--running-warning`/`--running-critical` seconds (1 h, 4 h) or waiting or queued longer
than `--queued-warning`/`--queued-critical` (15 min, 1 h) is stuck.
"""

from __future__ import annotations

import argparse
import re
import sys
import time

import nagiosplugin

from fleet.checks import plugin
from fleet.rapi import Job, RapiClient, jobs

NAME = "joblist"
RAPI = True


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as exc:
        raise argparse.ArgumentTypeError(f"bad regular expression {text!r}: {exc}") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--warning", type=plugin.range_arg, default=nagiosplugin.Range("0"),
                        help="Range of failed jobs in the window (default 0).")  # fmt: skip
    parser.add_argument("-c", "--critical", type=plugin.range_arg, default=nagiosplugin.Range("4"),
                        help="Range of failed jobs in the window (default 4).")  # fmt: skip
    parser.add_argument("--window", type=float, default=3600.0, help="Seconds back to count failures in.")
    parser.add_argument("--ignore-op", type=_regex, help="Regex of job summaries not to count as failures.")
    parser.add_argument("--running-warning", type=float, default=3600.0, help="Seconds (default 3600).")
    parser.add_argument("--running-critical", type=float, default=14400.0, help="Seconds (default 14400).")
    parser.add_argument("--queued-warning", type=float, default=900.0, help="Seconds (default 900).")
    parser.add_argument("--queued-critical", type=float, default=3600.0, help="Seconds (default 3600).")


def _describe(job: Job) -> str:
    return f"job {job.id} {','.join(job.summary) or '?'}"


class Queue(nagiosplugin.Resource):
    """Failed jobs in the window and the oldest running and waiting jobs."""

    def __init__(self, client: RapiClient, window: float, ignore: re.Pattern[str] | None) -> None:
        self.client = client
        self.window = window
        self.ignore = ignore
        self.failed: list[str] = []
        self.oldest: dict[str, str] = {}

    def probe(self) -> list[nagiosplugin.Metric]:
        now = time.time()
        counts = {"running": 0, "waiting": 0, "queued": 0}
        oldest = {"running": 0.0, "waiting": 0.0}
        for job in self.client.call(jobs.bulk()):
            recent = job.status == "error" and job.end_ts is not None and now - job.end_ts <= self.window
            if recent and not (self.ignore and any(self.ignore.search(s) for s in job.summary)):
                self.failed.append(_describe(job))
            kind = "waiting" if job.status in ("queued", "waiting") else job.status
            if job.status in counts:
                counts[job.status] += 1
            since = job.start_ts if kind == "running" else job.received_ts
            if kind in oldest and since is not None and now - since > oldest[kind]:
                oldest[kind] = now - since
                self.oldest[kind] = _describe(job)
        return [
            nagiosplugin.Metric("error", len(self.failed), min=0, context="error"),
            *(nagiosplugin.Metric(k, v, min=0, context="count") for k, v in counts.items()),
            nagiosplugin.Metric("oldest_running", round(oldest["running"]), "s", min=0, context="running"),
            nagiosplugin.Metric("oldest_waiting", round(oldest["waiting"]), "s", min=0, context="waiting"),
        ]


class Summary(nagiosplugin.Summary):
    def __init__(self, queue: Queue) -> None:
        self.queue = queue

    def ok(self, results: nagiosplugin.Results) -> str:
        return f"no failed job in the last {self.queue.window:.0f} s, none stuck"

    def problem(self, results: nagiosplugin.Results) -> str:
        parts = []
        if results["error"].state != nagiosplugin.Ok:
            shown = ", ".join(self.queue.failed[:5]) + (" ..." if len(self.queue.failed) > 5 else "")
            parts.append(f"{len(self.queue.failed)} failed: {shown}")
        for kind in ("running", "waiting"):
            result = results[f"oldest_{kind}"]
            if result.state != nagiosplugin.Ok:
                parts.append(f"{self.queue.oldest[kind]} {kind} for {result.metric.value} s")
        return "; ".join(parts)


def build(args: argparse.Namespace, client: RapiClient | None) -> nagiosplugin.Check:
    assert client is not None
    queue = Queue(client, args.window, args.ignore_op)
    return nagiosplugin.Check(
        queue,
        nagiosplugin.ScalarContext("error", args.warning, args.critical),
        plugin.Perf("count"),
        nagiosplugin.ScalarContext("running", f"~:{args.running_warning:g}", f"~:{args.running_critical:g}"),
        nagiosplugin.ScalarContext("waiting", f"~:{args.queued_warning:g}", f"~:{args.queued_critical:g}"),
        Summary(queue),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_joblist` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

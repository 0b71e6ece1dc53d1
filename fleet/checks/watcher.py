"""What only the master knows: the watcher paused, the job queue drained, `gnt-cluster verify`'s findings.

Run on the master (Icinga's agent, `command_endpoint`); reads Ganeti's files under its data directory
(`--data-dir`, `/var/lib/ganeti` by default, as `lib/pathutils.py` lays it out):

- `watcher.pause` (`WATCHER_PAUSEFILE`) holds the Unix time until which the watcher is paused, as
  `gnt-cluster watcher pause` writes it; a time in the past is no pause. Paused is WARNING, paused for longer
  than `--paused-critical` seconds (default 86400, from the file's change time) CRITICAL.
- `queue/drain` (`JOB_QUEUE_DRAIN_FILE`), there while `gnt-cluster queue drain` holds: WARNING, CRITICAL once
  older than `--drained-critical` seconds (default 3600).
- `watcher.<group-uuid>.data` (`WATCHER_GROUP_STATE_FILE`), rewritten by each watcher run (cron, every 5 min):
  the newest one's age is judged by `-w`/`-c` (default 900 and 3600 s); none at all is WARNING. `--skip-age`
  leaves it out (a master whose cron does not run the watcher).
- With `--verify`, `gnt-cluster verify --error-codes` is run and its `ERROR`/`WARNING` lines counted, as
  Sysnove's check_ganeti does; `ENODEN1` is a WARNING (the freemem check judges N+1).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nagiosplugin

from fleet.checks import plugin

NAME = "watcher"
RAPI = False
DATA_DIR = "/var/lib/ganeti"
VERIFY_LINE = re.compile(r"- (ERROR|WARNING):([A-Z0-9_]+):(\w*):([^:]*):(.*)$")
"""A finding of `gnt-cluster verify --error-codes`: `- ERROR:ECODE:ITEM_TYPE:ITEM:MESSAGE`."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--warning", type=plugin.range_arg, default=nagiosplugin.Range("900"),
                        help="Range of the watcher state's age in s (default 900).")  # fmt: skip
    parser.add_argument("-c", "--critical", type=plugin.range_arg, default=nagiosplugin.Range("3600"),
                        help="Range of the watcher state's age in s (default 3600).")  # fmt: skip
    parser.add_argument(
        "--data-dir", default=DATA_DIR, help="Ganeti's data directory (default /var/lib/ganeti)."
    )
    parser.add_argument("--pause-file", help="The watcher pause file (default DATA_DIR/watcher.pause).")
    parser.add_argument("--drain-file", help="The queue drain flag (default DATA_DIR/queue/drain).")
    parser.add_argument("--paused-critical", type=float, default=86400.0, help="Seconds (default 86400).")
    parser.add_argument("--drained-critical", type=float, default=3600.0, help="Seconds (default 3600).")
    parser.add_argument("--skip-age", action="store_true", help="Do not judge the watcher state files' age.")
    parser.add_argument("--verify", action="store_true", help="Also run `gnt-cluster verify --error-codes`.")
    parser.add_argument(
        "--gnt-cluster", default="gnt-cluster", help="The gnt-cluster command (for --verify)."
    )


class Master(nagiosplugin.Resource):
    """The pause, the drain flag, the watcher's last run and, if asked, verify's findings."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        data = Path(args.data_dir)
        self.pause_file = Path(args.pause_file or data / "watcher.pause")
        self.drain_file = Path(args.drain_file or data / "queue" / "drain")
        self.data = data
        self.paused_until = 0.0
        self.findings: list[str] = []

    def probe(self) -> list[nagiosplugin.Metric]:
        if not self.data.is_dir():
            raise plugin.Unknown(f"no Ganeti data directory {self.data} (is this the master? see --data-dir)")
        now = time.time()
        metrics = [*self._pause(now), self._drain(now)]
        if not self.args.skip_age:
            states = list(self.data.glob("watcher.*.data"))
            age = now - max(p.stat().st_mtime for p in states) if states else -1
            metrics.append(nagiosplugin.Metric("age", round(age), "s", context="age"))
        if self.args.verify:
            metrics.extend(self._verify())
        return metrics

    def _pause(self, now: float) -> list[nagiosplugin.Metric]:
        remaining = paused_for = 0.0
        try:
            text = self.pause_file.read_text().strip()
            since = self.pause_file.stat().st_mtime
        except FileNotFoundError:
            text, since = "", now
        except OSError as exc:
            raise plugin.Unknown(f"cannot read {self.pause_file}: {exc.strerror}") from exc
        if text:
            try:
                self.paused_until = float(text)
            except ValueError as exc:
                raise plugin.Unknown(f"{self.pause_file} does not hold a Unix time: {text[:40]!r}") from exc
            if self.paused_until > now:
                remaining, paused_for = self.paused_until - now, now - since
        return [
            nagiosplugin.Metric("paused_remaining", round(remaining), "s", min=0, context="count"),
            nagiosplugin.Metric("paused_for", round(paused_for), "s", min=0, context="paused"),
        ]

    def _drain(self, now: float) -> nagiosplugin.Metric:
        try:
            age = now - self.drain_file.stat().st_mtime
        except FileNotFoundError:
            age = -1
        return nagiosplugin.Metric("drained_for", round(age), "s", context="drained")

    def _verify(self) -> list[nagiosplugin.Metric]:
        command = [self.args.gnt_cluster, "verify", "--error-codes"]
        try:
            # In the C locale, so that its messages are English whatever Icinga's locale is.
            env = {**os.environ, "LC_ALL": "C"}
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=self.args.timeout, check=False, env=env
            )
        except FileNotFoundError as exc:
            raise plugin.Unknown(f"cannot run {command[0]}: not found") from exc
        except subprocess.TimeoutExpired as exc:
            raise nagiosplugin.Timeout(f"{self.args.timeout}s") from exc
        errors = warnings = 0
        for line in done.stdout.splitlines():
            found = VERIFY_LINE.search(line)
            if not found:
                continue
            level, code, _, item, message = found.groups()
            if level == "ERROR" and code != "ENODEN1":
                errors += 1
            else:
                warnings += 1
            self.findings.append(f"{level} {code} {item}: {message.strip()}")
        if done.returncode != 0 and not self.findings:
            raise plugin.Unknown(
                f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[:200]}"
            )
        return [
            nagiosplugin.Metric("verify_errors", errors, min=0, context="verify_errors"),
            nagiosplugin.Metric("verify_warnings", warnings, min=0, context="verify_warnings"),
        ]


class Paused(nagiosplugin.ScalarContext):
    """Paused at all is WARNING; the critical range is about how long."""

    def evaluate(self, metric: nagiosplugin.Metric, resource: nagiosplugin.Resource) -> nagiosplugin.Result:
        if metric.value <= 0 and not (isinstance(resource, Master) and resource.paused_until > time.time()):
            return self.result_cls(nagiosplugin.Ok, None, metric)
        if not self.critical.match(metric.value):
            return self.result_cls(nagiosplugin.Critical, f"watcher paused for {metric.value} s", metric)
        return self.result_cls(nagiosplugin.Warn, "watcher paused", metric)


class Drained(nagiosplugin.ScalarContext):
    """Drained at all (the flag is there, age ≥ 0) is WARNING; CRITICAL past the critical range."""

    def evaluate(self, metric: nagiosplugin.Metric, resource: nagiosplugin.Resource) -> nagiosplugin.Result:
        if metric.value < 0:
            return self.result_cls(nagiosplugin.Ok, None, metric)
        if not self.critical.match(metric.value):
            return self.result_cls(nagiosplugin.Critical, f"queue drained for {metric.value} s", metric)
        return self.result_cls(nagiosplugin.Warn, "queue drained", metric)


class Age(nagiosplugin.ScalarContext):
    """The newest watcher state file's age; no state file at all (-1) is WARNING."""

    def evaluate(self, metric: nagiosplugin.Metric, resource: nagiosplugin.Resource) -> nagiosplugin.Result:
        if metric.value < 0:
            return self.result_cls(nagiosplugin.Warn, "the watcher has never run (no state file)", metric)
        return super().evaluate(metric, resource)


class Summary(nagiosplugin.Summary):
    def __init__(self, master: Master) -> None:
        self.master = master

    def ok(self, results: nagiosplugin.Results) -> str:
        text = "watcher not paused, queue not drained"
        if "age" in results:
            text += f", watcher ran {results['age'].metric.value} s ago"
        if "verify_errors" in results:
            text += ", verify clean"
        return text

    def problem(self, results: nagiosplugin.Results) -> str:
        parts = []
        for r in results:
            if r.state == nagiosplugin.Ok:
                continue
            if r.metric.context == "paused":
                until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.master.paused_until))
                parts.append(f"{r.hint} (until {until})")
            elif r.metric.context == "drained" or (r.metric.context == "age" and r.metric.value < 0):
                parts.append(r.hint)
            elif r.metric.context == "age":
                parts.append(f"watcher last ran {r.metric.value} s ago")
            elif r.metric.context.startswith("verify"):
                parts.append(f"verify: {'; '.join(self.master.findings[:5])}")
        return "; ".join(dict.fromkeys(parts))


def build(args: argparse.Namespace, client: object) -> nagiosplugin.Check:
    master = Master(args)
    return nagiosplugin.Check(
        master,
        Paused("paused", None, nagiosplugin.Range(f"{args.paused_critical:g}")),
        Drained("drained", None, nagiosplugin.Range(f"{args.drained_critical:g}")),
        Age("age", args.warning, args.critical),
        plugin.Perf("count"),
        nagiosplugin.ScalarContext("verify_errors", None, nagiosplugin.Range("0")),
        nagiosplugin.ScalarContext("verify_warnings", nagiosplugin.Range("0"), None),
        Summary(master),
        name=plugin.title_of(NAME),
    )


def main() -> None:
    """The `check_fleet_watcher` executable."""
    plugin.run(sys.modules[__name__])  # type: ignore[arg-type]

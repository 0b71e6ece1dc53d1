"""Each Icinga check's run time against a 5,000-instance simulated cluster (the goal is at most 1 s each), as
Icinga runs it: a fresh process of `check_fleet_NAME`, start-up included, beside the floor of that process
(Python starting and importing the check, then exiting), measured interleaved in one run; the master-local
check is measured against its own floor, since it loads no RAPI client.

    python -m bench.checks [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import side_by_side, simulator

BIN = Path(sys.executable).parent
RAPI_CHECKS = ("cluster", "balance", "freemem", "ippool", "joblist", "nodes", "queue")
GOAL = 1.0
FLOOR = "floor (RAPI)"  # Python starting, importing a RAPI check (the client, httpx), exiting
LOCAL_FLOOR = "floor (local)"  # the same for the master-local check, which loads no RAPI client


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode == 3:
        raise SystemExit(f"{' '.join(command)}: {done.stdout.strip()}")


def main(runs: int = 5) -> None:
    with simulator("--profile", "large", "--clusters", "1", "--instances", "5000") as sim, \
            tempfile.TemporaryDirectory(prefix="fleet-bench-checks-") as tmp:  # fmt: skip
        cluster = sim.clusters[0]
        creds = Path(tmp) / "rapi.ini"
        creds.write_text(
            f"[{cluster['host']}]\nuser = {cluster['reader']}\npassword = {cluster['reader_password']}\n"
            f"fingerprint = {cluster['fingerprint']}\nport = {cluster['port']}\n"
        )
        data = Path(tmp) / "ganeti"
        (data / "queue").mkdir(parents=True)
        (data / "watcher.0000.data").write_text("{}")
        args = {name: ["-H", cluster["host"], "--credentials", str(creds)] for name in RAPI_CHECKS}
        args["watcher"] = ["--data-dir", str(data)]
        fns = {
            FLOOR: lambda: _run([sys.executable, "-c", "import fleet.checks.freemem"]),
            LOCAL_FLOOR: lambda: _run([sys.executable, "-c", "import fleet.checks.watcher"]),
        }
        for name, extra in args.items():
            fns[name] = lambda name=name, extra=extra: _run([str(BIN / f"check_fleet_{name}"), *extra])
        for fn in fns.values():  # warm the page cache and the simulator's answers once
            fn()
        started = time.perf_counter()
        rows = side_by_side(fns, runs)
        elapsed = time.perf_counter() - started
    print(f"\n== Icinga checks, one process each, against 5,000 instances ({runs} runs, {elapsed:.0f} s)")
    print(f"  {'check':16}{'p50 s':>9}{'max s':>9}{'over floor s':>14}{'x floor':>9}  goal <= {GOAL:.0f} s")
    for name, values in rows.items():
        median = statistics.median(values)
        base = statistics.median(rows[LOCAL_FLOOR if name in (LOCAL_FLOOR, "watcher") else FLOOR])
        verdict = "" if name in (FLOOR, LOCAL_FLOOR) else ("ok" if median <= GOAL else "OVER")
        print(
            f"  {name:16}{median:9.3f}{max(values):9.3f}{median - base:14.3f}{median / base:9.2f}  {verdict}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    main(parser.parse_args().runs)

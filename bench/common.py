"""What every benchmark shares: timing side by side, summaries, a simulator to measure against."""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from fleet.simulator.process import SimulatorProcess, start_simulator


def timings(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` calls of `fn`."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def side_by_side(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Time several functions interleaved, so that noise on this shared machine hits them alike."""
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            out[name] += timings(fn, 1)
    return out


def p(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def describe(values: list[float]) -> str:
    """`p50 … p95 … (n runs)` in milliseconds."""
    p50, p95 = 1000 * statistics.median(values), 1000 * p(values, 0.95)
    return f"p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  ({len(values)} runs)"


def report(title: str, rows: dict[str, list[float]], base: str) -> None:
    """Print each row's timings and its median ratio to the `base` row."""
    print(f"\n== {title}")
    ref = statistics.median(rows[base])
    for name, values in rows.items():
        ratio = statistics.median(values) / ref
        print(f"  {name:44} {describe(values)}  ratio {ratio:5.2f}x")


def rss_mib(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process in MiB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


@contextlib.contextmanager
def simulator(*args: str, time_scale: float = 1.0) -> Iterator[SimulatorProcess]:
    """A `fleet simulate ARGS` child process for the length of the block."""
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as state:
        sim = start_simulator(Path(state), *args, time_scale=time_scale, timeout=300)
        try:
            yield sim
        finally:
            sim.stop()


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) process ``pid`` has used."""
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")

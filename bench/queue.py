"""Issue 11's figures for the worker, on PostgreSQL, with `fleet worker` running at its defaults.

For each scale (40,000 instances on 30 clusters, then 100,000 on 100; the `large` profile, with its three
days of job history):

- first sync: the worker started on an empty read model until every instance is stored;
- at rest: the worker's CPU (share of one core) and RSS, and the RAPI requests each cluster receives per
  second (counted by the simulator), over ``REST`` seconds after the first sync, a full pass included;
- at 30 clusters, an outside change: shutdowns and tag changes submitted with Ganeti's official RAPI
  client (Debian's python3-ganeti, as an operator's script would; no Job row from Fleet), one per cluster,
  each timed from the job's end (Ganeti's end_ts) to the new state in Fleet's API.

The figures of both scales are printed side by side, with how each grows from one to the other.

    FLEET_DATABASE_URL=postgresql://... python -m bench.queue [40k] [100k]
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import deployment
from bench.common import cpu_seconds, describe, p, rss_mib, simulator
from bench.inventory import PASSWORD
from fleet.simulator.process import SimulatorProcess
from tests.conformance.official import batch, job
from tests.targets import RapiTarget

SCALES = {
    "40k": ("--clusters", "30", "--instances", "40000"),
    "100k": ("--clusters", "100", "--instances", "100000"),
}
REST = 90.0  # seconds at rest: more than one full pass (60 s) of every cluster
SHUTDOWNS = 30


def _served(sim: SimulatorProcess) -> dict[str, int]:
    rows = httpx.get(f"{sim.control_url}/clusters", timeout=30).raise_for_status().json()
    return {row["name"]: row["requests"] for row in rows}


def _target(c: dict[str, Any]) -> RapiTarget:
    host, port = c["url"].removeprefix("https://").rsplit(":", 1)
    return RapiTarget(
        c["name"], host, int(port), c["fingerprint"], c["cert_file"], c["username"], c["password"], "", ""
    )


# What an operator's script does with the official client, and how its effect shows in the API: a shutdown
# (seconds long: seen running by a poll, then followed to its end) and a tag (a fraction of a second: seen
# ended by the next poll).
_CHANGES: dict[str, tuple[Callable[[str], Any], Callable[[dict[str, Any]], bool]]] = {
    "shutdown": (
        lambda name: job("ShutdownInstance", name, dry_run=False),
        lambda row: row["status"] == "ADMIN_down",
    ),
    "tag": (
        lambda name: job("AddInstanceTags", name, ["bench:outside"]),
        lambda row: "bench:outside" in row["tags"],
    ),
}


def outside_changes(url: str, admin: Any, sim: SimulatorProcess) -> dict[str, list[float]]:
    """Seconds from each job's end to its effect in the API, per kind of change made with the official
    client, one at a time (each client is a Python process of its own: thirty at once would starve the
    worker)."""
    from fleet.inventory.models import Instance
    from fleet.tokens.issue import issue

    _, key = issue(admin, name="bench", scope="read")
    api = httpx.Client(base_url=url + "api/", headers={"Authorization": f"Token {key}"}, timeout=30)
    by_name = {c["name"]: c for c in sim.clusters}
    latencies: dict[str, list[float]] = {kind: [] for kind in _CHANGES}
    for index, cluster in enumerate(sorted(by_name)[:SHUTDOWNS]):
        kind = list(_CHANGES)[index % len(_CHANGES)]
        step, shows = _CHANGES[kind]
        instance = Instance.objects.filter(cluster__name=cluster, status="running").order_by("name").first()
        if instance is None:
            continue
        ended: list[float] = []
        target, steps = _target(by_name[cluster]), [step(instance.name)]

        def submit(target: RapiTarget = target, steps: list[Any] = steps, ended: list[float] = ended) -> None:
            (report,) = batch(target, steps)
            seconds, microseconds = report["job"]["end_ts"]
            ended.append(seconds + microseconds / 1e6)

        submitting = threading.Thread(target=submit)
        submitting.start()
        deadline = time.monotonic() + 120
        while True:
            rows = api.get("instances/", params={"cluster": cluster, "name": instance.name}).json()["results"]
            if any(row["name"] == instance.name and shows(row) for row in rows):
                seen = time.time()
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{instance.name}: the {kind} did not show in the API within 120 s")
            time.sleep(0.05)
        submitting.join()
        latencies[kind].append(seen - ended[0])
    api.close()
    return latencies


def one_scale(scale: str, tmp: Path) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    figures: dict[str, Any] = {}
    with simulator("--profile", "large", *SCALES[scale], time_scale=0.2) as sim:
        deployment.empty_read_model()
        from fleet.inventory.models import Cluster

        Cluster.objects.all().delete()
        deployment.register(sim)
        total = sum(c["instances"] for c in httpx.get(f"{sim.control_url}/clusters").json())
        admin = get_user_model().objects.filter(
            username="admin"
        ).first() or get_user_model().objects.create_superuser("admin", "admin@example.org", PASSWORD)
        log = tmp / f"worker-{scale}.log"
        with deployment.child(log, *deployment.FLEET, "worker") as worker, deployment.tail_on_error(log):
            figures["first sync (s)"] = deployment.wait_synced(total, 600)
            time.sleep(5.0)  # the first polls read the job history
            before, cpu, wall = _served(sim), cpu_seconds(worker.pid), time.monotonic()
            time.sleep(REST)
            elapsed = time.monotonic() - wall
            figures["at rest, CPU (% of a core)"] = 100 * (cpu_seconds(worker.pid) - cpu) / elapsed
            after = _served(sim)
            rates = [(after[name] - before[name]) / elapsed for name in after]
            figures["at rest, RAPI requests/s per cluster (mean)"] = sum(rates) / len(rates)
            figures["at rest, RAPI requests/s per cluster (max)"] = max(rates)
            rss, peak = rss_mib(worker.pid)
            figures["RSS at rest (MiB)"], figures["RSS peak (MiB)"] = rss, peak
            if scale == "40k":
                with deployment.web_server(tmp / "web.log") as url:
                    by_kind = outside_changes(url, admin, sim)
                latencies = [seconds for values in by_kind.values() for seconds in values]
                figures["outside change to API, p50 (s)"] = p(latencies, 0.5)
                figures["outside change to API, p95 (s)"] = p(latencies, 0.95)
                figures["outside change to API, max (s)"] = max(latencies)
                for kind, values in by_kind.items():
                    print(f"  outside changes at 30 clusters, {kind}: {describe(values)}")
    figures["instances"], figures["clusters"] = total, len(sim.clusters)
    return figures


def main(scales: tuple[str, ...]) -> None:
    url = deployment.server_url()
    deployment.DATABASE = "fleet_bench_queue"
    with deployment.database(url) as database_url, tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        deployment.configure(database_url, Path(tmp))
        results = {scale: one_scale(scale, Path(tmp)) for scale in scales}
    print("\n== fleet worker at its defaults (full pass every 60 s, job queue polled every 2 s)")
    names = list(dict.fromkeys(name for figures in results.values() for name in figures))
    print(
        f"  {'figure':48}"
        + "".join(f"{scale:>12}" for scale in scales)
        + ("  growth" if len(scales) > 1 else "")
    )
    for name in names:
        values = [results[scale].get(name) for scale in scales]
        cells = "".join(
            f"{v:12.2f}" if isinstance(v, float) else f"{v if v is not None else '-':>12}" for v in values
        )
        growth = ""
        if len(values) > 1 and all(isinstance(v, int | float) and v for v in values):
            growth = f"  {values[-1] / values[0]:5.2f}x"
        print(f"  {name:48}{cells}{growth}")


if __name__ == "__main__":
    import sys

    unknown = set(sys.argv[1:]) - set(SCALES)
    if unknown:
        raise SystemExit(
            f"usage: python -m bench.queue [{' | '.join(SCALES)}]...; unknown: {sorted(unknown)}"
        )
    main(tuple(s for s in SCALES if s in sys.argv[1:]) or tuple(SCALES))

"""Issue 12's figures for the write path, on PostgreSQL: 40,000 instances on 30 clusters, `fleet worker` and
gunicorn at their defaults, the simulator's jobs at a twentieth of their real durations.

- **Latency Fleet adds** to an action, one at a time, round the clusters: from the HTTP POST of a reboot to
  its end shown, less the job's own run (Ganeti's start_ts to end_ts, as the simulator reports it). "Shown"
  twice: in the API (polled every 20 ms), and on the instance page, whose operation panel htmx polls every
  250 ms (polled here the same way).
- **A burst** of 1,000 reboots across the 30 clusters, posted by 8 clients at once: how many were recorded,
  submitted, followed and closed, against 1,000; jobs per operation on the clusters (their reason trails,
  read back from each cluster's queue: none lost, none twice); and the time to drain the burst (first POST to
  last operation closed) against the span of the clusters' own jobs (first received_ts to last end_ts).

    FLEET_DATABASE_URL=postgresql://... python -m bench.operations
"""

from __future__ import annotations

import concurrent.futures
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bench import deployment
from bench.common import describe, p, simulator
from bench.inventory import PASSWORD

SCALE = ("--profile", "large", "--clusters", "30", "--instances", "40000")
TIME_SCALE = 0.05  # a reboot (20 s on a real cluster) takes a second
LATENCY_RUNS = 60
BURST = 1_000
CLIENTS = 8
API_POLL = 0.02
PAGE_POLL = 0.25  # the operation panel's htmx poll
SPAN = "clusters' own span (s)"
MARK = re.compile(r"fleet-operation ([0-9a-f-]{36})")


def _api(url: str) -> httpx.Client:
    """The admin's session on the API, with the CSRF header a session's POST needs."""
    client = deployment.login(url, "admin", PASSWORD)
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return client


def _running(per_cluster: int) -> list[tuple[int, str, str]]:
    """(id, cluster, name) of ``per_cluster`` running instances of each cluster, round the clusters."""
    from fleet.inventory.models import Cluster, Instance

    chosen = []
    for cluster in Cluster.objects.order_by("name"):
        rows = Instance.objects.filter(cluster=cluster, status="running").order_by("name")[:per_cluster]
        chosen.append([(row.pk, cluster.name, row.name) for row in rows])
    return [row for turn in zip(*chosen, strict=False) for row in turn]


STAGES = (
    "POST to recorded",
    "recorded to sent (the worker hears, claims)",
    "sent to its job id written",
    "Ganeti's queue (received to started)",
    "job's end to operation closed",
    "closed to seen in the API",
)


def _stages(operation_id: int, clicked: float, seen: float) -> tuple[float, list[float]]:
    """The job's own run, and the seconds of each of STAGES, from the rows (the operation's ``updated_at`` is
    when it was closed)."""
    from fleet.operations.models import Operation

    op = Operation.objects.select_related("job").get(pk=operation_id)
    job = op.job
    assert job is not None and job.started_at and job.ended_at and job.received_at and op.submitted_at
    stamps = [op.created_at.timestamp(), op.attempted_at.timestamp(), op.submitted_at.timestamp()]
    stages = [stamps[0] - clicked, stamps[1] - stamps[0], stamps[2] - stamps[1]]
    stages.append((job.started_at - job.received_at).total_seconds())
    stages.append((op.updated_at - job.ended_at).total_seconds())
    stages.append(seen - op.updated_at.timestamp())
    return (job.ended_at - job.started_at).total_seconds(), stages


def latency(url: str) -> tuple[list[float], list[float], list[list[float]]]:
    """Seconds Fleet adds to one reboot at a time, as the API and as the page show its end, and by stage."""
    api, page = _api(url), _api(url)
    added_api: list[float] = []
    added_page: list[float] = []
    stages: list[list[float]] = []
    for pk, cluster, name in _running(3)[:LATENCY_RUNS]:
        clicked = time.time()
        posted = api.post(f"api/instances/{pk}/reboot/", json={"kind": "hard"})
        posted.raise_for_status()
        operation_id = posted.json()["id"]
        while (operation := api.get(f"api/operations/{operation_id}/").json())["status"] != "succeeded":
            if operation["status"] in ("failed", "refused"):
                raise RuntimeError(f"{name}: {operation['error']}")
            time.sleep(API_POLL)
        in_api = time.time()
        tick = clicked
        while 'data-status="succeeded"' not in page.get(f"instances/{cluster}/{name}/operation/").text:
            tick += PAGE_POLL
            time.sleep(max(0.0, tick - time.time()))
        on_page = time.time()
        run, parts = _stages(operation_id, clicked, in_api)
        added_api.append(in_api - clicked - run)
        added_page.append(on_page - clicked - run)
        stages.append(parts)
    return added_api, added_page, stages


def burst(url: str, clusters: list[dict[str, Any]]) -> dict[str, Any]:
    """1,000 reboots posted at once by several clients; what became of them."""
    from fleet.operations.models import Operation

    targets = _running(BURST // len(clusters) + 1)[:BURST]
    clients = [_api(url) for _ in range(CLIENTS)]

    def post(index: int) -> int:
        pk = targets[index][0]
        client = clients[index % CLIENTS]
        key = {"Idempotency-Key": f"burst-{index}"}
        return client.post(f"api/instances/{pk}/reboot/", json={}, headers=key).status_code

    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        statuses = Counter(pool.map(post, range(len(targets))))
    posted = time.time()
    deadline = time.monotonic() + 600
    while Operation.objects.open().exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the burst did not drain in 600 s")
        time.sleep(0.1)
    drained = max(Operation.objects.values_list("ended_at", flat=True)).timestamp()
    jobs = _jobs_by_operation(clusters)
    operations = {str(u): s for u, s in Operation.objects.values_list("uuid", "status")}
    spans = [stamp for u in operations if u in jobs for stamp in jobs[u][1:]]  # the burst's jobs only
    return {
        "posted": len(targets),
        "answers": dict(statuses),
        "posting (s)": posted - started,
        "operations": dict(Counter(operations.values())),
        "with one job": sum(1 for u in operations if jobs.get(u, (0,))[0] == 1),
        "without a job": sum(1 for u in operations if u not in jobs),
        "with more than one job": sum(1 for u in operations if jobs.get(u, (0,))[0] > 1),
        "drain (s)": drained - started,
        SPAN: max(spans) - min(spans),
    }


def _jobs_by_operation(clusters: list[dict[str, Any]]) -> dict[str, tuple[int, float, float]]:
    """For each operation named in a reason trail on the clusters: its job count, first received, last end."""
    found: dict[str, tuple[int, float, float]] = {}
    for c in clusters:
        jobs = httpx.get(
            f"{c['url']}/2/jobs?bulk=1", verify=False, auth=(c["username"], c["password"]), timeout=60
        ).json()
        for job in jobs:
            trail = " ".join(str(entry[1]) for op in job["ops"] for entry in op.get("reason", []))
            for mark in set(MARK.findall(trail)):
                count, received, ended = found.get(mark, (0, float("inf"), 0.0))
                r, e = job["received_ts"], job["end_ts"] or [0, 0]
                found[mark] = (count + 1, min(received, r[0] + r[1] / 1e6), max(ended, e[0] + e[1] / 1e6))
    return found


def main() -> None:
    url = deployment.server_url()
    deployment.DATABASE = "fleet_bench_operations"
    with deployment.database(url) as database_url, tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        deployment.configure(database_url, Path(tmp))
        from django.contrib.auth import get_user_model

        from fleet.operations.models import Operation

        get_user_model().objects.create_superuser("admin", "admin@example.org", PASSWORD)
        with simulator(*SCALE, time_scale=TIME_SCALE) as sim:
            deployment.register(sim)
            total = sum(c["instances"] for c in httpx.get(f"{sim.control_url}/clusters").json())
            log = Path(tmp) / "worker.log"
            with deployment.child(log, *deployment.FLEET, "worker"), deployment.tail_on_error(log):
                print(f"first sync of {total} instances on {len(sim.clusters)} clusters: "
                      f"{deployment.wait_synced(total, 600):.1f} s")  # fmt: skip
                with deployment.web_server(Path(tmp) / "web.log", workers=4) as web:
                    added_api, added_page, stages = latency(web)
                    Operation.objects.all().delete()
                    outcome = burst(web, sim.clusters)
    print(
        f"\n== the latency Fleet adds to a reboot, one at a time ({LATENCY_RUNS} runs), beyond the job's run"
    )
    print(f"  shown in the API (20 ms poll):          {describe(added_api)}")
    print(f"  shown on the page (htmx, 250 ms poll):  {describe(added_page)}")
    api95, page95 = p(added_api, 0.95) * 1000, p(added_page, 0.95) * 1000
    print(f"  p95: API {api95:.0f} ms, page {page95:.0f} ms (goal: 300 ms)")
    print("  by stage (the job's own run left out):")
    for index, stage in enumerate(STAGES):
        print(f"    {stage:44} {describe([parts[index] for parts in stages])}")
    print(f"\n== a burst of {BURST} reboots across {len(sim.clusters)} clusters, {CLIENTS} clients at once")
    for key, value in outcome.items():
        print(f"  {key:28} {value:.2f}" if isinstance(value, float) else f"  {key:28} {value}")
    ratio = outcome["drain (s)"] / outcome[SPAN]
    print(f"  drain against the clusters' own span: {ratio:.2f}x")


if __name__ == "__main__":
    main()

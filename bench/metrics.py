"""Issue 15's figure for /metrics: a scrape of Fleet at 40,000 VMs / 30 clusters (the `large` profile, synced
into PostgreSQL with its job history), against prometheus-ganeti-exporter's approach, in one run.

- Fleet: GET /metrics from gunicorn, which reads the read model and the job rows with a few aggregate queries.
- The exporter's approach, modelled against the same simulated clusters: per scrape, three bulk RAPI calls per
  cluster, one after the other as its single collector makes them (/2/nodes?bulk=1, /2/instances?bulk=1,
  /2/jobs?bulk=1), then its gauges: per node, per instance (oper_vcpus, oper_ram) and per job (wait and run
  time, labelled with the job id), rendered by prometheus-client.

Both are timed interleaved, and their sizes and series counts printed with the ratio.
Needs FLEET_DATABASE_URL naming a PostgreSQL server (the role creates the database ``fleet_bench_metrics``).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import statistics
import tempfile
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Gauge, generate_latest

from bench import deployment
from bench.common import report, side_by_side, simulator

PROFILE = ("--profile", "large")  # 30 clusters, 40,000 instances, 3 days of jobs per queue
RUNS = 5
FLEET = "Fleet /metrics (read model, aggregate SQL)"
EXPORTER = "exporter approach (3 RAPI calls per cluster)"


def _exporter_scrape(clusters: list[dict[str, Any]], clients: list[httpx.Client]) -> bytes:
    """One scrape as prometheus-ganeti-exporter makes it: RAPI calls, then its gauges, then the text."""
    registry = CollectorRegistry()
    node = {
        name: Gauge(f"ganeti_node_{name}", name, ["cluster", "node"], registry=registry)
        for name in ("ctotal", "dfree", "dtotal", "mfree", "mtotal", "pinst_cnt", "sinst_cnt")
    }
    oper = {
        name: Gauge(f"ganeti_instance_{name}", name, ["cluster", "instance"], registry=registry)
        for name in ("oper_vcpus", "oper_ram")
    }
    count = Gauge("ganeti_cluster_instance_count", "instances", ["cluster"], registry=registry)
    jobs = Gauge("ganeti_cluster_jobs", "jobs", ["cluster", "job_status"], registry=registry)
    wait = Gauge("ganeti_job_wait_time", "wait", ["cluster", "job_id", "job_operation"], registry=registry)
    run = Gauge("ganeti_job_run_time", "run", ["cluster", "job_id", "job_operation"], registry=registry)
    for c, http in zip(clusters, clients, strict=True):
        name = c["name"]
        for row in http.get("/2/nodes", params={"bulk": 1}).raise_for_status().json():
            for field, gauge in node.items():
                if row.get(field) is not None:
                    gauge.labels(name, row["name"]).set(row[field])
        instances = http.get("/2/instances", params={"bulk": 1}).raise_for_status().json()
        count.labels(name).set(len(instances))
        for row in instances:
            for field, gauge in oper.items():
                gauge.labels(name, row["name"]).set(row.get(field) or 0)
        statuses: dict[str, int] = {}
        for row in http.get("/2/jobs", params={"bulk": 1}).raise_for_status().json():
            statuses[row["status"]] = statuses.get(row["status"], 0) + 1
            received, start, end = row.get("received_ts"), row.get("start_ts"), row.get("end_ts")
            op = (row.get("ops") or [{}])[0].get("OP_ID", "")
            if received and start:
                wait.labels(name, str(row["id"]), op).set(_seconds(start) - _seconds(received))
            if start and end:
                run.labels(name, str(row["id"]), op).set(_seconds(end) - _seconds(start))
        for status, n in statuses.items():
            jobs.labels(name, status).set(n)
    return generate_latest(registry)


def _seconds(ts: list[int]) -> float:
    return ts[0] + ts[1] / 1e6


def _series(text: bytes) -> int:
    return sum(1 for line in text.splitlines() if line and not line.startswith(b"#"))


def _breakdown() -> None:
    """Where Fleet's scrape spends its time, in this process: the SQL and the families, then the text."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fleet.metrics.collector import FleetCollector

    families: list[Any] = []

    def collect() -> None:
        families[:] = list(FleetCollector().collect())

    def render() -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(type("Fixed", (), {"collect": lambda self: iter(families)})())
        generate_latest(registry)

    with CaptureQueriesContext(connection) as queries:
        collect()
    statements = sorted(queries.captured_queries, key=lambda q: -float(q["time"]))
    collect_name = "collect: SQL and metric families"
    rows = side_by_side({collect_name: collect, "render: the text format": render}, RUNS)
    report(f"Fleet's scrape in one process ({len(statements)} SQL statements)", rows, collect_name)
    print(f"  SQL: {sum(float(q['time']) for q in statements) * 1000:.1f} ms in all; the slowest:")
    for q in statements[:3]:
        print(f"    {float(q['time']) * 1000:7.1f} ms  {q['sql'][:90]}")


def main() -> None:
    url = deployment.server_url()
    deployment.DATABASE = "fleet_bench_metrics"
    with deployment.database(url) as database_url, tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        deployment.configure(database_url, Path(tmp))
        os.environ["FLEET_METRICS_ALLOW_NETWORKS"] = "127.0.0.0/8"  # the web server below inherits it
        from fleet.inventory.models import Instance
        from fleet.jobs.models import Job
        from fleet.sync.leases import for_database
        from fleet.sync.worker import Worker, WorkerSettings

        with simulator(*PROFILE, time_scale=0.2) as sim:
            deployment.register(sim)
            asyncio.run(Worker(WorkerSettings(), for_database()).run_once(job_timeout=60))
            print(
                f"\n{len(sim.clusters)} clusters synced: {Instance.objects.count()} instances, "
                f"{Job.objects.count()} jobs in PostgreSQL"
            )
            clients = [
                httpx.Client(
                    base_url=c["url"],
                    verify=ssl.create_default_context(cafile=c["cert_file"]),
                    auth=(c["username"], c["password"]),
                    timeout=300,
                )
                for c in sim.clusters
            ]
            with deployment.web_server(Path(tmp) / "web.log") as web:
                metrics = httpx.Client(base_url=web, timeout=120)
                sizes: dict[str, bytes] = {}

                def fleet() -> None:
                    sizes[FLEET] = metrics.get("metrics").raise_for_status().content

                def exporter() -> None:
                    sizes[EXPORTER] = _exporter_scrape(sim.clusters, clients)

                fleet()  # warm: the web worker's first request imports and connects
                rows = side_by_side({FLEET: fleet, EXPORTER: exporter}, RUNS)
                report("/metrics scrape at 40,000 VMs / 30 clusters", rows, FLEET)
                for name, body in sizes.items():
                    print(f"  {name:44} {len(body) / 1024:9.1f} KiB  {_series(body):7d} series")
                ratio = statistics.median(rows[EXPORTER]) / statistics.median(rows[FLEET])
                print(f"  the exporter's approach takes {ratio:.1f}x Fleet's scrape time")
                print(f"  and costs 3 x {len(sim.clusters)} bulk RAPI calls per scrape; Fleet's costs none")
                _breakdown()
            for client in clients:
                client.close()


if __name__ == "__main__":
    main()

"""Issue 4's figures for the read model and the sync worker, on PostgreSQL, each a ratio measured in one run.

- P1: the admin's instance list (a filtered search, 50 rows) over HTTP from gunicorn, against ALL the SQL
  its request runs (session, user, lookups, count, rows, clusters) run bare, and against its rows statement
  alone; against ganetimgr's request path (fetch every cluster's instances from RAPI, build every row,
  serialize the whole table); the page's size.
- P2: a full sync of one 5,000-instance cluster against the raw fetch and parse of the same data; all 30
  clusters of the `large` profile (40,000 instances) from empty; a resync with nothing changed, and the
  inventory rows it wrote (rows whose xmin is newer than the resync's start).
- P3: a job's end (Ganeti's end_ts) to the new state visible in the API, with `fleet worker` running.
- P4: the list page while one of the 30 clusters is black-holed, against all healthy, blocks interleaved.
- P5: the resident memory of `fleet worker` syncing 40,000 instances, from empty and then at its cadence.

Needs FLEET_DATABASE_URL naming a PostgreSQL server (the role creates the database ``fleet_bench``); starts
the simulators, the worker and the web server itself.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import deployment
from bench.common import cpu_seconds, describe, p, report, rss_mib, side_by_side, simulator, timings
from fleet.rapi import Credentials, Pin, RapiClient, cluster, fields, instances, jobs, query
from fleet.simulator.process import SimulatorProcess

PAGE = "?q=vm01&status=running&page_size=50"  # a filtered search: name, IP, MAC or owner, and a status
PROFILE = ("--profile", "large")  # 30 clusters, 40,000 instances
HTTP_PAGE = "list page over HTTP (gunicorn)"
PAGE_RUNS = 30
GANETIMGR_RUNS = 3
SYNC_RUNS = 5
JOBS = 15
BLOCKS, BLOCK_RUNS = 4, 10
WORKER_INTERVAL = 10.0  # fleet worker's default cadence
PASSWORD = "bench-admin-password"  # a throwaway account in a throwaway database

# The requests of a full pass, as fleet.sync.fetch sends them: /2/info and one query2 request per kind (the
# job queue is polled apart).
_QUERIES = (
    ("group", fields.GROUP_FIELDS),
    ("node", fields.NODE_FIELDS),
    ("network", fields.NETWORK_FIELDS),
    ("instance", fields.INSTANCE_FIELDS),
)


def _http(c: dict[str, Any]) -> httpx.AsyncClient:
    verify = ssl.create_default_context(cafile=c["cert_file"])
    return httpx.AsyncClient(
        base_url=c["url"], verify=verify, auth=(c["username"], c["password"]), timeout=120
    )


async def _raw_pass(http: httpx.AsyncClient) -> int:
    """The requests of a full pass sent concurrently with plain httpx, each answer read with json.loads."""
    calls = [cluster.info(), *(query.run(resource, names) for resource, names in _QUERIES)]

    async def one(request: Any) -> int:
        answer = await http.request(
            request.method, request.path, content=request.body, headers=request.headers
        )
        answer.raise_for_status()
        return len(json.loads(answer.content))

    return sum(await asyncio.gather(*(one(call.request) for call in calls)))


# Database figures -------------------------------------------------------------------------------------------


def _xid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return int(cursor.fetchone()[0]) % 2**32


def _rows_written_since(xid: int) -> dict[str, int]:
    """Inventory rows inserted or updated by transactions after ``xid``, per table."""
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table in deployment.read_model_tables():
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE xmin::text::bigint > %s', [xid])
            out[table] = int(cursor.fetchone()[0])
    return out


def _row_counts() -> dict[str, int]:
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table in deployment.read_model_tables():
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            out[table] = int(cursor.fetchone()[0])
    return out


def _check_no_writes(what: str, xid: int, counts: dict[str, int]) -> None:
    written = {t: n for t, n in _rows_written_since(xid).items() if n}
    after = _row_counts()
    deleted = {t: counts[t] - after[t] for t in counts if counts[t] != after[t]}
    verdict = "none" if not written and not deleted else f"written {written}, count changed {deleted}"
    print(f"  {what}: inventory rows written: {verdict} (goal: none)")


# P2 ---------------------------------------------------------------------------------------------------------


def p2_one_cluster() -> None:
    from fleet.inventory.models import Cluster
    from fleet.sync.database import Database
    from fleet.sync.loop import ClusterLoop, LoopSettings

    with simulator("--profile", "tiny", "--clusters", "1", "--instances", "5000", "--nodes", "40") as sim:
        (row,) = deployment.register(sim)
        loop = asyncio.new_event_loop()
        http = _http(sim.clusters[0])
        db = Database(1)
        sync = ClusterLoop(row.pk, db, asyncio.Semaphore(1), LoopSettings())
        rows: dict[str, list[float]] = {
            "raw fetch + parse (httpx, json.loads)": [],
            "full sync from empty (fleet worker's pass)": [],
            "resync, nothing changed": [],
        }
        for _ in range(SYNC_RUNS):
            rows["raw fetch + parse (httpx, json.loads)"] += timings(
                lambda: loop.run_until_complete(_raw_pass(http)), 1
            )
            deployment.empty_read_model()
            rows["full sync from empty (fleet worker's pass)"] += timings(
                lambda: loop.run_until_complete(sync.full_pass()), 1
            )
            xid, counts = _xid(), _row_counts()
            rows["resync, nothing changed"] += timings(lambda: loop.run_until_complete(sync.full_pass()), 1)
        assert sync.failures == 0, sync.last_outcome
        stats = Cluster.objects.get(pk=row.pk).last_sync_stats
        title = "P2 full sync of one 5,000-instance cluster (goal ≤ 2x)"
        report(title, rows, "raw fetch + parse (httpx, json.loads)")
        print(f"  last resync saw {stats['seen']}; created {stats['created']}, updated {stats['updated']}")
        _check_no_writes("last resync", xid, counts)
        loop.run_until_complete(http.aclose())
        loop.run_until_complete(sync.drain())
        loop.close()
        db.close()
        deployment.empty_read_model()
        Cluster.objects.filter(pk=row.pk).delete()


def p2_all_clusters(sim: SimulatorProcess) -> None:
    from fleet.inventory.models import Instance
    from fleet.sync.leases import for_database
    from fleet.sync.worker import Worker, WorkerSettings

    async def raw_all() -> int:
        clients = [_http(c) for c in sim.clusters]
        try:
            return sum(await asyncio.gather(*(_raw_pass(client) for client in clients)))
        finally:
            for client in clients:
                await client.aclose()

    def once() -> dict[int, Any]:
        return asyncio.run(Worker(WorkerSettings(), for_database()).run_once(job_timeout=60))

    raw = timings(lambda: asyncio.run(raw_all()), 1)
    deployment.empty_read_model()
    started = time.perf_counter()
    loops = once()
    from_empty = time.perf_counter() - started
    failed = [loop.name for loop in loops.values() if loop.last_outcome is None or not loop.last_outcome.ok]
    xid, counts = _xid(), _row_counts()
    started = time.perf_counter()
    once()
    resync = time.perf_counter() - started
    print(f"\n== P2 all {len(sim.clusters)} clusters, {Instance.objects.count()} instances (`large` profile)")
    print(f"  raw fetch + parse of every cluster at once      {raw[0]:6.1f} s")
    print(f"  fleet worker --once from empty                  {from_empty:6.1f} s  (goal ≤ 10 s)"
          f"  ratio {from_empty / raw[0]:5.2f}x")  # fmt: skip
    print(f"  fleet worker --once again, nothing changed      {resync:6.1f} s")
    if failed:
        print(f"  FAILED clusters: {failed}")
    _check_no_writes("resync of every cluster", xid, counts)


# P1 ---------------------------------------------------------------------------------------------------------


def _page_queries(admin: Any) -> list[tuple[str, tuple[Any, ...]]]:
    """Every SQL statement the list page runs for ``admin``, with its parameters: through the whole request
    path (the session, the user, then the view), as gunicorn serves it, in this process."""
    from django.db import connection
    from django.test import Client

    seen: list[tuple[str, tuple[Any, ...]]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    assert client.get("/" + PAGE).status_code == 200  # the session and the connection are warm
    with connection.execute_wrapper(record):
        assert client.get("/" + PAGE).status_code == 200
    return seen


def _bare_queries(admin: Any) -> tuple[Callable[[], object], Callable[[], object], int]:
    """The SQL of the page's 50 rows, and every statement of the page (session, user, the search's lookups,
    count, rows, cluster choices and alerts), each run with a cursor and fetched: what the page cannot do
    without; and how many statements that is.

    The rows statement is built from the same queryset, policy and filterset as the page, and checked to be
    one the page sends, so that the baseline is the page's own query, not another.
    """
    from django.db import connection
    from django.http import QueryDict

    from fleet.access import policy
    from fleet.inventory.filtersets import InstanceFilterSet
    from fleet.web.views.instances import instance_list_queryset

    params = QueryDict(PAGE.lstrip("?"))
    queryset = policy.restrict(instance_list_queryset(), admin, policy.Action.VIEW)
    filterset = InstanceFilterSet(params, queryset=queryset)
    assert filterset.is_valid(), filterset.errors
    sql, args = filterset.qs[:50].query.sql_with_params()
    statements = _page_queries(admin)
    assert (sql, tuple(args)) in statements, "the baseline is not the page's rows query"

    def rows() -> object:
        with connection.cursor() as cursor:
            cursor.execute(sql, args)
            return cursor.fetchall()

    def every() -> object:
        with connection.cursor() as cursor:
            for statement, values in statements:
                cursor.execute(statement, values)
                cursor.fetchall()
        return len(statements)

    return rows, every, len(statements)


def _ganetimgr(sim: SimulatorProcess) -> Callable[[], int]:
    """ganetimgr's instance list: every cluster's `/2/instances?bulk=1` fetched (in parallel), a row built
    for every instance, and the whole table serialized as JSON for the browser to filter and page."""
    loop = asyncio.new_event_loop()
    clients = [(c["name"], _http(c)) for c in sim.clusters]

    async def fetch() -> list[tuple[str, bytes]]:
        answers = await asyncio.gather(*(http.get("/2/instances", params={"bulk": 1}) for _, http in clients))
        return [(name, answer.content) for (name, _), answer in zip(clients, answers, strict=True)]

    def request() -> int:
        table = []
        for name, content in loop.run_until_complete(fetch()):
            for i in json.loads(content):
                table.append(
                    {
                        "name": i["name"],
                        "cluster": name,
                        "status": i["status"],
                        "node": i["pnode"],
                        "memory": i["beparams"].get("maxmem"),
                        "vcpus": i["beparams"].get("vcpus"),
                        "disk": sum(s for s in i["disk.sizes"] if s),
                        "ips": [ip for ip in i["nic.ips"] if ip],
                        "owners": [t for t in i["tags"] if ":user:" in t or ":group:" in t],
                    }
                )
        return len(json.dumps({"aaData": table}))

    return request


def p1(url: str, admin: Any, sim: SimulatorProcess) -> None:
    client = deployment.login(url, admin.username, PASSWORD)
    first = client.get(PAGE)
    first.raise_for_status()
    bare, every, statements = _bare_queries(admin)
    rows_on_page = len(bare())  # type: ignore[arg-type]

    def page() -> object:
        response = client.get(PAGE)
        response.raise_for_status()
        return response

    rows_name = "the page's rows statement alone, bare"
    every_name = f"ALL the page's SQL, bare ({statements} statements)"
    fns = {rows_name: bare, every_name: every, HTTP_PAGE: page}
    rows = side_by_side(fns, PAGE_RUNS)
    title = f"P1 admin list page {PAGE}, {rows_on_page} rows, against ALL its SQL (goal ≤ 3x)"
    report(title, rows, every_name)
    ratio = statistics.median(rows[HTTP_PAGE]) / statistics.median(rows[rows_name])
    print(f"  the page against its rows statement alone: {ratio:.2f}x")
    print("  ALL its SQL: each statement of the request (session, user, lookups, count, rows, clusters)")
    print(f"  page size {len(first.content):,} bytes (goal ≤ 50,000)")
    ganetimgr = _ganetimgr(sim)
    table_bytes = ganetimgr()
    rows = side_by_side({HTTP_PAGE: page, "ganetimgr request path": ganetimgr}, GANETIMGR_RUNS)
    report("P1 against ganetimgr's request path (goal ≥ 100x)", rows, HTTP_PAGE)
    print(f"  ganetimgr's page: {table_bytes:,} bytes of JSON per request")
    client.close()


# P3, P4, P5 -------------------------------------------------------------------------------------------------


def p3(url: str, admin: Any, sim: SimulatorProcess) -> None:
    from fleet.inventory.models import Instance
    from fleet.jobs import lifecycle
    from fleet.jobs.models import Job
    from fleet.tokens.issue import issue

    _, key = issue(admin, name="bench", scope="read")
    api = httpx.Client(base_url=url + "api/", headers={"Authorization": f"Token {key}"}, timeout=30)
    by_name = {c["name"]: c for c in sim.clusters}
    picked: list[Instance] = []
    for name in sorted(by_name):
        running = Instance.objects.filter(cluster__name=name, status="running")
        instance = running.select_related("cluster").first()
        if instance is not None:
            picked.append(instance)
    latencies = []
    for instance in picked[:JOBS]:
        c = by_name[instance.cluster.name]
        with RapiClient.connect(
            c["url"], trust=Pin(c["fingerprint"]), credentials=Credentials(c["username"], c["password"])
        ) as rapi:
            job_id = rapi.call(instances.shutdown(instance.name, reason="bench"))
            lifecycle.submitted(instance.cluster, job_id, requester=admin, reason="bench", instance=instance)
            deadline = time.monotonic() + 120
            while True:
                answer = api.get("instances/", params={"cluster": c["name"], "name": instance.name})
                answer.raise_for_status()
                found = [r for r in answer.json()["results"] if r["name"] == instance.name]
                if found and found[0]["status"] == "ADMIN_down":
                    visible = time.time()
                    break
                if time.monotonic() > deadline:
                    row = Job.objects.get(cluster=instance.cluster, job_id=job_id)
                    raise RuntimeError(
                        f"job {job_id} on {instance.name} ({row.status}, Ganeti says "
                        f"{rapi.call(jobs.get(job_id)).status}): the API still shows {found}"
                    )
                time.sleep(0.02)
            job = rapi.call(jobs.get(job_id))
            assert job.status == "success" and job.end_ts is not None, job.status
            latencies.append(visible - job.end_ts)
    api.close()
    print(f"\n== P3 a job's end to the new state in the API ({len(latencies)} shutdowns, worker running)")
    print(f"  {describe(latencies)}  (goal p95 ≤ 2 s)")


def p4(page: Callable[[], object], sim: SimulatorProcess) -> None:
    from fleet.inventory.models import Cluster

    victim = sim.clusters[1]["name"]
    Cluster.objects.filter(name=victim).update(rapi_timeout=5.0)

    def faults(**settings: object) -> None:
        httpx.put(f"{sim.control_url}/clusters/{victim}/faults", json=settings, timeout=10).raise_for_status()

    healthy = f"all {len(sim.clusters)} healthy"
    rows: dict[str, list[float]] = {healthy: [], "one black-holed": []}
    for block in range(BLOCKS):
        faults(blackhole=False)
        rows[healthy] += timings(page, BLOCK_RUNS)
        faults(blackhole=True)
        if block == 0:
            deadline = time.monotonic() + 4 * WORKER_INTERVAL
            while Cluster.objects.get(name=victim).health != "unreachable":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not notice that {victim} is black-holed")
                time.sleep(0.2)
        rows["one black-holed"] += timings(page, BLOCK_RUNS)
    faults(blackhole=False)
    report(f"P4 list page, {victim} black-holed (health unreachable) (goal ≤ 1.1x)", rows, healthy)
    for name, values in rows.items():
        print(f"  {name:16} p95 {1000 * p(values, 0.95):8.1f} ms")


def with_worker(url: str, admin: Any, sim: SimulatorProcess, tmp: Path, total: int) -> None:
    deployment.empty_read_model()
    cmd = [*deployment.FLEET, "worker", "--interval", str(WORKER_INTERVAL)]
    log = tmp / "worker.log"
    with deployment.child(log, *cmd) as worker, deployment.tail_on_error(log):
        took = deployment.wait_synced(total, 300)
        print(
            f"\n== fleet worker, every {WORKER_INTERVAL:.0f} s: {total} instances from empty in {took:.1f} s"
        )
        cpu_start, wall_start = cpu_seconds(worker.pid), time.monotonic()
        p3(url, admin, sim)
        client = deployment.login(url, admin.username, PASSWORD)

        def page() -> object:
            return client.get(PAGE).raise_for_status()

        p4(page, sim)
        client.close()
        cpu = (cpu_seconds(worker.pid) - cpu_start) / (time.monotonic() - wall_start)
        rss, peak = rss_mib(worker.pid)
        print(f"\n== P5 fleet worker at {total} instances")
        print(f"  RSS now {rss:.0f} MiB, peak {peak:.0f} MiB (goal ≤ 300 MB)")
        print(f"  CPU while P3 and P4 ran: {100 * cpu:.0f}% of one core")


SECTIONS = ("p1", "p2", "worker")
"""What `python -m bench.inventory SECTION` runs alone, on a database of its own (so that sections can run
side by side): p1 the list page, p2 the full syncs, worker P3, P4 and P5 with `fleet worker` running."""


def main(sections: tuple[str, ...] = SECTIONS) -> None:
    url = deployment.server_url()
    if sections != SECTIONS:
        deployment.DATABASE = "fleet_bench_" + "_".join(sections)
    with deployment.database(url) as database_url, tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        deployment.configure(database_url, Path(tmp))
        from django.contrib.auth import get_user_model

        from fleet.sync.leases import for_database
        from fleet.sync.worker import Worker, WorkerSettings

        if "p2" in sections:
            p2_one_cluster()
        with simulator(*PROFILE, time_scale=0.2) as sim:
            deployment.register(sim)
            if "p2" in sections:
                p2_all_clusters(sim)
            elif "p1" in sections:
                asyncio.run(Worker(WorkerSettings(), for_database()).run_once(job_timeout=60))
            if "p1" not in sections and "worker" not in sections:
                return
            answer = httpx.get(f"{sim.control_url}/clusters", timeout=30)
            total = sum(row["instances"] for row in answer.raise_for_status().json())
            admin = get_user_model().objects.create_superuser("admin", "admin@example.org", PASSWORD)
            with deployment.web_server(Path(tmp) / "web.log") as web:
                if "p1" in sections:
                    p1(web, admin, sim)
                if "worker" in sections:
                    with_worker(web, admin, sim, Path(tmp), total)


if __name__ == "__main__":
    import sys

    unknown = set(sys.argv[1:]) - set(SECTIONS)
    if unknown:
        raise SystemExit(
            f"usage: python -m bench.inventory [{' | '.join(SECTIONS)}]...; unknown: {sorted(unknown)}"
        )
    main(tuple(s for s in SECTIONS if s in sys.argv[1:]) or SECTIONS)

"""Issue 3's figures for the simulator and the client, each a ratio measured in one run.

- Serving `/2/instances?bulk=1` for a 5,000-instance cluster, against `json.dumps` of the same data.
- Serving query2 for a 5,000-instance cluster as the sync worker asks (every field it reads; the change
  markers only; 100 instances by name), against `json.dumps` of the same answer.
- Generating and serving the `large` profile (40,000 instances): time to ready and RSS; every cluster's
  instances through query2 at once, and the simulator's CPU time for it.
- The client's bulk fetch and parse of 5,000 instances, against a raw httpx GET and `json.loads`.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import time
from typing import Any

import httpx

from bench.common import report, rss_mib, side_by_side, simulator
from fleet.rapi.client import RapiClient
from fleet.rapi.endpoints import instances
from fleet.rapi.fields import INSTANCE_FIELDS
from fleet.rapi.transport import Credentials, Pin
from fleet.sync import rows

RUNS = 15
# as fleet.sync.fetch.INSTANCE_MARKER_FIELDS (importing that module needs Django set up)
MARKER_FIELDS = ("name", "uuid", *rows.MARKERS, *rows.INSTANCE_LIVE, "pnode")


def bulk_serving_and_client() -> None:
    with simulator("--profile", "tiny", "--clusters", "1", "--instances", "5000", "--nodes", "40") as sim:
        c = sim.clusters[0]
        url = c["url"] + "/2/instances?bulk=1"
        auth = (c["username"], c["password"])
        verify = ssl.create_default_context(cafile=c["cert_file"])
        with httpx.Client(verify=verify, auth=auth, timeout=60) as http:
            t0 = time.perf_counter()
            first = http.get(url)
            first_serve = time.perf_counter() - t0
            data = first.json()
            print(f"\n{len(data)} instances, {len(first.content) / 1e6:.1f} MB of JSON")
            print(f"  first serve (nothing cached yet): {1000 * first_serve:.1f} ms")
            rows = side_by_side(
                {
                    "json.dumps of the same data": lambda: json.dumps(data),
                    "GET /2/instances?bulk=1 (raw bytes)": lambda: http.get(url).content,
                    "raw httpx GET + json.loads": lambda: json.loads(http.get(url).content),
                },
                RUNS,
            )
        report("serving bulk instances, 5,000-instance cluster", rows, "json.dumps of the same data")

        client = RapiClient.connect(
            c["url"], trust=Pin(c["fingerprint"]), credentials=Credentials(c["username"], c["password"])
        )
        with httpx.Client(verify=verify, auth=auth, timeout=60) as http:
            rows = side_by_side(
                {
                    "raw httpx GET + json.loads": lambda: json.loads(http.get(url).content),
                    "RapiClient: instances.bulk() (fetch + parse)": lambda: client.call(instances.bulk()),
                },
                RUNS,
            )
        client.close()
        report("client bulk fetch + parse, 5,000 instances", rows, "raw httpx GET + json.loads")


def _query_side_by_side(http: httpx.Client, url: str, title: str, body: dict[str, Any]) -> None:
    t0 = time.perf_counter()
    answer = http.put(url, json=body)
    first = time.perf_counter() - t0
    data = answer.json()
    print(f"\nquery2, {title}: {len(data['data'])} rows, {len(answer.content) / 1e6:.1f} MB of JSON")
    print(f"  first serve: {1000 * first:.1f} ms")
    base = "json.dumps of the same answer"
    timed = side_by_side(
        {
            base: lambda: json.dumps(data),
            "PUT /2/query/instance (raw bytes)": lambda: http.put(url, json=body).content,
        },
        RUNS,
    )
    report(f"serving query2, {title}, 5,000-instance cluster", timed, base)


def query_serving() -> None:
    with simulator("--profile", "tiny", "--clusters", "1", "--instances", "5000", "--nodes", "40") as sim:
        c = sim.clusters[0]
        url = c["url"] + "/2/query/instance"
        verify = ssl.create_default_context(cafile=c["cert_file"])
        with httpx.Client(verify=verify, auth=(c["username"], c["password"]), timeout=60) as http:
            names = [i["id"] for i in http.get(c["url"] + "/2/instances").json()]
            by_name = ["|", *(["=", "name", n] for n in names[::50])]
            _query_side_by_side(http, url, "every field the worker reads", {"fields": list(INSTANCE_FIELDS)})
            _query_side_by_side(http, url, "the change markers", {"fields": list(MARKER_FIELDS)})
            body = {"fields": list(INSTANCE_FIELDS), "qfilter": by_name}
            _query_side_by_side(http, url, "every field, 100 instances by name", body)


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far, from /proc."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _query_every_cluster(clusters: list[dict[str, Any]]) -> int:
    async def one(c: dict[str, Any]) -> int:
        verify = ssl.create_default_context(cafile=c["cert_file"])
        auth = (c["username"], c["password"])
        async with httpx.AsyncClient(verify=verify, auth=auth, timeout=120) as http:
            answer = await http.put(c["url"] + "/2/query/instance", json={"fields": list(INSTANCE_FIELDS)})
            return len(json.loads(answer.content)["data"])

    return sum(await asyncio.gather(*(one(c) for c in clusters)))


def large_profile() -> None:
    t0 = time.perf_counter()
    with simulator("--profile", "large") as sim:
        ready = time.perf_counter() - t0
        total = 0
        for c in sim.clusters:
            verify = ssl.create_default_context(cafile=c["cert_file"])
            with httpx.Client(verify=verify, auth=(c["username"], c["password"]), timeout=120) as http:
                total += len(http.get(c["url"] + "/2/instances").json())
        served = time.perf_counter() - t0
        cpu, t1 = _cpu_seconds(sim.process.pid), time.perf_counter()
        queried = asyncio.run(_query_every_cluster(sim.clusters))
        query_wall, query_cpu = time.perf_counter() - t1, _cpu_seconds(sim.process.pid) - cpu
        rss, peak = rss_mib(sim.process.pid)
    print("\n== the large profile")
    print(f"  clusters {len(sim.clusters)}, instances {total}")
    print(f"  start to ready: {ready:.1f} s (target < 30 s); every cluster listed: {served:.1f} s")
    print(
        f"  query2 of every instance (the worker's fields), every cluster at once: {queried} rows in"
        f" {query_wall:.1f} s, {query_cpu:.1f} s of the simulator's CPU"
    )
    print(f"  RSS after serving every list: {rss:.0f} MiB, peak {peak:.0f} MiB (target < 1024 MiB)")


def main() -> None:
    bulk_serving_and_client()
    query_serving()
    large_profile()


if __name__ == "__main__":
    main()

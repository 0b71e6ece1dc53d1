"""Issue 3's figures for the simulator and the client, each a ratio measured in one run.

- Serving `/2/instances?bulk=1` for a 5,000-instance cluster, against `json.dumps` of the same data.
- Generating and serving the `large` profile (40,000 instances): time to ready and RSS.
- The client's bulk fetch and parse of 5,000 instances, against a raw httpx GET and `json.loads`.
"""

from __future__ import annotations

import json
import ssl
import time

import httpx

from bench.common import report, rss_mib, side_by_side, simulator
from fleet.rapi.client import RapiClient
from fleet.rapi.endpoints import instances
from fleet.rapi.transport import Credentials, Pin

RUNS = 15


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
        rss, peak = rss_mib(sim.process.pid)
    print("\n== the large profile")
    print(f"  clusters {len(sim.clusters)}, instances {total}")
    print(f"  start to ready: {ready:.1f} s (target < 30 s); every cluster listed: {served:.1f} s")
    print(f"  RSS after serving every list: {rss:.0f} MiB, peak {peak:.0f} MiB (target < 1024 MiB)")


def main() -> None:
    bulk_serving_and_client()
    large_profile()


if __name__ == "__main__":
    main()

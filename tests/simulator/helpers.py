"""Small helpers for talking to a simulated cluster over real HTTPS."""

from __future__ import annotations

import ssl
import time
from typing import Any

import httpx

from tests.targets import RapiTarget

FINAL = ("success", "error", "canceled")


def client(target: RapiTarget, who: str | None = "write", timeout: float = 15.0) -> httpx.Client:
    """An httpx client verifying the simulator's certificate, as the writer, the reader or anonymous."""
    auth = None
    if who == "write":
        auth = (target.username, target.password)
    elif who == "read":
        auth = (target.reader, target.reader_password)
    return httpx.Client(base_url=target.url, verify=tls(target), auth=auth, timeout=timeout)


def tls(target: RapiTarget) -> ssl.SSLContext:
    """A TLS context trusting only the simulator's certificate."""
    return ssl.create_default_context(cafile=target.cert_file)


def ok(resp: httpx.Response) -> Any:
    """The JSON of a 200 reply (fails the test with the body otherwise)."""
    assert resp.status_code == 200, resp.text
    return resp.json()


def wait_job(http: httpx.Client, job_id: int, timeout: float = 20.0) -> dict[str, Any]:
    """Poll a job until it is final; return it."""
    deadline = time.monotonic() + timeout
    while True:
        job = ok(http.get(f"/2/jobs/{job_id}"))
        if job["status"] in FINAL:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']}"
        time.sleep(0.05)


def wait_status(http: httpx.Client, job_id: int, status: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll a job until it reaches the given status."""
    deadline = time.monotonic() + timeout
    while True:
        job = ok(http.get(f"/2/jobs/{job_id}"))
        if job["status"] == status:
            return job
        assert time.monotonic() < deadline, f"job {job_id} is {job['status']}, not {status}"
        time.sleep(0.02)


def instances(http: httpx.Client) -> dict[str, dict[str, Any]]:
    """Every instance of the cluster (bulk), by name."""
    return {i["name"]: i for i in ok(http.get("/2/instances", params={"bulk": 1}))}

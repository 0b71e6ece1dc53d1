"""Ganeti 3.0.2's reinstall takes no reason: with a body, any query argument (``reason`` too) is a 400, and
the query form builds opcodes whose reason trails hold neither the user's text nor RAPI's own entry. A
modify, a rename and a delete take the reason in the query beside their body. So a reinstall job carries
no operation mark (docs/ganeti-actions.md; fleet.rapi.instances.reinstall sends none)."""

from __future__ import annotations

import ssl
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance


def client(target: RapiTarget) -> httpx.Client:
    verify = ssl.create_default_context(cafile=target.cert_file)
    verify.check_hostname = False
    return httpx.Client(
        base_url=target.url, verify=verify, auth=(target.username, target.password), timeout=60
    )


def wait(http: httpx.Client, answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = http.get(f"/2/jobs/{answer.json()}").json()
        if job["status"] in ("success", "error", "canceled"):
            return job
        assert time.monotonic() < deadline
        time.sleep(0.2)


def sources(job: dict[str, Any], index: int) -> list[str]:
    return [entry[0].split(":")[1] for entry in job["ops"][index]["reason"]]


def test_a_reinstall_takes_no_reason_where_a_modify_does(target: RapiTarget) -> None:
    name = f"conf-{uuid.uuid4().hex[:8]}.example.test"
    with client(target) as http:
        body = {
            "__version__": 1, "mode": "create", "instance_name": name, "disk_template": "file",
            "disks": [{"size": 128}], "nics": [{}], "os_type": "noop", "name_check": False, "ip_check": False,
            "start": False, "beparams": {"maxmem": 64, "minmem": 64, "vcpus": 1},
        }  # fmt: skip
        assert wait(http, http.post("/2/instances", json=body))["status"] == "success"
        try:
            with_body = http.post(
                f"/2/instances/{name}/reinstall", params={"reason": "r"}, json={"start": False}
            )
            assert with_body.status_code == 400
            assert "Can't combine query and body parameters" in with_body.json()["message"].replace(
                "&#x27;", "'"
            )
            legacy = wait(
                http, http.post(f"/2/instances/{name}/reinstall", params={"nostartup": 1, "reason": "r"})
            )
            assert legacy["status"] == "success"
            assert [sources(legacy, i) for i in range(2)] == [["opcode"], ["opcode"]]
            modify = wait(
                http, http.put(f"/2/instances/{name}/modify", params={"reason": "r"}, json={"osparams": {}})
            )
            assert sources(modify, 0) == ["user", "library", "opcode"]
            assert modify["ops"][0]["reason"][0][1] == "r"
        finally:
            wait(http, http.delete(f"/2/instances/{name}", params={"reason": "r"}))

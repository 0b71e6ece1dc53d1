"""Records real Ganeti RAPI responses as JSON fixtures under captures/: the ground truth of shapes.

    FLEET_REAL_GANETI=1 python -m tests.conformance.record_captures

Brings the real cluster up with real_ganeti.sh if needed, creates a few objects, records each request and its
response (status, content type, body) to captures/<name>.json, then removes what it created.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conformance.conftest import REAL_GANETI_SH
from tests.conformance.official import http
from tests.targets import RapiTarget

CAPTURES = Path(__file__).with_name("captures")
RUNNING = "capture-running.example.test"
STOPPED = "capture-stopped.example.test"
NETWORK = "capture-net"


def _target() -> RapiTarget:
    if subprocess.run([REAL_GANETI_SH, "status"], check=False).returncode != 0:
        subprocess.run([REAL_GANETI_SH, "up"], check=True)
    out = subprocess.run([REAL_GANETI_SH, "target"], capture_output=True, text=True, check=True).stdout
    return RapiTarget(**json.loads(out))


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def record(
    client: httpx.Client,
    name: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    content_type: str | None = "application/json",
    raw_body: str | None = None,
    note: str = "",
) -> Any:
    headers = {"Content-Type": content_type} if content_type else {}
    content = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    response = client.request(method, path, content=content, headers=headers)
    capture = {
        "note": note,
        "request": {"method": method, "path": path, "content_type": content_type, "body": content},
        "status": response.status_code,
        "content_type": response.headers.get("content-type"),
        "www_authenticate": response.headers.get("www-authenticate"),
        "body": _body(response),
    }
    (CAPTURES / f"{name}.json").write_text(json.dumps(capture, indent=1, sort_keys=True) + "\n")
    return capture["body"]


def wait(client: httpx.Client, job_id: int) -> dict[str, Any]:
    for _ in range(600):
        found: dict[str, Any] = client.get(f"/2/jobs/{job_id}").json()
        if found["status"] in ("success", "error", "canceled"):
            return found
        time.sleep(0.1)
    raise TimeoutError(job_id)


def create_body(name: str, template: str, disks: list[dict[str, Any]], start: bool) -> dict[str, Any]:
    return {
        "__version__": 1,
        "mode": "create",
        "instance_name": name,
        "disk_template": template,
        "disks": disks,
        "nics": [{}],
        "os_type": "noop",
        "name_check": False,
        "ip_check": False,
        "start": start,
        "beparams": {"maxmem": 64, "minmem": 64, "vcpus": 1},
    }


def main() -> None:
    target = _target()
    CAPTURES.mkdir(exist_ok=True)
    with http(target) as w, http(target, user="reader") as r, http(target, user=None) as anon:
        info = w.get("/2/info").json()
        master = info["master"]
        # objects to look at
        create_job = record(
            w,
            "instance_create",
            "POST",
            "/2/instances",
            body=create_body(RUNNING, "file", [{"size": 128}], True),
        )
        wait(w, create_job)
        wait(w, w.post("/2/instances", json=create_body(STOPPED, "diskless", [], False)).json())
        wait(w, w.put(f"/2/instances/{RUNNING}/tags", params={"tag": ["owner:alice", "env:test"]}).json())
        net_job = w.post(
            "/2/networks",
            json={
                "network_name": NETWORK,
                "network": "10.99.0.0/28",
                "gateway": "10.99.0.1",
                "tags": ["capture"],
            },
        ).json()
        wait(w, net_job)
        wait(
            w,
            w.put(
                f"/2/networks/{NETWORK}/connect",
                json={"group_name": "default", "network_mode": "bridged", "network_link": "gntbr0"},
            ).json(),
        )

        # reads
        record(w, "root", "GET", "/")
        record(w, "version", "GET", "/version")
        record(w, "info", "GET", "/2/info")
        record(w, "features", "GET", "/2/features")
        record(w, "os", "GET", "/2/os")
        record(w, "tags", "GET", "/2/tags")
        record(w, "instances", "GET", "/2/instances")
        record(w, "instances_bulk", "GET", "/2/instances?bulk=1")
        record(w, "instance", "GET", f"/2/instances/{RUNNING}")
        record(w, "instance_tags", "GET", f"/2/instances/{RUNNING}/tags")
        record(
            w,
            "instance_console",
            "GET",
            f"/2/instances/{RUNNING}/console",
            note="fake hypervisor; KVM answers kind ssh or vnc",
        )
        record(w, "instance_console_stopped", "GET", f"/2/instances/{STOPPED}/console")
        record(w, "nodes", "GET", "/2/nodes")
        record(w, "nodes_bulk", "GET", "/2/nodes?bulk=1")
        record(w, "node", "GET", f"/2/nodes/{master}")
        record(w, "node_role", "GET", f"/2/nodes/{master}/role")
        record(w, "groups", "GET", "/2/groups")
        record(w, "groups_bulk", "GET", "/2/groups?bulk=1")
        record(w, "group", "GET", "/2/groups/default")
        record(w, "networks", "GET", "/2/networks")
        record(w, "networks_bulk", "GET", "/2/networks?bulk=1")
        record(w, "network", "GET", f"/2/networks/{NETWORK}")
        record(w, "filters", "GET", "/2/filters")
        record(w, "job_create", "GET", f"/2/jobs/{create_job}", note="the instance create job, finished")
        record(w, "jobs", "GET", "/2/jobs")

        # jobs: failure, unknown job, wait, cancel, child jobs
        failed = w.put("/2/instances/no-such-instance.example.test/startup").json()
        wait(w, failed)
        record(w, "job_failed", "GET", f"/2/jobs/{failed}", note="startup of an unknown instance")
        record(w, "job_unknown_numeric", "GET", "/2/jobs/987654", note="3.0.2 answers 200 with null fields")
        record(
            w,
            "job_wait",
            "GET",
            f"/2/jobs/{failed}/wait",
            body={"fields": ["status", "opstatus"], "previous_job_info": None, "previous_log_serial": None},
        )
        record(w, "job_cancel_finished", "DELETE", f"/2/jobs/{failed}", note="cancel of a finished job")
        evac = record(
            w,
            "node_evacuate",
            "POST",
            f"/2/nodes/{master}/evacuate",
            body={"mode": "all", "iallocator": "hail"},
            note="single node: nowhere to go",
        )
        wait(w, evac)
        record(w, "job_node_evacuate", "GET", f"/2/jobs/{evac}")
        migrate = w.post(f"/2/nodes/{master}/migrate", json={"mode": "live"}).json()
        wait(w, migrate)
        record(w, "job_node_migrate", "GET", f"/2/jobs/{migrate}", note="single node, one running instance")

        # query2
        fields = ["name", "status", "oper_ram", "tags", "no_such_field", "nic.ip/3", "disk.size/0"]
        record(
            w,
            "query_instance_put",
            "PUT",
            "/2/query/instance",
            body={"fields": fields, "qfilter": ["=~", "name", "^capture-"]},
        )
        record(w, "query_instance_get", "GET", "/2/query/instance?fields=name,status,pnode")
        record(w, "query_node_fields", "GET", "/2/query/node/fields?fields=name,role,no_such_field")
        record(
            w,
            "query_job_put",
            "PUT",
            "/2/query/job",
            body={"fields": ["id", "status", "summary"], "qfilter": ["==", "id", create_job]},
        )
        record(
            r,
            "query_node_reader",
            "PUT",
            "/2/query/node",
            body={"fields": ["name", "role", "master"], "qfilter": ["?", "master"]},
        )

        # errors
        record(w, "error_400_missing_fields", "GET", "/2/query/instance")
        record(
            w, "error_400_bad_body_param", "PUT", f"/2/instances/{RUNNING}/modify", body={"no_such_param": 1}
        )
        record(w, "error_400_bool_query", "PUT", f"/2/instances/{RUNNING}/shutdown?dry-run=true")
        record(w, "error_400_invalid_json", "PUT", f"/2/instances/{RUNNING}/modify", raw_body="{not json")
        record(
            w,
            "error_400_create_without_version",
            "POST",
            "/2/instances",
            body={"mode": "create", "instance_name": "x.example.test"},
        )
        record(anon, "error_401_no_credentials", "GET", "/2/info")
        record(
            httpx.Client(base_url=target.url, verify=False, auth=(target.username, "wrong")),
            "error_401_wrong_password",
            "GET",
            "/2/info",
        )
        record(r, "error_403_reader_writes", "PUT", f"/2/instances/{RUNNING}/shutdown")
        record(w, "error_404_unknown_instance", "GET", "/2/instances/no-such-instance.example.test")
        record(w, "error_404_unknown_path", "GET", "/99/resource/not/here/99")
        record(
            w,
            "error_415_content_type",
            "PUT",
            f"/2/instances/{RUNNING}/modify",
            content_type="text/plain",
            raw_body='{"beparams": {"vcpus": 1}}',
        )
        record(w, "error_501_put_version", "PUT", "/version")

        # clean up
        for name in (RUNNING, STOPPED):
            wait(w, w.delete(f"/2/instances/{name}").json())
        wait(w, w.put(f"/2/networks/{NETWORK}/disconnect", json={"group_name": "default"}).json())
        wait(w, w.delete(f"/2/networks/{NETWORK}").json())


if __name__ == "__main__":
    main()

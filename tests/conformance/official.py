"""Drives Debian's Ganeti tools against a RAPI target: the official Python client (in a subprocess under
Debian's python3, see scripts/rapi_batch.py) and the htools binaries, plus a raw HTTP client for the
protocol-level checks."""

from __future__ import annotations

import atexit
import json
import queue
import ssl
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.targets import RapiTarget

GANETI_PYTHON = "/usr/bin/python3"
GANETI_LIB = Path("/usr/share/ganeti/3.0")
SCRIPTS = Path(__file__).with_name("scripts")
FINAL_STATUSES = ("success", "error", "canceled")

Step = dict[str, Any]
Report = dict[str, Any]


def call(method: str, *args: Any, **kwargs: Any) -> Step:
    """A step calling one GanetiRapiClient method and keeping its return value."""
    return {"call": method, "args": list(args), "kwargs": kwargs}


def job(method: str, *args: Any, **kwargs: Any) -> Step:
    """A step calling a method that returns a job id, then waiting for the job to end."""
    return {**call(method, *args, **kwargs), "wait": True}


def job_with_children(method: str, *args: Any, **kwargs: Any) -> Step:
    """A job whose opcode result lists child jobs (node evacuate, node migrate): waits for all of them."""
    return {**job(method, *args, **kwargs), "children": True}


def raw(method: str, path: str, query: list[tuple[str, Any]] | None = None, body: Any = None) -> Step:
    """A request through the client's own request path (its headers, its auth, its error handling)."""
    return {"call": "Raw", "args": [method, path, query or [], body]}


class _OfficialClient:
    """One long-lived official-client process (rapi_batch.py --serve) for one target and account: a batch is a
    line of JSON in and a line of JSON out, so the suite starts Debian's python3 and imports Ganeti once per
    account instead of once per batch."""

    def __init__(self, url: str, user: str, password: str) -> None:
        # a file, never a pipe nobody reads; it lives as long as the process
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.process = subprocess.Popen(
            [GANETI_PYTHON, str(SCRIPTS / "rapi_batch.py"), "--serve", "--url", url, f"--user={user}",
             f"--password={password}"],  # one word each: a generated password may begin with "-"
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors, text=True,
        )  # fmt: skip
        self.answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.lock = threading.Lock()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put("")  # the process has ended

    def run(self, steps: list[Step], timeout: float) -> str:
        """The reports of one batch as the JSON line the process printed; raises if it crashed or hung."""
        assert self.process.stdin is not None
        with self.lock:
            try:
                self.process.stdin.write(json.dumps(steps) + "\n")
                self.process.stdin.flush()
                answer = self.answers.get(timeout=timeout)
            except (OSError, queue.Empty):
                answer = ""
            if not answer:
                self.stop()
                self.errors.seek(0)
                said = self.errors.read()[-20_000:]
                raise AssertionError(f"official client crashed or hung (rc {self.process.poll()}):\n{said}")
            return answer

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


_CLIENTS: dict[tuple[str, str, str], _OfficialClient] = {}


@atexit.register
def _stop_clients() -> None:
    for client in _CLIENTS.values():
        client.stop()


def batch(
    target: RapiTarget, steps: list[Step], *, reader: bool = False, timeout: float = 240
) -> list[Report]:
    """Runs the steps in one batch of the official client, as the target's writer (or its read-only user)."""
    user, password = (target.reader, target.reader_password) if reader else (target.username, target.password)
    key = (target.url, user, password)
    client = _CLIENTS.get(key)
    if client is None or client.process.poll() is not None:
        client = _CLIENTS[key] = _OfficialClient(*key)
    try:
        answer = client.run(steps, timeout)
    except AssertionError:
        del _CLIENTS[key]
        raise
    reports: list[Report] = json.loads(answer)
    assert len(reports) == len(steps), answer
    return reports


def ok(report: Report) -> Any:
    """The result of a step that must have succeeded at the HTTP level."""
    assert report["ok"], f"{report['call']} failed: {report.get('code')} {report.get('error')}"
    return report["result"]


def succeeded(report: Report) -> dict[str, Any]:
    """The job of a step that must have run to success, every opcode valid for Ganeti 3.0."""
    ok(report)
    found = report["job"]
    assert found["status"] == "success", (
        f"{report['call']}: job {found['id']} {found['status']}: {found['opresult']}"
    )
    assert report["verify"] == [], report["verify"]
    return found


def failed(report: Report) -> tuple[str, list[Any]]:
    """A step whose job must have been accepted and then failed: returns (error class, [message, ecode])."""
    ok(report)
    found = report["job"]
    assert found["status"] == "error", (
        f"{report['call']}: job {found['id']} should fail, got {found['status']}"
    )
    assert report["verify"] == [], report["verify"]
    errors = [r for r, s in zip(found["opresult"], found["opstatus"], strict=True) if s == "error"]
    error_class, details = errors[0]
    return error_class, details


def http_error(report: Report) -> int:
    """The HTTP status of a step that must have been refused."""
    assert not report["ok"], f"{report['call']} should have failed, got {report.get('result')!r}"
    code: int = report["code"]
    return code


def ssl_context(target: RapiTarget) -> ssl.SSLContext:
    """Trusts exactly the target's certificate (the name in it is the cluster's, not the address we dial)."""
    ctx = ssl.create_default_context(cafile=target.cert_file)
    ctx.check_hostname = False
    return ctx


def http(target: RapiTarget, *, user: str | None = "writer") -> httpx.Client:
    """A raw HTTP client for protocol checks; user is "writer", "reader" or None (anonymous)."""
    auth = {
        "writer": (target.username, target.password),
        "reader": (target.reader, target.reader_password),
        None: None,
    }[user]
    return httpx.Client(base_url=target.url, verify=ssl_context(target), auth=auth, timeout=30)


def htool(target: RapiTarget, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs one of Debian's htools (hbal, hspace, hinfo, hcheck, hroller) against the target's RAPI."""
    url = f"https://{target.username}:{target.password}@{target.host}:{target.port}"
    return subprocess.run(
        [tool, "-m", url, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def machine_readable(output: str) -> dict[str, str]:
    """The KEY=VALUE lines of an htools --machine-readable report."""
    pairs = (line.split("=", 1) for line in output.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


@dataclass(frozen=True)
class Facts:
    """What the tests need to know about a target before they write to it."""

    name: str
    master: str
    os: str
    nodes: tuple[str, ...]  # vm_capable, online, not drained
    node_uuids: dict[str, str]  # every node: uuid -> name
    groups: dict[str, tuple[str, ...]]  # group name -> its usable nodes
    templates: tuple[str, ...]
    nic_link: str
    hypervisor: str

    @property
    def quick_template(self) -> str:
        """The cheapest template to create instances with."""
        return "diskless" if "diskless" in self.templates else self.disk_template

    @property
    def disk_template(self) -> str:
        """A template that gives instances real disks (reinstall needs one)."""
        for template in ("file", "plain", "sharedfile", "drbd"):
            if template in self.templates:
                return template
        raise AssertionError(f"no template with disks among {self.templates}")

    def two_node_group(self) -> tuple[str, str] | None:
        """Two usable nodes of one group, if the target has them (migrations and evacuations need them)."""
        for nodes in self.groups.values():
            if len(nodes) >= 2:
                return nodes[0], nodes[1]
        return None


# The OS list of each target (by address and certificate): /2/os is a job on a real cluster (OpOsDiagnose on
# every node, a second or two), and no test installs or removes an OS.
_OSES: dict[tuple[str, str], list[str]] = {}


def facts(target: RapiTarget) -> Facts:
    known = _OSES.get((target.url, target.fingerprint))
    steps = [call("GetInfo"), call("GetNodes", bulk=True), call("GetGroups", bulk=True)]
    reports = batch(target, steps if known else [*steps, call("GetOperatingSystems")])
    info, nodes, groups = (ok(r) for r in reports[:3])
    oses = known or _OSES.setdefault((target.url, target.fingerprint), ok(reports[3]))
    uuids = {g["uuid"]: g["name"] for g in groups}
    usable = [n for n in nodes if n["vm_capable"] and not n["offline"] and not n["drained"]]
    by_group: dict[str, list[str]] = {}
    for node in usable:
        by_group.setdefault(uuids[node["group.uuid"]], []).append(node["name"])
    preferred = sorted(oses, key=lambda o: (o != "noop", o))
    return Facts(
        name=info["name"],
        master=info["master"],
        os=preferred[0],
        nodes=tuple(n["name"] for n in usable),
        node_uuids={n["uuid"]: n["name"] for n in nodes},
        groups={g: tuple(ns) for g, ns in by_group.items()},
        templates=tuple(info["enabled_disk_templates"]),
        nic_link=info["nicparams"]["default"]["link"],
        hypervisor=info["default_hypervisor"],
    )


def create(name: str, f: Facts, *, template: str | None = None, start: bool = True, **kwargs: Any) -> Step:
    """A step creating a small instance through the official client and waiting for it."""
    template = template or f.quick_template
    disks = [] if template == "diskless" else [{"size": 128}]
    params: dict[str, Any] = {
        "os": f.os,
        "name_check": False,
        "ip_check": False,
        "start": start,
        "beparams": {"maxmem": 64, "minmem": 64, "vcpus": 1},
    }
    params.update(kwargs)
    return job("CreateInstance", "create", name, template, disks, [{}], **params)


def log_lines(report: Report) -> list[str]:
    """The messages a finished job logged, in order (every opcode's)."""
    found = report["job"]
    return [entry[3] for oplog in found["oplog"] for entry in oplog]

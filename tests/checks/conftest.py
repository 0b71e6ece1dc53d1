"""Helpers of the check tests: each check runs as its own executable, as Icinga runs it."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.simulator.helpers import client, ok, wait_job
from tests.targets import RapiTarget

BIN = Path(sys.executable).parent
STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


@dataclass
class Outcome:
    """What Icinga sees of one run: the exit status and the output."""

    code: int
    stdout: str
    stderr: str

    @property
    def state(self) -> str:
        return STATES.get(self.code, f"exit {self.code}")

    @property
    def line(self) -> str:
        return self.stdout.splitlines()[0] if self.stdout else ""

    @property
    def perfdata(self) -> dict[str, str]:
        """Label → value (with its unit) of the status line's perfdata."""
        if "|" not in self.line:
            return {}
        items = self.line.split("|", 1)[1].split()
        return {i.split("=")[0].strip("'"): i.split("=")[1].split(";")[0] for i in items}


def run_check(name: str, *args: str, timeout: float = 60) -> Outcome:
    """Run `check_fleet_NAME ARGS` and return its outcome; its status line must name its check."""
    done = subprocess.run(
        [str(BIN / f"check_fleet_{name}"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    outcome = Outcome(done.returncode, done.stdout, done.stderr)
    assert outcome.line.startswith(f"GANETI_{name.upper()} {outcome.state}"), (outcome, done.stderr)
    return outcome


def credentials_file(directory: Path, target: RapiTarget, *, password: str | None = None) -> Path:
    """An INI credentials file for `target`'s read-only account (a section named by its host)."""
    path = directory / f"{target.name}-{password or 'ok'}.ini"
    path.write_text(
        "[DEFAULT]\n"
        f"user = {target.reader}\n"
        f"password = {password if password is not None else target.reader_password}\n"
        f"[{target.host}]\n"
        f"fingerprint = {target.fingerprint}\n"
        f"port = {target.port}\n"
    )
    path.chmod(0o600)
    return path


def rapi_args(target: RapiTarget, creds: Path) -> list[str]:
    return ["-H", target.host, "--credentials", str(creds)]


def submit(http: httpx.Client, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    """Submit a job through RAPI and wait for its end; return the job."""
    job_id = ok(http.request(method, url, **kwargs))
    return wait_job(http, int(job_id))


def writer(target: RapiTarget) -> httpx.Client:
    return client(target, "write")


def set_faults(control_url: str, cluster: str, **faults: Any) -> None:
    resp = httpx.put(f"{control_url}/clusters/{cluster}/faults", json=faults, timeout=10)
    assert resp.status_code == 200, resp.text


def clear_faults(control_url: str, cluster: str) -> None:
    httpx.delete(f"{control_url}/clusters/{cluster}/faults", timeout=10).raise_for_status()


def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)

"""A running `fleet demo` for the tests that meet Fleet from outside (the browser tests, the API contract):
a tiny simulated fleet, synced, the worker and gunicorn on a free port, an admin and a user who owns VMs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fleet.simulator.process import free_port

FLEET = [sys.executable, "-c", "from fleet.cli.main import main; main()"]
START_TIMEOUT = 120.0


@dataclass
class Stack:
    """A running `fleet demo`: what it printed to demo.json, and ways to reach its database and its CLI."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    facts: dict[str, Any]

    @property
    def url(self) -> str:
        return str(self.facts["url"])

    @property
    def admin(self) -> dict[str, str]:
        return dict(self.facts["admin"])

    @property
    def user(self) -> dict[str, str]:
        return dict(self.facts["user"])

    def fleet(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run a `fleet` command on the demo's configuration."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FLEET_", "DJANGO_"))}
        env["FLEET_CONFIG"] = self.facts["config"]
        return subprocess.run([*FLEET, *args], env=env, capture_output=True, text=True, timeout=120)

    def query(self, code: str) -> Any:
        """Run ``code`` in `fleet manage shell` on the demo's database; it assigns ``result``, returned
        through JSON."""
        script = f"import json\n{code}\nprint(json.dumps(result))"
        done = self.fleet("manage", "shell", "--no-imports", "-c", script)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])


@contextmanager
def running_demo(state_dir: Path, *options: str) -> Iterator[Stack]:
    """`fleet demo --profile tiny` with ``options`` on a free port, in ``state_dir``, until the block ends;
    then it must stop cleanly."""
    cmd = [
        *FLEET,
        "demo",
        "--profile",
        "tiny",
        "--port",
        str(free_port()),
        "--state-dir",
        str(state_dir),
        *options,
    ]
    log = state_dir / "demo.out"
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=state_dir)
    ready = state_dir / "demo.json"
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while not ready.exists():
            assert process.poll() is None, f"fleet demo stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"fleet demo not ready:\n{log.read_text()}"
            time.sleep(0.2)
        yield Stack(process, state_dir, json.loads(ready.read_text()))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text()
    assert "Stopping." in log.read_text()

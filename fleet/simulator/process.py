"""Running `fleet simulate` as a child process: what the demo, the benchmarks and the tests start."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

START_TIMEOUT = 60.0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class SimulatorProcess:
    """A running `fleet simulate`: its clusters (rows of clusters.json), control URL and state directory."""

    process: subprocess.Popen[bytes]
    state_dir: Path
    clusters: list[dict[str, Any]]
    control_url: str

    def stop(self) -> None:
        """SIGTERM, then wait (kill if it does not stop)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_simulator(
    state_dir: Path, *args: str, time_scale: float = 1.0, timeout: float = START_TIMEOUT
) -> SimulatorProcess:
    """Start `fleet simulate ARGS` on free ports and wait until every cluster listens.

    The first cluster's address decides the port; the others share it on their own loopback addresses.
    """
    port, control = free_port("127.0.1.1"), free_port()
    cmd = [
        sys.executable, "-c", "from fleet.cli.main import main; main()", "simulate",
        "--port", str(port), "--control-port", str(control), "--state-dir", str(state_dir),
        "--time-scale", str(time_scale), *args,
    ]  # fmt: skip
    log_path = state_dir / "simulator.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while not (state_dir / "control.json").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"simulator did not start: {log_path.read_text()}")
        time.sleep(0.05)
    clusters = json.loads((state_dir / "clusters.json").read_text())
    return SimulatorProcess(proc, state_dir, clusters, f"http://127.0.0.1:{control}")

"""`fleet node-agent`: serve the node's per-instance CPU and NIC counters to Prometheus (fleet.metrics.agent).

Runs on each Ganeti node, as a user that may read Ganeti's KVM run directory; it needs neither Fleet's
configuration nor its database.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

DEFAULT_PORT = 9721


@click.command("node-agent")
@click.option("--listen", default="0.0.0.0", show_default=True, help="Address to serve /metrics on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--run-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/var/run/ganeti/kvm-hypervisor"),
    show_default=True,
    help="Ganeti's KVM run directory (its pid/ and nic/ subdirectories).",
)
def node_agent(listen: str, port: int, run_dir: Path) -> None:
    """Export each instance's CPU time and NIC traffic on this node, until SIGTERM or Ctrl-C."""
    from prometheus_client import start_http_server

    from fleet.metrics.agent import Places, registry

    try:
        server, _ = start_http_server(port, listen, registry(Places(run_dir=run_dir)))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {listen}:{port}: {exc.strerror}") from exc
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)
    click.echo(f"Serving /metrics on {listen}:{port} from {run_dir}", err=True)
    stop.wait()
    server.shutdown()
    click.echo("Stopping.", err=True)

"""Putting a simulator together: generate the fleet, make the certificate and users, serve until stopped."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fleet.simulator import history
from fleet.simulator.auth import UsersFile, write_users_file
from fleet.simulator.base import Runtime
from fleet.simulator.faults import Faults
from fleet.simulator.generate import generate, profile, summary
from fleet.simulator.jobs import JobQueue
from fleet.simulator.server import Simulator, write_clusters_file
from fleet.simulator.tls import make_certificate

WRITER, READER = "fleet", "reader"


@dataclass
class Config:
    """Everything `fleet simulate` can be told."""

    state_dir: str
    profile: str = "tiny"
    seed: int = 1
    clusters: int | None = None
    instances: int | None = None
    nodes: int | None = None
    port: int = 5080
    address_template: str = "127.0.1.{n}"
    failover_template: str = "127.0.2.{n}"
    control_port: int | None = None
    time_scale: float = 1.0
    archive_age: float = 6 * 3600.0
    history_days: float | None = None  # days of past jobs per queue; None: the profile's default
    users_file: str | None = None
    require_auth: bool = False
    faults: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    vnc_password_file: str | None = None  # the consoles' VNC password, as a node's vnc_password_file


def build(config: Config) -> tuple[Simulator, dict[str, Any]]:
    """Generate the fleet and prepare the simulator (nothing listens yet); return it and start-up facts."""
    os.makedirs(config.state_dir, exist_ok=True)
    clusters = generate(
        profile(config.profile, config.seed, config.clusters, config.instances, config.nodes), config.seed
    )
    credentials: dict[str, str] = {}
    if config.users_file:
        users_path = config.users_file
    else:
        users_path = os.path.join(config.state_dir, "users")
        wpw, rpw = write_users_file(users_path, WRITER, READER)
        credentials = {"username": WRITER, "password": wpw, "reader": READER, "reader_password": rpw}
    runtimes = []
    days = config.history_days
    if days is None:
        days = history.DEFAULT_DAYS.get(config.profile, 0.0)
    for n, cluster in enumerate(clusters, start=1):
        faults = Faults()
        queue = JobQueue(cluster, faults, config.time_scale, config.archive_age)
        if days:
            rng = random.Random(f"history:{cluster.name}:{config.seed}")
            queue.load(history.seed_history(cluster, rng, config.archive_age, days))
        rt = Runtime(
            cluster,
            queue,
            faults,
            config.address_template.format(n=n),
            config.port,
            config.failover_template.format(n=n),
        )
        runtimes.append(rt)
    cert_file = os.path.join(config.state_dir, "rapi.pem")
    key_file = os.path.join(config.state_dir, "rapi.key")
    addresses = [a for rt in runtimes for a in (rt.host, rt.failover_host)]
    fingerprint = make_certificate(cert_file, key_file, [c.name for c in clusters] + ["localhost"], addresses)
    sim = Simulator(
        runtimes,
        UsersFile(users_path),
        cert_file,
        key_file,
        config.require_auth,
        control_port=config.control_port,
        console_log=os.path.join(config.state_dir, "consoles.log"),
        vnc_password=_read_password(config.vnc_password_file),
    )
    for name, settings in config.faults:
        rt = sim.runtime(name)
        if rt is None:
            raise ValueError(f"--fault: no cluster {name!r}")
        rt.faults.update(settings)
    clusters_file = os.path.join(config.state_dir, "clusters.json")
    sim.on_change = lambda s: write_clusters_file(s, clusters_file, fingerprint, credentials)
    facts = {
        "fingerprint": fingerprint,
        "credentials": credentials,
        "clusters_file": clusters_file,
        "summary": summary(clusters),
        "cert_file": cert_file,
        "users_file": users_path,
    }
    return sim, facts


def _read_password(path: str | None) -> str | None:
    if path is None:
        return None
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


async def serve(config: Config, announce: Callable[[Simulator, dict[str, Any]], None]) -> None:
    """Run the simulator until SIGTERM or SIGINT; `announce` is called once every site listens."""
    sim, facts = build(config)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await sim.start()
    try:
        sim.on_change(sim)
        control = os.path.join(config.state_dir, "control.json")
        with open(control, "w", encoding="utf-8") as f:
            f.write(f'{{"url": "{sim.control_url}"}}\n' if sim.control_url else "{}\n")
        announce(sim, facts)
        await stop.wait()
    finally:
        await sim.stop()

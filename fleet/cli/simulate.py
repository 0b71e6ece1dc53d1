"""`fleet simulate`: serve simulated Ganeti clusters over RAPI v2; `fleet simulate fault`: inject faults."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import click
import httpx

from fleet.simulator.faults import FaultError, parse_assignment
from fleet.simulator.main import Config, serve

DEFAULT_STATE_DIR = os.path.join("var", "simulator")


def _announce(sim: Any, facts: dict[str, Any]) -> None:
    counts = facts["summary"]
    click.echo(
        f"Simulating {counts['clusters']} clusters, {counts['groups']} groups, {counts['nodes']} nodes, "
        f"{counts['instances']} instances"
    )
    for rt in sim.runtimes:
        click.echo(
            f"  {rt.cluster.name:32} https://{rt.host}:{rt.port}  ({len(rt.cluster.instances)} instances)"
        )
    click.echo(f"Certificate: {facts['cert_file']}")
    click.echo(f"Fingerprint (SHA-256): {facts['fingerprint']}")
    creds = facts["credentials"]
    if creds:
        click.echo(f"Write user: {creds['username']} / {creds['password']}")
        click.echo(f"Read user:  {creds['reader']} / {creds['reader_password']}")
    else:
        click.echo(f"Users: {facts['users_file']}")
    click.echo(f"Clusters file: {facts['clusters_file']}")
    if sim.control_url:
        click.echo(f"Control endpoint: {sim.control_url}")
    click.echo("Ready.", nl=True)


def _run(config: Config) -> None:
    try:
        asyncio.run(serve(config, _announce))
    except (ValueError, OSError, FaultError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(invoke_without_command=True)
@click.option(
    "--profile",
    type=click.Choice(["tiny", "grnet", "large"]),
    default="tiny",
    show_default=True,
    help="Shape of the generated fleet.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the generator.")
@click.option("--clusters", type=click.IntRange(min=1), help="Number of clusters (overrides the profile).")
@click.option("--instances", type=click.IntRange(min=0), help="Total instances (overrides the profile).")
@click.option("--nodes", type=click.IntRange(min=1), help="Nodes per cluster (overrides the profile).")
@click.option("--port", type=click.IntRange(1, 65535), default=5080, show_default=True, help="RAPI port.")
@click.option(
    "--address-template", default="127.0.1.{n}", show_default=True, help="Address of cluster n (from 1)."
)
@click.option(
    "--failover-template",
    default="127.0.2.{n}",
    show_default=True,
    help="Address of cluster n after a master failover.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False),
    default=DEFAULT_STATE_DIR,
    show_default=True,
    help="Where the certificate, users file, clusters.json and control.json go.",
)
@click.option(
    "--control-port", type=click.IntRange(1, 65535), help="Port of the control endpoint (off if unset)."
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Factor on job durations (0.01 makes them 100 times faster).",
)
@click.option(
    "--archive-age",
    type=click.FloatRange(min=0),
    default=6 * 3600.0,
    show_default=True,
    help="Seconds after which finished jobs are archived.",
)
@click.option(
    "--history",
    "history_days",
    type=click.FloatRange(min=0),
    help="Days of past jobs in each queue (default: 3 for the grnet and large profiles, 0 for tiny).",
)
@click.option(
    "--users",
    "users_file",
    type=click.Path(exists=True, dir_okay=False),
    help="A Ganeti RAPI users file to use instead of generating one.",
)
@click.option("--require-authentication", is_flag=True, help="Require credentials for GET requests too.")
@click.option(
    "--vnc-password-file",
    type=click.Path(exists=True, dir_okay=False),
    help="The consoles ask for this VNC password, as KVM with Ganeti's vnc_password_file does.",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="CLUSTER:KEY=VALUE[,KEY=VALUE]",
    help="A fault from the start, e.g. tiny2:latency=0.5 (repeatable).",
)
@click.pass_context
def simulate(ctx: click.Context, **opts: Any) -> None:
    """Serve simulated Ganeti clusters over RAPI v2 (HTTPS) until SIGTERM or SIGINT."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        faults = [parse_assignment(f) for f in opts["faults"]]
    except FaultError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from exc
    config = Config(
        state_dir=opts["state_dir"],
        profile=opts["profile"],
        seed=opts["seed"],
        clusters=opts["clusters"],
        instances=opts["instances"],
        nodes=opts["nodes"],
        port=opts["port"],
        address_template=opts["address_template"],
        failover_template=opts["failover_template"],
        control_port=opts["control_port"],
        time_scale=opts["time_scale"],
        archive_age=opts["archive_age"],
        history_days=opts["history_days"],
        users_file=opts["users_file"],
        require_auth=opts["require_authentication"],
        faults=faults,
        vnc_password_file=opts["vnc_password_file"],
    )
    _run(config)


def _control_url(state_dir: str, control_url: str | None) -> str:
    if control_url:
        return control_url.rstrip("/")
    path = os.path.join(state_dir, "control.json")
    try:
        with open(path, encoding="utf-8") as f:
            url = json.load(f).get("url")
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"no running simulator found in {state_dir} ({exc})") from exc
    if not url:
        raise click.ClickException(
            "the simulator runs without a control endpoint (start it with --control-port)"
        )
    return str(url)


@simulate.command()
@click.argument("cluster")
@click.option("--state-dir", type=click.Path(file_okay=False), default=DEFAULT_STATE_DIR, show_default=True)
@click.option(
    "--control-url", help="The control endpoint, e.g. http://127.0.0.1:8079 (default: from state dir)."
)
@click.option("--latency", type=click.FloatRange(min=0), help="Seconds added to every reply.")
@click.option("--error-rate", type=click.FloatRange(0, 1), help="Share of requests answered with a 5xx.")
@click.option("--error-status", type=click.Choice(["500", "502", "503", "504"]), help="That 5xx.")
@click.option("--blackhole/--no-blackhole", default=None, help="Accept connections, never answer.")
@click.option("--reset-rate", type=click.FloatRange(0, 1), help="Share of connections reset.")
@click.option("--fail-jobs", type=click.FloatRange(0, 1), help="Share of opcodes that fail.")
@click.option("--stuck-jobs/--no-stuck-jobs", default=None, help="New opcodes stay running until cleared.")
@click.option("--archive-early/--no-archive-early", default=None, help="Archive jobs as soon as they end.")
@click.option("--failover", is_flag=True, help="Master failover: move the RAPI to the other address.")
@click.option("--clear", is_flag=True, help="Remove every fault first.")
def fault(
    cluster: str, state_dir: str, control_url: str | None, failover: bool, clear: bool, **opts: Any
) -> None:
    """Inject faults into a running simulator's CLUSTER (name or short name), then print its faults."""
    base = _control_url(state_dir, control_url)
    settings = {k: v for k, v in opts.items() if v is not None}
    if "error_status" in settings:
        settings["error_status"] = int(settings["error_status"])
    try:
        with httpx.Client(timeout=10) as http:
            if clear:
                _check(http.delete(f"{base}/clusters/{cluster}/faults"))
            if settings or not (clear or failover):
                result = _check(http.put(f"{base}/clusters/{cluster}/faults", json=settings))
            if failover:
                moved = _check(http.post(f"{base}/clusters/{cluster}/failover"))
                click.echo(f"{moved['name']} now answers at {moved['url']}")
            result = _check(http.get(f"{base}/clusters/{cluster}/faults"))
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach the control endpoint {base}: {exc}") from exc
    active = {k: v for k, v in result.items() if v not in (0, 0.0, False) and k != "error_status"}
    click.echo(json.dumps(active or {"faults": "none"}, sort_keys=True))


def _check(resp: httpx.Response) -> Any:
    if resp.status_code != 200:
        try:
            message = resp.json().get("error", resp.text)
        except ValueError:
            message = resp.text
        raise click.ClickException(message.strip())
    return resp.json()

"""`fleet rapi`: talk to one Ganeti cluster's RAPI directly, through `fleet.rapi`.

For operators checking a cluster before adding it to Fleet, or looking at it when Fleet's view is in doubt:
`fleet rapi fingerprint HOST` prints the certificate fingerprint to pin; `info`, `instances`, `nodes`, `jobs`,
`query` read; `job show|wait|cancel` follow a job. Tables by default, `--json` for scripts. Errors print one
line (Ganeti's message) on stderr and exit 1.
"""

from __future__ import annotations

import datetime
import functools
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from fleet.rapi import (
    CaFile,
    Credentials,
    Endpoint,
    Job,
    LogEntry,
    Pin,
    RapiClient,
    Timeouts,
    cluster,
    fetch_fingerprint,
    instances,
    jobs,
    nodes,
    query,
)
from fleet.rapi.errors import RapiError
from fleet.rapi.transport import Trust

F = TypeVar("F", bound=Callable[..., Any])


class RapiGroup(click.Group):
    """A click group whose commands turn RAPI errors and bad settings into one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RapiError as exc:
            raise click.ClickException(_one_line(str(exc))) from exc


def _one_line(text: str) -> str:
    return " ".join(text.split())


@click.group(cls=RapiGroup)
def rapi() -> None:
    """Query one Ganeti cluster's RAPI v2 directly (TLS always verified)."""


def connection_options(func: F) -> F:
    """Add the options that say which cluster to reach and how, and pass a ready client as `client`."""

    @click.option("--url", envvar="FLEET_RAPI_URL", required=True, help="https://host:port or host:port.")
    @click.option("--user", envvar="FLEET_RAPI_USER", help="RAPI user [env FLEET_RAPI_USER].")
    @click.option("--password", envvar="FLEET_RAPI_PASSWORD", help="RAPI password [env FLEET_RAPI_PASSWORD].")
    @click.option(
        "--fingerprint",
        envvar="FLEET_RAPI_FINGERPRINT",
        help="SHA-256 of the cluster certificate to pin (see `fleet rapi fingerprint`).",
    )
    @click.option(
        "--ca-file",
        type=click.Path(exists=True, dir_okay=False),
        help="Verify against this PEM: a CA (the host name is checked), or the cluster's own rapi.pem "
        "(trusted as it is, whatever name it carries).",
    )
    @click.option(
        "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds."
    )
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    @functools.wraps(func)
    def wrapper(
        url: str,
        user: str | None,
        password: str | None,
        fingerprint: str | None,
        ca_file: str | None,
        timeout: float,
        as_json: bool,
        **kwargs: Any,
    ) -> Any:
        trust = _trust(fingerprint, ca_file)
        credentials = None
        if user:
            credentials = Credentials(user, password or "")
        timeouts = Timeouts(connect=timeout, read=timeout, long_poll=max(timeout, 20.0))
        try:
            client = RapiClient.connect(url, trust=trust, credentials=credentials, timeouts=timeouts)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--url") from exc
        with client:
            return func(client=client, as_json=as_json, **kwargs)

    return wrapper  # type: ignore[return-value]


def _trust(fingerprint: str | None, ca_file: str | None) -> Trust:
    if fingerprint and ca_file:
        raise click.UsageError("give either --fingerprint or --ca-file, not both")
    if ca_file:
        return CaFile(ca_file)
    if not fingerprint:
        raise click.UsageError(
            "give --fingerprint (run `fleet rapi fingerprint HOST` and check it on the master) or --ca-file"
        )
    try:
        return Pin(fingerprint)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fingerprint") from exc


# Output -----------------------------------------------------------------------------------------------------


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ",".join(_cell(v) for v in value) or "-"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _time(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def _job_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "status": job.status,
        "summary": job.summary,
        "opstatus": job.opstatus,
        "opresult": job.opresult,
        "received_ts": job.received_ts,
        "start_ts": job.start_ts,
        "end_ts": job.end_ts,
        "log": [[e.serial, e.timestamp, e.kind, e.message] for e in job.log],
    }


# Commands ---------------------------------------------------------------------------------------------------


@rapi.command()
@click.argument("address")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds.")
def fingerprint(address: str, timeout: float) -> None:
    """Print the SHA-256 fingerprint of the certificate served at ADDRESS (HOST[:PORT]), to pin it.

    Compare it with `openssl x509 -noout -fingerprint -sha256 -in /var/lib/ganeti/rapi.pem` on the master.
    """
    try:
        endpoint = Endpoint.parse(address)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="ADDRESS") from exc
    digest = fetch_fingerprint(endpoint.host, endpoint.port, timeout)
    click.echo(digest)
    colons = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)).upper()
    click.echo(f"{endpoint.host}:{endpoint.port} sha256 Fingerprint={colons}", err=True)


@rapi.command()
@connection_options
def info(client: RapiClient, as_json: bool) -> None:
    """Show the cluster: name, master, version, hypervisors, disk templates, tags."""
    data = client.call(cluster.info())
    if as_json:
        _print_json(data)
        return
    rows = [
        ("name", data.get("name")),
        ("master", data.get("master")),
        ("software_version", data.get("software_version")),
        ("default_hypervisor", data.get("default_hypervisor")),
        ("enabled_hypervisors", data.get("enabled_hypervisors")),
        ("enabled_disk_templates", data.get("enabled_disk_templates")),
        ("default_iallocator", data.get("default_iallocator")),
        ("max_running_jobs", data.get("max_running_jobs")),
        ("tags", data.get("tags")),
    ]
    _print_table(("KEY", "VALUE"), rows)


@rapi.command("instances")
@connection_options
def instances_cmd(client: RapiClient, as_json: bool) -> None:
    """List the instances with their state, nodes and size."""
    data = client.call(instances.bulk())
    if as_json:
        _print_json(data)
        return
    rows = [
        (
            i.get("name"),
            i.get("status"),
            i.get("pnode"),
            i.get("snodes"),
            i.get("disk_template"),
            i.get("os"),
            i.get("beparams", {}).get("vcpus"),
            i.get("beparams", {}).get("maxmem"),
            i.get("disk.sizes"),
        )
        for i in data
    ]
    _print_table(("NAME", "STATUS", "PNODE", "SNODES", "TEMPLATE", "OS", "VCPUS", "MEM", "DISKS"), rows)


@rapi.command("nodes")
@connection_options
def nodes_cmd(client: RapiClient, as_json: bool) -> None:
    """List the nodes with their role, memory, disk and instance counts."""
    data = client.call(nodes.bulk())
    if as_json:
        _print_json(data)
        return
    rows = [
        (
            n.get("name"),
            n.get("role"),
            n.get("mfree"),
            n.get("mtotal"),
            n.get("dfree"),
            n.get("dtotal"),
            n.get("pinst_cnt"),
            n.get("sinst_cnt"),
        )
        for n in data
    ]
    _print_table(("NAME", "ROLE", "MFREE", "MTOTAL", "DFREE", "DTOTAL", "PINST", "SINST"), rows)


@rapi.command("jobs")
@connection_options
def jobs_cmd(client: RapiClient, as_json: bool) -> None:
    """List the jobs the cluster has not archived yet."""
    data = client.call(jobs.bulk())
    if as_json:
        _print_json([_job_dict(j) for j in data])
        return
    rows = [(j.id, j.status, _time(j.received_ts), _time(j.end_ts), j.summary) for j in data]
    _print_table(("ID", "STATUS", "RECEIVED", "ENDED", "SUMMARY"), rows)


@rapi.command("query")
@click.argument(
    "resource", type=click.Choice(["instance", "node", "group", "network", "job", "export", "lock"])
)
@click.argument("fields")
@click.option("--filter", "qfilter", help='A query2 filter as JSON, e.g. \'["==", "status", "running"]\'.')
@connection_options
def query_cmd(client: RapiClient, as_json: bool, resource: Any, fields: str, qfilter: str | None) -> None:
    """Run a query2 query: RESOURCE and comma-separated FIELDS (needs a user with `read`)."""
    names = [f.strip() for f in fields.split(",") if f.strip()]
    try:
        parsed = None if qfilter is None else json.loads(qfilter)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--filter") from exc
    result = client.call(query.run(resource, names, parsed))
    if as_json:
        _print_json(result.records())
        return
    _print_table([n.upper() for n in result.names], [list(r.values()) for r in result.records()])


@rapi.group()
def job() -> None:
    """Show, wait for or cancel one job."""


@job.command("show")
@click.argument("job_id", type=click.IntRange(min=0))
@connection_options
def job_show(client: RapiClient, as_json: bool, job_id: int) -> None:
    """Show a job: status, opcodes, results and log."""
    data = client.call(jobs.get(job_id))
    if as_json:
        _print_json(_job_dict(data))
        return
    _print_job(data)


@job.command("wait")
@click.argument("job_id", type=click.IntRange(min=0))
@click.option("--max-wait", type=click.FloatRange(min=0), help="Give up after this many seconds.")
@connection_options
def job_wait(client: RapiClient, as_json: bool, job_id: int, max_wait: float | None) -> None:
    """Follow a job to its end, printing its log; exit 1 if it fails (needs a user with `write`)."""

    def progress(_: int, entry: LogEntry) -> None:
        if not as_json:
            click.echo(f"{_time(entry.timestamp)}  {entry.message}")

    data = client.wait_for_job(job_id, on_log=progress, max_wait=max_wait)
    if as_json:
        _print_json(_job_dict(data))
        return
    click.echo(f"job {data.id}: {data.status}")
    for result in data.opresult:
        if result is not None:
            click.echo(f"result: {json.dumps(result)}")


@job.command("cancel")
@click.argument("job_id", type=click.IntRange(min=0))
@connection_options
def job_cancel(client: RapiClient, as_json: bool, job_id: int) -> None:
    """Cancel a queued or waiting job; exit 1 if Ganeti refuses."""
    result = client.call(jobs.cancel(job_id))
    if as_json:
        _print_json({"canceled": result.ok, "message": result.message})
    else:
        click.echo(result.message)
    if not result.ok:
        sys.exit(1)


def _print_job(data: Job) -> None:
    rows: list[tuple[str, Any]] = [
        ("id", data.id),
        ("status", data.status),
        ("summary", data.summary),
        ("opstatus", data.opstatus),
        ("received", _time(data.received_ts)),
        ("started", _time(data.start_ts)),
        ("ended", _time(data.end_ts)),
    ]
    rows.extend((f"result[{i}]", json.dumps(r)) for i, r in enumerate(data.opresult))
    _print_table(("KEY", "VALUE"), rows)
    for entry in data.log:
        click.echo(f"{_time(entry.timestamp)}  {entry.message}")

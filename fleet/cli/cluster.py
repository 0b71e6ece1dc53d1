"""`fleet cluster`: register Ganeti clusters with Fleet and look after them.

`add` checks before it stores anything: the address answers, the certificate is the pinned one, the
credentials are accepted; each failure says which it is, and nothing is stored. `list` and `show` read the
database (what the worker synced); `drain`, `offline` and `remove` change Fleet's own flags and rows.
"""

from __future__ import annotations

import json
from typing import Any

import click

from fleet.cli.django_app import print_table, with_django


@click.group()
def cluster() -> None:
    """Register, inspect and flag the Ganeti clusters Fleet manages."""


def _check(url: str, username: str, password: str, fingerprint: str, timeout: float) -> dict[str, Any]:
    """Reach the cluster as the worker will; return /2/info, or raise a ClickException saying what failed."""
    from fleet.rapi import Credentials, Pin, RapiClient, errors, query
    from fleet.rapi import cluster as cluster_calls
    from fleet.sync.connect import timeouts

    try:
        trust = Pin(fingerprint)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--fingerprint") from exc
    try:
        client = RapiClient.connect(
            url, trust=trust, credentials=Credentials(username, password), timeouts=timeouts(timeout)
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL") from exc
    with client:
        try:
            info: dict[str, Any] = dict(client.call(cluster_calls.info()))
            client.call(query.get("node", ["name"]))  # needs an accepted account, as the sync does
        except errors.CertificateMismatch as exc:
            raise click.ClickException(
                f"wrong fingerprint: the certificate of {url} is not the pinned one ({exc}); "
                "check it with `fleet rapi fingerprint HOST:PORT` against rapi.pem on the master"
            ) from exc
        except errors.TransportError as exc:
            raise click.ClickException(f"unreachable: cannot reach {url}: {exc}") from exc
        except errors.Unauthorized as exc:
            raise click.ClickException(
                f"wrong user or password: {url} refused the credentials of RAPI user {username!r} ({exc})"
            ) from exc
        except errors.Forbidden as exc:
            raise click.ClickException(
                f"insufficient rights: RAPI user {username!r} may not read {url} ({exc})"
            ) from exc
        except errors.RapiError as exc:
            raise click.ClickException(f"{url} answered with an error: {exc}") from exc
    return info


@cluster.command()
@click.argument("url")
@click.option("--user", "username", required=True, help="RAPI user with the write option.")
@click.option(
    "--password",
    envvar="FLEET_RAPI_PASSWORD",
    prompt=True,
    hide_input=True,
    help="RAPI password [env FLEET_RAPI_PASSWORD; asked for if not given].",
)
@click.option(
    "--fingerprint", required=True, help="SHA-256 of the RAPI certificate (fleet rapi fingerprint)."
)
@click.option("--name", help="Name in Fleet (default: the name the cluster reports).")
@click.option(
    "--timeout", type=click.FloatRange(min=0.5), default=30.0, show_default=True, help="RAPI timeout, s."
)
@click.option("--description", default="", help="Free text for operators.")
@click.option(
    "--update",
    is_flag=True,
    help="If a cluster of that name is registered, replace its address, user, password, fingerprint and "
    "timeout (after the same checks) instead of failing.",
)
@with_django
def add(
    url: str,
    username: str,
    password: str,
    fingerprint: str,
    name: str | None,
    timeout: float,
    description: str,
    update: bool,
) -> None:
    """Check that the cluster at URL answers with the pinned certificate and accepts the credentials, then
    register it. Nothing is stored if a check fails."""
    register(url, username, password, fingerprint, name, timeout, description, update)


def register(
    url: str,
    username: str,
    password: str,
    fingerprint: str,
    name: str | None = None,
    timeout: float = 30.0,
    description: str = "",
    update: bool = False,
) -> Any:
    """What `fleet cluster add` does (Django set up): check the cluster, then store it; return the row.

    With ``update``, a cluster registered under the same name gets the new address, account, pin and timeout
    (its synced data stays); without, that is an error. Failures raise a ClickException and store nothing.
    """
    from django.core.exceptions import ValidationError

    from fleet.inventory.models import Cluster
    from fleet.rapi import Endpoint
    from fleet.rapi.transport import normalize_fingerprint

    try:
        base_url = Endpoint.parse(url).base_url
        pin = normalize_fingerprint(fingerprint)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    info = _check(base_url, username, password, pin, timeout)
    cluster_name = name or str(info.get("name") or "")
    row = Cluster.objects.filter(name=cluster_name).first()
    if row is not None and not update:
        raise click.ClickException(f"a cluster named {cluster_name!r} is registered already")
    verb = "Updated" if row is not None else "Added"
    if row is None:
        row = Cluster(name=cluster_name, description=description)
    elif description:
        row.description = description
    row.rapi_url = base_url
    row.rapi_username = username
    row.rapi_fingerprint = pin
    row.rapi_timeout = timeout
    row.set_rapi_password(password)
    try:
        row.full_clean()
    except ValidationError as exc:
        raise click.ClickException(f"cannot register {cluster_name!r}: {exc}") from exc
    row.save()
    click.echo(f"{verb} {cluster_name} ({base_url}, Ganeti {info.get('software_version', '?')}).")
    return row


@cluster.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_django
def list_(as_json: bool) -> None:
    """The registered clusters, their flags and the health of their sync."""
    rows = [_summary(c) for c in _clusters()]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    print_table(
        ["NAME", "URL", "HEALTH", "INSTANCES", "NODES", "LAST SYNC", "FLAGS"],
        [
            [
                r["name"],
                r["url"],
                r["health"],
                r["instances"],
                r["nodes"],
                r["last_sync_at"] or "never",
                ",".join(r["flags"]),
            ]
            for r in rows
        ],
    )


@cluster.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@with_django
def show(name: str, as_json: bool) -> None:
    """Everything Fleet knows about one cluster's registration and sync."""
    row = _get(name)
    data = _summary(row) | {
        "fingerprint": row.rapi_fingerprint,
        "user": row.rapi_username,
        "timeout": row.rapi_timeout,
        "software_version": row.software_version,
        "master": row.master_node,
        "last_attempt_at": row.last_attempt_at,
        "last_error": row.last_error,
        "consecutive_failures": row.consecutive_failures,
        "latency_ms": row.latency_ms,
        "last_sync_duration_ms": row.last_sync_duration_ms,
        "last_sync_stats": row.last_sync_stats,
        "description": row.description,
    }
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    for key, value in data.items():
        if isinstance(value, list | dict):
            value = json.dumps(value, default=str)
        click.echo(f"{key + ':':24} {'' if value is None else value}")


@cluster.command()
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_django
def remove(name: str, yes: bool) -> None:
    """Forget a cluster and everything synced from it (the cluster itself is not touched)."""
    row = _get(name)
    if not yes:
        click.confirm(f"Remove {row.name} and its synced instances, nodes and jobs from Fleet?", abort=True)
    from django.db import transaction

    from fleet.inventory.models import Instance, Node

    with transaction.atomic():  # nodes protect their groups: take them first, the rest cascades
        Instance.objects.filter(cluster=row).delete()
        Node.objects.filter(cluster=row).delete()
        row.delete()
    click.echo(f"Removed {row.name}.")


@cluster.command()
@click.argument("name")
@click.option("--clear", is_flag=True, help="Undo: allow new VMs on the cluster again.")
@with_django
def drain(name: str, clear: bool) -> None:
    """Place no new VMs on the cluster (existing ones are managed as before)."""
    _flag(name, "drained", not clear)


@cluster.command()
@click.argument("name")
@click.option("--clear", is_flag=True, help="Undo: contact the cluster again.")
@with_django
def offline(name: str, clear: bool) -> None:
    """Never contact the cluster (maintenance, decommissioning); its synced data stays as it was."""
    _flag(name, "offline", not clear)


def _flag(name: str, field: str, value: bool) -> None:
    row = _get(name)
    setattr(row, field, value)
    row.save(update_fields=[field, "updated_at"])
    click.echo(f"{row.name}: {field} {'set' if value else 'cleared'}.")


def _get(name: str) -> Any:
    row = next((c for c in _clusters(name) if c.name == name), None)
    if row is None:
        raise click.ClickException(f"no cluster named {name!r} (see `fleet cluster list`)")
    return row


def _clusters(name: str | None = None) -> list[Any]:
    from django.db.models import Count, OuterRef, Subquery

    from fleet.inventory.models import Cluster, Instance, Node

    def count(model: Any) -> Any:
        rows = model.objects.filter(cluster=OuterRef("pk")).order_by().values("cluster")
        return Subquery(rows.annotate(n=Count("pk")).values("n"))

    rows = Cluster.objects.annotate(n_instances=count(Instance), n_nodes=count(Node)).order_by("name")
    return list(rows if name is None else rows.filter(name=name))


def _summary(row: Any) -> dict[str, Any]:
    flags = [flag for flag in ("drained", "offline") if getattr(row, flag)]
    return {
        "name": row.name,
        "url": row.rapi_url,
        "health": row.health,
        "instances": getattr(row, "n_instances", None) or 0,
        "nodes": getattr(row, "n_nodes", None) or 0,
        "last_sync_at": row.last_sync_at,
        "flags": flags,
    }

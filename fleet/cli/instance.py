"""`fleet instance`: the synced instances, filtered with the same filterset as the web list and the API."""

from __future__ import annotations

import json
from typing import Any

import click

from fleet.cli.django_app import print_table, with_django


@click.group()
def instance() -> None:
    """The instances Fleet has synced from its clusters."""


@instance.command(name="list")
@click.option("-q", "--search", "q", help="Search name, IP, MAC or owner.")
@click.option("--name", help="Name contains.")
@click.option("--cluster", "clusters", multiple=True, help="Cluster name (repeatable).")
@click.option("--status", "statuses", multiple=True, help="Ganeti status, e.g. running (repeatable).")
@click.option("--node", "nodes", multiple=True, help="Primary or secondary node (repeatable).")
@click.option("--owner", "owners", multiple=True, help="Owning user or group (repeatable).")
@click.option("--network", "networks", multiple=True, help="Network name (repeatable).")
@click.option("--sort", help="name, cluster, node, memory, disk, vcpus or status; '-' first to reverse.")
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@with_django
def list_(
    q: str | None,
    name: str | None,
    clusters: tuple[str, ...],
    statuses: tuple[str, ...],
    nodes: tuple[str, ...],
    owners: tuple[str, ...],
    networks: tuple[str, ...],
    sort: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List instances; filters combine (and), repeated values of one filter are alternatives (or)."""
    from django.http import QueryDict

    from fleet.inventory.filtersets import InstanceFilterSet
    from fleet.inventory.models import Instance

    params = QueryDict(mutable=True)
    for key, value in (("q", q), ("name", name), ("sort", sort)):
        if value:
            params[key] = value
    for key, values in (
        ("cluster", clusters),
        ("status", statuses),
        ("node", nodes),
        ("owner", owners),
        ("network", networks),
    ):
        params.setlist(key, list(values))
    base = Instance.objects.select_related("cluster", "primary_node").order_by("name", "pk")
    filterset = InstanceFilterSet(params, queryset=base)
    if not filterset.is_valid():
        problems = "; ".join(f"--{field}: {' '.join(errs)}" for field, errs in filterset.errors.items())
        raise click.UsageError(problems)
    rows = [_row(i) for i in filterset.qs[:limit]]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    print_table(
        ["NAME", "CLUSTER", "STATUS", "NODE", "VCPUS", "MEMORY", "DISK"],
        [[r["name"], r["cluster"], r["status"], r["node"], r["vcpus"], r["memory"], r["disk"]] for r in rows],
    )


def _row(instance: Any) -> dict[str, Any]:
    return {
        "name": instance.name,
        "cluster": instance.cluster.name,
        "status": instance.status,
        "node": instance.primary_node.name if instance.primary_node else "",
        "vcpus": instance.vcpus,
        "memory": instance.memory,
        "disk": instance.disk_total,
    }

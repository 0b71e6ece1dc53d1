"""The collector behind ``/metrics``: reads the database at each scrape, in one read-only transaction so
that the figures of one scrape agree with each other, and never calls a cluster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db import transaction
from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from fleet.metrics.health import collect_health
from fleet.metrics.inventory import collect_inventory
from fleet.metrics.jobs import collect_jobs


class FleetCollector(Collector):
    """The read model, the job rows and the sync's health, as Prometheus metric families."""

    def collect(self) -> Iterator[Metric]:
        now = dt.datetime.now(dt.UTC)
        with transaction.atomic():  # one snapshot (REPEATABLE READ is not needed: counts may move by a job)
            clusters, health = collect_health(now)
            metrics = [*health, *collect_inventory(clusters), *collect_jobs(clusters, now)]
        yield from metrics


def registry() -> CollectorRegistry:
    """A registry of Fleet's own collector alone: no process metrics of whichever web worker answers."""
    out = CollectorRegistry(auto_describe=False)
    out.register(FleetCollector())
    return out

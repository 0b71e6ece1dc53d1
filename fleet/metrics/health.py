"""The sync's own health, per cluster, from what ``fleet.sync.health`` writes on each Cluster row after a
pass: the last success and attempt, the pass's duration and round-trip latency, the failures in a row, and
the lag (how old the read model of the cluster is at scrape time); plus the mail outbox the worker sends."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import Metric

from fleet.inventory.models import Cluster, ClusterHealth
from fleet.metrics.families import Families, timestamp
from fleet.notify.models import Mail, MailStatus

UP = (ClusterHealth.HEALTHY, ClusterHealth.DEGRADED)


def collect_health(now: dt.datetime) -> tuple[dict[int, str], list[Metric]]:
    """The clusters (pk to name, for the other collectors) and the health families: one query."""
    families = Families()
    info = families.gauge(
        "fleet_cluster_info",
        "1, labelled with the cluster's Ganeti version and master.",
        "cluster",
        "version",
        "master",
    )
    up = families.gauge("fleet_cluster_up", "1 if the last sync of the cluster succeeded.", "cluster")
    health = families.gauge(
        "fleet_cluster_health", "1 for the cluster's sync health state.", "cluster", "state"
    )
    drained = families.gauge(
        "fleet_cluster_drained", "1 if Fleet places no new VMs on the cluster.", "cluster"
    )
    offline = families.gauge("fleet_cluster_offline", "1 if Fleet never contacts the cluster.", "cluster")
    success = families.gauge(
        "fleet_sync_last_success_timestamp_seconds", "End of the last successful sync.", "cluster"
    )
    attempt = families.gauge(
        "fleet_sync_last_attempt_timestamp_seconds", "Start of the last sync attempt.", "cluster"
    )
    error = families.gauge(
        "fleet_sync_last_error_timestamp_seconds", "When the last failed attempt ended.", "cluster"
    )
    lag = families.gauge(
        "fleet_sync_lag_seconds", "Age of the cluster's read model (+Inf: never synced).", "cluster"
    )
    duration = families.gauge(
        "fleet_sync_duration_seconds", "How long the last successful full pass took.", "cluster"
    )
    latency = families.gauge(
        "fleet_sync_rapi_latency_seconds", "Fastest RAPI round trip of the last pass.", "cluster"
    )
    failures = families.gauge(
        "fleet_sync_consecutive_failures", "Failed attempts since the last success.", "cluster"
    )
    clusters: dict[int, str] = {}
    for row in Cluster.objects.order_by("name").values(
        "pk", "name", "software_version", "master_node", "health", "drained", "offline", "last_sync_at",
        "last_attempt_at", "last_error_at", "last_sync_duration_ms", "latency_ms", "consecutive_failures",
    ):  # fmt: skip
        name = row["name"]
        clusters[row["pk"]] = name
        info.add(1, name, row["software_version"], row["master_node"])
        up.add(1 if row["health"] in UP else 0, name)
        for state in ClusterHealth.values:
            health.add(1 if row["health"] == state else 0, name, state)
        drained.add(int(row["drained"]), name)
        offline.add(int(row["offline"]), name)
        success.add(timestamp(row["last_sync_at"]), name)
        attempt.add(timestamp(row["last_attempt_at"]), name)
        error.add(timestamp(row["last_error_at"]), name)
        last = row["last_sync_at"]
        lag.add(math.inf if last is None else max(0.0, (now - last).total_seconds()), name)
        ms = row["last_sync_duration_ms"]
        duration.add(None if ms is None else ms / 1000, name)
        ms = row["latency_ms"]
        latency.add(None if ms is None else ms / 1000, name)
        failures.add(row["consecutive_failures"], name)
    return clusters, [*families, *_outbox()]


def _outbox() -> Iterator[Metric]:
    families = Families()
    mails = families.gauge("fleet_mail_outbox_messages", "Mails in the outbox, by status.", "status")
    counts = dict.fromkeys(MailStatus.values, 0)
    counts.update(
        Mail.objects.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    for status, count in counts.items():
        mails.add(count, status)
    yield from families

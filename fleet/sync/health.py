"""A cluster's sync health: how a pass's outcome is judged and recorded, the backoff after failures, and the
check behind ``fleet worker --check``.

Health lives on the Cluster row (``health``, ``last_sync_at``, ``last_error``, ...), written with one
``UPDATE`` per full pass, so pages, the API and the Icinga checks read it from the database.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from django.db.models import F

from fleet.inventory.credentials import CredentialError
from fleet.inventory.models import Cluster, ClusterHealth
from fleet.rapi import errors

__all__ = [
    "Outcome",
    "backoff",
    "describe",
    "is_cluster_failure",
    "judge",
    "problems",
    "record",
    "record_internal",
]

SLOW_FRACTION = 0.5  # a round trip over this share of the cluster's timeout makes it "degraded"
INTERNAL = "internal error (see the worker's log)"  # how a failure of Fleet's own is described
STALE_PASSES = 3  # a cluster not attempted for this many intervals has no worker looking after it


@dataclass(frozen=True)
class Outcome:
    """How one full pass of one cluster went."""

    started: dt.datetime
    finished: dt.datetime
    error: str = ""
    latency: float | None = None  # seconds: the fastest round trip of the pass
    stats: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return not self.error


def judge(outcome: Outcome, timeout: float) -> ClusterHealth:
    """Unreachable if the pass failed, degraded if it succeeded slowly, healthy otherwise."""
    if not outcome.ok:
        return ClusterHealth.UNREACHABLE
    if outcome.latency is not None and outcome.latency > timeout * SLOW_FRACTION:
        return ClusterHealth.DEGRADED
    return ClusterHealth.HEALTHY


def record(cluster_id: int, outcome: Outcome, timeout: float) -> None:
    """Write the outcome on the Cluster row: one UPDATE."""
    duration = (outcome.finished - outcome.started).total_seconds() * 1000
    values: dict[str, Any] = {"health": judge(outcome, timeout), "last_attempt_at": outcome.started}
    if outcome.ok:
        values.update(
            last_sync_at=outcome.finished,
            last_error="",
            consecutive_failures=0,
            latency_ms=None if outcome.latency is None else outcome.latency * 1000,
            last_sync_duration_ms=duration,
        )
        if outcome.stats is not None:
            values["last_sync_stats"] = outcome.stats
    else:
        values.update(
            last_error=outcome.error,
            last_error_at=outcome.finished,
            consecutive_failures=F("consecutive_failures") + 1,
        )
    Cluster.objects.filter(pk=cluster_id).update(**values)


def record_internal(cluster_id: int, outcome: Outcome) -> None:
    """Write a failure of Fleet's own (a bug, the database) on the Cluster row, leaving its health alone:
    the cluster did nothing wrong, and ``fleet worker --check`` reports the error all the same."""
    Cluster.objects.filter(pk=cluster_id).update(
        last_attempt_at=outcome.started, last_error=outcome.error, last_error_at=outcome.finished
    )


def is_cluster_failure(exc: BaseException) -> bool:
    """Whether ``exc`` says the cluster failed (unreachable, refused, answered wrongly, or its stored
    credentials cannot be read), rather than Fleet itself (a bug, its database)."""
    return isinstance(exc, errors.RapiError | CredentialError)


def backoff(failures: int, interval: float, maximum: float) -> float:
    """Seconds before the next attempt after ``failures`` failures in a row: the interval, doubled for each
    failure after the first, capped at ``maximum``, with ±10 % jitter so that clusters do not move in step."""
    if failures <= 0:
        return interval
    delay = min(maximum, interval * 2 ** (failures - 1))
    return delay * random.uniform(0.9, 1.1)


def describe(exc: BaseException) -> str:
    """One line saying why a pass failed, for operators."""
    if isinstance(exc, errors.Unauthorized):
        return f"RAPI refused the credentials (wrong user or password): {exc}"
    if isinstance(exc, errors.Forbidden):
        return f"the RAPI user lacks a permission: {exc}"
    if isinstance(exc, errors.CertificateMismatch):
        return f"certificate mismatch: {exc}"
    if isinstance(exc, errors.Timeout):
        return f"timed out: {exc}"
    if isinstance(exc, errors.Unreachable):
        return f"unreachable: {exc}"
    if isinstance(exc, CredentialError):
        return str(exc)
    if isinstance(exc, errors.RapiError):
        return f"{type(exc).__name__}: {exc}"
    return f"{INTERNAL}: {type(exc).__name__}: {exc}"


def problems(now: dt.datetime, interval: float) -> list[str]:
    """What is wrong with the sync of the clusters Fleet contacts, one line each (empty: all is well).

    A cluster is a problem when its last pass failed, or when nobody attempted it for several intervals
    (no worker runs, or it is stuck).
    """
    stale_before = now - dt.timedelta(seconds=interval * STALE_PASSES)
    out = []
    for cluster in Cluster.objects.filter(offline=False).order_by("name"):
        if cluster.health == ClusterHealth.UNREACHABLE:
            out.append(f"{cluster.name}: unreachable: {cluster.last_error}")
        elif cluster.last_error.startswith(INTERNAL):
            out.append(f"{cluster.name}: {cluster.last_error}")
        elif cluster.last_attempt_at is None or cluster.last_attempt_at < stale_before:
            seen = cluster.last_attempt_at.isoformat() if cluster.last_attempt_at else "never"
            out.append(f"{cluster.name}: not synced recently (last attempt: {seen})")
    return out

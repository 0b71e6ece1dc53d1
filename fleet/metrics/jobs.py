"""Ganeti's jobs as metrics, from the Job rows the worker keeps: counts by status, the age of the oldest
waiting and running job, and the durations of finished jobs as histograms per cluster and opcode.

The durations come from Ganeti's own job records (received, started and ended times, as the queue reports
them), not from a log file: ``fleet_ganeti_job_queue_wait_seconds`` is start - received, and
``fleet_ganeti_job_run_seconds`` is end - start. Each histogram is counted in the database at scrape time
(one aggregate query with a filtered count per bucket), so it holds every job Fleet has seen and survives
any restart. A job is labelled with its first opcode (most jobs have one); no job id is ever a label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from prometheus_client.core import HistogramMetricFamily, Metric

from fleet.jobs.models import FINAL_STATUSES, Job, JobStatus
from fleet.metrics.families import Families

# Seconds, from a tag change (well under a second) through reboots and migrations (tens of seconds) and
# creations with their disk sync (minutes) to cluster verifies and evacuations of a busy node (up to hours).
BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)
WAITING = (JobStatus.QUEUED, JobStatus.WAITING)


def collect_jobs(clusters: dict[int, str], now: dt.datetime) -> Iterator[Metric]:
    """The job families; ``clusters`` maps each Cluster pk to its name."""
    families = Families()
    unfinished = families.gauge("fleet_ganeti_jobs", "Unfinished jobs in the cluster's queue, by status.",
                                "cluster", "status")  # fmt: skip
    finished = families.counter("fleet_ganeti_jobs_finished_total", "Jobs Fleet has seen end, by outcome.",
                                "cluster", "status")  # fmt: skip
    oldest_waiting = families.gauge(
        "fleet_ganeti_job_oldest_waiting_age_seconds",
        "How long the oldest queued or waiting job has waited (0: none waits).", "cluster",
    )  # fmt: skip
    oldest_running = families.gauge(
        "fleet_ganeti_job_oldest_running_age_seconds",
        "How long the oldest running job has run (0: none runs).", "cluster",
    )  # fmt: skip
    counts = {name: dict.fromkeys(JobStatus.values, 0) for name in clusters.values()}
    waited = dict.fromkeys(clusters.values(), 0.0)
    ran = dict.fromkeys(clusters.values(), 0.0)
    rows = (
        Job.objects.order_by()
        .values("cluster_id", "status")
        .annotate(count=Count("pk"), received=Min("received_at"), started=Min("started_at"))
    )
    for row in rows:
        cluster = clusters.get(row["cluster_id"])
        if cluster is None:
            continue
        counts[cluster][row["status"]] = row["count"]
        if row["status"] in WAITING and row["received"] is not None:
            waited[cluster] = max(waited[cluster], (now - row["received"]).total_seconds())
        if row["status"] == JobStatus.RUNNING and row["started"] is not None:
            ran[cluster] = max(ran[cluster], (now - row["started"]).total_seconds())
    for cluster in sorted(counts):
        for status, count in counts[cluster].items():
            (finished if status in FINAL_STATUSES else unfinished).add(count, cluster, status)
        oldest_waiting.add(waited[cluster], cluster)
        oldest_running.add(ran[cluster], cluster)
    yield from families
    yield _histogram(
        clusters,
        "fleet_ganeti_job_queue_wait_seconds",
        "Time Ganeti's jobs waited in the queue: start - received.",
        "received_at",
        "started_at",
        Job.objects.all(),
    )
    yield _histogram(
        clusters,
        "fleet_ganeti_job_run_seconds",
        "Time Ganeti's finished jobs ran: end - start.",
        "started_at",
        "ended_at",
        Job.objects.filter(status__in=FINAL_STATUSES),
    )


def _histogram(
    clusters: dict[int, str], name: str, documentation: str, since: str, until: str, jobs: QuerySet[Job]
) -> HistogramMetricFamily:
    """One histogram of ``until - since`` per cluster and first opcode: cumulative counts per bucket, the
    total and the sum, all counted by the database in one query."""
    span = ExpressionWrapper(F(until) - F(since), output_field=DurationField())
    buckets = {
        f"le_{index}": Count("pk", filter=Q(span__lte=dt.timedelta(seconds=bound)))
        for index, bound in enumerate(BUCKETS)
    }
    rows = (
        jobs.filter(**{f"{since}__isnull": False, f"{until}__isnull": False})
        .order_by()
        .annotate(span=span, opcode=KT("op_ids__0"))
        .values("cluster_id", "opcode")
        .annotate(count=Count("pk"), total=Sum("span"), **buckets)
    )
    family = HistogramMetricFamily(name, documentation, labels=["cluster", "opcode"])
    for row in sorted(rows, key=lambda r: (r["cluster_id"], r["opcode"] or "")):
        cluster = clusters.get(row["cluster_id"])
        if cluster is None:
            continue
        counts = [(_bound(bound), row[f"le_{index}"]) for index, bound in enumerate(BUCKETS)]
        counts.append(("+Inf", row["count"]))
        total = row["total"]
        seconds = total.total_seconds() if isinstance(total, dt.timedelta) else float(total or 0) / 1e6
        family.add_metric([cluster, row["opcode"] or "unknown"], counts, max(0.0, seconds))
    return family


def _bound(bound: float) -> str:
    return f"{bound:g}" if bound != int(bound) else f"{int(bound)}.0"

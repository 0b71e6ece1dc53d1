"""Ganeti jobs across clusters, and one job's opcodes and log."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page

from fleet.jobs.filtersets import JobFilterSet
from fleet.jobs.models import Job, JobStatus
from fleet.web.views.base import DetailPage, ListPage


class JobList(ListPage):
    """Jobs the caller may see, newest first, by status and cluster."""

    queryset = (
        Job.objects.select_related("cluster", "instance", "requester")
        .only(
            "job_id",
            "status",
            "summary",
            "op_ids",
            "received_at",
            "started_at",
            "ended_at",
            "cluster__name",
            "instance__name",
            "instance__cluster_id",
            "requester__username",
        )
        .order_by("-received_at", "-job_id", "-pk")
    )
    filterset_class = JobFilterSet
    template_name = "fleet/jobs/list.html"
    results_template_name = "fleet/jobs/_results.html"
    title = "Jobs"

    def extra_context(self, filterset: Any, page: Page[Any] | None) -> dict[str, Any]:
        return {"statuses": JobStatus}


class JobDetail(DetailPage):
    """A job: its opcodes with their statuses, its log, its error, who asked for it and why."""

    queryset = Job.objects.select_related("cluster", "instance", "instance__cluster", "requester")
    template_name = "fleet/jobs/detail.html"
    context_object_name = "job"

    def lookup(self, **kwargs: Any) -> dict[str, Any]:
        return {"cluster__name": kwargs["cluster"], "job_id": kwargs["job_id"]}

    def extra_context(self, obj: Any) -> dict[str, Any]:
        statuses = list(obj.op_statuses or [])
        opcodes = [(op, statuses[i] if i < len(statuses) else "") for i, op in enumerate(obj.op_ids or [])]
        return {"opcodes": opcodes}

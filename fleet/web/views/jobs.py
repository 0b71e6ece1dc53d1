"""Ganeti jobs across clusters, and one job's opcodes and log, with a button to cancel it."""

from __future__ import annotations

import functools
from typing import Any

from django.core.paginator import Page
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from fleet import operations
from fleet.access import policy
from fleet.jobs.filtersets import JobFilterSet
from fleet.jobs.models import Job, JobStatus
from fleet.web.views import operations as operation_views
from fleet.web.views.base import DetailPage, ListPage
from fleet.web.views.operations import new_form_key


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
        may_cancel = (
            not obj.is_final and policy.decide(self.request.user, policy.Action.CANCEL_JOB, obj).allowed
        )
        return {"opcodes": opcodes, "may_cancel": may_cancel, "form_key": new_form_key()}

    def post(self, request: HttpRequest, cluster: str, job_id: int) -> HttpResponse:
        """Cancel the job (the page's button), through fleet.operations."""
        # Found whoever may see it: the attempt on a job the caller may not see is recorded, then a 404.
        job = (
            Job.objects.select_related("cluster", "instance")
            .filter(cluster__name=cluster, job_id=job_id)
            .first()
        )
        if job is None:
            raise Http404("No job matches the given query.")
        errors, status = operation_views.perform(request, functools.partial(operations.cancel_job, job))
        if errors:
            visible = self.get_object(cluster=cluster, job_id=job_id)
            return self.respond(request, visible, status, action_errors=errors)
        return operation_views.see_other(reverse("job-detail", args=[cluster, job_id]))

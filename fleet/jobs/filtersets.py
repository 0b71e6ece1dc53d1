"""The query on jobs, shared by the jobs page, the API and the CLI.

Conventions as in ``fleet.inventory.filtersets``.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from fleet.inventory.filterset_base import FilterSet
from fleet.inventory.filtersets import ChoicesFilter, FigureFilter, NamesFilter, SortFilter, TextFilter
from fleet.jobs.models import Job, JobStatus, JobTarget
from fleet.jobs.targets import TargetKind


class JobFilterSet(FilterSet):
    """Jobs across clusters: by cluster, status, the objects they act on (by the names their opcodes give,
    so that a job stays found after its instance was renamed or destroyed), requester; search in the summary
    and reason."""

    q = TextFilter(method="search", label="Search summary, opcode, reason or instance")
    cluster = NamesFilter(field_name="cluster__name", label="Cluster")
    status = ChoicesFilter(choices=JobStatus.choices, distinct=False, label="Status")
    job_id = FigureFilter(field_name="job_id", lookup_expr="exact", label="Ganeti job id")
    instance = NamesFilter(field_name=TargetKind.INSTANCE, method="acting_on", label="Instance")
    node = NamesFilter(field_name=TargetKind.NODE, method="acting_on", label="Node")
    group = NamesFilter(field_name=TargetKind.GROUP, method="acting_on", label="Node group")
    network = NamesFilter(field_name=TargetKind.NETWORK, method="acting_on", label="Network")
    requester = NamesFilter(field_name="requester__username", label="Requested by")
    sort = SortFilter(
        fields=(
            ("received_at", "received"),
            ("job_id", "job_id"),
            ("cluster__name", "cluster"),
            ("status", "status"),
        )
    )

    class Meta:
        model = Job
        fields: list[str] = []

    def acting_on(self, qs: QuerySet[Job], kind: str, value: list[str]) -> QuerySet[Job]:
        if not value:
            return qs
        targets = JobTarget.objects.filter(kind=kind, name__in=value)
        named = Q(pk__in=targets.values("job_id"))
        if kind == TargetKind.INSTANCE:  # a job Fleet submitted names its instance before it is tied
            named |= Q(instance__name__in=value)
        return qs.filter(named)

    def search(self, qs: QuerySet[Job], name: str, value: str) -> QuerySet[Job]:
        if not value:
            return qs
        return qs.filter(
            Q(summary__icontains=value)
            | Q(op_ids__icontains=value)
            | Q(reason__icontains=value)
            | Q(instance__name__icontains=value)
        )

"""The query on operations (the audit log), shared by its page, the API and the CLI.

Conventions as in ``fleet.inventory.filtersets``.
"""

from __future__ import annotations

import contextlib
import ipaddress

from django.db.models import Q, QuerySet

from fleet.inventory.filterset_base import FilterSet
from fleet.inventory.filtersets import ChoicesFilter, NamesFilter, SortFilter, TextFilter
from fleet.operations.models import Operation, OperationKind, OperationStatus, Via


class OperationFilterSet(FilterSet):
    """Operations and refused attempts: by cluster, instance (by the name it had), kind, status, requester
    and face; search in the names, the reason, the error and the client address."""

    q = TextFilter(method="search", label="Search instance, requester, reason, error or address")
    cluster = NamesFilter(field_name="cluster_name", label="Cluster")
    instance = NamesFilter(field_name="instance_name", label="Instance")
    kind = ChoicesFilter(choices=OperationKind.choices, distinct=False, label="Action")
    status = ChoicesFilter(choices=OperationStatus.choices, distinct=False, label="Status")
    requester = NamesFilter(field_name="requester_name", label="Requested by")
    via = ChoicesFilter(choices=Via.choices, distinct=False, label="Through")
    sort = SortFilter(
        fields=(
            ("created_at", "created"),
            ("cluster_name", "cluster"),
            ("instance_name", "instance"),
            ("status", "status"),
        )
    )

    class Meta:
        model = Operation
        fields: list[str] = []

    def search(self, qs: QuerySet[Operation], name: str, value: str) -> QuerySet[Operation]:
        if not value:
            return qs
        found = (
            Q(instance_name__icontains=value)
            | Q(requester_name__icontains=value)
            | Q(reason__icontains=value)
            | Q(error__icontains=value)
        )
        with contextlib.suppress(ValueError):  # an address is searched for whole
            found |= Q(client_address=str(ipaddress.ip_address(value)))
        return qs.filter(found)

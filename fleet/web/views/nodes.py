"""The nodes of every cluster, per cluster and node group, with how full each is."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page
from django.db.models import Count

from fleet.inventory.filtersets import NodeFilterSet
from fleet.inventory.models import Node, NodeRole
from fleet.web.views.base import ListPage


class NodeList(ListPage):
    """Nodes with memory and disk bars, role letters and instance counts; counters of each role."""

    queryset = (
        Node.objects.select_related("cluster", "group")
        .defer("raw", "tags", "cluster__raw_info", "group__raw", "group__ipolicy", "group__tags")
        .order_by("cluster__name", "group__name", "name", "pk")
    )
    filterset_class = NodeFilterSet
    template_name = "fleet/nodes/list.html"
    results_template_name = "fleet/nodes/_results.html"
    title = "Nodes"

    def extra_context(self, filterset: Any, page: Page[Any] | None) -> dict[str, Any]:
        if page is None:
            return {"roles": NodeRole}
        counts = dict(
            filterset.qs.order_by()
            .values_list("role")
            .annotate(count=Count("pk"))
            .values_list("role", "count")
        )
        return {"roles": NodeRole, "role_counts": [(role, counts.get(role.value, 0)) for role in NodeRole]}

"""The clusters: a list with their sync health, and each cluster's information page."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from fleet.access import policy
from fleet.inventory.filtersets import ClusterFilterSet
from fleet.inventory.models import Cluster, Network, NodeGroup
from fleet.web import ipolicy
from fleet.web.views.base import DetailPage, ListPage

CLUSTER_FIELDS = (
    "name",
    "description",
    "software_version",
    "default_hypervisor",
    "drained",
    "offline",
    "health",
    "last_sync_at",
    "last_error",
    "last_error_at",
    "latency_ms",
)


class ClusterList(ListPage):
    """Every cluster the caller may see, with its version, health and the time of its last sync."""

    queryset = Cluster.objects.only(*CLUSTER_FIELDS).order_by("name", "pk")
    filterset_class = ClusterFilterSet
    template_name = "fleet/clusters/list.html"
    results_template_name = "fleet/clusters/_results.html"
    title = "Clusters"


class ClusterDetail(DetailPage):
    """A cluster's information: version, hypervisors, instance policy, disk templates, groups, networks."""

    queryset = Cluster.objects.defer("raw_info", "rapi_password_encrypted")
    template_name = "fleet/clusters/detail.html"
    context_object_name = "cluster"

    def lookup(self, **kwargs: Any) -> dict[str, Any]:
        return {"name": kwargs["name"]}

    def extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        groups = policy.restrict(NodeGroup.objects.filter(cluster=obj), user, policy.Action.VIEW)
        networks = policy.restrict(Network.objects.filter(cluster=obj), user, policy.Action.VIEW)
        return {
            "groups": groups.defer("raw").annotate(nodes_synced=Count("nodes")).order_by("name"),
            "networks": networks.defer("raw").prefetch_related("connections__group").order_by("name"),
            "instance_count": policy.restrict(obj.instances.all(), user, policy.Action.VIEW).count(),
            "ipolicy": ipolicy.layout(obj.ipolicy),
        }

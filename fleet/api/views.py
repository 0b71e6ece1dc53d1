"""The API's viewsets, one per kind of object; each declares its queryset, filterset and serializer only."""

from __future__ import annotations

from django.db.models import Prefetch

from fleet.access import policy
from fleet.api.actions import InstanceActions, JobActions
from fleet.api.lookups import instance_lookup
from fleet.api.serializers.clusters import (
    ClusterSerializer,
    NetworkSerializer,
    NodeGroupSerializer,
    NodeSerializer,
)
from fleet.api.serializers.instances import InstanceSerializer
from fleet.api.serializers.jobs import JobSerializer
from fleet.api.serializers.operations import OperationSerializer
from fleet.api.viewsets import RestrictedViewSet
from fleet.inventory.filtersets import (
    ClusterFilterSet,
    InstanceFilterSet,
    NetworkFilterSet,
    NodeFilterSet,
    NodeGroupFilterSet,
)
from fleet.inventory.models import Cluster, Instance, Network, NetworkConnection, Node, NodeGroup
from fleet.jobs.filtersets import JobFilterSet
from fleet.jobs.models import Job
from fleet.operations.filtersets import OperationFilterSet
from fleet.operations.models import Operation

ID_PATTERN = "[0-9]{1,18}"


class InstanceViewSet(InstanceActions, RestrictedViewSet):
    """Instances: those you own directly or through a group; every one for helpdesk and admins. An instance
    is addressed by its id, its Ganeti uuid, or ``CLUSTER:NAME`` (the database can be rebuilt from the
    clusters, its ids with it; uuids and names stay)."""

    queryset = (
        Instance.objects.select_related("cluster", "primary_node")
        .defer("raw", "hvparams", "cluster__raw_info", "primary_node__raw")
        .prefetch_related(
            "nics",
            "owners",
            Prefetch("secondary_nodes", Node.objects.only("pk", "name")),
        )
        .order_by("name", "pk")
    )
    serializer_class = InstanceSerializer
    filterset_class = InstanceFilterSet
    lookup_value_regex = "[^/]{1,600}"

    def get_object(self) -> Instance:
        return policy.get_object(self.get_queryset(), self.request.user, **instance_lookup(self.kwargs["pk"]))


class OperationViewSet(RestrictedViewSet):
    """The audit log: every operation and refused attempt, yours and those on your instances; all of them
    for helpdesk and admins."""

    queryset = Operation.objects.select_related("job", "confirmation").order_by("-created_at", "-pk")
    serializer_class = OperationSerializer
    filterset_class = OperationFilterSet
    lookup_value_regex = ID_PATTERN


class ClusterViewSet(RestrictedViewSet):
    """Clusters, with the health of their sync; a user sees the clusters their instances are on."""

    queryset = Cluster.objects.defer("raw_info", "rapi_password_encrypted").order_by("name", "pk")
    serializer_class = ClusterSerializer
    filterset_class = ClusterFilterSet
    lookup_value_regex = ID_PATTERN


class NodeGroupViewSet(RestrictedViewSet):
    """Node groups (helpdesk and admins)."""

    queryset = (
        NodeGroup.objects.select_related("cluster").defer("raw").order_by("cluster__name", "name", "pk")
    )
    serializer_class = NodeGroupSerializer
    filterset_class = NodeGroupFilterSet
    lookup_value_regex = ID_PATTERN


class NodeViewSet(RestrictedViewSet):
    """Nodes with their capacity and instance counts (helpdesk and admins)."""

    queryset = (
        Node.objects.select_related("cluster", "group")
        .defer("raw")
        .order_by("cluster__name", "group__name", "name", "pk")
    )
    serializer_class = NodeSerializer
    filterset_class = NodeFilterSet
    lookup_value_regex = ID_PATTERN


class NetworkViewSet(RestrictedViewSet):
    """Networks with their free and reserved counts and group connections (helpdesk and admins)."""

    queryset = (
        Network.objects.select_related("cluster")
        .defer("raw")
        .prefetch_related(Prefetch("connections", NetworkConnection.objects.select_related("group")))
        .order_by("cluster__name", "name", "pk")
    )
    serializer_class = NetworkSerializer
    filterset_class = NetworkFilterSet
    lookup_value_regex = ID_PATTERN


class JobViewSet(JobActions, RestrictedViewSet):
    """Ganeti jobs: those on your instances or that you asked for; all for helpdesk and admins."""

    queryset = (
        Job.objects.select_related("cluster", "instance", "requester")
        .prefetch_related("targets")
        .order_by("-received_at", "-job_id", "-pk")
    )
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    lookup_value_regex = ID_PATTERN

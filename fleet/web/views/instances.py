"""The instance list (the home page) and an instance's detail page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.paginator import Page
from django.db.models import Prefetch

from fleet.access import policy
from fleet.access.tags import Flag, flags_from_tags
from fleet.inventory.filtersets import InstanceFilterSet
from fleet.inventory.models import Cluster, Instance, InstanceStatus, Nic
from fleet.jobs.models import Job
from fleet.web import tables
from fleet.web.views.base import DetailPage, ListPage

LIST_FIELDS = (
    "name",
    "status",
    "memory",
    "vcpus",
    "disk_sizes",
    "disk_total",
    "tags",
    "cluster__name",
    "primary_node__name",
)


@dataclass(frozen=True)
class Badge:
    """A label beside an instance's status; ``kind`` picks the colour (ok, off, warn, bad)."""

    label: str
    kind: str


FLAG_BADGES = {
    Flag.NEEDS_REBOOT: Badge("Needs reboot", "warn"),
    Flag.ADMIN_LOCK: Badge("Admin lock", "bad"),
    Flag.ISOLATED: Badge("Isolated", "bad"),
}


def badges(instance: Instance) -> list[Badge]:
    """The badges of ``instance``, from its tags, in a fixed order."""
    flags = flags_from_tags(instance.tags or [], settings.FLEET_TAG_PREFIX)
    return [badge for flag, badge in FLAG_BADGES.items() if flag in flags]


def instance_list_queryset() -> Any:
    """Instances with what one row of the list shows, in a fixed number of queries per page."""
    user_model = get_user_model()
    return (
        Instance.objects.select_related("cluster", "primary_node")
        .only(*LIST_FIELDS)
        .prefetch_related(
            Prefetch(
                "nics",
                Nic.objects.only("instance_id", "index", "ip", "network_name", "link").order_by("index"),
                to_attr="nic_list",
            ),
            Prefetch(
                "owner_users",
                user_model.objects.only("pk", user_model.USERNAME_FIELD).order_by(user_model.USERNAME_FIELD),
                to_attr="owner_user_list",
            ),
            Prefetch(
                "owner_groups", Group.objects.only("pk", "name").order_by("name"), to_attr="owner_group_list"
            ),
        )
        .order_by("name", "pk")
    )


class InstanceList(ListPage):
    """Home: the instances the caller may see, searched, filtered, sorted and paged on the server."""

    queryset = instance_list_queryset()
    filterset_class = InstanceFilterSet
    template_name = "fleet/instances/list.html"
    results_template_name = "fleet/instances/_results.html"
    title = "Instances"

    def decorate(self, rows: list[Instance]) -> list[Instance]:
        for row in rows:
            row.html = tables.instance_row(row, badges(row))  # type: ignore[attr-defined]
        return rows

    def extra_context(self, filterset: Any, page: Page[Any] | None) -> dict[str, Any]:
        clusters = policy.restrict(Cluster.objects.only("name"), self.request.user, policy.VIEW)
        return {"cluster_names": [c.name for c in clusters.order_by("name")], "statuses": InstanceStatus}


class InstanceDetail(DetailPage):
    """One instance: where it runs, its resources, NICs, disks, owners and recent jobs."""

    queryset = Instance.objects.select_related("cluster", "primary_node").prefetch_related(
        "nics", "secondary_nodes", "owner_users", "owner_groups"
    )
    template_name = "fleet/instances/detail.html"
    context_object_name = "instance"

    def lookup(self, **kwargs: Any) -> dict[str, Any]:
        return {"cluster__name": kwargs["cluster"], "name": kwargs["name"]}

    def extra_context(self, obj: Any) -> dict[str, Any]:
        jobs = policy.restrict(Job.objects.filter(instance=obj), self.request.user, policy.VIEW)
        return {"badges": badges(obj), "jobs": jobs.select_related("cluster")[:20]}

"""The instance list (the home page) and an instance's detail page."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.paginator import Page
from django.db.models import Aggregate, JSONField, OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONArray
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.safestring import SafeString

from fleet.access import policy
from fleet.access.tags import Flag, OwnerKind, flags_from_tags
from fleet.inventory.filtersets import InstanceFilterSet
from fleet.inventory.models import (
    Cluster,
    Instance,
    InstanceOwner,
    InstanceStatus,
    Nic,
    Node,
)
from fleet.jobs.models import Job
from fleet.operations.core import NOT_FOUND
from fleet.web import tables
from fleet.web.context import ALERT_FIELDS, alerts_among
from fleet.web.views import operations as operation_views
from fleet.web.views.base import DetailPage, ListPage


class JSONList(Aggregate):
    """The values of ``expression`` over a group of rows, as one JSON array (in no particular order)."""

    function = "JSON_GROUP_ARRAY"  # SQLite
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="JSONB_AGG", **extra)


def _json_rows(related: QuerySet[Any], *fields: str) -> Subquery:
    """``fields`` of the rows of ``related`` that point at the outer instance, as a JSON list of lists."""
    rows = related.filter(instance_id=OuterRef("pk")).order_by().values("instance_id")
    return Subquery(rows.annotate(rows=JSONList(JSONArray(*fields))).values("rows"))


LIST_FIELDS = ("pk", "name", "cluster_id", "status", "memory", "vcpus", "disk_sizes", "tags")
# Names and lists are subqueries, not joins: the page's count (which drops the selected values) reads the
# instances alone, and the subqueries run for the rows of the page only, in the one statement.
LIST_VALUES = {
    "cluster_name": Subquery(Cluster.objects.filter(pk=OuterRef("cluster_id")).order_by().values("name")),
    "node_name": Subquery(Node.objects.filter(pk=OuterRef("primary_node_id")).order_by().values("name")),
    "nic_list": _json_rows(Nic.objects, "index", "ip", "network_name", "link"),
    "owner_list": _json_rows(InstanceOwner.objects, "kind", "name"),
}


STATUS_CHOICES = [(value, str(label)) for value, label in InstanceStatus.choices]


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


def badges(tags: list[str] | None) -> list[Badge]:
    """The badges of an instance with ``tags``, in a fixed order."""
    flags = flags_from_tags(tags or [], settings.FLEET_TAG_PREFIX)
    return [badge for flag, badge in FLAG_BADGES.items() if flag in flags]


def instance_list_queryset() -> QuerySet[Instance]:
    """The instances as the list shows them: a dict per row, with the names of its cluster and primary node,
    and its NICs and owners as JSON lists: one statement for everything a row shows.

    Plain values, not model objects: building 50 instances, their clusters and nodes, and prefetching
    their NICs and owners into them, cost more than the queries.
    """
    return Instance.objects.values(*LIST_FIELDS, **LIST_VALUES).order_by("name", "pk")


def _nics(rows: list[list[Any]] | None) -> list[tables.NicText]:
    """The NICs of :data:`LIST_VALUES` ``nic_list`` in Ganeti's order."""
    return [tables.NicText(ip, network, link) for _, ip, network, link in sorted(rows or [])]


def owners(pairs: Iterable[tuple[str, str]] | None) -> list[tables.Owner]:
    """The owners of (kind, name) ``pairs``: the users, then the groups, each in name order (by code point,
    the same on every database)."""
    ordered = sorted(pairs or [], key=lambda pair: (pair[0] != OwnerKind.USER, pair[1]))
    return [tables.Owner(name, is_group=kind == OwnerKind.GROUP) for kind, name in ordered]


class InstanceList(ListPage):
    """Home: the instances the caller may see, searched, filtered, sorted and paged on the server."""

    queryset = instance_list_queryset()
    filterset_class = InstanceFilterSet
    template_name = "fleet/instances/list.html"
    results_template_name = "fleet/instances/_results.html"
    title = "Instances"

    def decorate(self, rows: list[dict[str, Any]]) -> list[SafeString]:
        url = tables.detail_url_maker()
        urls = [url(row["cluster_name"], row["name"]) for row in rows]
        options = operation_views.row_options(self.request, rows, urls)
        return [
            tables.instance_row(
                row, link, _nics(row["nic_list"]), owners(row["owner_list"]), badges(row["tags"]), cell
            )
            for row, link, cell in zip(rows, urls, options, strict=True)
        ]

    def extra_context(self, filterset: Any, page: Page[Any] | None) -> dict[str, Any]:
        # One query for the cluster choices and the banner, which would otherwise ask for its own.
        # Named tuples, not model instances: the page needs a few fields of every cluster, nothing else.
        visible = policy.restrict(Cluster.objects.all(), self.request.user, policy.Action.VIEW)
        clusters = list(visible.order_by("name").values_list(*ALERT_FIELDS, named=True))
        form = filterset.form
        return {
            "cluster_options": tables.options_html(
                [(c.name, c.name) for c in clusters], form["cluster"].value()
            ),
            "cluster_alerts": alerts_among(clusters),
            "status_options": tables.options_html(STATUS_CHOICES, form["status"].value()),
        }


class InstanceDetail(DetailPage):
    """One instance: where it runs, its resources, NICs, disks, owners and recent jobs."""

    queryset = Instance.objects.select_related("cluster", "primary_node").prefetch_related(
        "nics", "secondary_nodes", "owners"
    )
    template_name = "fleet/instances/detail.html"
    context_object_name = "instance"

    def lookup(self, **kwargs: Any) -> dict[str, Any]:
        return {"cluster__name": kwargs["cluster"], "name": kwargs["name"]}

    def extra_context(self, obj: Any) -> dict[str, Any]:
        user = self.request.user
        jobs = policy.restrict(Job.objects.on_instance(obj), user, policy.Action.VIEW)
        named = owners((owner.kind, owner.name) for owner in obj.owners.all())
        return {
            "badges": badges(obj.tags),
            "owners": owner_accounts(named)
            if policy.role_of(user) is policy.Role.ADMIN
            else [OwnerAccount(o.name, o.is_group) for o in named],
            "jobs": jobs.select_related("cluster")[:20],
            "console": bool(settings.FLEET_CONSOLE_URL)
            and bool(policy.decide(user, policy.Action.CONSOLE, obj)),
            **operation_views.action_panel(self.request, obj),
        }

    def post(self, request: HttpRequest, cluster: str, name: str) -> HttpResponse:
        """An action of the page's panel (``fleet.web.views.operations``)."""
        # Found whoever may see it: fleet.operations records an attempt on an instance the caller may not
        # see, then answers 404 as for one that does not exist.
        instance = Instance.objects.select_related("cluster").filter(cluster__name=cluster, name=name).first()
        if instance is None:
            raise Http404(NOT_FOUND)
        errors, status = operation_views.act(request, instance)
        if not errors:
            return operation_views.see_other(reverse("instance-detail", args=[cluster, name]))
        visible = self.get_object(cluster=cluster, name=name)
        return self.respond(request, visible, status, action_errors=errors)


@dataclass(frozen=True)
class OwnerAccount:
    """An owner on the instance page; admins also see whether an account or a group of that name exists
    (``None``: not looked up) and the account's e-mail."""

    name: str
    is_group: bool
    exists: bool | None = None
    email: str = ""


def owner_accounts(named: list[tables.Owner]) -> list[OwnerAccount]:
    """``named`` with their accounts and groups (two queries): for admins only, since e-mail addresses are
    not for other users' eyes."""
    users = {o.name for o in named if not o.is_group}
    groups = {o.name for o in named if o.is_group}
    model = get_user_model()
    accounts = model._default_manager.filter(**{f"{model.USERNAME_FIELD}__in": users})
    emails = dict(accounts.values_list(model.USERNAME_FIELD, "email")) if users else {}
    found = set(Group.objects.filter(name__in=groups).values_list("name", flat=True)) if groups else set()
    return [
        OwnerAccount(o.name, True, o.name in found)
        if o.is_group
        else OwnerAccount(o.name, False, o.name in emails, emails.get(o.name) or "")
        for o in named
    ]

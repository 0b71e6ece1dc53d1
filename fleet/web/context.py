"""What every page shows besides its content: the caller's role and the clusters whose data may be old."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from fleet.access.policy import Action, Role, restrict, role_of, visible_fields
from fleet.inventory.models import Cluster, ClusterHealth

ALERT_FIELDS = (
    "name",
    "offline",
    "health",
    "last_sync_at",
    "last_error",
    "last_error_at",
    "consecutive_failures",
)
"""What the banner shows of a cluster, and what decides whether it shows it."""

T = TypeVar("T")


def _stale_before() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.FLEET_STALE_AFTER_SECONDS)


def cluster_alerts(user: Any) -> list[Cluster]:
    """The clusters ``user`` may see that are unreachable, never synced, or not synced for too long.

    Clusters an operator has set offline are left out: Fleet does not contact them on purpose.
    """
    cutoff = _stale_before()
    troubled = Cluster.objects.filter(offline=False).filter(
        Q(health=ClusterHealth.UNREACHABLE) | Q(last_sync_at__isnull=True) | Q(last_sync_at__lt=cutoff)
    )
    return list(restrict(troubled, user, Action.VIEW).only(*ALERT_FIELDS).order_by("name"))


def alerts_among(clusters: Sequence[T]) -> list[T]:
    """The clusters of ``clusters`` (with the attributes of :data:`ALERT_FIELDS`: rows or named tuples)
    that :func:`cluster_alerts` would give: for a page that reads the clusters anyway, the banner without a
    query of its own."""
    cutoff = _stale_before()
    return [
        c
        for c in clusters
        if not c.offline
        and (c.health == ClusterHealth.UNREACHABLE or c.last_sync_at is None or c.last_sync_at < cutoff)
    ]


def fleet(request: HttpRequest) -> dict[str, Any]:
    """Template context: ``fleet_role``, ``fleet_is_staff``, ``cluster_fields`` and ``cluster_alerts``,
    computed on first use (a view that gives its own ``cluster_alerts``, from :func:`alerts_among`, spares the
    query)."""
    user = getattr(request, "user", None)
    role = SimpleLazyObject(lambda: _Role(role_of(user)))
    return {
        "fleet_role": role,
        "fleet_is_staff": SimpleLazyObject(lambda: _Flag(role.value >= Role.HELPDESK)),
        "cluster_fields": SimpleLazyObject(lambda: Shown(visible_fields(user, Cluster))),
        "cluster_alerts": SimpleLazyObject(
            lambda: cluster_alerts(user) if role.value > Role.ANONYMOUS else []
        ),
    }


class _Role:
    """A role in a template: ``{{ fleet_role }}`` prints its name."""

    def __init__(self, value: Role) -> None:
        self.value = value

    def __str__(self) -> str:
        return self.value.name.lower()


class Shown:
    """The fields of a model the caller may see, for templates: ``{% if "master_node" in cluster_fields %}``
    (the access policy's rule, which the API follows too)."""

    def __init__(self, fields: frozenset[str] | None) -> None:
        self.fields = fields  # None: every field

    def __contains__(self, name: str) -> bool:
        return self.fields is None or name in self.fields


class _Flag:
    def __init__(self, value: bool) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return self.value

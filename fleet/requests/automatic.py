"""Automatic placement of an application: the decision (``fleet.placement.choose``) over the read model's
capacity (``fleet.requests.capacity``), and an approval that takes it.

Approvals with automatic placement are serialised: each locks the placeable clusters' rows, then reads
capacity (less the approved applications not yet created) and approves, so that two made at the same
moment see each other's reservation instead of both taking the group that looked emptiest.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from fleet.inventory.models import Network
from fleet.placement.choose import Decision, choose
from fleet.requests import applications
from fleet.requests.capacity import group_capacities, request_of
from fleet.requests.forms import placeable_clusters
from fleet.requests.models import Application


def decide(application: Application) -> Decision:
    """Where automatic placement would put ``application`` now, and why each group was or was not chosen."""
    return choose(request_of(application), group_capacities(application, settings.FLEET_STORAGE))


def approve_automatically(application: Application, reviewer: Any, comment: str = "") -> Application | None:
    """Approve ``application`` where automatic placement puts it; None (nothing changed) when no group
    can take it."""
    with transaction.atomic():
        clusters = {c.name: c for c in placeable_clusters().select_for_update().order_by("pk")}
        decision = decide(application)
        if decision.chosen is None or decision.template is None:
            return None
        cluster = clusters[decision.chosen.cluster]
        network = Network.objects.get(cluster=cluster, name=application.network)
        return applications.approve(
            application,
            reviewer,
            cluster=cluster,
            node_group=decision.chosen.group,
            disk_template=decision.template,
            network=network.name,
            comment=comment,
        )

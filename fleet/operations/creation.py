"""Create an instance: the one operation whose target is a cluster, since the instance has no row yet.

The operation is recorded with the new instance's name (``instance_name``), so that one open operation per
name and cluster holds for it as for any instance: a second create of the same name, while the first is
under way, is refused. What is sent is the body the caller built (an approved application's,
``fleet.requests.creation``), kept whole in the operation's parameters, so that what is sent is what was
approved, whenever the worker sends it. The caller learns how it ended through ``fleet.operations.hooks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fleet.access.policy import Action
from fleet.inventory.models import Cluster, Instance
from fleet.operations.calls import builds
from fleet.operations.core import Caller, Invalid, record
from fleet.operations.models import Operation, OperationKind
from fleet.rapi import Call, instances

__all__ = ["create"]


def create(
    cluster: Cluster,
    *,
    by: Caller,
    spec: Mapping[str, Any],
    params: Mapping[str, Any] | None = None,
    reason: str = "",
) -> Operation:
    """Record the creation on ``cluster`` of the instance ``spec`` describes (the body of ``POST
    /2/instances`` but its ``__version__``); ``params`` are kept besides it (whose application it is)."""
    if not isinstance(spec, Mapping):
        raise Invalid({"spec": "the instance's description, a mapping"})
    name = spec.get("instance_name")
    if not isinstance(name, str) or not name:
        raise Invalid({"instance_name": "give the new instance's name"})
    return record(
        OperationKind.CREATE,
        cluster,
        by=by,
        action=Action.CREATE,
        params={**(params or {}), "spec": dict(spec)},
        reason=reason,
        state=lambda target: _creatable(target, name),
        instance_name=name,
    )


def _creatable(cluster: Cluster, name: str) -> str:
    """Why ``name`` cannot be created on ``cluster`` now, as the read model has it."""
    if Instance.objects.filter(cluster=cluster, name=name).exists():
        return f"Instance '{name}' is already in the cluster."
    busy = Operation.objects.open().filter(cluster=cluster, instance_name=name).first()
    if busy is not None:
        return f"{name} is busy: operation {busy.pk} ({busy.get_kind_display().lower()}) is {busy.status}."
    return ""


@builds(OperationKind.CREATE)
def _create_call(operation: Operation, reason: str) -> Call[int]:
    return instances.create(operation.params["spec"], reason=reason)

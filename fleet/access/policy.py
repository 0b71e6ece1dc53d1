"""The one authorization path: which rows a user may see or act on, and the check for a single object.

Every page and every API endpoint narrows its queryset with :func:`restrict` and fetches single objects with
:func:`get_object`; nothing else decides who may see what (NetBox's ``RestrictedQuerySet.restrict(user,
action)`` is the model). The rules are these roles:

==========  ====================================================================  =========================
role        who                                                                   sees
==========  ====================================================================  =========================
anonymous   not logged in, or an inactive account                                 nothing
user        any active account                                                    the instances they own,
                                                                                  directly or through a
                                                                                  group; the jobs on those
                                                                                  (whoever started them)
                                                                                  or that they asked for;
                                                                                  the clusters those are on
helpdesk    holds the permission ``inventory.view_instance`` (Django's own "Can   everything, read-only
            view instance"; grant it to a "helpdesk" group)
admin       a superuser                                                           everything
==========  ====================================================================  =========================

Nodes, node groups and networks are infrastructure: only helpdesk and admins see them. What a user may *do*
(:data:`CHANGE`) is narrower than what they may see: a helpdesk account changes only what it owns itself.
Reading what you may not see is a 404, never a 403, so that names do not leak; a write you may not do on
what you can see is a 403 (:func:`check`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from fleet.inventory.models import Cluster, Instance, Network, Node, NodeGroup
from fleet.jobs.models import Job, JobTarget
from fleet.jobs.targets import TargetKind
from fleet.operations.models import Operation

VIEW = "view"
CHANGE = "change"
ACTIONS = frozenset({VIEW, CHANGE})

HELPDESK_PERMISSION = "inventory.view_instance"
"""The permission that makes an account helpdesk: it reads everything and changes only what it owns."""

M = TypeVar("M", bound=models.Model)
User = Any  # a user model instance or AnonymousUser


class Role(enum.IntEnum):
    """How far an account reaches, from nothing to everything; compare with ``>=``."""

    ANONYMOUS = 0
    USER = 1
    HELPDESK = 2
    ADMIN = 3


def role_of(user: User | None) -> Role:
    """The role of ``user``; ``None`` and inactive accounts are anonymous."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated or not user.is_active:
        return Role.ANONYMOUS
    if user.is_superuser:
        return Role.ADMIN
    if user.has_perm(HELPDESK_PERMISSION):
        return Role.HELPDESK
    return Role.USER


def _owned_instances(user: User) -> models.QuerySet[Instance]:
    return Instance.objects.owned_by(user)


def _own_instances(queryset: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
    return queryset.filter(pk__in=_owned_instances(user).values("pk"))


def _own_jobs(queryset: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
    """The jobs a user asked for, and those on instances they own, whoever submitted them (by the names the
    jobs' opcodes give, so that a job seen before its instance was synced counts too)."""
    owned = _owned_instances(user)
    on_owned = JobTarget.objects.filter(kind=TargetKind.INSTANCE).filter(
        models.Exists(owned.filter(cluster_id=models.OuterRef("cluster_id"), name=models.OuterRef("name")))
    )
    return queryset.filter(
        models.Q(requester_id=user.pk)
        | models.Q(instance_id__in=owned.values("pk"))
        | models.Q(pk__in=on_owned.values("job_id"))
    )


def _own_operations(queryset: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
    """The operations a user asked for, and those on instances they own (by name, so that the record of an
    instance destroyed or renamed since is found by what it was called)."""
    owned = _owned_instances(user).filter(
        cluster_id=models.OuterRef("cluster_id"), name=models.OuterRef("instance_name")
    )
    return queryset.filter(models.Q(requester_id=user.pk) | models.Exists(owned))


def _own_clusters(queryset: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
    return queryset.filter(pk__in=_owned_instances(user).values("cluster_id"))


def _nothing(queryset: models.QuerySet[Any], user: User) -> models.QuerySet[Any]:
    return queryset.none()


_Scope = Callable[[models.QuerySet[Any], User], models.QuerySet[Any]]

_OWNED_SCOPE: dict[type[models.Model], _Scope] = {
    Instance: _own_instances,
    Job: _own_jobs,
    Operation: _own_operations,
    Cluster: _own_clusters,
    Node: _nothing,
    NodeGroup: _nothing,
    Network: _nothing,
}
"""For each model a user may reach at all: the rows an ordinary user reaches, i.e. those they own."""


def restrict(queryset: models.QuerySet[M], user: User | None, action: str = VIEW) -> models.QuerySet[M]:
    """``queryset`` narrowed to the rows ``user`` may ``action`` (:data:`VIEW` or :data:`CHANGE`).

    Models the policy does not know are refused to everyone but admins, so that a new model is closed until a
    rule is written for it here.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {sorted(ACTIONS)}")
    role = role_of(user)
    if role is Role.ADMIN:
        return queryset
    scope = _OWNED_SCOPE.get(queryset.model)
    if role is Role.ANONYMOUS or scope is None:
        return queryset.none()
    if role is Role.HELPDESK and action == VIEW:
        return queryset
    return scope(queryset, user)


def get_object(queryset: models.QuerySet[M], user: User | None, action: str = VIEW, **lookup: Any) -> M:
    """The one object of ``queryset`` matching ``lookup`` that ``user`` may ``action``.

    Raises ``Http404`` if it does not exist or the user may not see it, and ``PermissionDenied`` if they may
    see it but not ``action`` it.
    """
    if any(isinstance(value, str) and "\x00" in value for value in lookup.values()):
        # No name holds a NUL character, and PostgreSQL refuses to compare text with one.
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.")
    try:
        obj = restrict(queryset, user, VIEW).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None
    if action != VIEW:
        check(user, action, obj)
    return obj


def allows(user: User | None, action: str, obj: models.Model) -> bool:
    """Whether ``user`` may ``action`` the saved object ``obj`` (one query, unless the role decides)."""
    return restrict(type(obj)._default_manager.all(), user, action).filter(pk=obj.pk).exists()


def check(user: User | None, action: str, obj: models.Model) -> None:
    """Raise unless ``user`` may ``action`` ``obj``: 404 if they may not even see it, 403 otherwise."""
    if allows(user, action, obj):
        return
    if action != VIEW and allows(user, VIEW, obj):
        raise PermissionDenied(f"You may not {action} this {obj._meta.verbose_name}.")
    raise Http404(f"No {obj._meta.verbose_name} matches the given query.")


# The verbs of the write side. Interim: what follows maps every verb to VIEW and CHANGE above.


class Action(enum.StrEnum):
    """What a user may ask to do to an object."""

    VIEW = "view"
    POWER = "power"
    MIGRATE = "migrate"
    REINSTALL = "reinstall"
    DESTROY = "destroy"
    RENAME = "rename"
    MODIFY = "modify"
    OWNERS = "owners"
    CONSOLE = "console"
    LOCK = "lock"
    ISOLATE = "isolate"
    CANCEL_JOB = "cancel_job"
    MANAGE_CLUSTER = "manage_cluster"


_ADMIN_ONLY = frozenset({Action.MIGRATE, Action.LOCK, Action.ISOLATE, Action.MANAGE_CLUSTER})


@dataclass(frozen=True)
class Decision:
    """Whether an action is allowed; if not, why, and whether the object may be seen at all."""

    allowed: bool
    reason: str = ""
    visible: bool = True


def decide(user: User | None, action: Action, obj: models.Model) -> Decision:
    """Whether ``user`` may take ``action`` on ``obj``, and why not."""
    if not allows(user, VIEW, obj):
        return Decision(False, f"No {obj._meta.verbose_name} matches the given query.", visible=False)
    if action is Action.VIEW:
        return Decision(True)
    if action in _ADMIN_ONLY and role_of(user) is not Role.ADMIN:
        return Decision(False, f"Only administrators may {action.replace('_', ' ')} {obj}.")
    if allows(user, CHANGE, obj):
        return Decision(True)
    return Decision(False, f"You may not {action.replace('_', ' ')} {obj}.")

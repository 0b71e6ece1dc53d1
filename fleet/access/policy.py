"""The one authorization path: which rows a user may see or act on, the decision for a single object, the
actions on a page of rows, and the fields a user may see.

Every page, API endpoint, CLI command and operation asks here and nothing else decides (NetBox's
``RestrictedQuerySet.restrict(user, action)`` is the model): :func:`restrict` narrows a queryset,
:func:`get_object` fetches one object, :func:`decide` and :func:`check` answer for one object and action,
:func:`actions_for` for a page of instances, :func:`visible_fields` for the columns. The roles:

==========  ====================================================================  =========================
role        who                                                                   may
==========  ====================================================================  =========================
anonymous   not logged in, or an inactive account                                 nothing
user        any active account                                                    see, power, reinstall,
                                                                                  destroy, rename, modify,
                                                                                  share and open the console
                                                                                  of the instances they own,
                                                                                  directly or through a
                                                                                  group; see the jobs and
                                                                                  operations on those
                                                                                  (whoever started them) or
                                                                                  that they asked for, and
                                                                                  cancel the jobs while
                                                                                  queued or waiting; see the
                                                                                  clusters those are on
helpdesk    holds ``access.view_all``                                             see everything
admin       a superuser                                                           everything
==========  ====================================================================  =========================

Named permissions (:class:`~fleet.access.actions.Permission`) add single actions on every instance or job the
holder sees; ``fleet.access.rules`` has the table. Conditions hold on the server for every face: an
``adminlock`` stops owners and helpdesk, a node group under ``maintenance`` stops the owners of the instances
on it, and nobody, admins included, writes to a cluster marked ``offline``. A ``drained`` cluster takes no new
instances but its instances are managed as usual.

Reading what you may not see is a 404, never a 403, so that names do not leak; a write you may not do on
what you can see is a 403 with the reason. Nothing is cached here but the account's permissions, which
Django keeps on the user object for all actions at once: decisions are computed from the rows each time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

from fleet.access.actions import ALLOWED, Action, Decision, Permission
from fleet.access.facts import TARGETS, read_facts
from fleet.access.roles import HELPDESK_PERMISSION, Role, User, role_of, subject_of
from fleet.access.rules import actions_of, evaluate, not_found, where
from fleet.inventory.models import Cluster, Instance

__all__ = [
    "HELPDESK_PERMISSION",
    "Action",
    "Decision",
    "Permission",
    "Role",
    "actions_for",
    "check",
    "decide",
    "get_object",
    "has_permission",
    "restrict",
    "role_of",
    "visible_fields",
]

M = TypeVar("M", bound=models.Model)

CLUSTER_FIELDS_FOR_USERS = frozenset(
    {
        "id",
        "name",
        "description",
        "software_version",
        "default_hypervisor",
        "enabled_hypervisors",
        "enabled_disk_templates",
        "ipolicy",
        "drained",
        "offline",
        "health",
        "last_sync_at",
        "last_attempt_at",
        "consecutive_failures",
        "latency_ms",
    }
)
"""What a VM owner sees of a cluster: what it offers and whether Fleet's copy is fresh. Not its master node,
its tags, nor the last sync error (which may name internal hosts); helpdesk and admins see every field."""

FIELDS_FOR_USERS: dict[type[models.Model], frozenset[str]] = {Cluster: CLUSTER_FIELDS_FOR_USERS}


def _action(action: Action | str) -> Action:
    try:
        return Action(action)
    except ValueError:
        raise ValueError(f"unknown action {action!r}; expected one of {sorted(Action)}") from None


def restrict(
    queryset: models.QuerySet[M], user: User | None, action: Action | str = Action.VIEW
) -> models.QuerySet[M]:
    """``queryset`` narrowed to the rows ``user`` may ``action``: the rows for which :func:`decide` allows.

    Models the policy has no rule for are refused to everyone but admins, so that a new model is closed
    until a rule is written for it (``fleet.access.rules``).
    """
    rows = where(subject_of(user), _action(action), queryset.model)
    if rows is True:
        return queryset
    if rows is False:
        return queryset.none()
    return queryset.filter(rows)


def decide(user: User | None, action: Action | str, obj: models.Model) -> Decision:
    """Whether ``user`` may ``action`` the saved object ``obj``, and if not, why, and whether they may see it.

    One query reads the object's current facts (owners, lock, cluster, node group), besides the account's
    permissions, which Django reads once per user object; an admin's read and an anonymous request cost none.
    """
    action = _action(action)
    subject = subject_of(user)
    model = obj._meta.concrete_model
    assert model is not None
    target = TARGETS.get(model)
    if target is None:
        return ALLOWED if subject.role is Role.ADMIN else not_found(None, model)
    if subject.role is Role.ANONYMOUS:
        return not_found(target, model)
    if subject.role is Role.ADMIN and not action.is_write:
        return ALLOWED
    facts = read_facts(target, subject, [obj.pk]).get(obj.pk)
    if facts is None:
        return not_found(target, model)
    return evaluate(subject, action, target, facts)


def check(user: User | None, action: Action | str, obj: models.Model) -> None:
    """Return if ``user`` may ``action`` ``obj``; raise ``Http404`` if they may not even see it,
    ``PermissionDenied`` with the reason otherwise."""
    decision = decide(user, action, obj)
    if decision.allowed:
        return
    if not decision.visible:
        raise Http404(decision.reason)
    raise PermissionDenied(decision.reason)


def get_object(
    queryset: models.QuerySet[M], user: User | None, action: Action | str = Action.VIEW, **lookup: Any
) -> M:
    """The one object of ``queryset`` matching ``lookup`` that ``user`` may ``action``.

    Raises ``Http404`` if it does not exist or the user may not see it, and ``PermissionDenied`` if they may
    see it but not ``action`` it.
    """
    action = _action(action)
    if any(isinstance(value, str) and "\x00" in value for value in lookup.values()):
        # No name holds a NUL character, and PostgreSQL refuses to compare text with one.
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.")
    try:
        obj = restrict(queryset, user, Action.VIEW).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None
    if action.is_write:
        check(user, action, obj)
    return obj


def actions_for(
    user: User | None, instances: Iterable[Instance | Mapping[str, Any]]
) -> dict[Any, frozenset[Action]]:
    """What ``user`` may do to each of ``instances`` (model objects or rows with a ``"pk"``), by primary
    key: one query for the whole page, whatever its length."""
    pks = [row["pk"] if isinstance(row, Mapping) else row.pk for row in instances]
    subject = subject_of(user)
    if subject.role is Role.ANONYMOUS or not pks:
        return {pk: frozenset() for pk in pks}
    target = TARGETS[Instance]
    facts = read_facts(target, subject, pks)
    actions = actions_of(Instance)
    return {
        pk: frozenset(a for a in actions if evaluate(subject, a, target, facts[pk]).allowed)
        if pk in facts
        else frozenset()
        for pk in pks
    }


def visible_fields(user: User | None, model: type[models.Model]) -> frozenset[str] | None:
    """The fields of ``model`` that ``user`` may see on the rows they may see; ``None`` for every field.

    Pages and the API both ask here, so that a field hidden on a page is hidden in the API too.
    """
    role = role_of(user)
    if role is Role.ANONYMOUS:
        return frozenset()
    if role >= Role.HELPDESK:
        return None
    return FIELDS_FOR_USERS.get(model)


def has_permission(user: User | None, permission: Permission) -> bool:
    """Whether ``user`` holds the named ``permission`` (admins hold them all), for actions on no object of
    their own, such as reviewing applications or mailing owners."""
    return subject_of(user).holds(permission)

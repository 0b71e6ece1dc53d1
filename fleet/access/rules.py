"""The rule table: for each (model, action), who is granted it; and the conditions every write must meet.

Closed by default: a (model, action) without a rule is refused to everyone but admins. A rule lists its
grants, of three kinds:

- :class:`Owner`: the user stands in a relation to the object (owns the instance, or the instance a job is
  on; asked for the job), possibly only while a job is pending;
- :class:`Holder`: the user holds a named permission, and acts as an owner would: ``adminlock`` and
  node-group maintenance stop them too (helpdesk's ``console_any``);
- :class:`Operator`: the user holds a named permission and acts as an admin would: neither stops them
  (``lock_instance``, ``isolate_instance``, ``migrate_instance``, ``cancel_job``).

Admins are granted everything. Every write, whoever asks, is refused on a cluster marked ``offline`` (Fleet
does not contact it). Seeing comes first: an action on what one may not see is refused as invisible (a 404).

:func:`evaluate` applies the table to the facts of one object (``fleet.access.facts``); :func:`where` says
the same in SQL, for ``restrict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from django.db import models
from django.db.models import Q

from fleet.access.actions import ALLOWED, Action, Decision, Permission
from fleet.access.facts import PENDING_JOB_STATUSES, TARGETS, Facts, Relation, Target
from fleet.access.roles import Role, Subject
from fleet.inventory.models import Cluster, Instance, Network, Node, NodeGroup
from fleet.jobs.models import Job
from fleet.operations.models import Operation


@dataclass(frozen=True)
class Owner:
    """Granted by any of ``relations`` to the object; ``while_pending``: only while the job is not started."""

    relations: frozenset[Relation]
    while_pending: bool = False

    def whom(self) -> str:
        return "its owners"


@dataclass(frozen=True)
class Holder:
    """Granted to the holders of ``permission``, who are then stopped by the lock and maintenance."""

    permission: Permission

    def whom(self) -> str:
        return f"holders of the permission {self.permission}"


@dataclass(frozen=True)
class Operator(Holder):
    """Granted to the holders of ``permission``, who are not stopped by the lock nor maintenance."""


Grant = Owner | Holder


@dataclass(frozen=True)
class Rule:
    grants: tuple[Grant, ...]


def rule(*grants: Grant) -> Rule:
    return Rule(grants)


OWNERS = Owner(frozenset({Relation.OWNS}))
HELPDESK = Holder(Permission.VIEW_ALL)

RULES: dict[tuple[type[models.Model], Action], Rule] = {
    (Instance, Action.VIEW): rule(OWNERS, HELPDESK),
    (Instance, Action.POWER): rule(OWNERS),
    (Instance, Action.REINSTALL): rule(OWNERS),
    (Instance, Action.DESTROY): rule(OWNERS),
    (Instance, Action.RENAME): rule(OWNERS),
    (Instance, Action.MODIFY): rule(OWNERS),
    (Instance, Action.OWNERS): rule(OWNERS),
    (Instance, Action.CONSOLE): rule(OWNERS, Holder(Permission.CONSOLE_ANY)),
    (Instance, Action.MIGRATE): rule(Operator(Permission.MIGRATE_INSTANCE)),
    (Instance, Action.LOCK): rule(Operator(Permission.LOCK_INSTANCE)),
    (Instance, Action.ISOLATE): rule(Operator(Permission.ISOLATE_INSTANCE)),
    (Job, Action.VIEW): rule(Owner(frozenset({Relation.OWNS, Relation.REQUESTED})), HELPDESK),
    (Job, Action.CANCEL_JOB): rule(
        Owner(frozenset({Relation.OWNS}), while_pending=True), Operator(Permission.CANCEL_JOB)
    ),
    (Operation, Action.VIEW): rule(Owner(frozenset({Relation.OWNS, Relation.REQUESTED})), HELPDESK),
    # the reviewers of applications see the clusters they place VMs on, and create the approved ones there
    (Cluster, Action.VIEW): rule(OWNERS, HELPDESK, Holder(Permission.REVIEW_APPLICATION)),
    (Cluster, Action.CREATE): rule(Operator(Permission.REVIEW_APPLICATION)),
    (NodeGroup, Action.VIEW): rule(HELPDESK),
    (Node, Action.VIEW): rule(HELPDESK),
    (Network, Action.VIEW): rule(HELPDESK),
    # MANAGE_CLUSTER has no rule: admins only.
}
"""Who is granted what, besides admins, who are granted everything."""

_NO_RULE = Rule(())


def rule_for(model: type[models.Model], action: Action) -> Rule:
    return RULES.get((model, action), _NO_RULE)


def actions_of(model: type[models.Model]) -> tuple[Action, ...]:
    """The actions that mean something on ``model``: those with a rule, and cluster management."""
    meaningful = {action for (ruled, action) in RULES if ruled is model}
    if model in (Cluster, NodeGroup, Node, Network):
        meaningful.add(Action.MANAGE_CLUSTER)
    return tuple(a for a in Action if a in meaningful)


# Python: one object's facts -> a decision.


def _holds(grant: Grant, subject: Subject, facts: Facts) -> bool:
    if isinstance(grant, Owner):
        return bool(grant.relations & facts.relations) and (facts.pending or not grant.while_pending)
    return grant.permission in subject.permissions


def not_found(target: Target | None, model: type[models.Model]) -> Decision:
    noun = target.noun if target is not None else model._meta.verbose_name
    return Decision(False, f"No {noun} matches the given query.", visible=False)


def evaluate(subject: Subject, action: Action, target: Target, facts: Facts) -> Decision:
    """Whether ``subject`` may ``action`` the object described by ``facts``, and why not."""
    if subject.role is Role.ANONYMOUS:
        return not_found(target, target.model)
    admin = subject.role is Role.ADMIN
    if not admin and not any(_holds(g, subject, facts) for g in rule_for(target.model, Action.VIEW).grants):
        return not_found(target, target.model)
    if not action.is_write:
        return ALLOWED
    grants = rule_for(target.model, action).grants
    held = [g for g in grants if _holds(g, subject, facts)]
    if not admin and not held:
        return Decision(False, _refusal(action, grants, facts))
    if facts.offline:
        return Decision(False, f"Fleet does not contact cluster {facts.cluster}: it is marked offline.")
    if admin or any(isinstance(g, Operator) for g in held):
        return ALLOWED
    if facts.locked:
        return Decision(False, f"{facts.instance} is locked by an administrator.")
    if facts.maintenance:
        return Decision(
            False, f"Node group {facts.maintenance} of cluster {facts.cluster} is under maintenance."
        )
    return ALLOWED


def _refusal(action: Action, grants: tuple[Grant, ...], facts: Facts) -> str:
    owner = next((g for g in grants if isinstance(g, Owner)), None)
    if owner is not None and owner.while_pending and owner.relations & facts.relations:
        return (
            f"{facts.label.capitalize()} has started: its owners may {action.verb} it only while it is "
            "queued or waiting."
        )
    whom = [*(g.whom() for g in grants), "administrators"]
    listed = ", ".join(whom[:-1]) + " and " + whom[-1] if len(whom) > 1 else whom[0]
    return f"Only {listed} may {action.verb} {facts.label}."


# SQL: the same rules as a filter over many rows.

Where: TypeAlias = Q | bool
"""A filter: ``True`` for every row, ``False`` for none (``Q()`` would mean "every row" when alone and
"nothing to add" when combined, so it is never used for either)."""


def _or(a: Where, b: Where) -> Where:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return a | b


def _and(a: Where, b: Where) -> Where:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return a & b


def _not(q: Q | None) -> Where:
    return True if q is None else ~q


def _grant_where(grant: Grant, subject: Subject, target: Target) -> Where:
    if isinstance(grant, Holder):
        return grant.permission in subject.permissions
    where: Where = False
    for relation in sorted(grant.relations):
        q = target.relation_q(relation, subject)
        if q is not None:
            where = _or(where, q)
    if grant.while_pending:
        where = _and(where, Q(status__in=sorted(PENDING_JOB_STATUSES)))
    return where


def _granted(grants: tuple[Grant, ...], subject: Subject, target: Target) -> tuple[Where, Where]:
    """The rows where an operator-grade grant holds, and those where one owners' conditions apply to."""
    operator: Where = False
    owner: Where = False
    for grant in grants:
        where = _grant_where(grant, subject, target)
        if isinstance(grant, Operator):
            operator = _or(operator, where)
        else:
            owner = _or(owner, where)
    return operator, owner


def where(subject: Subject, action: Action, model: type[models.Model]) -> Where:
    """The rows of ``model`` that ``subject`` may ``action``, as :func:`evaluate` would answer row by row."""
    if subject.role is Role.ANONYMOUS:
        return False
    target = TARGETS.get(model)
    if target is None:
        return subject.role is Role.ADMIN
    if subject.role is Role.ADMIN:
        return _not(target.offline_q()) if action.is_write else True
    seen = _or(*_granted(rule_for(model, Action.VIEW).grants, subject, target))
    if not action.is_write:
        return seen
    operator, owner = _granted(rule_for(model, action).grants, subject, target)
    owner = _and(owner, _and(_not(target.locked_q()), _not(target.maintenance_q())))
    return _and(seen, _and(_not(target.offline_q()), _or(operator, owner)))

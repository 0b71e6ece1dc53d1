"""What the policy needs to know about an object, read in one statement for one object or a page of them.

Each model the policy has rules for is a :class:`Target`: how to reach its cluster (for ``offline``), the
instance it is about (for ``adminlock`` and its node group's ``maintenance``), how a user relates to it (owns
it, asked for it), and how to name it in a refusal. :func:`read_facts` reads all of that for a set of rows in
one query; :meth:`Target.relation_q`, :meth:`Target.offline_q`, :meth:`Target.locked_q` and
:meth:`Target.maintenance_q` say the same things in SQL, for ``restrict``. The two must agree; the policy's
tests check that they do, object by object.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import BooleanField, ExpressionWrapper, F, Func, Q, Value

from fleet.access.roles import Role, Subject
from fleet.access.tags import Flag, OwnerKind, flag_tag, flags_from_tags
from fleet.inventory.models import Cluster, Instance, InstanceOwner, Network, Node, NodeGroup
from fleet.jobs.models import Job, JobStatus, JobTarget
from fleet.jobs.targets import TargetKind
from fleet.operations.models import FormerOwner, Operation, OperationKind, OperationStatus

PENDING_JOB_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.WAITING})
"""A job that has not started: Ganeti can still cancel it."""


class Relation(enum.StrEnum):
    """How a user stands to an object, besides their role and permissions."""

    OWNS = "owns"  # owns the instance, the instance a job is on, an instance on the cluster
    REQUESTED = "requested"  # asked for the job through Fleet


class HasTag(Func):
    """Whether the JSON list of tags at ``path`` holds ``tag``; false when there is no list (no row joined).

    PostgreSQL's ``?`` tests a jsonb array's elements (Django's ``contains`` on a JSONField is not available
    on SQLite, where ``json_each`` does the same).
    """

    output_field = BooleanField()

    def __init__(self, path: str, tag: str) -> None:
        super().__init__(F(path), Value(tag))

    def _compile(self, compiler: Any) -> tuple[str, str, list[Any]]:
        tags, tags_params = compiler.compile(self.source_expressions[0])
        tag, tag_params = compiler.compile(self.source_expressions[1])
        return tags, tag, [*tags_params, *tag_params]

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        tags, tag, params = self._compile(compiler)
        return f"EXISTS (SELECT 1 FROM json_each({tags}) WHERE json_each.value = {tag})", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        tags, tag, params = self._compile(compiler)
        return f"COALESCE(({tags} ? {tag}), false)", params


def _path(base: str, rest: str) -> str:
    return f"{base}__{rest}" if base else rest


def _owned(subject: Subject) -> models.QuerySet[Instance]:
    return Instance.objects.owned_by(subject.user)


def _instance_owned(subject: Subject) -> Q:
    return Q(pk__in=_owned(subject).values("pk"))


def _instance_owned_row(subject: Subject) -> models.Exists:
    """Whether the outer instance row is the subject's: the same test as ``Instance.objects.owned_by``, for
    rows already chosen (a probe of the owners index per row, not the set of everything the user owns)."""
    groups = Group.objects.filter(user__pk=subject.pk).order_by().values("name")
    mine = Q(kind=OwnerKind.USER, name=subject.user.get_username()) | Q(kind=OwnerKind.GROUP, name__in=groups)
    return models.Exists(InstanceOwner.objects.filter(mine, instance_id=models.OuterRef("pk")))


def _cluster_owned(subject: Subject) -> Q:
    return Q(pk__in=_owned(subject).values("cluster_id"))


def _job_on_owned(subject: Subject) -> Q:
    """Jobs on instances the user owns, whoever submitted them: by the job's instance, or by the names its
    opcodes give (so that a job seen before its instance was synced, or after it was destroyed, counts)."""
    owned = _owned(subject)
    on_owned = JobTarget.objects.filter(kind=TargetKind.INSTANCE).filter(
        models.Exists(owned.filter(cluster_id=models.OuterRef("cluster_id"), name=models.OuterRef("name")))
    )
    on_destroyed = JobTarget.objects.filter(kind=TargetKind.INSTANCE).filter(
        models.Exists(
            _formerly_owned(subject).filter(
                cluster_id=models.OuterRef("cluster_id"),
                instance_name=models.OuterRef("name"),
                operation__ended_at__gte=models.OuterRef("job__received_at"),
            )
        )
    )
    return (
        Q(instance_id__in=owned.values("pk"))
        | Q(pk__in=on_owned.values("job_id"))
        | Q(pk__in=on_destroyed.values("job_id"))
    )


def _formerly_owned(subject: Subject) -> models.QuerySet[FormerOwner]:
    """The owners' records of the instances destroyed through Fleet that the subject owned then: they keep
    seeing what was done to those before the end."""
    groups = Group.objects.filter(user__pk=subject.pk).order_by().values("name")
    mine = Q(kind=OwnerKind.USER, name=subject.user.get_username()) | Q(kind=OwnerKind.GROUP, name__in=groups)
    return FormerOwner.objects.filter(
        mine, operation__kind=OperationKind.DESTROY, operation__status=OperationStatus.SUCCEEDED
    )


def _requested(subject: Subject) -> Q:
    return Q(requester_id=subject.pk)


def _operation_on_owned(subject: Subject) -> Q:
    """Operations on instances the user owns, by the name the operation recorded or by the instance's row
    (renamed since), and on the instances they owned when a destroy ended them."""
    owned = _owned(subject).filter(
        cluster_id=models.OuterRef("cluster_id"), name=models.OuterRef("instance_name")
    )
    destroyed = _formerly_owned(subject).filter(
        cluster_id=models.OuterRef("cluster_id"),
        instance_name=models.OuterRef("instance_name"),
        operation__ended_at__gte=models.OuterRef("created_at"),
    )
    # by the row too: the operations of an instance renamed since, under the name it had
    renamed = Q(instance_id__in=_owned(subject).values("pk"))
    return Q(models.Exists(owned)) | renamed | Q(models.Exists(destroyed))


@dataclass(frozen=True)
class Facts:
    """One object as the rules see it."""

    label: str  # "web1.example.org", "job 7 on alpha.example.org", "cluster alpha.example.org"
    cluster: str = ""
    offline: bool = False
    relations: frozenset[Relation] = frozenset()
    instance: str = ""  # the instance the object is (or is about), for the lock's message
    locked: bool = False
    maintenance: str = ""  # the node group of the instance's primary node, when under maintenance
    pending: bool = False  # a job that has not started


@dataclass(frozen=True)
class Target:
    """How the policy reaches, from a row of ``model``, the facts its rules need.

    ``cluster`` and ``instance`` are lookup paths from the row ("" for the row itself, ``None`` if there
    is none).
    """

    model: type[models.Model]
    cluster: str | None
    instance: str | None
    label_fields: tuple[str, ...]
    label: Callable[[Mapping[str, Any]], str]
    relations: Mapping[Relation, Callable[[Subject], Q]] = field(default_factory=dict)
    has_status: bool = False
    row_tests: Mapping[Relation, Callable[[Subject], models.Expression]] = field(default_factory=dict)
    """Faster forms of ``relations`` for rows already chosen (one object, a page), where a model has one."""

    @property
    def noun(self) -> str:
        return str(self.model._meta.verbose_name)

    def relation_q(self, relation: Relation, subject: Subject) -> Q | None:
        """The rows ``subject`` stands in ``relation`` to; ``None`` if the model has no such relation."""
        make = self.relations.get(relation)
        return make(subject) if make is not None else None

    def relation_test(self, relation: Relation, subject: Subject) -> models.Expression:
        """Whether the row stands in ``relation`` to ``subject``, as a column of the facts' query."""
        test = self.row_tests.get(relation)
        if test is not None:
            return test(subject)
        return ExpressionWrapper(self.relations[relation](subject), output_field=BooleanField())

    def offline_q(self) -> Q | None:
        return None if self.cluster is None else Q(**{_path(self.cluster, "offline"): True})

    def locked_q(self) -> Q | None:
        if self.instance is None:
            return None
        return Q(HasTag(_path(self.instance, "tags"), flag_tag(Flag.ADMIN_LOCK, _prefix())))

    def maintenance_q(self) -> Q | None:
        if self.instance is None:
            return None
        tags = _path(self.instance, "primary_node__group__tags")
        return Q(HasTag(tags, flag_tag(Flag.MAINTENANCE, _prefix())))


def _prefix() -> str:
    return str(settings.FLEET_TAG_PREFIX)


TARGETS: dict[type[models.Model], Target] = {
    target.model: target
    for target in (
        Target(
            Instance,
            cluster="cluster",
            instance="",
            label_fields=("name",),
            label=lambda row: row["name"],
            relations={Relation.OWNS: _instance_owned},
            row_tests={Relation.OWNS: _instance_owned_row},
        ),
        Target(
            Job,
            cluster="cluster",
            instance="instance",
            label_fields=("job_id",),
            label=lambda row: f"job {row['job_id']} on {row['cluster__name']}",
            relations={Relation.OWNS: _job_on_owned, Relation.REQUESTED: _requested},
            has_status=True,
        ),
        Target(
            Operation,
            cluster="cluster",
            instance="instance",
            label_fields=("kind", "instance_name"),
            label=lambda row: f"the {row['kind']} of {row['instance_name'] or 'no instance'}",
            relations={Relation.OWNS: _operation_on_owned, Relation.REQUESTED: _requested},
        ),
        Target(
            Cluster,
            cluster="",
            instance=None,
            label_fields=(),
            label=lambda row: f"cluster {row['name']}",
            relations={Relation.OWNS: _cluster_owned},
        ),
        Target(
            NodeGroup,
            cluster="cluster",
            instance=None,
            label_fields=("name",),
            label=lambda row: f"node group {row['name']} of {row['cluster__name']}",
        ),
        Target(
            Node,
            cluster="cluster",
            instance=None,
            label_fields=("name",),
            label=lambda row: f"node {row['name']}",
        ),
        Target(
            Network,
            cluster="cluster",
            instance=None,
            label_fields=("name",),
            label=lambda row: f"network {row['name']} of {row['cluster__name']}",
        ),
    )
}
"""The models the policy has rules for; any other is closed to all but admins."""


def read_facts(target: Target, subject: Subject, pks: Collection[Any]) -> dict[Any, Facts]:
    """The :class:`Facts` of the rows of ``target.model`` with primary keys ``pks``, in one query.

    Rows that do not exist (any more) are missing from the answer.
    """
    fields = ["pk", *target.label_fields]
    if target.cluster is not None:
        fields += [_path(target.cluster, "name"), _path(target.cluster, "offline")]
    if target.instance is not None:
        fields += [
            _path(target.instance, "name"),
            _path(target.instance, "tags"),
            _path(target.instance, "primary_node__group__name"),
            _path(target.instance, "primary_node__group__tags"),
        ]
    if target.has_status:
        fields.append("status")
    relations: dict[str, models.Expression] = {}
    if subject.role is not Role.ADMIN:  # an admin's rights do not depend on how they stand to the row
        for relation in target.relations:
            relations[f"_rel_{relation}"] = target.relation_test(relation, subject)
    rows = (
        target.model._default_manager.filter(pk__in=list(pks))
        .order_by()
        .annotate(**relations)
        .values(*dict.fromkeys(fields), *relations)
    )
    return {row["pk"]: _facts(target, row) for row in rows}


def _facts(target: Target, row: Mapping[str, Any]) -> Facts:
    prefix = _prefix()
    instance = target.instance
    locked = False
    maintenance = ""
    if instance is not None:
        locked = Flag.ADMIN_LOCK in flags_from_tags(row[_path(instance, "tags")] or [], prefix)
        group_tags = row[_path(instance, "primary_node__group__tags")] or []
        if Flag.MAINTENANCE in flags_from_tags(group_tags, prefix):
            maintenance = row[_path(instance, "primary_node__group__name")]
    return Facts(
        label=target.label(row),
        cluster=(row[_path(target.cluster, "name")] or "") if target.cluster is not None else "",
        offline=bool(row[_path(target.cluster, "offline")]) if target.cluster is not None else False,
        relations=frozenset(r for r in target.relations if row.get(f"_rel_{r}")),
        instance=(row[_path(instance, "name")] or "") if instance is not None else "",
        locked=locked,
        maintenance=maintenance,
        pending=target.has_status and row["status"] in PENDING_JOB_STATUSES,
    )

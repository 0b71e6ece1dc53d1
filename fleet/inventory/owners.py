"""Derive the stored owners of instances from their Ganeti tags.

The tags are the truth (``fleet.access.tags`` owns their grammar); the owner tables are an index on them
that makes "instances user X may see" one query. ``sync_owners`` brings the tables in line with the tags for a
batch of instances in a few queries whatever the batch size, and reports what the tags name that Fleet
doesn't know.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from fleet.access.tags import Owners, owners_from_tags
from fleet.inventory.models import Instance, InstanceGroupOwner, InstanceUserOwner

_BATCH = 900  # stays under SQLite's bound on query parameters

T = TypeVar("T")


@dataclass(frozen=True)
class OwnerReport:
    """What ``sync_owners`` changed, and the tags it could not honour."""

    added: int
    removed: int
    unknown_users: frozenset[str]
    unknown_groups: frozenset[str]
    malformed_tags: tuple[tuple[str, str], ...]  # (instance name, tag)


def sync_owners(instances: Iterable[Instance], prefix: str | None = None) -> OwnerReport:
    """Make the owner tables of ``instances`` (saved rows) say exactly what their tags say.

    Names that match no Fleet user or group are skipped and reported: ownership is granted only to accounts
    that exist, and appears by itself at the next sync once they do.
    """
    return sync_owner_tags(
        [(i.pk, i.name, i.tags or []) for i in instances if i.pk is not None], prefix=prefix
    )


def sync_owner_tags(
    tagged: Iterable[tuple[int, str, Iterable[str]]],
    prefix: str | None = None,
    fresh: Collection[int] = frozenset(),
) -> OwnerReport:
    """:func:`sync_owners` for ``(pk, name, tags)`` of saved instances, as the sync has them at hand.

    ``fresh`` names instances known to have no owner rows yet (just created): their rows are not looked up.
    """
    prefix = prefix or settings.FLEET_TAG_PREFIX
    wanted_users: dict[int, set[str]] = {}
    wanted_groups: dict[int, set[str]] = {}
    malformed: list[tuple[str, str]] = []
    # Tags are read one at a time, each distinct tag once: the same few thousand tags name the owners of
    # tens of thousands of instances.
    parsed: dict[str, Owners] = {}
    for pk, name, tags in tagged:
        users: set[str] = set()
        groups: set[str] = set()
        wanted_users[pk], wanted_groups[pk] = users, groups
        for tag in tags:
            owners = parsed.get(tag)
            if owners is None:
                owners = parsed[tag] = owners_from_tags((tag,), prefix)
            users |= owners.users
            groups |= owners.groups
            if owners.malformed:
                malformed.append((name, tag))

    user_model = get_user_model()
    user_names = set().union(*wanted_users.values()) if wanted_users else set()
    group_names = set().union(*wanted_groups.values()) if wanted_groups else set()
    user_ids = _ids_by_name(user_model._default_manager, user_model.USERNAME_FIELD, user_names)
    group_ids = _ids_by_name(Group.objects, "name", group_names)
    known = [pk for pk in wanted_users if pk not in fresh]

    with transaction.atomic():
        added_u, removed_u = _replace(
            InstanceUserOwner,
            "user_id",
            {
                (pk, user_ids[name])
                for pk, names in wanted_users.items()
                for name in names
                if name in user_ids
            },
            known,
        )
        added_g, removed_g = _replace(
            InstanceGroupOwner,
            "group_id",
            {
                (pk, group_ids[name])
                for pk, names in wanted_groups.items()
                for name in names
                if name in group_ids
            },
            known,
        )
    return OwnerReport(
        added=added_u + added_g,
        removed=removed_u + removed_g,
        unknown_users=frozenset(user_names - user_ids.keys()),
        unknown_groups=frozenset(group_names - group_ids.keys()),
        malformed_tags=tuple(malformed),
    )


def _ids_by_name(manager: object, field: str, names: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(names)):
        rows = manager.filter(**{f"{field}__in": chunk}).values_list(field, "pk")  # type: ignore[attr-defined]
        found.update(rows)
    return found


def _replace(
    model: type[InstanceUserOwner] | type[InstanceGroupOwner],
    owner_field: str,
    wanted: set[tuple[int, int]],
    instance_ids: Sequence[int],
) -> tuple[int, int]:
    """Rewrite the owner rows of ``instance_ids`` to the ``wanted`` (instance, owner) id pairs; the instances
    of ``wanted`` not in ``instance_ids`` have no owner rows yet.

    Returns (added, removed).
    """
    existing: dict[tuple[int, int], int] = {}
    for chunk in _chunks(instance_ids):
        for pk, instance_id, owner_id in model.objects.filter(instance_id__in=chunk).values_list(
            "pk", "instance_id", owner_field
        ):
            existing[(instance_id, owner_id)] = pk
    stale = [pk for pair, pk in existing.items() if pair not in wanted]
    for chunk in _chunks(stale):
        model.objects.filter(pk__in=chunk).delete()
    new = [model(instance_id=i, **{owner_field: o}) for i, o in sorted(wanted - existing.keys())]
    model.objects.bulk_create(new, batch_size=_BATCH)
    return len(new), len(stale)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]

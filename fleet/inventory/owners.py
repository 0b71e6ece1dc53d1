"""Derive the stored owners of instances from their Ganeti tags.

The tags are the truth (``fleet.access.tags`` owns their grammar); :class:`InstanceOwner` is an index on them,
by name, that makes "instances user X may see" one query. ``sync_owners`` brings the table in line with the
tags for a batch of instances in a few queries whatever the batch size, and reports the malformed ownership
tags, and the names that no account or group has yet (they grant nothing until one is made, then at once
everything they name: the names are matched when someone asks, not when the tags are read).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model

from fleet.access.tags import OwnerKind, Owners, owners_from_tags
from fleet.inventory.models import Instance, InstanceOwner

_BATCH = 900  # stays under SQLite's bound on query parameters

T = TypeVar("T")
Owner = tuple[int, str, str]  # (instance pk, kind, name)


@dataclass(frozen=True)
class OwnerReport:
    """What ``sync_owners`` changed, and the tags that grant nothing (yet)."""

    added: int
    removed: int
    unknown_users: frozenset[str]  # named by a tag, no such account now
    unknown_groups: frozenset[str]  # named by a tag, no such group now
    malformed_tags: tuple[tuple[str, str], ...]  # (instance name, tag)


def sync_owners(instances: Iterable[Instance], prefix: str | None = None) -> OwnerReport:
    """Make the owner rows of ``instances`` (saved rows) say exactly what their tags say."""
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
    tagged = list(tagged)
    wanted, malformed = owners_of(tagged, prefix or settings.FLEET_TAG_PREFIX)
    known = [pk for pk, _, _ in tagged if pk not in fresh]
    with transaction.atomic():
        added, removed = _replace(wanted, known)
    user_names = {name for _, kind, name in wanted if kind == OwnerKind.USER}
    group_names = {name for _, kind, name in wanted if kind == OwnerKind.GROUP}
    user_model = get_user_model()
    return OwnerReport(
        added=added,
        removed=removed,
        unknown_users=frozenset(user_names - _existing(user_model, user_model.USERNAME_FIELD, user_names)),
        unknown_groups=frozenset(group_names - _existing(Group, "name", group_names)),
        malformed_tags=tuple(malformed),
    )


def owners_of(
    tagged: Iterable[tuple[int, str, Iterable[str]]], prefix: str
) -> tuple[set[Owner], list[tuple[str, str]]]:
    """The (instance pk, kind, name) owners the tags of ``tagged`` name, and the malformed tags
    (instance name, tag) in their order."""
    wanted: set[Owner] = set()
    malformed: list[tuple[str, str]] = []
    # Tags are read one at a time, each distinct tag once: the same few thousand tags name the owners of
    # tens of thousands of instances.
    parsed: dict[str, Owners] = {}
    for pk, name, tags in tagged:
        for tag in tags:
            owners = parsed.get(tag)
            if owners is None:
                owners = parsed[tag] = owners_from_tags((tag,), prefix)
            wanted.update((pk, OwnerKind.USER.value, user) for user in owners.users)
            wanted.update((pk, OwnerKind.GROUP.value, group) for group in owners.groups)
            if owners.malformed:
                malformed.append((name, tag))
    return wanted, malformed


def _existing(model: type[Model], field: str, names: set[str]) -> set[str]:
    """The ``names`` that some row of ``model`` has in ``field``."""
    found: set[str] = set()
    for chunk in _chunks(sorted(names)):
        found.update(model._default_manager.filter(**{f"{field}__in": chunk}).values_list(field, flat=True))
    return found


def _replace(wanted: set[Owner], instance_ids: Sequence[int]) -> tuple[int, int]:
    """Rewrite the owner rows of ``instance_ids`` to ``wanted``; the instances of ``wanted`` not in
    ``instance_ids`` have no owner rows yet. Returns (added, removed)."""
    existing: dict[Owner, int] = {}
    for chunk in _chunks(instance_ids):
        rows = InstanceOwner.objects.filter(instance_id__in=chunk).order_by()
        for pk, instance_id, kind, name in rows.values_list("pk", "instance_id", "kind", "name"):
            existing[(instance_id, kind, name)] = pk
    stale = [pk for owner, pk in existing.items() if owner not in wanted]
    for chunk in _chunks(stale):
        InstanceOwner.objects.filter(pk__in=chunk).delete()
    new = [
        InstanceOwner(instance_id=i, kind=kind, name=name)
        for i, kind, name in sorted(wanted - existing.keys())
    ]
    InstanceOwner.objects.bulk_create(new, batch_size=_BATCH)
    return len(new), len(stale)


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _BATCH):
        yield items[start : start + _BATCH]

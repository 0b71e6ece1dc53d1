"""The actions that are Ganeti tags: lock and unlock (``<prefix>:adminlock``), and co-owners
(``<prefix>:user:NAME``, ``<prefix>:group:NAME``), each added or removed by a tag job. The tags stay the
truth (``fleet.access.tags`` owns their grammar): once the job ends, the worker reads the instance again,
and a new co-owner sees it."""

from __future__ import annotations

from django.conf import settings

from fleet.access.policy import Action
from fleet.access.tags import (
    Flag,
    OwnerKind,
    TagError,
    flag_tag,
    flags_from_tags,
    format_owner_tag,
    max_owner_name,
    owners_from_tags,
)
from fleet.inventory.models import Instance
from fleet.operations.calls import builds
from fleet.operations.core import Caller, Invalid, record
from fleet.operations.models import Operation, OperationKind
from fleet.rapi import Call, instances

__all__ = ["add_owner", "lock", "remove_owner", "unlock"]


def lock(instance: Instance, *, by: Caller, reason: str = "") -> Operation:
    """Lock ``instance``: its owners' actions are refused until it is unlocked (an administrator's)."""
    return record(
        OperationKind.LOCK, instance, by=by, action=Action.LOCK, reason=reason, params={"tag": _lock_tag()},
        state=lambda i: f"{i.name} is locked already." if _locked(i) else "",
    )  # fmt: skip


def unlock(instance: Instance, *, by: Caller, reason: str = "") -> Operation:
    """Unlock ``instance``: its owners may act on it again."""
    return record(
        OperationKind.UNLOCK, instance, by=by, action=Action.LOCK, reason=reason, params={"tag": _lock_tag()},
        state=lambda i: "" if _locked(i) else f"{i.name} is not locked.",
    )  # fmt: skip


def add_owner(instance: Instance, *, by: Caller, kind: str, name: str, reason: str = "") -> Operation:
    """Make the user or group ``name`` an owner of ``instance`` too (it need not have a Fleet account yet)."""
    tag = _owner_tag(kind, name)
    current = _owners(instance)
    return record(
        OperationKind.OWNERS, instance, by=by, action=Action.OWNERS, reason=reason,
        params={"add": tag},
        state=lambda i: f"{name} owns {i.name} already." if (kind, name) in current else "",
    )  # fmt: skip


def remove_owner(instance: Instance, *, by: Caller, kind: str, name: str, reason: str = "") -> Operation:
    """Remove the user or group ``name`` from the owners of ``instance``; its last owner stays."""
    tag = _owner_tag(kind, name)
    current = _owners(instance)

    def state(i: Instance) -> str:
        if (kind, name) not in current:
            return f"{name} does not own {i.name}."
        if current == {(kind, name)}:
            return f"{name} is the only owner of {i.name}: add another first."
        return ""

    return record(
        OperationKind.OWNERS, instance, by=by, action=Action.OWNERS, reason=reason, params={"remove": tag},
        state=state,
    )  # fmt: skip


def _prefix() -> str:
    return str(settings.FLEET_TAG_PREFIX)


def _lock_tag() -> str:
    return flag_tag(Flag.ADMIN_LOCK, _prefix())


def _locked(instance: Instance) -> bool:
    return Flag.ADMIN_LOCK in flags_from_tags(instance.tags or [], _prefix())


def _owner_tag(kind: str, name: str) -> str:
    if kind not in (OwnerKind.USER, OwnerKind.GROUP):
        raise Invalid({"kind": "user or group"})
    if len(name) > max_owner_name(_prefix()):
        raise Invalid({"name": f"at most {max_owner_name(_prefix())} characters"})
    try:
        return format_owner_tag(kind, name, _prefix())
    except TagError as exc:
        raise Invalid({"name": str(exc)}) from None


def _owners(instance: Instance) -> set[tuple[str, str]]:
    owners = owners_from_tags(instance.tags or [], _prefix())
    return {(OwnerKind.USER, n) for n in owners.users} | {(OwnerKind.GROUP, n) for n in owners.groups}


@builds(OperationKind.LOCK)
def _lock_call(operation: Operation, reason: str) -> Call[int]:
    return instances.add_tags(operation.instance_name, [operation.params["tag"]], reason=reason)


@builds(OperationKind.UNLOCK)
def _unlock_call(operation: Operation, reason: str) -> Call[int]:
    return instances.delete_tags(operation.instance_name, [operation.params["tag"]], reason=reason)


@builds(OperationKind.OWNERS)
def _owners_call(operation: Operation, reason: str) -> Call[int]:
    if "add" in operation.params:
        return instances.add_tags(operation.instance_name, [operation.params["add"]], reason=reason)
    return instances.delete_tags(operation.instance_name, [operation.params["remove"]], reason=reason)

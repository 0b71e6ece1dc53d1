"""Isolation: cut an instance off the network but for a few "allow from" ranges, and reconnect it.

The tags are the truth, as in ganetimgr: ``<prefix>:isolate`` marks the instance, and each
``<prefix>:whitelist_ip:<network>`` is an exception (``fleet.access.tags`` owns the grammar and the widest
range allowed). Fleet enforces nothing on the wire itself: the script each node runs when an instance's NIC
comes up (``deploy/ganeti/kvm-vif-bridge``) reads the tags Ganeti hands it and writes the node's nftables
rules. A running instance gets the new rules when its NICs come up again: at its next start or reboot, or at
once by a live migration, as ganetimgr does (``docs/operations.md``).

So each operation here is a plan of jobs (:func:`plan`): the tag job that adds (isolate: the flag and the
ranges), the one that removes (de-isolate: the flag and every range), as the change asks, then, for a running
instance that can move while it runs, a live migration that re-applies the rules at once. The migration is
part of the isolation: holders of ``access.isolate_instance`` need not hold ``access.migrate_instance``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings

from fleet.access.policy import Action
from fleet.access.tags import (
    MAX_ALLOW_FROM,
    Flag,
    TagError,
    allow_from_from_tags,
    allow_from_tag_of,
    flag_tag,
    flags_from_tags,
    format_allow_from_tag,
    parse_allow_from,
)
from fleet.inventory.models import Instance, InstanceStatus, Nic, NicMode
from fleet.operations.calls import Builder, plans
from fleet.operations.core import Caller, Invalid, record
from fleet.operations.models import Operation, OperationKind
from fleet.operations.power import MOVABLE
from fleet.rapi import Call, instances

__all__ = ["change_allow_from", "deisolate", "isolate", "plan"]


def isolate(
    instance: Instance,
    *,
    by: Caller,
    reason: str = "",
    allow_from: Iterable[str] = (),
    migrate: bool = True,
) -> Operation:
    """Isolate ``instance``: only the ``allow_from`` ranges (each at most a /26 or a /64) reach it, and it
    reaches nothing else. Ranges already on it stay. ``migrate``: live-migrate it after, if it runs and can
    move, so that its node applies the rules at once."""
    ranges = _ranges(allow_from, "allow_from")
    tags = _tags_of(instance)
    new = [tag for network, tag in ranges if allow_from_tag_of(tags, network, _prefix()) is None]
    params: dict[str, Any] = {"allow_from": [n for n, _ in ranges], "add": [_isolate_tag(), *new]}
    params.update(_migrating(instance, migrate))
    return record(
        OperationKind.ISOLATE, instance, by=by, action=Action.ISOLATE, reason=reason, params=params,
        state=lambda i: _isolatable(i) or _too_many(i, len(new)),
    )  # fmt: skip


def deisolate(instance: Instance, *, by: Caller, reason: str = "", migrate: bool = True) -> Operation:
    """Reconnect ``instance``: the isolation flag and every allow-from range are removed (``migrate``: as
    for :func:`isolate`)."""
    tags = _tags_of(instance)
    current = allow_from_from_tags(tags, _prefix())
    ranges = [allow_from_tag_of(tags, n, _prefix()) for n in current.networks]
    params: dict[str, Any] = {"remove": [_isolate_tag(), *(t for t in ranges if t), *current.malformed]}
    params.update(_migrating(instance, migrate))
    return record(
        OperationKind.DEISOLATE, instance, by=by, action=Action.ISOLATE, reason=reason, params=params,
        state=lambda i: "" if _isolated(i) else f"{i.name} is not isolated.",
    )  # fmt: skip


def change_allow_from(
    instance: Instance,
    *,
    by: Caller,
    reason: str = "",
    add: Iterable[str] = (),
    remove: Iterable[str] = (),
    migrate: bool = True,
) -> Operation:
    """Add ranges to, and remove ranges from, the allow-from list of the isolated ``instance`` (recorded as
    an isolate of an isolated instance; ``migrate``: as for :func:`isolate`)."""
    adding, removing = _ranges(add, "add"), _ranges(remove, "remove")
    tags = _tags_of(instance)
    found = [allow_from_tag_of(tags, network, _prefix()) for network, _ in removing]
    params: dict[str, Any] = {"allow_from": [n for n, _ in adding], "add": [t for _, t in adding]}
    params.update({"allow_from_removed": [n for n, _ in removing], "remove": [t for t in found if t]})
    params = {key: value for key, value in params.items() if value}
    params.update(_migrating(instance, migrate))

    def state(i: Instance) -> str:
        if not _isolated(i):
            return f"{i.name} is not isolated: isolate it with its allow-from ranges."
        if not adding and not removing:
            return f"Nothing to change on {i.name}: give ranges to add or to remove."
        both = sorted({n for n, _ in adding} & {n for n, _ in removing})
        if both:
            return f"{', '.join(both)}: asked to be both added and removed on {i.name}."
        too_many = _too_many(i, len(adding) - len(removing))
        if too_many:
            return too_many
        here = set(allow_from_from_tags(_tags_of(i), _prefix()).networks)
        there = [n for n, _ in adding if n in here]
        if there:
            return f"{', '.join(there)}: already allowed on {i.name}."
        missing = [n for n, _ in removing if n not in here]
        if missing:
            return f"{', '.join(missing)}: not in the allow-from list of {i.name}."
        return ""

    return record(
        OperationKind.ISOLATE, instance, by=by, action=Action.ISOLATE, reason=reason, params=params,
        state=state,
    )  # fmt: skip


@plans(OperationKind.ISOLATE)
@plans(OperationKind.DEISOLATE)
def plan(operation: Operation) -> tuple[Builder, ...]:
    """The jobs of an isolation operation, in order: the tags it adds, those it removes, then the live
    migration that re-applies the node's rules on a running instance."""
    steps = {"add": _add_call, "remove": _remove_call, "migrate": _migrate_call}
    return tuple(builder for key, builder in steps.items() if operation.params.get(key))


def _add_call(operation: Operation, reason: str) -> Call[int]:
    return instances.add_tags(operation.instance_name, operation.params["add"], reason=reason)


def _remove_call(operation: Operation, reason: str) -> Call[int]:
    return instances.delete_tags(operation.instance_name, operation.params["remove"], reason=reason)


def _migrate_call(operation: Operation, reason: str) -> Call[int]:
    return instances.migrate(operation.instance_name, mode=operation.params["migrate"], reason=reason)


# Helpers ----------------------------------------------------------------------------------------------------


def _prefix() -> str:
    return str(settings.FLEET_TAG_PREFIX)


def _tags_of(instance: Instance) -> list[str]:
    return list(instance.tags or [])


def _isolate_tag() -> str:
    return flag_tag(Flag.ISOLATED, _prefix())


def _isolated(instance: Instance) -> bool:
    return Flag.ISOLATED in flags_from_tags(_tags_of(instance), _prefix())


def _isolatable(instance: Instance) -> str:
    if _isolated(instance):
        return f"{instance.name} is isolated already: change its allow-from list instead."
    switched = list(
        Nic.objects.filter(instance=instance, mode=NicMode.OPENVSWITCH).values_list("index", flat=True)
    )
    if switched:  # its traffic bypasses netfilter: the nodes would refuse to start the isolated instance
        nics = ", ".join(str(index) for index in switched)
        return f"{instance.name} has Open vSwitch NICs ({nics}), which the nodes cannot isolate."
    return ""


def _ranges(given: Iterable[str] | str, field: str) -> list[tuple[str, str]]:
    """(canonical network, its tag) for each range given, without repeats; :class:`Invalid` naming
    ``field`` and the range at fault."""
    if isinstance(given, str):  # one range, or several separated by commas or spaces (a form's field)
        given = given.replace(",", " ").split()
    ranges: dict[str, str] = {}
    for text in given:
        try:
            network = parse_allow_from(text)
            ranges.setdefault(network, format_allow_from_tag(network, _prefix()))
        except TagError as exc:
            raise Invalid({field: str(exc)}) from None
        if len(ranges) > MAX_ALLOW_FROM:
            raise Invalid({field: f"at most {MAX_ALLOW_FROM} ranges"})
    return list(ranges.items())


def _migrating(instance: Instance, migrate: bool) -> dict[str, str]:
    """The parameter that ends the operation with a live migration: asked for, and the instance runs on a
    disk template that can move while it runs (as the read model has it)."""
    if not isinstance(migrate, bool):
        raise Invalid({"migrate": "true or false"})
    movable = not instance.disk_template or instance.disk_template in MOVABLE
    if migrate and instance.status == InstanceStatus.RUNNING and movable:
        return {"migrate": "live"}
    return {}


def _too_many(instance: Instance, adding: int) -> str:
    have = len(allow_from_from_tags(_tags_of(instance), _prefix()).networks)
    if have + adding > MAX_ALLOW_FROM:
        return f"{instance.name} would have more than {MAX_ALLOW_FROM} allow-from ranges (it has {have})."
    return ""

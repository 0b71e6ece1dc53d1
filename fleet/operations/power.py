"""Power and placement: start, shut down, reboot (owners); migrate and fail over (admins).

An instance marked as needing a reboot (``<prefix>:needsreboot``: its configuration changed while it ran)
runs its configuration again after a start, a hard or full reboot, or a failover (each starts a new
hypervisor process), so those operations remove the mark with a second job once the first succeeded. A soft
reboot and a live migration keep the process, and the mark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, get_args

from django.conf import settings

from fleet.access.policy import Action
from fleet.access.tags import Flag, flag_tag, flags_from_tags
from fleet.inventory.models import DiskTemplate, Instance, InstanceStatus
from fleet.operations.calls import Builder, builds, plans
from fleet.operations.core import Caller, Invalid, record
from fleet.operations.models import Operation, OperationKind
from fleet.rapi import Call, instances

__all__ = ["failover", "migrate", "reboot", "shutdown", "start"]

RebootKind = Literal["soft", "hard", "full"]
REBOOT_KINDS: tuple[str, ...] = get_args(RebootKind)
MAX_SHUTDOWN_TIMEOUT = 3600  # seconds; Ganeti's default is 120
MOVABLE = frozenset(
    {DiskTemplate.DRBD, DiskTemplate.SHAREDFILE, DiskTemplate.BLOCKDEV, DiskTemplate.RBD, DiskTemplate.EXT}
    | {DiskTemplate.GLUSTER, DiskTemplate.DISKLESS}
)
"""Disk templates whose instances can run on another node: mirrored (DRBD) or on shared storage."""


def start(instance: Instance, *, by: Caller, reason: str = "") -> Operation:
    """Start ``instance`` (and mark it up, so that Ganeti's watcher restarts it after a crash)."""
    return record(
        OperationKind.START,
        instance,
        by=by,
        action=Action.POWER,
        params=_unmarking(instance),
        reason=reason,
        state=_startable,
    )


def shutdown(instance: Instance, *, by: Caller, reason: str = "", timeout: int | None = None) -> Operation:
    """Shut ``instance`` down: ACPI first, a hard stop after ``timeout`` seconds (Ganeti's default: 120)."""
    if timeout is not None and not (
        isinstance(timeout, int) and not isinstance(timeout, bool) and 0 <= timeout <= MAX_SHUTDOWN_TIMEOUT
    ):
        raise Invalid({"timeout": f"a whole number of seconds from 0 to {MAX_SHUTDOWN_TIMEOUT}"})
    params = {} if timeout is None else {"timeout": timeout}
    return record(
        OperationKind.SHUTDOWN,
        instance,
        by=by,
        action=Action.POWER,
        params=params,
        reason=reason,
        state=_stoppable,
    )


def reboot(instance: Instance, *, by: Caller, reason: str = "", kind: str = "soft") -> Operation:
    """Reboot ``instance``: ``soft`` (inside the guest), ``hard`` (the hypervisor restarts it) or ``full``
    (a shutdown and a start)."""
    if kind not in REBOOT_KINDS:
        raise Invalid({"kind": f"one of {', '.join(REBOOT_KINDS)}"})
    return record(
        OperationKind.REBOOT,
        instance,
        by=by,
        action=Action.POWER,
        params={"type": kind, **(_unmarking(instance) if kind != "soft" else {})},
        reason=reason,
        state=_rebootable,
    )


def migrate(instance: Instance, *, by: Caller, reason: str = "", live: bool = True) -> Operation:
    """Move the running ``instance`` to its secondary node while it runs."""
    params = {"mode": "live" if live else "non-live"}
    return record(
        OperationKind.MIGRATE,
        instance,
        by=by,
        action=Action.MIGRATE,
        params=params,
        reason=reason,
        state=_migratable,
    )


def failover(instance: Instance, *, by: Caller, reason: str = "") -> Operation:
    """Stop ``instance``, make its secondary node the primary, and start it there."""
    return record(
        OperationKind.FAILOVER,
        instance,
        by=by,
        action=Action.MIGRATE,
        params=_unmarking(instance),
        reason=reason,
        state=_movable,
    )


def _unmarking(instance: Instance) -> dict[str, Any]:
    """The parameter that makes an operation remove the needs-reboot mark after its job, when it is set."""
    prefix = str(settings.FLEET_TAG_PREFIX)
    if Flag.NEEDS_REBOOT in flags_from_tags(instance.tags or [], prefix):
        return {"unmark": flag_tag(Flag.NEEDS_REBOOT, prefix)}
    return {}


# Why the instance's state refuses the action, as the read model has it ------------------------------------


def _startable(instance: Instance) -> str:
    return f"{instance.name} is already running." if instance.status == InstanceStatus.RUNNING else ""


def _stoppable(instance: Instance) -> str:
    if instance.status in (InstanceStatus.ADMIN_DOWN, InstanceStatus.ADMIN_OFFLINE):
        return f"{instance.name} is already stopped."
    return ""


def _rebootable(instance: Instance) -> str:
    if instance.status in (InstanceStatus.ADMIN_DOWN, InstanceStatus.ADMIN_OFFLINE):
        return f"{instance.name} is stopped: start it instead."
    return ""


def _movable(instance: Instance) -> str:
    if instance.disk_template and instance.disk_template not in MOVABLE:
        return f"{instance.name} has {instance.get_disk_template_display()} disks, which stay on their node."
    return ""


def _migratable(instance: Instance) -> str:
    if instance.status != InstanceStatus.RUNNING:
        return f"{instance.name} is not running: fail it over instead."
    return _movable(instance)


# What each sends ------------------------------------------------------------------------------------------


def _then_unmark(builder: Builder) -> Callable[[Operation], tuple[Builder, ...]]:
    """The plan of an operation that may remove the needs-reboot mark: its job, then the tag job."""
    return lambda operation: (builder, _unmark_call) if "unmark" in operation.params else (builder,)


def _unmark_call(operation: Operation, reason: str) -> Call[int]:
    return instances.delete_tags(operation.instance_name, [operation.params["unmark"]], reason=reason)


def _start_call(operation: Operation, reason: str) -> Call[int]:
    return instances.startup(operation.instance_name, reason=reason)


@builds(OperationKind.SHUTDOWN)
def _shutdown_call(operation: Operation, reason: str) -> Call[int]:
    return instances.shutdown(operation.instance_name, timeout=operation.params.get("timeout"), reason=reason)


def _reboot_call(operation: Operation, reason: str) -> Call[int]:
    return instances.reboot(operation.instance_name, type=operation.params["type"], reason=reason)


@builds(OperationKind.MIGRATE)
def _migrate_call(operation: Operation, reason: str) -> Call[int]:
    return instances.migrate(operation.instance_name, mode=operation.params.get("mode"), reason=reason)


def _failover_call(operation: Operation, reason: str) -> Call[int]:
    return instances.failover(operation.instance_name, reason=reason)


plans(OperationKind.START)(_then_unmark(_start_call))
plans(OperationKind.REBOOT)(_then_unmark(_reboot_call))
plans(OperationKind.FAILOVER)(_then_unmark(_failover_call))

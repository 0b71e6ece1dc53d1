"""Reinstall, rename and destroy (owners, unless locked): the actions that cannot be undone, each confirmed
before it is due (``fleet.operations.confirmation``).

What is sent follows what Ganeti 3.0.2 does (docs/ganeti-actions.md):

- a reinstall gives the instance exactly the ``osparams`` of its body, so keeping the instance's own
  parameters means sending them (read from the read model when the request is made, and kept in the
  operation's parameters, so that what is sent is what was confirmed); clearing them means sending none, or
  only the new ones. A reinstall to an OS of another name than the current one (``image`` to
  ``debootstrap``) with the parameters cleared first removes them with a modify (``{K: "default"}``), since
  Ganeti checks the new OS against the old parameters and would fail, leaving the instance stopped: two
  jobs, the reinstall sent once the modify succeeded;
- a rename is sent without Ganeti's name and IP checks (the new name need not resolve yet): Fleet checks
  what Ganeti's rename checks that can be known beforehand, in its order: a host name (Ganeti's rules), not
  an instance of the cluster already, and a stopped instance;
- a destroy removes the instance and its disks. The operation and its job keep the instance's name, so
  that the record stays after the row is gone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from fleet.access.policy import Action
from fleet.inventory.models import AdminState, DiskTemplate, Instance, InstanceStatus
from fleet.operations.calls import Builder, builds, plans, unmarked
from fleet.operations.confirmation import CHECKS, Checks, ask
from fleet.operations.core import Caller, Invalid
from fleet.operations.models import FormerOwner, Operation, OperationKind
from fleet.rapi import Call, instances

__all__ = ["destroy", "reinstall", "rename"]

MAX_OSPARAMS = 32
MAX_OSPARAM_VALUE = 1024
_PARAM_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_HOST_NAME = re.compile(r"[a-z0-9._-]{1,255}")  # Ganeti's utils.hostname.Hostname._VALID_NAME_RE
VALUE_DEFAULT = "default"  # Ganeti's "remove this key" in a modify; a reinstall would store it as is


def reinstall(
    instance: Instance,
    *,
    by: Caller,
    os: str,
    clear_osparams: bool = False,
    osparams: Mapping[str, Any] | None = None,
    start: bool = True,
    reason: str = "",
    confirm: str | None = None,
) -> Operation:
    """Reinstall ``instance`` with the OS ``os`` (one the cluster offers), its disks overwritten; its own
    OS parameters kept, or cleared with ``clear_osparams``; ``osparams`` set besides (a value ``default``
    removes one, as in Ganeti's modify); started again unless ``start`` is false."""
    if not isinstance(os, str) or not os.strip():
        raise Invalid({"os": "choose the OS to install"})
    os_name = os
    given = _osparams(osparams)
    if not isinstance(clear_osparams, bool):
        raise Invalid({"clear_osparams": "true or false"})
    if not isinstance(start, bool):
        raise Invalid({"start": "true or false"})
    current = dict(instance.osparams or {})
    params: dict[str, Any] = {"os": os_name, "start": start, "clear": clear_osparams}
    kept = {} if clear_osparams else current
    params["osparams"] = {k: v for k, v in {**kept, **given}.items() if v != VALUE_DEFAULT}
    if clear_osparams and current and _base(os_name) != _base(instance.os):
        params["clear_first"] = sorted(current)
    return ask(OperationKind.REINSTALL, instance, by=by, params=params, reason=reason, confirm=confirm)


def rename(
    instance: Instance, *, by: Caller, new_name: str, reason: str = "", confirm: str | None = None
) -> Operation:
    """Rename the stopped ``instance`` to ``new_name``, a host name no instance of its cluster has."""
    name = _host_name(new_name)
    return ask(
        OperationKind.RENAME, instance, by=by, params={"new_name": name}, reason=reason, confirm=confirm
    )


def destroy(instance: Instance, *, by: Caller, reason: str = "", confirm: str | None = None) -> Operation:
    """Destroy ``instance`` and its disks. Its owners, under every name Fleet knew it by, are kept with the
    operation: once it succeeded, they still see what was done to the instance."""
    operation = ask(OperationKind.DESTROY, instance, by=by, params={}, reason=reason, confirm=confirm)
    if not FormerOwner.objects.filter(operation=operation).exists():
        FormerOwner.objects.bulk_create(
            FormerOwner(operation=operation, cluster_id=instance.cluster_id, instance_name=name, kind=kind,
                        name=owner)
            for name in _names_of(instance)
            for kind, owner in instance.owners.values_list("kind", "name")
        )  # fmt: skip
    return operation


def _names_of(instance: Instance) -> set[str]:
    """The names Fleet knew ``instance`` by: its own, and those of its operations (by its Ganeti uuid)."""
    names = {instance.name}
    if instance.uuid:
        done = Operation.objects.filter(cluster_id=instance.cluster_id, instance_uuid=instance.uuid)
        names.update(done.values_list("instance_name", flat=True))
        renames = done.filter(kind=OperationKind.RENAME).values_list("params", flat=True)
        names.update(p["new_name"] for p in renames if isinstance(p, dict) and p.get("new_name"))
    return names - {""}


# Parameters -------------------------------------------------------------------------------------------------


def _base(os_name: str) -> str:
    """The OS of ``name+variant``: the scripts that declare the parameters (variants share them)."""
    return os_name.partition("+")[0]


def _not_offered(instance: Instance, os: str) -> str:
    offered = list(instance.cluster.os_names or [])
    if os in offered:
        return ""
    listed = ", ".join(offered) or "none yet (the cluster has not been read)"
    return f"{os} is not an OS cluster {instance.cluster.name} offers; it offers {listed}."


def _osparams(given: Mapping[str, Any] | None) -> dict[str, str]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise Invalid({"osparams": "a mapping of parameter names to values"})
    if len(given) > MAX_OSPARAMS:
        raise Invalid({"osparams": f"at most {MAX_OSPARAMS} parameters"})
    checked: dict[str, str] = {}
    for key, value in given.items():
        if not isinstance(key, str) or not _PARAM_NAME.fullmatch(key):
            raise Invalid({"osparams": f"{str(key)[:70]!r} is not a parameter name (letters, digits, _ . -)"})
        if not isinstance(value, str) or len(value) > MAX_OSPARAM_VALUE:
            raise Invalid({"osparams": f"{key}: a text of at most {MAX_OSPARAM_VALUE} characters"})
        if not (value.isascii() and value.isprintable()):
            raise Invalid({"osparams": f"{key}: printable ASCII only (Ganeti refuses other characters)"})
        checked[key] = value  # "default" removes the key (see reinstall): never sent, Ganeti would store it
    return checked


def _host_name(value: Any) -> str:
    """``value`` as Ganeti's ``Hostname.GetNormalizedName`` makes it (lower case, no final dot), or
    :class:`Invalid` where it refuses it."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid({"new_name": "give the new name"})
    name = value.strip().lower()
    if not _HOST_NAME.fullmatch(name) or ".." in name or name.startswith("."):
        raise Invalid({"new_name": f"Invalid hostname '{value[:255]}': letters, digits, '.', '_' and '-'"})
    return name.rstrip(".")


# The instance's state, as the last sync saw it ------------------------------------------------------------


def _reinstallable(instance: Instance, params: Mapping[str, Any]) -> str:
    if instance.disk_template == DiskTemplate.DISKLESS or not instance.disk_sizes:
        return f"Instance '{instance.name}' has no disks: there is nothing to reinstall."
    return _not_offered(instance, params["os"])


MARKED_UP = frozenset(
    {InstanceStatus.RUNNING, InstanceStatus.USER_DOWN, InstanceStatus.ERROR_DOWN}
    | {InstanceStatus.ERROR_WRONGNODE, InstanceStatus.ERROR_NODEDOWN, InstanceStatus.ERROR_NODEOFFLINE}
)
"""Ganeti's statuses of an instance whose admin state is up."""


def _renamable(instance: Instance, params: Mapping[str, Any]) -> str:
    """Ganeti's order: an existing name first (even for a running instance), then the state."""
    name = params["new_name"]
    if name == instance.name:
        return f"{name} is its name already."
    if Instance.objects.filter(cluster_id=instance.cluster_id, name=name).exists():
        return f"Instance '{name}' is already in the cluster."
    if instance.admin_state == AdminState.UP or instance.status in MARKED_UP:
        return f"Instance '{instance.name}' is marked to be up, cannot rename: shut it down first."
    return ""


CHECKS[OperationKind.REINSTALL] = Checks(Action.REINSTALL, _reinstallable)
CHECKS[OperationKind.RENAME] = Checks(Action.RENAME, _renamable)
CHECKS[OperationKind.DESTROY] = Checks(Action.DESTROY)


# What each sends ------------------------------------------------------------------------------------------


def _clear_call(operation: Operation, reason: str) -> Call[int]:
    defaults = dict.fromkeys(operation.params["clear_first"], VALUE_DEFAULT)
    return instances.modify(operation.instance_name, osparams=defaults, reason=reason)


def _reinstall_call(operation: Operation, reason: str) -> Call[int]:
    p = operation.params
    return instances.reinstall(
        operation.instance_name, os=p["os"], start=p["start"], osparams=p["osparams"] or None, reason=reason
    )


@plans(OperationKind.REINSTALL)
def _reinstall_plan(operation: Operation) -> tuple[Builder, ...]:
    if operation.params.get("clear_first"):
        return (_clear_call, _reinstall_call)
    return (_reinstall_call,)


@unmarked(OperationKind.REINSTALL)
def _is_reinstall_job(operation: Operation, ops: Sequence[Mapping[str, Any]]) -> bool:
    """A reinstall job carries no reason trail: it is this operation's when it reinstalls this instance with
    this OS, and the operation is at its reinstall (its last step)."""
    if operation.step != len(_reinstall_plan(operation)) - 1 or len(ops) < 2:
        return False
    op = ops[1]
    return (op.get("OP_ID"), op.get("instance_name"), op.get("os_type")) == (
        "OP_INSTANCE_REINSTALL",
        operation.instance_name,
        operation.params["os"],
    )


@builds(OperationKind.RENAME)
def _rename_call(operation: Operation, reason: str) -> Call[int]:
    new_name = operation.params["new_name"]
    return instances.rename(
        operation.instance_name, new_name, name_check=False, ip_check=False, reason=reason
    )


@builds(OperationKind.DESTROY)
def _destroy_call(operation: Operation, reason: str) -> Call[int]:
    return instances.delete(operation.instance_name, reason=reason)

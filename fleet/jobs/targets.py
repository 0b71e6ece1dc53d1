"""What a Ganeti job acts on, read from its opcodes: the one owner of that grammar.

Every change to a Ganeti object goes through a job, and each opcode names its objects in its parameters
(``instance_name``, ``node_name``, ``group_name``, ``network_name``, the nodes an instance is placed on, the
``kind``/``name`` of a tag opcode...). :func:`targets` turns a job's opcodes, as RAPI lists them in a job's
``ops``, into ``(kind, name)`` pairs, so that a job started anywhere (a ``gnt-*`` command, the watcher,
another tool) is tied to its instances, nodes, groups and networks, and shown to their owners. Opcodes
Fleet does not know still yield what their parameters name; nothing here raises on data from a cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models

__all__ = ["EVERYTHING", "TargetKind", "changed", "instance_names", "targets"]


class TargetKind(models.TextChoices):
    """The kinds of Ganeti object a job can act on."""

    CLUSTER = "cluster", "Cluster"
    INSTANCE = "instance", "Instance"
    NODE = "node", "Node"
    GROUP = "group", "Node group"
    NETWORK = "network", "Network"


Target = tuple[str, str]  # (TargetKind, name); the cluster's own target has the name ""

_KEYS: tuple[tuple[str, TargetKind], ...] = (
    ("instance_name", TargetKind.INSTANCE),
    ("node_name", TargetKind.NODE),
    ("pnode", TargetKind.NODE),
    ("snode", TargetKind.NODE),
    ("target_node", TargetKind.NODE),
    ("remote_node", TargetKind.NODE),
    ("group_name", TargetKind.GROUP),
    ("target_group", TargetKind.GROUP),
    ("network_name", TargetKind.NETWORK),
)
# Renames put the new name in ``new_name``; whose it is follows from the opcode.
_RENAMED: tuple[tuple[str, TargetKind], ...] = (
    ("OP_INSTANCE_", TargetKind.INSTANCE),
    ("OP_GROUP_", TargetKind.GROUP),
    ("OP_NETWORK_", TargetKind.NETWORK),
)
# OP_TAGS_* name their object by ``kind`` and ``name``, in Ganeti's words for the kinds.
_TAG_KINDS = {
    "instance": TargetKind.INSTANCE,
    "node": TargetKind.NODE,
    "nodegroup": TargetKind.GROUP,
    "network": TargetKind.NETWORK,
    "cluster": TargetKind.CLUSTER,
}


def targets(ops: Iterable[Any]) -> set[Target]:
    """Every ``(kind, name)`` the opcodes name; ``(cluster, "")`` for those that act on the cluster."""
    found: set[Target] = set()
    for op in ops:
        if not isinstance(op, Mapping):
            continue
        op_id = str(op.get("OP_ID") or "")
        if op_id.startswith("OP_CLUSTER_"):
            found.add((TargetKind.CLUSTER, ""))
        for key, kind in _KEYS:
            _add(found, kind, op.get(key))
        for prefix, kind in _RENAMED:
            if op_id.startswith(prefix):
                _add(found, kind, op.get("new_name"))
        if op_id.startswith("OP_TAGS_"):
            kind = _TAG_KINDS.get(str(op.get("kind") or ""))
            if kind is TargetKind.CLUSTER:
                found.add((kind, ""))
            elif kind is not None:
                _add(found, kind, op.get("name"))
        if op_id == "OP_INSTANCE_MULTI_ALLOC":
            for instance in op.get("instances") or ():
                if isinstance(instance, Mapping):
                    _add(found, TargetKind.INSTANCE, instance.get("instance_name"))
                    _add(found, TargetKind.NODE, instance.get("pnode"))
                    _add(found, TargetKind.NODE, instance.get("snode"))
    return found


def instance_names(found: Iterable[Target]) -> frozenset[str]:
    """The instance names among ``found``."""
    return frozenset(name for kind, name in found if kind == TargetKind.INSTANCE)


EVERYTHING = None
"""What :func:`changed` says of a job that may have changed more than the instances it names."""

# Opcodes that only read (verify, query, diagnose, test): they change no object.
_READING = ("VERIFY", "QUERY", "DIAGNOSE", "OP_TEST_")


def changed(ops: Iterable[Any], instance_name: str | None = None) -> frozenset[str] | None:
    """The instances a job may have changed, or :data:`EVERYTHING`.

    A job of instance opcodes (and instance tags) changes the instances it names, and reading those again
    shows all it did; node, group, network and cluster opcodes change what a read of a few instances does
    not show (roles, the state of every instance on a node...), so they change EVERYTHING. Opcodes that only
    read change nothing. ``instance_name`` is the instance the job was submitted for, when known.
    """
    names: set[str] = {instance_name} if instance_name else set()
    writing = False
    for op in ops:
        op_id = str(op.get("OP_ID") or "") if isinstance(op, Mapping) else ""
        if any(word in op_id for word in _READING):
            continue
        writing = True
        if op_id.startswith("OP_TAGS_") and op.get("kind") == "instance":
            _add_name(names, op.get("name"))
        elif op_id.startswith("OP_INSTANCE_"):
            names |= instance_names(targets([op]))
        else:
            return EVERYTHING
    if not writing:
        return frozenset(names)
    return frozenset(names) if names else EVERYTHING


def _add_name(names: set[str], value: object) -> None:
    if isinstance(value, str) and value:
        names.add(value)


def _add(found: set[Target], kind: TargetKind, value: object) -> None:
    if isinstance(value, str) and value:
        found.add((kind, value))

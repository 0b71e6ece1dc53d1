"""What each opcode does to the cluster state: the registry of effects, durations, summaries and lookups.

An effect raises `OpError` (Ganeti's error class, message and ecode) when Ganeti's prerequisites would fail.
The effects live by domain: `effects_instance.py` (instance lifecycle: create, remove, start, stop,
move, rename), `effects_disks.py` (disks, modify, data queries, exports), `effects_nodes.py` (nodes and the
jobs they spawn), `effects_config.py` (groups, networks, tags, the cluster). `allocator.py` chooses nodes as
hail would, and `locks.py` says which locks an opcode holds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleet.simulator.state import Cluster

EFFECT_MODULES = (
    "effects_instance",
    "effects_disks",
    "effects_modify",
    "effects_query_data",
    "effects_nodes",
    "effects_node_roles",
    "effects_config",
)

DURATIONS = {
    "OP_INSTANCE_CREATE": 90,
    "OP_INSTANCE_REMOVE": 15,
    "OP_INSTANCE_STARTUP": 8,
    "OP_INSTANCE_SHUTDOWN": 12,
    "OP_INSTANCE_REBOOT": 20,
    "OP_INSTANCE_REINSTALL": 60,
    "OP_INSTANCE_MIGRATE": 30,
    "OP_INSTANCE_FAILOVER": 25,
    "OP_INSTANCE_RENAME": 6,
    "OP_INSTANCE_SET_PARAMS": 5,
    "OP_INSTANCE_GROW_DISK": 20,
    "OP_INSTANCE_REPLACE_DISKS": 120,
    "OP_INSTANCE_RECREATE_DISKS": 60,
    "OP_INSTANCE_ACTIVATE_DISKS": 5,
    "OP_INSTANCE_DEACTIVATE_DISKS": 5,
    "OP_INSTANCE_QUERY_DATA": 1,
    "OP_BACKUP_PREPARE": 2,
    "OP_BACKUP_EXPORT": 120,
    "OP_NODE_POWERCYCLE": 30,
    "OP_INSTANCE_MULTI_ALLOC": 3,
}
DEFAULT_DURATION = 2.0


class OpError(Exception):
    """An opcode failure, as Ganeti reports it in `opresult`: [cls, [message, ecode]]."""

    def __init__(self, cls: str, message: str, ecode: str | None = "wrong_input") -> None:
        super().__init__(message)
        self.cls, self.message, self.ecode = cls, message, ecode


@dataclass
class Context:
    """What an effect may use: the cluster, job submission (for child jobs) and the opcode's log."""

    cluster: Cluster
    submit: Callable[[list[dict[str, Any]]], int]
    log: Callable[[str], None]


Effect = Callable[[Context, dict[str, Any]], Any]
EFFECTS: dict[str, Effect] = {}


def effect(op_id: str) -> Callable[[Effect], Effect]:
    """Register the effect of an opcode."""

    def register(fn: Effect) -> Effect:
        EFFECTS[op_id] = fn
        return fn

    return register


def summary(op: dict[str, Any]) -> str:
    """The job summary of an opcode, e.g. `INSTANCE_STARTUP(web1.example.org)`."""
    from fleet.simulator.opcodes import OPCODES

    name = op["OP_ID"][3:]
    field = OPCODES.get(op["OP_ID"], (None, ()))[0]
    value = op.get(field) if field else None
    if value is None:
        return name
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    return f"{name}({value})"


def duration(op: dict[str, Any]) -> float:
    """How long an opcode takes on a real cluster, in seconds, before scaling."""
    if op.get("dry_run"):
        return 0.5
    return float(DURATIONS.get(op["OP_ID"], DEFAULT_DURATION))


def apply(ctx: Context, op: dict[str, Any]) -> Any:
    """Apply an opcode's effect; return its result or raise OpError."""
    register_all()
    fn = EFFECTS.get(op["OP_ID"])
    return fn(ctx, op) if fn else None


def register_all() -> None:
    """Import every effect module, which registers its effects."""
    for name in EFFECT_MODULES:
        importlib.import_module(f"fleet.simulator.{name}")


DRY_RUN_CHECKS: dict[str, Callable[[Context, dict[str, Any]], Any]] = {}


def dry_run_check(op_id: str) -> Callable[[Effect], Effect]:
    """Register the prerequisite checks of an opcode run in dry-run mode; they return its dry-run result."""

    def register(fn: Effect) -> Effect:
        DRY_RUN_CHECKS[op_id] = fn
        return fn

    return register


def dry_run_result(ctx: Context, op: dict[str, Any]) -> Any:
    """The result of an opcode in dry-run mode: prerequisites only, so the state is unchanged."""
    register_all()
    fn = DRY_RUN_CHECKS.get(op["OP_ID"])
    result = fn(ctx, op) if fn else None
    ctx.log(" - INFO: dry-run mode requested, not actually executing the operation")
    return result


def get_instance(cluster: Cluster, op: dict[str, Any]) -> dict[str, Any]:
    """The instance an opcode names, or Ganeti's unknown_entity error."""
    name = op.get("instance_name")
    inst = cluster.instances.get(name) if isinstance(name, str) else None
    if inst is None:
        for full, candidate in cluster.instances.items():
            if isinstance(name, str) and full.startswith(name + "."):
                return candidate
        raise OpError("OpPrereqError", f"Instance '{name}' not known", "unknown_entity")
    return inst


def get_node(cluster: Cluster, name: Any) -> dict[str, Any]:
    """The node of that name (short names allowed), or Ganeti's unknown_entity error."""
    node = cluster.nodes.get(name) if isinstance(name, str) else None
    if node is None and isinstance(name, str):
        node = next((n for full, n in cluster.nodes.items() if full.startswith(name + ".")), None)
    if node is None:
        raise OpError("OpPrereqError", f"Node '{name}' not known", "unknown_entity")
    return node


def check_memory(cluster: Cluster, node_name: str, needed: int, inst_name: str) -> None:
    """Fail as Ganeti does when a node is offline or lacks the memory to start an instance."""
    node = cluster.nodes[node_name]
    free = node["mfree"] or 0
    if node["offline"]:
        raise OpError("OpPrereqError", f"Can't use offline node {node_name}", "wrong_state")
    if needed > free:
        raise OpError(
            "OpPrereqError",
            f"Not enough memory on node {node_name} for starting instance {inst_name}: needed {needed} MiB,"
            f" available {free} MiB",
            "insufficient_resources",
        )


INSTANCE_DOWN = ("down",)
INSTANCE_ONLINE = ("down", "up")
INSTANCE_NOT_RUNNING = ("down", "offline")


def check_instance_state(
    cluster: Cluster, inst: dict[str, Any], req_states: tuple[str, ...], msg: str | None = None
) -> None:
    """Ganeti's `CheckInstanceState`: the admin state must be one of `req_states`, and an instance that
    is to be down must not be running (unless its primary node is offline)."""
    if msg is None:
        msg = f"can't use instance from outside {', '.join(req_states)} states"
    if inst["admin_state"] not in req_states:
        message = f"Instance '{inst['name']}' is marked to be {inst['admin_state']}, {msg}"
        raise OpError("OpPrereqError", message, "wrong_state")
    if "up" not in req_states and not cluster.nodes[inst["pnode"]]["offline"] and inst["oper_state"]:
        raise OpError("OpPrereqError", f"Instance {inst['name']} is running, {msg}", "wrong_state")

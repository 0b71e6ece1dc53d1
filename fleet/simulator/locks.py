"""Ganeti's locks as the simulator models them: which opcode takes which lock in which mode; the manager.

Lock names follow Ganeti's levels: `cluster/BGL`, `instance/<name>`, `nodegroup/<name>`, `node/<name>`,
`node-res/<name>` and `network/<name>`. Every opcode holds the BGL shared (no opcode reachable over RAPI
takes it exclusively). On top of it, as the logical units of Ganeti 3.0 declare them (X exclusive, S shared):

- instance shutdown, reboot, reinstall, rename; backup prepare: the instance X.
- instance startup: the instance X, node-res of the primary X.
- instance remove, migrate, failover, grow-disk, replace-disks, recreate-disks, modify: the instance X, node
  and node-res of its nodes X (DRBD: primary and secondary; plus the new secondary of replace-disks; a
  shared-storage migration or failover without a target node: every node).
- instance activate-disks, deactivate-disks: the instance X, node of its nodes X.
- backup export: the instance X, node of the primary X.
- instance query data: the instances S, node of their nodes S.
- instance create: the instance X; node and node-res of `pnode`/`snode` X when given.
- node modify and role: node and node-res X; with `secondary_ip`, the instances with DRBD disks on the node
  S; with `auto_promote` while demoting, every node X.
- node evacuate: the node S, the instances it moves S, the node's group S.
- node migrate: the node S (the child jobs take the instance locks).
- node storage query: the nodes S; storage modify and repair: the node X. Power cycle: the BGL only.
- group add, modify, rename, remove: the nodegroup X; assign-nodes also the nodes X.
- network add, modify, remove: the network X; connect and disconnect: the network S, the nodegroup X.
- tags: the tagged object X (cluster tags: the BGL only). Cluster opcodes: the BGL only.

Approximations: locks are computed once, when the opcode starts waiting, from the state at that moment
(Ganeti re-verifies after acquiring and retries); an instance creation through an iallocator locks no node
(Ganeti locks all of them, then releases those it did not choose before the long part of the job); all locks
of an opcode are granted together, never level by level; objects are named where Ganeti shows some UUIDs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fleet.simulator.state import Cluster

EXCLUSIVE, SHARED = "exclusive", "shared"
BGL = "cluster/BGL"
Requests = dict[str, str]

_INSTANCE_ONLY = frozenset(
    {
        "OP_INSTANCE_SHUTDOWN",
        "OP_INSTANCE_REBOOT",
        "OP_INSTANCE_REINSTALL",
        "OP_INSTANCE_RENAME",
        "OP_BACKUP_PREPARE",
    }
)
_INSTANCE_AND_NODES = frozenset(
    {
        "OP_INSTANCE_REMOVE",
        "OP_INSTANCE_MIGRATE",
        "OP_INSTANCE_FAILOVER",
        "OP_INSTANCE_GROW_DISK",
        "OP_INSTANCE_REPLACE_DISKS",
        "OP_INSTANCE_RECREATE_DISKS",
        "OP_INSTANCE_SET_PARAMS",
    }
)
_SHARED_STORAGE = frozenset({"ext", "sharedfile", "rbd", "blockdev", "gluster", "diskless"})


def _full_name(table: dict[str, dict[str, Any]], name: Any) -> str:
    """The full name of an object (short names resolve as Ganeti resolves them), or the name as given."""
    if not isinstance(name, str):
        return str(name)
    if name in table:
        return name
    return next((full for full in table if full.startswith(name + ".")), name)


def _nodes(names: list[str], *levels: str, mode: str = EXCLUSIVE) -> Requests:
    return {f"{level}/{n}": mode for n in names for level in levels}


def requests(cluster: Cluster, op: dict[str, Any]) -> Requests:
    """The locks an opcode holds while it runs, name → mode; see the module's table."""
    wanted: Requests = {BGL: SHARED}
    wanted.update(_specific(cluster, op))
    return wanted


def _specific(c: Cluster, op: dict[str, Any]) -> Requests:
    op_id = op["OP_ID"]
    if op_id.startswith(("OP_INSTANCE_", "OP_BACKUP_")) and op_id != "OP_INSTANCE_MULTI_ALLOC":
        return _instance_locks(c, op)
    if op_id.startswith(("OP_NODE_", "OP_REPAIR_NODE_")):
        return _node_locks(c, op)
    if op_id.startswith("OP_GROUP_"):
        wanted = {f"nodegroup/{op.get('group_name')}": EXCLUSIVE}
        if op_id == "OP_GROUP_ASSIGN_NODES":
            wanted.update(_nodes([_full_name(c.nodes, n) for n in op.get("nodes") or []], "node"))
        return wanted
    if op_id.startswith("OP_NETWORK_"):
        if op_id in ("OP_NETWORK_CONNECT", "OP_NETWORK_DISCONNECT"):
            net, group = op.get("network_name"), op.get("group_name")
            return {f"network/{net}": SHARED, f"nodegroup/{group}": EXCLUSIVE}
        return {f"network/{op.get('network_name')}": EXCLUSIVE}
    if op_id.startswith("OP_TAGS_") and op.get("kind") != "cluster":
        kind, name = op.get("kind"), op.get("name")
        if kind == "instance":
            name = _full_name(c.instances, name)
        elif kind == "node":
            name = _full_name(c.nodes, name)
        return {f"{kind}/{name}": EXCLUSIVE}
    return {}


def _instance_locks(c: Cluster, op: dict[str, Any]) -> Requests:
    op_id = op["OP_ID"]
    if op_id == "OP_INSTANCE_QUERY_DATA":
        names = [_full_name(c.instances, n) for n in op.get("instances") or []]
        wanted = {f"instance/{n}": SHARED for n in names}
        for n in names:
            inst = c.instances.get(n)
            if inst is not None:
                wanted.update(_nodes([inst["pnode"], *inst["snodes"]], "node", mode=SHARED))
        return wanted
    name = _full_name(c.instances, op.get("instance_name"))
    wanted = {f"instance/{name}": EXCLUSIVE}
    if op_id == "OP_INSTANCE_CREATE":
        given = [_full_name(c.nodes, n) for n in (op.get("pnode"), op.get("snode")) if n]
        wanted.update(_nodes(given, "node", "node-res"))
        return wanted
    inst = c.instances.get(name)
    if inst is None or op_id in _INSTANCE_ONLY:
        return wanted
    nodes = [inst["pnode"], *inst["snodes"]]
    if op_id == "OP_INSTANCE_STARTUP":
        wanted.update(_nodes([inst["pnode"]], "node-res"))
    elif op_id == "OP_BACKUP_EXPORT":
        wanted.update(_nodes([inst["pnode"]], "node"))
    elif op_id in ("OP_INSTANCE_ACTIVATE_DISKS", "OP_INSTANCE_DEACTIVATE_DISKS"):
        wanted.update(_nodes(nodes, "node"))
    elif op_id in _INSTANCE_AND_NODES:
        moving = op_id in ("OP_INSTANCE_MIGRATE", "OP_INSTANCE_FAILOVER")
        if moving and inst["disk_template"] in _SHARED_STORAGE:
            target = op.get("target_node")
            nodes = [inst["pnode"], _full_name(c.nodes, target)] if target else sorted(c.nodes)
        if op_id == "OP_INSTANCE_REPLACE_DISKS" and op.get("remote_node"):
            nodes = [*nodes, _full_name(c.nodes, op["remote_node"])]
        wanted.update(_nodes(nodes, "node", "node-res"))
    return wanted


def _node_locks(c: Cluster, op: dict[str, Any]) -> Requests:
    op_id = op["OP_ID"]
    if op_id == "OP_NODE_QUERY_STORAGE":
        return _nodes([_full_name(c.nodes, n) for n in op.get("nodes") or []], "node", mode=SHARED)
    if op_id == "OP_NODE_POWERCYCLE":
        return {}
    name = _full_name(c.nodes, op.get("node_name"))
    node = c.nodes.get(name)
    if op_id == "OP_NODE_MIGRATE":
        return {f"node/{name}": SHARED}
    if op_id == "OP_NODE_EVACUATE":
        wanted = {f"node/{name}": SHARED}
        if node is not None:
            mode = op.get("mode") or "all"
            moved = [*node["pinst_list"]] if mode in ("primary-only", "all") else []
            moved += node["sinst_list"] if mode in ("secondary-only", "all") else []
            wanted.update({f"instance/{i}": SHARED for i in moved})
            group = c.group_by_uuid(node["group.uuid"])
            if group is not None:
                wanted[f"nodegroup/{group['name']}"] = SHARED
        return wanted
    if op_id == "OP_NODE_SET_PARAMS":
        demoting = op.get("master_candidate") is False or op.get("offline") or op.get("drained")
        if op.get("auto_promote") and (demoting or op.get("master_capable") is False):
            return _nodes(sorted(c.nodes), "node", "node-res")
        wanted = _nodes([name], "node", "node-res")
        if op.get("secondary_ip") and node is not None:
            mirrored = [
                i["name"]
                for i in c.instances.values()
                if i["disk_template"] == "drbd" and name in (i["pnode"], *i["snodes"])
            ]
            wanted.update({f"instance/{i}": SHARED for i in mirrored})
        return wanted
    return {f"node/{name}": EXCLUSIVE}


def _compatible(a: str, b: str) -> bool:
    return a == SHARED and b == SHARED


class LockManager:
    """Shared and exclusive locks by name; a request is granted all at once, in (priority, job id) order.

    A waiting request also blocks later requests that conflict with it, so that a stream of shared holders
    cannot starve an exclusive waiter.
    """

    def __init__(self) -> None:
        self.owners: dict[str, dict[int, str]] = {}
        self.waiters: list[tuple[int, int, Requests, asyncio.Future[None]]] = []

    async def acquire(self, job_id: int, priority: int, wanted: Requests) -> None:
        """Wait until every lock in `wanted` is granted to the job in its mode."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (priority, job_id, wanted, fut)
        self.waiters.append(entry)
        self.waiters.sort(key=lambda w: (w[0], w[1]))
        self._grant()
        try:
            await fut
        except BaseException:
            if entry in self.waiters:
                self.waiters.remove(entry)
                self._grant()
            elif fut.done() and not fut.cancelled():
                self.release(job_id, wanted)
            raise

    def release(self, job_id: int, wanted: Requests) -> None:
        """Give the locks back and grant them to whoever waits."""
        for name in wanted:
            holders = self.owners.get(name)
            if holders is not None:
                holders.pop(job_id, None)
                if not holders:
                    del self.owners[name]
        self._grant()

    def _free(self, name: str, mode: str) -> bool:
        holders = self.owners.get(name)
        return not holders or all(_compatible(mode, m) for m in holders.values())

    def _grant(self) -> None:
        blocked: dict[str, list[str]] = {}
        for entry in list(self.waiters):
            _prio, job_id, wanted, fut = entry
            clash = any(not _compatible(mode, m) for n, mode in wanted.items() for m in blocked.get(n, []))
            if not clash and all(self._free(n, mode) for n, mode in wanted.items()):
                for n, mode in wanted.items():
                    self.owners.setdefault(n, {})[job_id] = mode
                self.waiters.remove(entry)
                if not fut.done():
                    fut.set_result(None)
            else:
                for n, mode in wanted.items():
                    blocked.setdefault(n, []).append(mode)

    def rows(self) -> list[dict[str, Any]]:
        """The lock query rows: held locks (mode, owners) and who waits for them in which mode."""
        pending: dict[str, list[tuple[str, int]]] = {}
        for _p, job_id, wanted, _f in self.waiters:
            for n, mode in wanted.items():
                pending.setdefault(n, []).append((mode, job_id))
        rows = []
        for name in sorted(set(self.owners) | set(pending)):
            holders = self.owners.get(name) or {}
            groups: list[list[Any]] = []
            for mode, job_id in pending.get(name, []):
                if groups and groups[-1][0] == mode:
                    groups[-1][1].append(f"job/{job_id}")
                else:
                    groups.append([mode, [f"job/{job_id}"]])
            rows.append(
                {
                    "name": name,
                    "mode": next(iter(holders.values())) if holders else None,
                    "owner": [f"job/{j}" for j in sorted(holders)] if holders else None,
                    "pending": groups,
                }
            )
        return rows

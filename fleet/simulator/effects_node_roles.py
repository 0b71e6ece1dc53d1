"""The effect of OP_NODE_SET_PARAMS: node flags and roles as LUNodeSetParams changes them, with the master
candidate pool (demotions refused when the pool would shrink below its size unless auto_promote is set, a node
leaving the drained or offline role promoted when the pool lacks one), the job's log lines and its result (the
flags that changed, as strings)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fleet.simulator.effects import Context, OpError, effect, get_node
from fleet.simulator.state import Cluster, instance_status, node_role, touch

ROLE_FLAGS = ("master_candidate", "drained", "offline")
MODIFICATIONS = (
    "offline",
    "master_candidate",
    "drained",
    "master_capable",
    "vm_capable",
    "secondary_ip",
    "ndparams",
    "hv_state",
    "disk_state",
)
# the roles a node's flags (master_candidate, drained, offline) give
CANDIDATE = (True, False, False)
DRAINED = (False, True, False)
OFFLINE = (False, False, True)
REGULAR = (False, False, False)


def candidate_stats(c: Cluster, exceptions: Iterable[str] = ()) -> tuple[int, int]:
    """Ganeti's GetMasterCandidateStats: (candidates now, candidates the pool should have), ignoring the
    named nodes."""
    skip = set(exceptions)
    now = possible = 0
    for node in c.nodes.values():
        if node["name"] in skip:
            continue
        if not (node["offline"] or node["drained"]) and node["master_capable"]:
            possible += 1
        if node["master_candidate"]:
            now += 1
    pool = c.info.get("candidate_pool_size")
    return now, possible if pool is None else min(possible, pool)


def _config_written(ctx: Context) -> None:
    """What the configuration's verification says when it is written with too few candidates."""
    now, should = candidate_stats(ctx.cluster)
    if now < should:
        ctx.log(
            "Configuration data is not consistent: Not enough master candidates:"
            f" actual {now}, target {should}"
        )


def _promote_others(ctx: Context, node: dict[str, Any]) -> None:
    """AdjustCandidatePool: fill the pool from the other eligible nodes."""
    c = ctx.cluster
    now, should = candidate_stats(c, [node["name"]])
    promoted = []
    for other in sorted(c.nodes.values(), key=lambda n: n["name"]):
        if now >= should:
            break
        if other is node or other["master_candidate"] or other["offline"] or other["drained"]:
            continue
        if not other["master_capable"]:
            continue
        other["master_candidate"] = True
        other["role"] = node_role(other)
        touch(other)
        promoted.append(other["name"])
        now += 1
    if promoted:
        ctx.log(f" - INFO: Promoted nodes to master candidate role: {', '.join(promoted)}")
    now, should = candidate_stats(c, [node["name"]])
    if now > should:
        ctx.log(f" - INFO: Note: more nodes are candidates ({now}) than desired ({should})")


def _check(c: Cluster, node: dict[str, Any], op: dict[str, Any]) -> None:
    mods = [op.get(k) for k in MODIFICATIONS]
    if all(m is None for m in mods):
        raise OpError("OpPrereqError", "Please pass at least one modification", "wrong_input")
    if mods.count(True) > 1:
        raise OpError(
            "OpPrereqError", "Can't set the node into more than one state at the same time", "wrong_input"
        )
    if any(op.get(k) is not None for k in ROLE_FLAGS) and node.get("master"):
        raise OpError(
            "OpPrereqError", "The master role can be changed only via master-failover", "wrong_input"
        )
    if op.get("master_candidate") and not node["master_capable"]:
        message = f"Node {node['name']} is not master capable, cannot make it a master candidate"
        raise OpError("OpPrereqError", message, "wrong_state")
    if op.get("vm_capable") is False and (node["pinst_list"] or node["sinst_list"]):
        message = f"Node {node['name']} hosts instances, cannot unset the vm_capable flag"
        raise OpError("OpPrereqError", message, "wrong_state")
    if op.get("powered") is not None:
        message = (
            f"Unable to change powered state for node {op.get('node_name')} as it does not support"
            " out-of-band handling"
        )
        raise OpError("OpPrereqError", message, "wrong_state")


@effect("OP_NODE_SET_PARAMS")
def node_set_params(ctx: Context, op: dict[str, Any]) -> list[list[str]]:
    """Change a node's flags, capabilities or parameters; return [flag, "True"/"False"] per change."""
    c = ctx.cluster
    node = get_node(c, op.get("node_name"))
    _check(c, node, op)
    might_demote = (
        op.get("master_candidate") is False
        or op.get("offline") is True
        or op.get("drained") is True
        or op.get("master_capable") is False
    )
    lock_all = bool(op.get("auto_promote")) and might_demote
    if node["master_candidate"] and might_demote and not lock_all:
        now, should = candidate_stats(c, [node["name"]])
        if now < should:
            raise OpError(
                "OpPrereqError",
                "Not enough master candidates, please pass auto promote option to allow promotion"
                " (--auto-promote or RAPI auto_promote=True)",
                "wrong_state",
            )
    old = (bool(node["master_candidate"]), bool(node["drained"]), bool(node["offline"]))
    wanted = {k: op.get(k) for k in ROLE_FLAGS}
    for flag in ROLE_FLAGS:
        if wanted[flag] is False and not node[flag]:
            ctx.log(f" - INFO: Ignoring request to unset flag {flag}, already unset")
            wanted[flag] = None
    leaves = wanted["drained"] is False or wanted["offline"] is False
    if leaves or (op.get("master_capable") and not node["master_capable"]):
        pool = c.info.get("candidate_pool_size")
        now, should = candidate_stats(c)
        if now < (should + 1 if pool is None else min(should + 1, pool)):
            wanted["master_candidate"] = True
            ctx.log(" - INFO: Auto-promoting node to master candidate")
    if op.get("master_capable") is False and node["master_candidate"]:
        ctx.log(" - INFO: Demoting from master candidate")
        wanted["master_candidate"] = False
    if wanted["master_candidate"]:
        new = CANDIDATE
    elif wanted["drained"]:
        new = DRAINED
    elif wanted["offline"]:
        new = OFFLINE
    elif False in wanted.values():
        new = REGULAR
    else:
        new = old
    if old == OFFLINE and new != old:
        ctx.log(
            " - WARNING: Transitioning node from offline to online state without using re-add. Please make"
            " sure the node is healthy!"
        )

    result: list[list[str]] = []
    if op.get("ndparams"):
        node["ndparams"] = {**node["ndparams"], **op["ndparams"]}
    for key in ("master_capable", "vm_capable"):
        if op.get(key) is not None:
            node[key] = op[key]
            result.append([key, str(op[key])])
    if op.get("secondary_ip"):
        node["sip"] = op["secondary_ip"]
        result.append(["secondary_ip", op["secondary_ip"]])
    _config_written(ctx)
    if new != old:
        for flag, was, becomes in zip(ROLE_FLAGS, old, new, strict=True):
            if was != becomes:
                result.append([flag, str(becomes)])
        node["master_candidate"], node["drained"], node["offline"] = new
        _config_written(ctx)
        if lock_all:
            _promote_others(ctx, node)
    node["role"] = node_role(node)
    touch(node)
    c.refresh_node(node["name"])
    for inst in c.instances.values():
        if inst["pnode"] == node["name"]:
            running = bool(inst["oper_state"]) and not node["offline"]
            inst["status"] = instance_status(inst["admin_state"], running, node)
    return result

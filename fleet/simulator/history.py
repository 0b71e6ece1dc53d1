"""A seeded job history for a generated cluster: the days of jobs a cluster in service has in its queue.

A real cluster's queue holds what its operators, their tools and the watcher did: instance creations (long,
with the DRBD sync), migrations, reboots, stops and starts, disk growths, removals, node drains, and the
periodic cluster verifies; a few of them failed. A generated cluster gets the same, spread over the last
``days`` days and ending before the simulator starts, so that a manager's job list, its job-duration figures
and its owners' views are not empty at first sight. Jobs older than the archive age are archived, as the
watcher would have done; query2 still reads them.
"""

from __future__ import annotations

import random
import time
from typing import Any

from fleet.simulator import feedback
from fleet.simulator.effects import summary
from fleet.simulator.state import Cluster

__all__ = ["DEFAULT_DAYS", "seed_history"]

DEFAULT_DAYS = {"grnet": 3.0, "large": 3.0}  # per profile; the tiny one, for tests, starts empty
# (opcode, weight, median seconds, spread): what a cluster's queue is made of, and how long each takes. Run
# times are log-normal around the median (``spread`` is sigma of the log), as measured job times are: a tag
# change in a fraction of a second, a start or reboot in seconds, a live migration in tens of seconds (longer
# for a big, busy VM), a cluster verify in tens of seconds, a creation in minutes (DRBD sync and OS install).
_KINDS: tuple[tuple[str, float, float, float], ...] = (
    ("OP_INSTANCE_CREATE", 0.12, 180.0, 0.5),
    ("OP_INSTANCE_MIGRATE", 0.22, 30.0, 0.6),
    ("OP_INSTANCE_REBOOT", 0.18, 15.0, 0.4),
    ("OP_INSTANCE_SHUTDOWN", 0.10, 10.0, 0.8),  # up to the ACPI timeout when the guest ignores it
    ("OP_INSTANCE_STARTUP", 0.10, 5.0, 0.4),
    ("OP_INSTANCE_GROW_DISK", 0.05, 60.0, 0.8),  # the DRBD resync of the added space
    ("OP_TAGS_SET", 0.08, 0.3, 0.3),
    ("OP_INSTANCE_REMOVE", 0.04, 10.0, 0.5),
    ("OP_NODE_SET_PARAMS", 0.02, 1.5, 0.3),
    ("OP_CLUSTER_VERIFY", 0.09, 40.0, 0.3),
)
_LONGEST = 3000.0  # seconds: no seeded job runs longer
_LOCK_WAIT = 0.15  # the share of jobs that waited for another job's locks, for tens of seconds to minutes
_FAILURES = (  # Ganeti's opresult of a failed opcode: [error class, [message, ecode]]
    ("OpPrereqError", "Not enough memory on the target node", "insufficient_resources"),
    ("OpExecError", "Could not migrate instance: migration timed out", None),
    ("OpPrereqError", "Instance is already in the requested state", "wrong_state"),
    ("OpExecError", "Disk sync did not complete in time", None),
)
_FAILURE_RATE = 0.04


def seed_history(
    cluster: Cluster, rng: random.Random, archive_age: float, days: float
) -> list[dict[str, Any]]:
    """Jobs for ``cluster``'s queue, ids from 1, oldest first, every one final, all ended before now."""
    instances = sorted(cluster.instances)
    nodes = sorted(cluster.nodes)
    if not instances or not nodes:
        return []
    now = time.time()
    count = max(20, int(len(instances) / 25 * days))  # a job a day for every 25 VMs, at least 20
    starts = sorted(now - rng.uniform(600.0, days * 86400.0) for _ in range(count))
    kinds = [kind for kind, _, _, _ in _KINDS]
    weights = [weight for _, weight, _, _ in _KINDS]
    seconds = {kind: (median, spread) for kind, _, median, spread in _KINDS}
    jobs = []
    for job_id, start in enumerate(starts, start=1):
        kind = rng.choices(kinds, weights)[0]
        instance = rng.choice(instances)
        op = _opcode(kind, instance, nodes, rng)
        median, spread = seconds[kind]
        duration = min(rng.lognormvariate(0.0, spread) * median, _LONGEST, now - start - 1)
        failed = rng.random() < _FAILURE_RATE and kind != "OP_TAGS_SET"
        lines: list[str] = []
        if not failed:  # what Ganeti's logical units write; a refused job ends before its first line
            _feedback(op, cluster.instances[instance]["pnode"], lines.append)
        jobs.append(_job(job_id, op, lines, start, duration, failed, rng, archive_age, now))
    return jobs


def _opcode(kind: str, instance: str, nodes: list[str], rng: random.Random) -> dict[str, Any]:
    if kind == "OP_CLUSTER_VERIFY":
        return {"OP_ID": kind, "skip_checks": [], "error_codes": False, "debug_simulate_errors": False}
    if kind == "OP_NODE_SET_PARAMS":
        return {"OP_ID": kind, "node_name": rng.choice(nodes), "drained": rng.random() < 0.5}
    if kind == "OP_TAGS_SET":
        return {"OP_ID": kind, "kind": "instance", "name": instance, "tags": ["backup:daily"]}
    op: dict[str, Any] = {"OP_ID": kind, "instance_name": instance}
    if kind == "OP_INSTANCE_CREATE":
        op.update(mode="create", pnode=rng.choice(nodes), disk_template="plain", os_type="debootstrap")
        op["disks"] = [{"size": rng.choice((10240, 20480, 40960))}]
        op["instance_name"] = f"old-{rng.randrange(10**6):06d}-{instance}"  # since renamed or removed
    elif kind == "OP_INSTANCE_MIGRATE":
        op.update(mode="live", cleanup=False, target_node=rng.choice(nodes))
    elif kind == "OP_INSTANCE_GROW_DISK":
        op.update(disk=0, amount=rng.choice((1024, 5120, 10240)), absolute=False)
    elif kind == "OP_INSTANCE_REMOVE":
        op["instance_name"] = f"gone-{rng.randrange(10**6):06d}.{instance.split('.', 1)[-1]}"
    return op


def _job(
    job_id: int,
    op: dict[str, Any],
    lines: list[str],
    start: float,
    duration: float,
    failed: bool,
    rng: random.Random,
    archive_age: float,
    now: float,
) -> dict[str, Any]:
    # Most jobs start at once; some wait in the queue for another job's locks.
    waited = rng.lognormvariate(0.0, 1.0) * 30.0 if rng.random() < _LOCK_WAIT else rng.uniform(0.05, 1.5)
    received = start - min(waited, 900.0)
    end = start + max(0.2, duration)
    op["reason"] = [["gnt:client:gnt-" + op["OP_ID"].split("_")[1].lower(), "", int(received * 1e9)]]
    log = [
        [serial, _ts(start + duration * serial / (len(lines) + 1)), "message", line]
        for serial, line in enumerate(lines, start=1)
    ]
    status, result = "success", None
    if op["OP_ID"] == "OP_INSTANCE_CREATE":
        result = [op["pnode"]]  # the nodes the instance is on
    if failed:
        error_class, message, ecode = rng.choice(_FAILURES)
        status, result = "error", [error_class, [message, ecode]]
    return {
        "id": job_id,
        "status": status,
        "ops": [op],
        "summary": [summary(op)],
        "opstatus": [status],
        "opresult": [result],
        "oplog": [log],
        "oppriority": [0],
        "opstart": [_ts(start)],
        "opexec": [_ts(start)],
        "opend": [_ts(end)],
        "priority": 0,
        "received_ts": _ts(received),
        "start_ts": _ts(start),
        "end_ts": _ts(end),
        "archived": end < now - archive_age,
        "_log_serial": len(log),
    }


def _feedback(op: dict[str, Any], pnode: str, log: feedback.Log) -> None:
    """The log lines of a successful opcode, as ``fleet.simulator.feedback`` words them."""
    op_id, instance = op["OP_ID"], op.get("instance_name", "")
    if op_id == "OP_INSTANCE_CREATE":
        feedback.created(log, instance, [d["size"] for d in op["disks"]], install=True, start=True)
    elif op_id == "OP_INSTANCE_GROW_DISK":
        feedback.grown(log, instance, 0, op["amount"], op["amount"] + 10240)
    elif op_id == "OP_INSTANCE_MIGRATE":
        feedback.migrated(log, instance, pnode, op["target_node"])


def _ts(when: float) -> list[int]:
    return [int(when), int((when - int(when)) * 1_000_000)]

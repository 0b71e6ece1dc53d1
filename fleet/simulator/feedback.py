"""The lines Ganeti's logical units write to a job's log while they work (their `feedback_fn` and
`LogInfo`/`LogWarning` calls), for the opcodes whose log clients show: creation, disk growth and disk
addition. One place for the texts, so that every effect writes them as Ganeti 3.0 does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Log = Callable[[str], None]


def format_unit(mib: int) -> str:
    """utils.FormatUnit(value, "h"): 512M, 1.5G, 2.0T."""
    if mib < 1024:
        return f"{mib}M"
    if mib < 1024 * 1024:
        return f"{mib / 1024:.1f}G"
    return f"{mib / 1024 / 1024:.1f}T"


def info(log: Log, message: str) -> None:
    """LogInfo: an indented INFO line."""
    log(f" - INFO: {message}")


def warning(log: Log, message: str) -> None:
    """LogWarning: an indented WARNING line."""
    log(f" - WARNING: {message}")


def disks_generated(log: Log, sizes: list[int], base_index: int = 0) -> None:
    """GenerateDiskTemplate announces each new disk."""
    for offset, size in enumerate(sizes):
        log(f"* disk {base_index + offset}, size {format_unit(size)}")


def waited_for_sync(log: Log, instance: str, disk_count: int) -> None:
    """WaitForSync (not one-shot): nothing for an instance without disks."""
    if disk_count:
        info(log, f"Waiting for instance {instance} to sync disks")
        info(log, f"Instance {instance}'s disks are in sync")


def created(log: Log, instance: str, sizes: list[int], *, install: bool, start: bool) -> None:
    """LUInstanceCreate.Exec, from the disks to the start (the node choice is logged by its checks)."""
    disks_generated(log, sizes)
    log("* creating instance disks...")
    log(f"adding instance {instance} to cluster config")
    log("adding disks to cluster config")
    # once after wiping (or not) the disks and once after imaging (or not) them
    waited_for_sync(log, instance, len(sizes))
    waited_for_sync(log, instance, len(sizes))
    if sizes and install:
        log("* running the instance OS create scripts...")
    if start:
        log("* starting instance...")


def grown(log: Log, instance: str, index: int, delta: int, target: int) -> None:
    """LUInstanceGrowDisk.Exec."""
    log(f"Growing disk {index} of instance '{instance}' by {format_unit(delta)} to {format_unit(target)}")
    waited_for_sync(log, instance, 1)


def migrated(log: Log, instance: str, source: str, target: str) -> None:
    """TLMigrateInstance._ExecMigration of a running instance."""
    log(f"Migrating instance {instance}")
    log("* checking disk consistency between source and target")
    log(f"* closing instance disks on node {target}")
    log(f"* opening instance disks on node {source} in shared mode")
    log(f"* opening instance disks on node {target} in shared mode")
    log(f"* preparing {target} to accept the instance")
    log(f"* migrating instance to {target}")
    log("* starting memory transfer")
    log("* memory transfer complete")
    log(f"* closing instance disks on node {source}")
    log(f"* opening instance disks on node {target} in exclusive mode")
    log("* done")


def failed_over(log: Log, inst: dict[str, Any], source: str, target: str, *, external: bool) -> None:
    """TLMigrateInstance._ExecFailover: the disks checked if active, the instance stopped on the source,
    and started on the target if it is marked up."""
    log(f"Failover instance {inst['name']}")
    if inst.get("disks_active"):
        log("* checking disk consistency between source and target")
    else:
        log("* not checking disk consistency as instance is not running")
    log("* shutting down instance on source node")
    if external:
        log(f"* closing instance disks on node {source}")
    log("* deactivating the instance's disks on source node")
    if inst["admin_state"] == "up":
        log(f"* activating the instance's disks on target node {target}")
        log(f"* starting the instance on the target node {target}")

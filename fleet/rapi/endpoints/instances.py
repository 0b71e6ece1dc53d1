"""Instance resources: list, read, create, multi-alloc, delete, power, reinstall, rename, modify, moves,
disks, console and tags. Every write returns the id of the job Ganeti queued."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, cast

from fleet.rapi.endpoints import _common
from fleet.rapi.models import Console, Instance
from fleet.rapi.wire import Call, as_dict, body, dicts, names_of, path

DeviceAction = Literal["add", "remove", "modify", "attach", "detach"]
DeviceChange = tuple[DeviceAction, int | str, Mapping[str, object]]
"""One entry of a modify `disks`/`nics` change list, e.g. `("add", -1, {"size": 1024})` (-1: the last)."""

RebootType = Literal["soft", "hard", "full"]
MigrationMode = Literal["live", "non-live"]
ReplaceMode = Literal["replace_on_primary", "replace_on_secondary", "replace_new_secondary", "replace_auto"]

_q = _common.write_query


def _instance(data: Any) -> Instance:
    return cast(Instance, as_dict(data))


def _instances(data: Any) -> builtins.list[Instance]:
    return [cast(Instance, d) for d in dicts(data)]


def _console(data: Any) -> Console:
    return cast(Console, as_dict(data))


def list() -> Call[builtins.list[str]]:
    """GET /2/instances: the instance names."""
    return Call("GET", "/2/instances", names_of("id"))


def bulk() -> Call[builtins.list[Instance]]:
    """GET /2/instances?bulk=1: every instance with all its fields."""
    return Call("GET", "/2/instances", _instances, (("bulk", "1"),))


def get(name: str) -> Call[Instance]:
    """GET /2/instances/N: one instance (NotFound if unknown)."""
    return Call("GET", path("instances", name), _instance)


def info(name: str, *, static: bool | None = None) -> Call[int]:
    """GET /2/instances/N/info: submits an instance query job (live data unless `static`)."""
    return _common.job("GET", path("instances", name, "info"), _q(("static", static)))


def instance_spec(
    name: str,
    *,
    disk_template: str,
    disks: Sequence[Mapping[str, object]],
    nics: Sequence[Mapping[str, object]] = ({},),
    os_type: str | None = None,
    mode: Literal["create", "import", "remote-import"] = "create",
    pnode: str | None = None,
    snode: str | None = None,
    iallocator: str | None = None,
    group_name: str | None = None,
    beparams: Mapping[str, object] | None = None,
    hvparams: Mapping[str, object] | None = None,
    osparams: Mapping[str, object] | None = None,
    hypervisor: str | None = None,
    tags: Iterable[str] | None = None,
    start: bool | None = None,
    name_check: bool | None = None,
    ip_check: bool | None = None,
    conflicts_check: bool | None = None,
    wait_for_sync: bool | None = None,
    no_install: bool | None = None,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The parameters of one new instance (OpInstanceCreate), for `create` and `multi_alloc`."""
    return body(
        {
            "mode": mode,
            "instance_name": name,
            "disk_template": disk_template,
            "disks": [dict(d) for d in disks],
            "nics": [dict(n) for n in nics],
            "os_type": os_type,
            "pnode": pnode,
            "snode": snode,
            "iallocator": iallocator,
            "group_name": group_name,
            "beparams": None if beparams is None else dict(beparams),
            "hvparams": None if hvparams is None else dict(hvparams),
            "osparams": None if osparams is None else dict(osparams),
            "hypervisor": hypervisor,
            "tags": None if tags is None else builtins.list(tags),
            "start": start,
            "name_check": name_check,
            "ip_check": ip_check,
            "conflicts_check": conflicts_check,
            "wait_for_sync": wait_for_sync,
            "no_install": no_install,
        },
        extra,
    )


def create(spec: Mapping[str, object], *, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """POST /2/instances with `__version__: 1` and an `instance_spec`; the job's result is the node list."""
    return _common.job("POST", "/2/instances", _q(dry_run=dry_run, reason=reason), {**spec, "__version__": 1})


def multi_alloc(
    specs: Sequence[Mapping[str, object]],
    *,
    iallocator: str | None = None,
    hypervisor: str | None = None,
    opportunistic_locking: bool | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/instances-multi-alloc; the job's result holds `jobs`, `allocatable` and `failed`.

    Each spec goes in as `instance_spec` builds it: a `__version__` key (which belongs to `create`'s body, and
    which Ganeti refuses inside a multi-alloc instance with a 400) is left out. `hypervisor` is written into
    every spec that names none: Ganeti 3.0 does not fill in the cluster's default hypervisor for the
    instances of a multi-alloc, whose job then fails (OpPrereqError, `Request parameter 'hypervisor' has
    invalid type`) as soon as the iallocator runs; pass the cluster's `default_hypervisor` from `/2/info`.
    """
    instances = [_multi_alloc_instance(s, hypervisor) for s in specs]
    payload = body(
        {"instances": instances, "iallocator": iallocator},
        {"opportunistic_locking": opportunistic_locking} if opportunistic_locking is not None else None,
    )
    return _common.job("POST", "/2/instances-multi-alloc", _q(dry_run=dry_run, reason=reason), payload)


def _multi_alloc_instance(spec: Mapping[str, object], hypervisor: str | None) -> dict[str, object]:
    instance = {k: v for k, v in spec.items() if k != "__version__"}
    if hypervisor is not None and instance.get("hypervisor") is None:
        instance["hypervisor"] = hypervisor
    return instance


def delete(
    name: str, *, shutdown_timeout: int | None = None, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """DELETE /2/instances/N: remove the instance and its disks."""
    params = _q(dry_run=dry_run, reason=reason)
    if shutdown_timeout is None:
        return _common.job("DELETE", path("instances", name), params)
    return _common.job("DELETE", path("instances", name), params, {"shutdown_timeout": shutdown_timeout})


def startup(
    name: str,
    *,
    force: bool | None = None,
    no_remember: bool | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/instances/N/startup (flags in the query string; Ganeti ignores the body)."""
    params = _q(("force", force), ("no_remember", no_remember), dry_run=dry_run, reason=reason)
    return _common.job("PUT", path("instances", name, "startup"), params, {})


def shutdown(
    name: str,
    *,
    timeout: int | None = None,
    no_remember: bool | None = None,
    force: bool | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/instances/N/shutdown; `timeout` (seconds) before a hard stop."""
    params = _q(("no_remember", no_remember), dry_run=dry_run, reason=reason)
    return _common.job(
        "PUT", path("instances", name, "shutdown"), params, body({"timeout": timeout, "force": force})
    )


def reboot(
    name: str,
    *,
    type: RebootType = "hard",
    ignore_secondaries: bool | None = None,
    shutdown_timeout: int | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/instances/N/reboot; the type goes in the query string (Ganeti's default is `hard`)."""
    params = _q(("type", type), ("ignore_secondaries", ignore_secondaries), dry_run=dry_run, reason=reason)
    return _common.job(
        "POST", path("instances", name, "reboot"), params, body({"shutdown_timeout": shutdown_timeout})
    )


def reinstall(
    name: str,
    *,
    os: str | None = None,
    start: bool = True,
    osparams: Mapping[str, object] | None = None,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/instances/N/reinstall: a 3-opcode job (shutdown, reinstall, startup if `start`).

    Ganeti 3.0.2 gives the instance exactly `osparams` (none: every public and private parameter is
    cleared) and stores a value `"default"` as is; docs/ganeti-actions.md has the sequences. It takes no
    reason: a body with any query argument is a 400 "Can't combine query and body parameters", and the
    query form drops it, so `reason` is not sent (the job's opcodes carry none)."""
    del reason  # kept in the signature, like every write's; Ganeti has nowhere to take it
    payload = body({"os": os, "start": start, "osparams": None if osparams is None else dict(osparams)})
    return _common.job("POST", path("instances", name, "reinstall"), (), payload)


def rename(
    name: str,
    new_name: str,
    *,
    ip_check: bool | None = None,
    name_check: bool | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/instances/N/rename; the job's result is the new name."""
    payload = body({"new_name": new_name, "ip_check": ip_check, "name_check": name_check})
    payload = _common.body_dry_run(payload, dry_run)
    return _common.job("PUT", path("instances", name, "rename"), _q(reason=reason), payload)


def modify(
    name: str,
    *,
    beparams: Mapping[str, object] | None = None,
    hvparams: Mapping[str, object] | None = None,
    disks: Sequence[DeviceChange] | None = None,
    nics: Sequence[DeviceChange] | None = None,
    os_name: str | None = None,
    osparams: Mapping[str, object] | None = None,
    osparams_private: Mapping[str, object] | None = None,
    offline: bool | None = None,
    runtime_mem: int | None = None,
    disk_template: str | None = None,
    remote_node: str | None = None,
    iallocator: str | None = None,
    hotplug: bool | None = None,
    force: bool | None = None,
    extra: Mapping[str, object] | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/instances/N/modify (OpInstanceSetParams); a param value `"default"` resets it.

    `disks` and `nics` are change lists, e.g. `[("add", -1, {"size": 1024})]`. The job's result is
    `[[param, new_value], ...]`. OS parameters merge (`"default"` removes a key, also one never set);
    private ones are write-only: RAPI never shows their values (docs/ganeti-actions.md).
    """

    def changes(items: Sequence[DeviceChange] | None) -> builtins.list[builtins.list[object]] | None:
        return None if items is None else [[a, i, dict(p)] for a, i, p in items]

    payload = body(
        {
            "beparams": None if beparams is None else dict(beparams),
            "hvparams": None if hvparams is None else dict(hvparams),
            "disks": changes(disks),
            "nics": changes(nics),
            "os_name": os_name,
            "osparams": None if osparams is None else dict(osparams),
            "osparams_private": None if osparams_private is None else dict(osparams_private),
            "offline": offline,
            "runtime_mem": runtime_mem,
            "disk_template": disk_template,
            "remote_node": remote_node,
            "iallocator": iallocator,
            "hotplug": hotplug,
            "force": force,
        },
        extra,
    )
    payload = _common.body_dry_run(payload, dry_run)
    return _common.job("PUT", path("instances", name, "modify"), _q(reason=reason), payload)


def migrate(
    name: str,
    *,
    mode: MigrationMode | None = None,
    target_node: str | None = None,
    iallocator: str | None = None,
    cleanup: bool | None = None,
    allow_failover: bool | None = None,
    allow_runtime_changes: bool | None = None,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/instances/N/migrate: live (or non-live) migration to the secondary or `target_node`."""
    payload = body(
        {
            "mode": mode,
            "target_node": target_node,
            "iallocator": iallocator,
            "cleanup": cleanup,
            "allow_failover": allow_failover,
            "allow_runtime_changes": allow_runtime_changes,
        }
    )
    return _common.job("PUT", path("instances", name, "migrate"), _q(reason=reason), payload)


def failover(
    name: str,
    *,
    target_node: str | None = None,
    iallocator: str | None = None,
    ignore_consistency: bool | None = None,
    shutdown_timeout: int | None = None,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/instances/N/failover: stop, switch primary and secondary, start."""
    payload = body(
        {
            "target_node": target_node,
            "iallocator": iallocator,
            "ignore_consistency": ignore_consistency,
            "shutdown_timeout": shutdown_timeout,
        }
    )
    return _common.job("PUT", path("instances", name, "failover"), _q(reason=reason), payload)


def replace_disks(
    name: str,
    *,
    mode: ReplaceMode = "replace_auto",
    disks: Sequence[int] | None = None,
    remote_node: str | None = None,
    iallocator: str | None = None,
    early_release: bool | None = None,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/instances/N/replace-disks (DRBD)."""
    payload = body(
        {
            "mode": mode,
            "disks": None if disks is None else builtins.list(disks),
            "remote_node": remote_node,
            "iallocator": iallocator,
            "early_release": early_release,
        }
    )
    return _common.job("POST", path("instances", name, "replace-disks"), _q(reason=reason), payload)


def grow_disk(
    name: str,
    disk: int,
    amount: int,
    *,
    absolute: bool | None = None,
    wait_for_sync: bool | None = None,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/instances/N/disk/I/grow: grow disk I by `amount` MiB (or to it, if `absolute`)."""
    payload = body({"amount": amount, "absolute": absolute, "wait_for_sync": wait_for_sync})
    return _common.job("POST", path("instances", name, "disk", disk, "grow"), _q(reason=reason), payload)


def recreate_disks(
    name: str,
    *,
    disks: Sequence[int] | None = None,
    nodes: Sequence[str] | None = None,
    iallocator: str | None = None,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/instances/N/recreate-disks."""
    payload = body(
        {
            "disks": None if disks is None else builtins.list(disks),
            "nodes": None if nodes is None else builtins.list(nodes),
            "iallocator": iallocator,
        }
    )
    return _common.job("POST", path("instances", name, "recreate-disks"), _q(reason=reason), payload)


def activate_disks(name: str, *, ignore_size: bool | None = None, reason: str | None = None) -> Call[int]:
    """PUT /2/instances/N/activate-disks."""
    params = _q(("ignore_size", ignore_size), reason=reason)
    return _common.job("PUT", path("instances", name, "activate-disks"), params, {})


def deactivate_disks(name: str, *, force: bool | None = None, reason: str | None = None) -> Call[int]:
    """PUT /2/instances/N/deactivate-disks."""
    params = _q(("force", force), reason=reason)
    return _common.job("PUT", path("instances", name, "deactivate-disks"), params, {})


def console(name: str) -> Call[Console]:
    """GET /2/instances/N/console: how to reach the console (Unavailable if the instance is not running)."""
    return Call("GET", path("instances", name, "console"), _console)


def tags(name: str) -> Call[builtins.list[str]]:
    """GET /2/instances/N/tags."""
    return _common.get_tags("instances", name)


def add_tags(
    name: str, tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """PUT /2/instances/N/tags?tag=...; returns a job id."""
    return _common.add_tags("instances", name, tag_list, dry_run=dry_run, reason=reason)


def delete_tags(
    name: str, tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """DELETE /2/instances/N/tags?tag=...; returns a job id."""
    return _common.delete_tags("instances", name, tag_list, dry_run=dry_run, reason=reason)

"""Node resources: list, read, role, modify, evacuate, migrate, powercycle and tags.

Evacuate and migrate return a job whose result lists the child jobs Ganeti submitted
(`Job.submitted_jobs`); `flows.wait_for_jobs` follows them.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import Any, Literal, cast

from fleet.rapi.endpoints import _common
from fleet.rapi.models import Node
from fleet.rapi.wire import Call, as_dict, as_str, body, dicts, names_of, path

Role = Literal["master", "master-candidate", "regular", "drained", "offline"]
EvacuateMode = Literal["primary-only", "secondary-only", "all"]

_q = _common.write_query


def _node(data: Any) -> Node:
    return cast(Node, as_dict(data))


def _nodes(data: Any) -> builtins.list[Node]:
    return [cast(Node, d) for d in dicts(data)]


def list() -> Call[builtins.list[str]]:
    """GET /2/nodes: the node names."""
    return Call("GET", "/2/nodes", names_of("id"))


def bulk() -> Call[builtins.list[Node]]:
    """GET /2/nodes?bulk=1: every node with all its fields (`role` as a letter)."""
    return Call("GET", "/2/nodes", _nodes, (("bulk", "1"),))


def get(name: str) -> Call[Node]:
    """GET /2/nodes/N: one node (NotFound if unknown)."""
    return Call("GET", path("nodes", name), _node)


def role(name: str) -> Call[str]:
    """GET /2/nodes/N/role: `master`, `master-candidate`, `regular`, `drained` or `offline`."""
    return Call("GET", path("nodes", name, "role"), as_str)


def set_role(
    name: str,
    new_role: Role,
    *,
    force: bool | None = None,
    auto_promote: bool | None = None,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/nodes/N/role with the role as a bare JSON string; returns a job id."""
    params = _q(("force", force), ("auto-promote", auto_promote), reason=reason)
    return _common.job("PUT", path("nodes", name, "role"), params, new_role)


def modify(
    name: str,
    *,
    master_candidate: bool | None = None,
    offline: bool | None = None,
    drained: bool | None = None,
    master_capable: bool | None = None,
    vm_capable: bool | None = None,
    auto_promote: bool | None = None,
    secondary_ip: str | None = None,
    ndparams: Mapping[str, object] | None = None,
    powered: bool | None = None,
    force: bool | None = None,
    extra: Mapping[str, object] | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/nodes/N/modify (OpNodeSetParams; POST, not PUT)."""
    payload = body(
        {
            "master_candidate": master_candidate,
            "offline": offline,
            "drained": drained,
            "master_capable": master_capable,
            "vm_capable": vm_capable,
            "auto_promote": auto_promote,
            "secondary_ip": secondary_ip,
            "ndparams": None if ndparams is None else dict(ndparams),
            "powered": powered,
            "force": force,
        },
        extra,
    )
    payload = _common.body_dry_run(payload, dry_run)
    return _common.job("POST", path("nodes", name, "modify"), _q(reason=reason), payload)


def evacuate(
    name: str,
    mode: EvacuateMode,
    *,
    iallocator: str | None = None,
    remote_node: str | None = None,
    early_release: bool | None = None,
    ignore_soft_errors: bool | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/nodes/N/evacuate: move instances off the node; the job's result lists the child jobs."""
    payload = body(
        {
            "mode": mode,
            "iallocator": iallocator,
            "remote_node": remote_node,
            "early_release": early_release,
            "ignore_soft_errors": ignore_soft_errors,
        }
    )
    return _common.job("POST", path("nodes", name, "evacuate"), _q(dry_run=dry_run, reason=reason), payload)


def migrate(
    name: str,
    *,
    mode: Literal["live", "non-live"] | None = None,
    target_node: str | None = None,
    iallocator: str | None = None,
    allow_runtime_changes: bool | None = None,
    ignore_ipolicy: bool | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/nodes/N/migrate: migrate all primaries away; the job's result lists the child jobs."""
    payload = body(
        {
            "mode": mode,
            "target_node": target_node,
            "iallocator": iallocator,
            "allow_runtime_changes": allow_runtime_changes,
            "ignore_ipolicy": ignore_ipolicy,
        }
    )
    payload = _common.body_dry_run(payload, dry_run)
    return _common.job("POST", path("nodes", name, "migrate"), _q(reason=reason), payload)


def powercycle(name: str, *, force: bool | None = None, reason: str | None = None) -> Call[int]:
    """POST /2/nodes/N/powercycle."""
    return _common.job("POST", path("nodes", name, "powercycle"), _q(("force", force), reason=reason), {})


def tags(name: str) -> Call[builtins.list[str]]:
    """GET /2/nodes/N/tags."""
    return _common.get_tags("nodes", name)


def add_tags(
    name: str, tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """PUT /2/nodes/N/tags?tag=...; returns a job id."""
    return _common.add_tags("nodes", name, tag_list, dry_run=dry_run, reason=reason)


def delete_tags(
    name: str, tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """DELETE /2/nodes/N/tags?tag=...; returns a job id."""
    return _common.delete_tags("nodes", name, tag_list, dry_run=dry_run, reason=reason)

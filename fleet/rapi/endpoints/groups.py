"""Node group resources: list, read, create, modify, rename, assign nodes, delete and tags."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, cast

from fleet.rapi.endpoints import _common
from fleet.rapi.models import Group
from fleet.rapi.wire import Call, as_dict, body, dicts, names_of, path

AllocPolicy = Literal["preferred", "last_resort", "unallocable"]

_q = _common.write_query


def _group(data: Any) -> Group:
    return cast(Group, as_dict(data))


def _groups(data: Any) -> builtins.list[Group]:
    return [cast(Group, d) for d in dicts(data)]


def list() -> Call[builtins.list[str]]:
    """GET /2/groups: the group names."""
    return Call("GET", "/2/groups", names_of("name"))


def bulk() -> Call[builtins.list[Group]]:
    """GET /2/groups?bulk=1: every group with all its fields."""
    return Call("GET", "/2/groups", _groups, (("bulk", "1"),))


def get(name: str) -> Call[Group]:
    """GET /2/groups/N: one group (NotFound if unknown)."""
    return Call("GET", path("groups", name), _group)


def create(
    name: str,
    *,
    alloc_policy: AllocPolicy | None = None,
    ndparams: Mapping[str, object] | None = None,
    diskparams: Mapping[str, object] | None = None,
    ipolicy: Mapping[str, object] | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/groups: add a node group."""
    payload = body(
        {
            "group_name": name,
            "alloc_policy": alloc_policy,
            "ndparams": None if ndparams is None else dict(ndparams),
            "diskparams": None if diskparams is None else dict(diskparams),
            "ipolicy": None if ipolicy is None else dict(ipolicy),
        }
    )
    return _common.job("POST", "/2/groups", _q(dry_run=dry_run, reason=reason), payload)


def modify(
    name: str,
    *,
    alloc_policy: AllocPolicy | None = None,
    ndparams: Mapping[str, object] | None = None,
    diskparams: Mapping[str, object] | None = None,
    ipolicy: Mapping[str, object] | None = None,
    extra: Mapping[str, object] | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/groups/N/modify."""
    payload = body(
        {
            "alloc_policy": alloc_policy,
            "ndparams": None if ndparams is None else dict(ndparams),
            "diskparams": None if diskparams is None else dict(diskparams),
            "ipolicy": None if ipolicy is None else dict(ipolicy),
        },
        extra,
    )
    payload = _common.body_dry_run(payload, dry_run)
    return _common.job("PUT", path("groups", name, "modify"), _q(reason=reason), payload)


def rename(name: str, new_name: str, *, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """PUT /2/groups/N/rename."""
    params = _q(dry_run=dry_run, reason=reason)
    return _common.job("PUT", path("groups", name, "rename"), params, {"new_name": new_name})


def assign_nodes(
    name: str,
    nodes: Sequence[str],
    *,
    force: bool | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/groups/N/assign-nodes: move nodes into this group."""
    params = _q(("force", force), dry_run=dry_run, reason=reason)
    return _common.job("PUT", path("groups", name, "assign-nodes"), params, {"nodes": builtins.list(nodes)})


def delete(name: str, *, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """DELETE /2/groups/N: remove an empty group."""
    return _common.job("DELETE", path("groups", name), _q(dry_run=dry_run, reason=reason))


def tags(name: str) -> Call[builtins.list[str]]:
    """GET /2/groups/N/tags."""
    return _common.get_tags("groups", name)


def add_tags(
    name: str, tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """PUT /2/groups/N/tags?tag=...; returns a job id."""
    return _common.add_tags("groups", name, tag_list, dry_run=dry_run, reason=reason)


def delete_tags(
    name: str, tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """DELETE /2/groups/N/tags?tag=...; returns a job id."""
    return _common.delete_tags("groups", name, tag_list, dry_run=dry_run, reason=reason)

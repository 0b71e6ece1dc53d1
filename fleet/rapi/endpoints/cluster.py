"""Cluster-wide resources: version, info, features, OS list, cluster modify and cluster tags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from fleet.rapi.endpoints import _common
from fleet.rapi.models import ClusterInfo
from fleet.rapi.wire import Call, as_any, as_dict, as_str_list

FEATURES = ("instance-create-reqv1", "instance-reinstall-reqv1", "node-migrate-reqv1", "node-evac-res1")
"""What a Ganeti 2.x/3.x RAPI lists in `/2/features`; Fleet relies on all four."""


def _cluster_info(data: Any) -> ClusterInfo:
    return cast(ClusterInfo, as_dict(data))


def version() -> Call[Any]:
    """GET /version: the RAPI version (2)."""
    return Call("GET", "/version", as_any)


def info() -> Call[ClusterInfo]:
    """GET /2/info: the cluster's name, master, parameters, policies and tags."""
    return Call("GET", "/2/info", _cluster_info)


def features() -> Call[list[str]]:
    """GET /2/features: the request formats the server supports."""
    return Call("GET", "/2/features", as_str_list)


def operating_systems() -> Call[list[str]]:
    """GET /2/os: the OS names, as `name+variant`."""
    return Call("GET", "/2/os", as_str_list)


def modify(params: Mapping[str, object], *, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """PUT /2/modify: set cluster parameters (OpClusterSetParams); returns a job id."""
    payload = _common.body_dry_run(dict(params), dry_run)
    return _common.job("PUT", "/2/modify", _common.write_query(reason=reason), payload)


def redistribute_config(*, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """PUT /2/redistribute-config; returns a job id."""
    payload = _common.body_dry_run({}, dry_run)
    return _common.job("PUT", "/2/redistribute-config", _common.write_query(reason=reason), payload)


def tags() -> Call[list[str]]:
    """GET /2/tags: the cluster tags."""
    return _common.get_tags()


def add_tags(tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """PUT /2/tags?tag=...: add cluster tags; returns a job id."""
    return _common.add_tags(None, None, tag_list, dry_run=dry_run, reason=reason)


def delete_tags(tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """DELETE /2/tags?tag=...: remove cluster tags; returns a job id."""
    return _common.delete_tags(None, None, tag_list, dry_run=dry_run, reason=reason)

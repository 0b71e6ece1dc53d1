"""Helpers shared by the endpoint modules: job-returning calls and the tag calls every resource has."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from fleet.rapi.wire import NO_BODY, Call, Method, as_job_id, as_str_list, path, query

TagKind = Literal["instances", "nodes", "groups", "networks"]


def job(
    method: Method,
    url: str,
    params: tuple[tuple[str, str], ...] = (),
    body: object = NO_BODY,
) -> Call[int]:
    """A call whose answer is the id of the job it submitted."""
    return Call(method, url, as_job_id, params, body)


def write_query(
    *pairs: tuple[str, object], dry_run: bool = False, reason: str | None = None
) -> tuple[tuple[str, str], ...]:
    """Query arguments of a write: its own flags, then `dry-run=1` and `reason` when given.

    Ganeti reads `?dry-run` only on create, delete, startup, shutdown, reboot, tags, group rename and
    assign-nodes, network connect/disconnect and node evacuate; the others take it in the body.
    """
    return query(*pairs, ("dry-run", True if dry_run else None), ("reason", reason))


def body_dry_run(payload: dict[str, object], dry_run: bool) -> dict[str, object]:
    """Put `dry_run` in the body, for the handlers that pass the body through but ignore `?dry-run`
    (instance, node, group and network modify; instance rename; node migrate; cluster modify)."""
    return {**payload, "dry_run": True} if dry_run else payload


def tags_path(kind: TagKind | None, name: str | None) -> str:
    """`/2/tags` for the cluster, `/2/<kind>/<name>/tags` for an object."""
    if kind is None or name is None:
        return path("tags")
    return path(kind, name, "tags")


def get_tags(kind: TagKind | None = None, name: str | None = None) -> Call[list[str]]:
    """GET the tags of the cluster or of one object."""
    return Call("GET", tags_path(kind, name), as_str_list)


def add_tags(
    kind: TagKind | None,
    name: str | None,
    tags: Iterable[str],
    *,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT tags (sent in the query string, as Ganeti reads them); returns a job id."""
    return job("PUT", tags_path(kind, name), _tag_query(tags, dry_run, reason), {})


def delete_tags(
    kind: TagKind | None,
    name: str | None,
    tags: Iterable[str],
    *,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """DELETE tags (sent in the query string); returns a job id."""
    return job("DELETE", tags_path(kind, name), _tag_query(tags, dry_run, reason))


def _tag_query(tags: Iterable[str], dry_run: bool, reason: str | None) -> tuple[tuple[str, str], ...]:
    tag_list = list(tags)
    if not tag_list:
        raise ValueError("no tags given")
    return query(("dry-run", True if dry_run else None), ("reason", reason), tags=tag_list)

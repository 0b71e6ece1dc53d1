"""Reading one cluster over RAPI for a pass: the bulk query2 requests, sent concurrently, parsed later.

The answers come back as raw bodies; :meth:`Fetched.parse` turns them into a
:class:`~fleet.sync.snapshot.Snapshot`. The loop parses and writes under the worker's gate, so that many
clusters fetching at once hold bytes, not tens of thousands of parsed dicts each.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from fleet.rapi import AsyncRapiClient, Call, QueryResult, Response, cluster, fields, qfilter, query
from fleet.rapi.endpoints.query import Resource
from fleet.sync.snapshot import JobCursor, Snapshot

__all__ = ["REQUESTS_PER_FULL_PASS", "Fetched", "fetch_full", "fetch_partial", "job_filter"]

_RESOURCES: dict[str, tuple[Resource, tuple[str, ...]]] = {
    "groups": ("group", fields.GROUP_FIELDS),
    "nodes": ("node", fields.NODE_FIELDS),
    "networks": ("network", fields.NETWORK_FIELDS),
    "instances": ("instance", fields.INSTANCE_FIELDS),
    "jobs": ("job", fields.JOB_FIELDS),
}
REQUESTS_PER_FULL_PASS = 1 + len(_RESOURCES)  # /2/info and one query per resource
_MAX_LISTED_JOBS = 50  # beyond this many unfinished jobs, ask for every job from the oldest of them


@dataclass(frozen=True)
class Fetched:
    """The answers of one pass, checked for errors but not parsed, and the fastest round trip (seconds)."""

    info: tuple[Call[Any], Response] | None
    answers: Mapping[str, tuple[Call[QueryResult], Response]]
    instance_scope: frozenset[str] | None
    latency: float

    def parse(self) -> Snapshot:
        """The snapshot these answers describe (CPU work: run it off the event loop)."""
        records = {kind: call.result(response).records() for kind, (call, response) in self.answers.items()}
        info = None if self.info is None else self.info[0].result(self.info[1])
        return Snapshot(
            info=info,
            groups=records["groups"],
            nodes=records["nodes"],
            networks=records["networks"],
            instances=records["instances"],
            jobs=records.get("jobs", []),
            instance_scope=self.instance_scope,
        )


def job_filter(cursor: JobCursor) -> qfilter.Filter | None:
    """The jobs a pass needs: every one the first time, then the new ones and those still unfinished."""
    if cursor.last_id is None:
        return None
    newer = qfilter.gt("id", cursor.last_id)
    if not cursor.unfinished:
        return newer
    if len(cursor.unfinished) > _MAX_LISTED_JOBS:
        return qfilter.ge("id", cursor.unfinished[0])
    return qfilter.or_(newer, *(qfilter.eq("id", job_id) for job_id in cursor.unfinished))


async def fetch_full(client: AsyncRapiClient, cursor: JobCursor) -> Fetched:
    """What a full pass needs: /2/info, groups, nodes, networks, every instance, the jobs of ``cursor``."""
    calls: dict[str, Call[QueryResult]] = {
        kind: query.run(resource, names, job_filter(cursor) if kind == "jobs" else None)
        for kind, (resource, names) in _RESOURCES.items()
    }
    return await _send(client, cluster.info(), calls, None)


async def fetch_partial(client: AsyncRapiClient, names: Collection[str]) -> Fetched:
    """What a resync after a job needs: groups, nodes and networks (small), and the named instances."""
    wanted = sorted(names)
    calls: dict[str, Call[QueryResult]] = {
        kind: query.run(resource, columns)
        for kind, (resource, columns) in _RESOURCES.items()
        if kind in ("groups", "nodes", "networks")
    }
    instance_resource, instance_fields = _RESOURCES["instances"]
    calls["instances"] = query.run(instance_resource, instance_fields, qfilter.any_of("name", list(wanted)))
    return await _send(client, None, calls, frozenset(wanted))


async def _send(
    client: AsyncRapiClient,
    info: Call[Any] | None,
    calls: Mapping[str, Call[QueryResult]],
    scope: frozenset[str] | None,
) -> Fetched:
    async def one(call: Call[Any]) -> tuple[Call[Any], Response, float]:
        started = time.perf_counter()
        response = await client.transport.handle(call.request)
        elapsed = time.perf_counter() - started
        if response.status != 200:
            call.result(response)  # raises the HttpError Ganeti's answer stands for
        return call, response, elapsed

    kinds = list(calls)
    jobs = [one(calls[kind]) for kind in kinds]
    if info is not None:
        jobs.append(one(info))
    done = await asyncio.gather(*jobs)
    answers = {kind: (call, response) for kind, (call, response, _) in zip(kinds, done, strict=False)}
    info_answer = (done[-1][0], done[-1][1]) if info is not None else None
    return Fetched(info_answer, answers, scope, min(elapsed for *_, elapsed in done))

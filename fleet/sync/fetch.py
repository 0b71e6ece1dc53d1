"""Reading one cluster over RAPI for a pass: the bulk query2 requests, sent concurrently, parsed later.

A full pass reads instances in two steps. :func:`fetch_full` asks for groups, nodes and networks in full,
but for instances only their change markers and live fields (:data:`INSTANCE_MARKER_FIELDS`); the loop
compares those with the stored rows, and :func:`fetch_instances` then asks for the full records of only the
instances that are new or whose markers moved (by name, in batches; or all of them, when most changed). At
rest a pass thus moves a few bytes per instance, not every instance's disks, NICs and parameters.

The job queue is read on its own, far more often (:func:`fetch_jobs`: one request, empty at rest). The
answers come back as raw bodies; :meth:`Fetched.parse` turns them into a
:class:`~fleet.sync.snapshot.Snapshot`. The loop parses and writes under the worker's gate, so that many
clusters fetching at once hold bytes, not tens of thousands of parsed dicts each.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fleet.rapi import AsyncRapiClient, Call, QueryResult, Response, cluster, fields, qfilter, query
from fleet.rapi.endpoints.query import Resource
from fleet.sync import collector, rows
from fleet.sync.queue import Cursor
from fleet.sync.snapshot import Snapshot

__all__ = [
    "FETCH_ALL_ABOVE",
    "INSTANCE_MARKER_FIELDS",
    "NAMES_PER_REQUEST",
    "REQUESTS_PER_FULL_PASS",
    "Fetched",
    "FetchedJobs",
    "fetch_full",
    "fetch_instances",
    "fetch_jobs",
    "fetch_partial",
    "job_filter",
]

_RESOURCES: dict[str, tuple[Resource, tuple[str, ...]]] = {
    "groups": ("group", fields.GROUP_FIELDS),
    "nodes": ("node", fields.NODE_FIELDS),
    "networks": ("network", fields.NETWORK_FIELDS),
    "instances": ("instance", fields.INSTANCE_FIELDS),
}
INSTANCE_MARKER_FIELDS: tuple[str, ...] = ("name", "uuid", *rows.MARKERS, *rows.INSTANCE_LIVE, "pnode")
"""What the first step of a full pass reads of every instance: identity, change markers, and the fields
Ganeti changes without bumping ``serial_no`` (run state; the primary node, which may be a new row)."""
REQUESTS_PER_FULL_PASS = 2 + len(_RESOURCES)  # /2/info, /2/os and one query per resource, at rest
NAMES_PER_REQUEST = 100  # instances asked for by name in one query2 request
FETCH_ALL_ABOVE = 500  # more changed instances than this (or than half): the loop asks for every instance
_JOBS: tuple[Resource, tuple[str, ...]] = ("job", fields.JOB_FIELDS)
_SMALL = 4096  # bytes: an answer this short is parsed on the event loop to see whether it lists any job
_MAX_LISTED_JOBS = 50  # beyond this many unfinished jobs, ask for every job from the oldest of them
_parsing = threading.Lock()
"""One parse at a time, whatever the number of database threads: parsing holds the GIL, so two at once
take as long as one after the other, but hold two clusters' decoded answers and records at once."""


@dataclass(frozen=True)
class Fetched:
    """The answers of one pass, checked for errors but not parsed, and the fastest round trip (seconds)."""

    info: tuple[Call[Any], Response] | None
    answers: Mapping[str, tuple[Call[QueryResult], Response]]
    instance_scope: frozenset[str] | None
    latency: float
    markers_only: bool = False  # a full pass's first step: "instances" holds INSTANCE_MARKER_FIELDS only
    oses: tuple[Call[Any], Response] | None = None  # /2/os, with /2/info

    def parse(self) -> Snapshot:
        """The snapshot these answers describe (CPU work: run it off the event loop). For a first step,
        the instances are in ``instance_markers`` and ``instances`` is empty until the second step."""
        # A partial pass's answers (a few instances) are small: they need not wait for a full pass's parse.
        with _parsing if self.instance_scope is None else contextlib.nullcontext(), collector.gc_paused():
            records = {kind: call.result(answer).records() for kind, (call, answer) in self.answers.items()}
        info = None if self.info is None else self.info[0].result(self.info[1])
        oses = None if self.oses is None else self.oses[0].result(self.oses[1])
        instances = records["instances"]
        return Snapshot(
            info=info,
            os_names=oses,
            groups=records["groups"],
            nodes=records["nodes"],
            networks=records["networks"],
            instances=[] if self.markers_only else instances,
            instance_scope=self.instance_scope,
            instance_markers=instances if self.markers_only else None,
        )

    def instances(self) -> list[dict[str, Any]]:
        """The instance records of answers from :func:`fetch_instances`, every batch's."""
        with _parsing, collector.gc_paused():
            return [rec for call, answer in self.answers.values() for rec in call.result(answer).records()]


@dataclass(frozen=True)
class FetchedJobs:
    """A poll's answer, checked for errors but not parsed, and its round trip (seconds)."""

    call: Call[QueryResult]
    answer: Response
    latency: float

    @property
    def empty(self) -> bool:
        """Whether the answer lists no job (a cluster at rest): checked without parsing it all."""
        return len(self.answer.content) < _SMALL and not self.call.result(self.answer).rows

    def records(self) -> list[dict[str, Any]]:
        """The job records (CPU work when many: run it off the event loop)."""
        with collector.gc_paused():
            return self.call.result(self.answer).records()


def job_filter(cursor: Cursor, followed: Collection[int] = ()) -> qfilter.Filter | None:
    """The jobs a poll needs: every one the first time, then the new ones and those still unfinished that
    no follower waits for (a follower sees their end first)."""
    if cursor.last_id is None:
        return None
    newer = qfilter.gt("id", cursor.last_id)
    unfinished = sorted(set(cursor.unfinished) - set(followed))
    if not unfinished:
        return newer
    if len(unfinished) > _MAX_LISTED_JOBS:
        return qfilter.ge("id", unfinished[0])
    return qfilter.or_(newer, *(qfilter.eq("id", job_id) for job_id in unfinished))


async def fetch_jobs(client: AsyncRapiClient, cursor: Cursor, followed: Collection[int] = ()) -> FetchedJobs:
    """The jobs of ``cursor`` (see :func:`job_filter`), in one query2 request."""
    resource, columns = _JOBS
    call = query.run(resource, columns, job_filter(cursor, followed))
    started = time.perf_counter()
    response = await client.transport.handle(call.request)
    latency = time.perf_counter() - started
    if response.status != 200:
        call.result(response)  # raises the HttpError Ganeti's answer stands for
    return FetchedJobs(call, response, latency)


async def fetch_full(client: AsyncRapiClient, markers: bool = True) -> Fetched:
    """A full pass's first step: /2/info, groups, nodes, networks, and the markers and live fields of every
    instance; or, without ``markers`` (nothing stored to compare with), every instance in full, in one
    step."""
    calls: dict[str, Call[QueryResult]] = {
        kind: query.run(resource, names) for kind, (resource, names) in _RESOURCES.items()
    }
    if markers:
        calls["instances"] = query.run("instance", INSTANCE_MARKER_FIELDS)
    fetched = await _send(client, cluster.info(), calls, None, cluster.operating_systems())
    return replace(fetched, markers_only=markers)


def named(names: Collection[str]) -> qfilter.Filter:
    """The instances of these names, those that exist: an ``or`` of names alone makes luxid look each one
    up and fail the whole query for one that is gone (destroyed, renamed), so it is wrapped in an ``and``,
    which Ganeti evaluates as a plain filter."""
    return qfilter.and_(qfilter.any_of("name", sorted(names)))


async def fetch_instances(client: AsyncRapiClient, names: Collection[str] | None) -> Fetched:
    """A full pass's second step: the full records of the named instances (in batches of
    :data:`NAMES_PER_REQUEST`), or of every instance (None). Read them with :meth:`Fetched.instances`."""
    resource, columns = _RESOURCES["instances"]
    calls: dict[str, Call[QueryResult]] = {}
    if names is None:
        calls["all"] = query.run(resource, columns)
    else:
        wanted = sorted(names)
        for start in range(0, len(wanted), NAMES_PER_REQUEST):
            batch = wanted[start : start + NAMES_PER_REQUEST]
            calls[f"batch {start}"] = query.run(resource, columns, named(batch))
    if not calls:
        return Fetched(None, {}, None, 0.0)
    return await _send(client, None, calls, None)


async def fetch_partial(client: AsyncRapiClient, names: Collection[str]) -> Fetched:
    """What a resync after a job needs: groups, nodes and networks (small), and the named instances."""
    wanted = sorted(names)
    calls: dict[str, Call[QueryResult]] = {
        kind: query.run(resource, columns)
        for kind, (resource, columns) in _RESOURCES.items()
        if kind in ("groups", "nodes", "networks")
    }
    instance_resource, instance_fields = _RESOURCES["instances"]
    calls["instances"] = query.run(instance_resource, instance_fields, named(wanted))
    return await _send(client, None, calls, frozenset(wanted))


async def _send(
    client: AsyncRapiClient,
    info: Call[Any] | None,
    calls: Mapping[str, Call[QueryResult]],
    scope: frozenset[str] | None,
    oses: Call[Any] | None = None,
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
    extras = [call for call in (info, oses) if call is not None]
    jobs.extend(one(call) for call in extras)
    done = await asyncio.gather(*jobs)
    answers = {kind: (call, response) for kind, (call, response, _) in zip(kinds, done, strict=False)}
    extra = {id(call): (call, response) for call, response, _ in done[len(kinds) :]}
    info_answer = extra.get(id(info)) if info is not None else None
    oses_answer = extra.get(id(oses)) if oses is not None else None
    latency = min(elapsed for *_, elapsed in done)
    return Fetched(info_answer, answers, scope, latency, oses=oses_answer)

"""What a cluster loop's inbox carries (the results of reads, and what followers saw), and what a submit's
answer says (written by the submit itself: ``ClusterLoop.submit``).

Reads (a full pass, a poll of the job queue, a read of what a job touched) and followers run beside the
loop and post one of these when they are done; only the loop writes what they carry, one message at a
time (``fleet.sync.loop``). Each read says when it began (``read_at``): its rows are written only where no
newer read wrote them, so that messages may be handled in any order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from fleet.rapi import Job as RapiJob
from fleet.sync.fetch import Fetched, FetchedJobs
from fleet.sync.snapshot import Snapshot

__all__ = [
    "Answered",
    "JobEnded",
    "JobGone",
    "JobsRead",
    "Message",
    "NamesRead",
    "PassFailed",
    "PassRead",
    "ReadFailed",
    "SubmitFailed",
    "Submitted",
]


@dataclass(frozen=True)
class PassRead:
    """A full pass's reads: ``first`` is the parsed first step and ``details`` the instance records that
    followed, or ``first`` holds every answer of a one-step pass (and ``details`` is None)."""

    read_at: dt.datetime
    first: Snapshot | Fetched
    details: Fetched | None
    latency: float
    timeout: float
    in_full: asyncio.Semaphore | None = None  # held while every instance's full record waits to be written


@dataclass(frozen=True)
class PassFailed:
    """A full pass could not read the cluster (or Fleet failed while reading it)."""

    read_at: dt.datetime
    error: BaseException


@dataclass(frozen=True)
class JobsRead:
    """A poll of the job queue."""

    read_at: dt.datetime
    fetched: FetchedJobs
    in_full: asyncio.Semaphore | None = None  # held while the whole queue (its history) waits to be written


@dataclass(frozen=True)
class NamesRead:
    """The instances a finished job touched (and every node, group and network), read once it had ended."""

    read_at: dt.datetime
    names: frozenset[str]
    fetched: Fetched


@dataclass(frozen=True)
class ReadFailed:
    """A poll or a read of touched instances failed: a full pass covers what it missed."""

    what: str
    error: BaseException


@dataclass(frozen=True)
class JobEnded:
    """A follower saw its job end."""

    job: RapiJob


@dataclass(frozen=True)
class JobGone:
    """The cluster does not know a followed job (any more)."""

    job_id: int
    message: str


@dataclass(frozen=True)
class Submitted:
    """Ganeti took a claimed operation as job ``job_id``."""

    operation_id: int
    job_id: int


@dataclass(frozen=True)
class Answered:
    """Ganeti answered a claimed operation that makes no job (a cancel) with its outcome."""

    operation_id: int
    ok: bool
    message: str


@dataclass(frozen=True)
class SubmitFailed:
    """A claimed operation's submit failed: ``certain`` when Ganeti surely made no job of it (it answered
    with an error, or nothing was sent); otherwise its job may exist, and the queue's polls look for it."""

    operation_id: int
    error: BaseException
    certain: bool


Message = PassRead | PassFailed | JobsRead | NamesRead | ReadFailed | JobEnded | JobGone

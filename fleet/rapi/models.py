"""Typed shapes of what RAPI v2 answers: bulk objects as TypedDicts, jobs and query results as dataclasses.

Bulk objects stay the dicts Ganeti sent (typed views, no copies), since the sync worker stores them as they
are; jobs, log entries and query results are parsed into dataclasses because Fleet's logic reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict

from fleet.rapi.errors import JobCanceled, JobFailed, JobNotFound, UnexpectedResponse
from fleet.rapi.wire import as_dict, as_job_id, as_list

__all__ = [
    "FINAL_JOB_STATUSES",
    "CancelResult",
    "ClusterInfo",
    "Console",
    "FieldDef",
    "Group",
    "Instance",
    "Job",
    "JobChange",
    "LogEntry",
    "Network",
    "Node",
    "QueryResult",
    "SubmittedJob",
]

JOB_STATUSES: Final = ("queued", "waiting", "running", "success", "error", "canceling", "canceled")
FINAL_JOB_STATUSES: Final = frozenset({"success", "error", "canceled"})

# query2 value statuses (`[status, value]` pairs)
RS_NORMAL: Final = 0
RS_UNKNOWN: Final = 1
RS_NODATA: Final = 2
RS_UNAVAIL: Final = 3
RS_OFFLINE: Final = 4

Instance = TypedDict(
    "Instance",
    {
        "name": str,
        "admin_state": str,
        "os": str,
        "pnode": str,
        "snodes": list[str],
        "disk_template": str,
        "nic.ips": list[str | None],
        "nic.macs": list[str],
        "nic.modes": list[str],
        "nic.uuids": list[str],
        "nic.names": list[str | None],
        "nic.links": list[str],
        "nic.networks": list[str | None],
        "nic.networks.names": list[str | None],
        "nic.bridges": list[str | None],
        "network_port": int | None,
        "disk.sizes": list[int],
        "disk.spindles": list[int | None],
        "disk_usage": int,
        "disk.uuids": list[str],
        "disk.names": list[str | None],
        "beparams": dict[str, Any],
        "hvparams": dict[str, Any],
        "oper_state": bool,
        "oper_ram": int | None,
        "oper_vcpus": int | None,
        "status": str,
        "custom_hvparams": dict[str, Any],
        "custom_beparams": dict[str, Any],
        "custom_nicparams": list[dict[str, Any]],
        "ctime": float,
        "mtime": float,
        "uuid": str,
        "serial_no": int,
        "tags": list[str],
    },
    total=False,
)
"""An instance as `GET /2/instances/N` or `?bulk=1` gives it (reference §3)."""

Node = TypedDict(
    "Node",
    {
        "name": str,
        "offline": bool,
        "master_candidate": bool,
        "drained": bool,
        "dtotal": int | None,
        "dfree": int | None,
        "sptotal": int | None,
        "spfree": int | None,
        "mtotal": int | None,
        "mnode": int | None,
        "mfree": int | None,
        "pinst_cnt": int,
        "sinst_cnt": int,
        "ctotal": int | None,
        "cnos": int | None,
        "cnodes": int | None,
        "csockets": int | None,
        "pip": str,
        "sip": str,
        "role": str,
        "pinst_list": list[str],
        "sinst_list": list[str],
        "master_capable": bool,
        "vm_capable": bool,
        "ndparams": dict[str, Any],
        "group.uuid": str,
        "secondary_ip": str,
        "ctime": float | None,
        "mtime": float | None,
        "uuid": str,
        "serial_no": int,
        "tags": list[str],
    },
    total=False,
)
"""A node as `GET /2/nodes/N` or `?bulk=1` gives it; `role` is a letter (M, C, R, D, O)."""


class Group(TypedDict, total=False):
    """A node group as `GET /2/groups/N` or `?bulk=1` gives it."""

    name: str
    alloc_policy: str
    node_cnt: int
    node_list: list[str]
    ipolicy: dict[str, Any]
    custom_ipolicy: dict[str, Any]
    diskparams: dict[str, Any]
    custom_diskparams: dict[str, Any]
    ndparams: dict[str, Any]
    custom_ndparams: dict[str, Any]
    ctime: float | None
    mtime: float | None
    uuid: str
    serial_no: int
    tags: list[str]


class Network(TypedDict, total=False):
    """A network as `GET /2/networks/N` or `?bulk=1` gives it; `group_list`: `[group, mode, link, vlan]`s."""

    name: str
    network: str
    gateway: str | None
    network6: str | None
    gateway6: str | None
    mac_prefix: str | None
    free_count: int
    reserved_count: int
    map: str
    group_list: list[list[str]]
    inst_list: list[str]
    external_reservations: str
    ctime: float | None
    mtime: float | None
    uuid: str
    serial_no: int
    tags: list[str]


class ClusterInfo(TypedDict, total=False):
    """The keys of `GET /2/info` that Fleet reads; the answer holds many more (reference §3)."""

    name: str
    master: str
    software_version: str
    protocol_version: int
    architecture: list[str]
    default_hypervisor: str
    enabled_hypervisors: list[str]
    enabled_disk_templates: list[str]
    hvparams: dict[str, Any]
    beparams: dict[str, Any]
    ipolicy: dict[str, Any]
    ndparams: dict[str, Any]
    default_iallocator: str
    candidate_pool_size: int
    max_running_jobs: int
    mac_prefix: str
    uuid: str
    ctime: float | None
    mtime: float | None
    tags: list[str]


class Console(TypedDict, total=False):
    """`GET /2/instances/N/console`: how to reach the console; `kind` is ssh, vnc, spice or msg."""

    instance: str
    kind: str
    message: str
    host: str
    port: int
    user: str
    command: list[str]
    display: int


def _timestamp(value: Any) -> float | None:
    """Ganeti's `[seconds, microseconds]` as float seconds."""
    if value is None:
        return None
    seconds, micros = as_list(value)
    return float(seconds) + float(micros) / 1e6


@dataclass(frozen=True)
class LogEntry:
    """One job log line: its serial (increasing over the whole job), time, type and message."""

    serial: int
    timestamp: float | None
    kind: str
    message: str

    @classmethod
    def parse(cls, data: Any) -> LogEntry:
        """Read `[serial, [s, us], type, message]`."""
        serial, ts, kind, message = as_list(data)
        text = message if isinstance(message, str) else json.dumps(message)
        return cls(int(serial), _timestamp(ts), str(kind), text)


@dataclass(frozen=True)
class SubmittedJob:
    """One entry of `{"jobs": [[true, id], [false, "error"]]}`: a job id, or why it was not submitted."""

    ok: bool
    job_id: int | None
    error: str | None

    @classmethod
    def parse_list(cls, data: Any) -> list[SubmittedJob]:
        """Read the `jobs` list of node evacuate/migrate and multi-alloc results."""
        out = []
        for entry in as_list(data):
            ok, value = as_list(entry)
            if ok:
                out.append(cls(True, as_job_id(value), None))
            else:
                out.append(cls(False, None, str(value)))
        return out


@dataclass(frozen=True)
class Job:
    """A job as `GET /2/jobs/N` gives it (bulk lists leave `oplog` and `opresult` empty)."""

    id: int
    status: str
    summary: list[str]
    ops: list[dict[str, Any]]
    opstatus: list[str]
    opresult: list[Any] = field(default_factory=list)
    oplog: list[list[LogEntry]] = field(default_factory=list)
    received_ts: float | None = None
    start_ts: float | None = None
    end_ts: float | None = None

    @classmethod
    def parse(cls, data: Any) -> Job:
        """Read a job dict; a null `status` (Ganeti 3.0's answer for an unknown numeric id) is JobNotFound."""
        raw = as_dict(data)
        job_id = as_job_id(raw["id"])
        if raw.get("status") is None:
            raise JobNotFound(job_id)
        return cls(
            id=job_id,
            status=str(raw["status"]),
            summary=[str(s) for s in raw.get("summary") or []],
            ops=[as_dict(op) for op in raw.get("ops") or []],
            opstatus=[str(s) for s in raw.get("opstatus") or []],
            opresult=list(raw.get("opresult") or []),
            oplog=[[LogEntry.parse(e) for e in as_list(log)] for log in raw.get("oplog") or []],
            received_ts=_timestamp(raw.get("received_ts")),
            start_ts=_timestamp(raw.get("start_ts")),
            end_ts=_timestamp(raw.get("end_ts")),
        )

    @property
    def final(self) -> bool:
        """Whether the job has ended (success, error or canceled)."""
        return self.status in FINAL_JOB_STATUSES

    @property
    def log(self) -> list[LogEntry]:
        """All log entries of all opcodes, in serial order."""
        return sorted((e for log in self.oplog for e in log), key=lambda e: e.serial)

    @property
    def submitted_jobs(self) -> list[SubmittedJob]:
        """Child jobs this job submitted (node evacuate/migrate, multi-alloc): `{"jobs": ...}` results."""
        out: list[SubmittedJob] = []
        for result in self.opresult:
            if isinstance(result, dict) and "jobs" in result:
                out.extend(SubmittedJob.parse_list(result["jobs"]))
        return out

    @property
    def failure(self) -> tuple[str, str, str | None] | None:
        """Error class, message and ecode of the opcode that failed, when the job ended in `error`."""
        return self._first_error() if self.status == "error" else None

    def raise_for_status(self) -> Job:
        """Return the job if it succeeded (or is not final); raise JobFailed or JobCanceled otherwise."""
        if self.status == "canceled":
            raise JobCanceled(self.id, self._first_error()[1] or "Job canceled by request")
        if self.status == "error":
            error_class, message, ecode = self._first_error()
            raise JobFailed(self.id, error_class, message, ecode)
        return self

    def _first_error(self) -> tuple[str, str, str | None]:
        """Error class, message and ecode of the first opcode that did not succeed."""
        for status, result in zip(self.opstatus, self.opresult, strict=False):
            if status in ("error", "canceled"):
                return _opcode_error(result)
        return "OpExecError", f"job ended with status {self.status}", None


def _opcode_error(result: Any) -> tuple[str, str, str | None]:
    """Read a failed opcode's result, `[ErrorClass, [message, ecode]]` (ecode optional)."""
    if isinstance(result, list) and len(result) == 2 and isinstance(result[0], str):
        args = result[1]
        if isinstance(args, list) and args:
            ecode = args[1] if len(args) > 1 and isinstance(args[1], str) else None
            return result[0], str(args[0]), ecode
        return result[0], str(args), None
    if isinstance(result, str):
        return "OpExecError", result, None
    return "OpExecError", json.dumps(result), None


@dataclass(frozen=True)
class JobChange:
    """What `/2/jobs/N/wait` answered: the watched fields' values and the new log entries."""

    job_info: list[Any]
    log_entries: list[LogEntry]

    @classmethod
    def parse(cls, data: Any) -> JobChange | None:
        """Read the answer; None when the server reports an unchanged job as `null` (pre-3.0 queues)."""
        if data is None:
            return None
        raw = as_dict(data)
        return cls(
            job_info=as_list(raw["job_info"]),
            log_entries=[LogEntry.parse(e) for e in as_list(raw.get("log_entries") or [])],
        )


@dataclass(frozen=True)
class CancelResult:
    """`DELETE /2/jobs/N`: whether the job was canceled, and Ganeti's message."""

    ok: bool
    message: str

    @classmethod
    def parse(cls, data: Any) -> CancelResult:
        """Read `[bool, "message"]`."""
        ok, message = as_list(data)
        return cls(bool(ok), str(message))


@dataclass(frozen=True)
class FieldDef:
    """One query2 field definition: name, title, kind (text, number, bool, ...) and doc."""

    name: str
    title: str
    kind: str
    doc: str

    @classmethod
    def parse(cls, data: Any) -> FieldDef:
        """Read `{name, title, kind, doc}`."""
        raw = as_dict(data)
        return cls(str(raw["name"]), str(raw.get("title", "")), str(raw["kind"]), str(raw.get("doc", "")))


def parse_fields(data: Any) -> list[FieldDef]:
    """Read `{"fields": [...]}` from `/2/query/R/fields`."""
    return [FieldDef.parse(f) for f in as_list(as_dict(data)["fields"])]


@dataclass(frozen=True)
class QueryResult:
    """A query2 answer: the field definitions and, per row, a `[status, value]` pair per field.

    `parse` reads each row once, straight into its record (field name to value), since that is what the
    sync worker reads for tens of thousands of rows; `rows` gives the `(status, value)` pairs on demand.
    """

    fields: list[FieldDef]
    cells: list[list[Any]] = field(repr=False)
    """Per row, the `[status, value]` pairs as Ganeti sent them (each checked to be a pair)."""
    _records: list[dict[str, Any]] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, data: Any) -> QueryResult:
        """Read `{"fields": [...], "data": [[[status, value], ...], ...]}`."""
        raw = as_dict(data)
        fields = parse_fields(raw)
        names = [f.name for f in fields]
        width = len(names)
        rows = as_list(raw["data"])
        records = []
        for row in rows:
            if type(row) is not list or len(row) != width:
                count = len(row) if isinstance(row, list) else type(row).__name__
                raise UnexpectedResponse(f"query row has {count} values for {width} fields")
            # One pass per row: the unpacking checks that every cell is a pair.
            records.append({n: (v if s == RS_NORMAL else None) for n, (s, v) in zip(names, row, strict=True)})
        return cls(fields, rows, records)

    @property
    def names(self) -> list[str]:
        """The field names, in the order asked for."""
        return [f.name for f in self.fields]

    @property
    def rows(self) -> list[list[tuple[int, Any]]]:
        """Per row, a `(status, value)` pair per field."""
        return [[(int(status), value) for status, value in row] for row in self.cells]

    def records(self) -> list[dict[str, Any]]:
        """One dict per row, field name to value; values without a normal status become None. The dicts are
        built once, by `parse`: callers share them."""
        return list(self._records)

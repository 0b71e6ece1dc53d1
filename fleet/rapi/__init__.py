"""Fleet's Ganeti RAPI v2 client: typed calls per endpoint, sync and async clients, pinned TLS, typed errors.

    from fleet.rapi import Credentials, Pin, RapiClient
    from fleet.rapi.endpoints import instances

    with RapiClient.connect(url, trust=Pin(fingerprint), credentials=Credentials(user, password)) as client:
        for inst in client.call(instances.bulk()):
            ...

Modules: `wire` (calls and flows, no I/O), `endpoints.*` (one function per endpoint), `models` (answer
shapes), `flows` (the job waiter), `transport` (httpx, TLS, timeouts), `errors` (the error tree), `fields`
(the query fields the sync worker asks for), `qfilter` (query filter builders).
"""

from fleet.rapi import errors, fields, flows, qfilter
from fleet.rapi.client import AsyncRapiClient, AsyncTransport, RapiClient, Transport
from fleet.rapi.endpoints import cluster, filters, groups, instances, jobs, networks, nodes, query
from fleet.rapi.errors import RapiError
from fleet.rapi.models import Job, JobChange, LogEntry, QueryResult, SubmittedJob
from fleet.rapi.transport import CaFile, Credentials, Endpoint, Pin, Timeouts, Trust, fetch_fingerprint
from fleet.rapi.wire import Call, Flow, Request, Response, step

__all__ = [
    "AsyncRapiClient",
    "AsyncTransport",
    "CaFile",
    "Call",
    "Credentials",
    "Endpoint",
    "Flow",
    "Job",
    "JobChange",
    "LogEntry",
    "Pin",
    "QueryResult",
    "RapiClient",
    "RapiError",
    "Request",
    "Response",
    "SubmittedJob",
    "Timeouts",
    "Transport",
    "Trust",
    "cluster",
    "errors",
    "fetch_fingerprint",
    "fields",
    "filters",
    "flows",
    "groups",
    "instances",
    "jobs",
    "networks",
    "nodes",
    "qfilter",
    "query",
    "step",
]

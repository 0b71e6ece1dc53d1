"""Every way a call to Ganeti's RAPI can fail, as one tree of exceptions.

RapiError
 ├── TransportError            no usable HTTP answer
 │    ├── Timeout
 │    │    ├── ConnectTimeout  the TCP or TLS connection took too long
 │    │    └── ReadTimeout     the server accepted, but did not answer in time
 │    ├── Unreachable          refused, reset, no route, name not resolved, connection dropped
 │    └── CertificateMismatch  the peer's certificate is not the pinned one (or fails CA verification)
 ├── HttpError                 Ganeti answered with an error status: code, message, explain
 │    ├── BadRequest             400
 │    ├── Unauthorized           401
 │    ├── Forbidden              403
 │    ├── NotFound               404
 │    │    └── JobNotFound       404, or a 3.0 job read answering `status: null`
 │    ├── UnsupportedMediaType   415
 │    └── ServerError            5xx
 │         ├── Unimplemented     501 (Ganeti's answer to a wrong method)
 │         └── Unavailable       502, 503, 504 (master unreachable, queue full or drained, luxi timeout)
 ├── UnexpectedResponse        200, but the body is not JSON or not the shape the contract promises
 └── JobError                  a job ended without success
      ├── JobFailed            with Ganeti's error class, message and ecode
      ├── JobCanceled
      └── JobWaitTimeout       the caller's own deadline for the job passed
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

__all__ = [
    "BadRequest",
    "CertificateMismatch",
    "ConnectTimeout",
    "Forbidden",
    "HttpError",
    "JobCanceled",
    "JobError",
    "JobFailed",
    "JobNotFound",
    "JobWaitTimeout",
    "NotFound",
    "RapiError",
    "ReadTimeout",
    "ServerError",
    "Timeout",
    "TransportError",
    "Unauthorized",
    "Unavailable",
    "UnexpectedResponse",
    "Unimplemented",
    "Unreachable",
    "UnsupportedMediaType",
    "error_for_status",
]


class RapiError(Exception):
    """Base of every error the RAPI client raises; `str()` is one line fit for an operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Transport errors -------------------------------------------------------------------------------------------


class TransportError(RapiError):
    """The request got no usable HTTP answer."""


class Timeout(TransportError):
    """A connect or read timeout passed."""


class ConnectTimeout(Timeout):
    """Opening the TCP connection or the TLS session took longer than the connect timeout."""


class ReadTimeout(Timeout):
    """The server did not send (or accept) data within the read timeout."""


class Unreachable(TransportError):
    """The server could not be reached: refused, reset, unresolvable, or the connection dropped mid-answer."""


class CertificateMismatch(TransportError):
    """The server's TLS certificate is not the one we trust; nothing was sent to it."""


# HTTP errors ------------------------------------------------------------------------------------------------


class HttpError(RapiError):
    """Ganeti answered with an error status and (usually) its `{code, message, explain}` body."""

    status: int = 0

    def __init__(self, status: int, message: str, explain: str = "", code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = status if code is None else code
        self.explain = explain

    def __str__(self) -> str:
        return f"{self.status} {self.message}"


class BadRequest(HttpError):
    """400: a bad query argument, an invalid or incomplete body, a missing `__version__`."""


class Unauthorized(HttpError):
    """401: no credentials or wrong ones (Ganeti checks credentials even on public resources)."""


class Forbidden(HttpError):
    """403: the user lacks the `write` (or `read`) option the resource needs."""


class NotFound(HttpError):
    """404: an unknown path, or a GET of an unknown instance, node, group, network, filter or job."""


class JobNotFound(NotFound):
    """No such job: a 404, or Ganeti 3.0's 200 answer whose `status` is null."""

    def __init__(self, job_id: int, message: str | None = None, explain: str = "") -> None:
        super().__init__(404, message or f"Job {job_id} not found", explain)
        self.job_id = job_id


class UnsupportedMediaType(HttpError):
    """415: the body was not sent as `application/json`."""


class ServerError(HttpError):
    """5xx: the server failed (500, or any 5xx without its own class)."""


class Unimplemented(ServerError):
    """501: the method is not supported on this path (Ganeti answers 501, not 405)."""


class Unavailable(ServerError):
    """502/503/504: master unreachable, queue full or drained, instance not running (console)."""


# Response errors --------------------------------------------------------------------------------------------


class UnexpectedResponse(RapiError):
    """The server answered 200 with something that is not what the RAPI v2 contract promises."""


# Job errors -------------------------------------------------------------------------------------------------


class JobError(RapiError):
    """A job ended without success (or the wait for it was given up)."""

    def __init__(self, job_id: int, message: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobFailed(JobError):
    """The job ended in `error`; carries the failed opcode's error class, message and ecode."""

    def __init__(self, job_id: int, error_class: str, message: str, ecode: str | None = None) -> None:
        super().__init__(job_id, message)
        self.error_class = error_class
        self.ecode = ecode

    def __str__(self) -> str:
        suffix = f" [{self.ecode}]" if self.ecode else ""
        return f"job {self.job_id} failed: {self.error_class}: {self.message}{suffix}"


class JobCanceled(JobError):
    """The job was canceled before it finished."""

    def __str__(self) -> str:
        return f"job {self.job_id} canceled: {self.message}"


class JobWaitTimeout(JobError):
    """The job did not reach a final status before the caller's deadline; it may still finish."""


# Status mapping ---------------------------------------------------------------------------------------------

_BY_STATUS: Mapping[int, type[HttpError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    415: UnsupportedMediaType,
    501: Unimplemented,
    502: Unavailable,
    503: Unavailable,
    504: Unavailable,
}


def error_for_status(status: int, body: Any, reason: str = "") -> HttpError:
    """Build the error for HTTP `status` from the decoded `body` (Ganeti's `{code, message, explain}`).

    A body that is not Ganeti's error dict (a proxy's page, say) still gives a useful message: the reason
    phrase or a short text.
    """
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else HttpError
    message = reason or f"HTTP {status}"
    explain = ""
    code: int | None = None
    if isinstance(body, Mapping):
        if isinstance(body.get("message"), str) and body["message"]:
            message = html.unescape(body["message"])
        if isinstance(body.get("explain"), str):
            explain = html.unescape(body["explain"])
        if isinstance(body.get("code"), int):
            code = body["code"]
    elif isinstance(body, str) and body.strip():
        message = body.strip().splitlines()[0][:200]
    return cls(status, message, explain, code)

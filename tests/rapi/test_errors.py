"""Every failure maps to its class in `fleet.rapi.errors`, carrying Ganeti's code, message and explain."""

from __future__ import annotations

import ssl
from typing import Any

import httpx
import pytest

from fleet.rapi import RapiClient, cluster, errors, instances
from fleet.rapi.errors import RapiError
from fleet.rapi.models import Job
from fleet.rapi.transport import PinMismatchError, map_transport_error
from fleet.rapi.wire import Response
from tests.rapi.fakes import FakeTransport, ganeti_error, reply

STATUS_CASES = [
    (400, errors.BadRequest),
    (401, errors.Unauthorized),
    (403, errors.Forbidden),
    (404, errors.NotFound),
    (409, errors.HttpError),
    (415, errors.UnsupportedMediaType),
    (500, errors.ServerError),
    (501, errors.Unimplemented),
    (502, errors.Unavailable),
    (503, errors.Unavailable),
    (504, errors.Unavailable),
    (599, errors.ServerError),
]


def status_error(status: int, response: Response | None = None) -> errors.HttpError:
    client = RapiClient(
        FakeTransport(response or ganeti_error(status, "Bad &lt;thing&gt;", "more &amp; more"))
    )
    with pytest.raises(errors.HttpError) as info:
        client.call(instances.get("web1"))
    assert info.value.status == status
    return info.value


@pytest.mark.parametrize(("status", "cls"), STATUS_CASES)
def test_each_status_has_its_class(status: int, cls: type[errors.HttpError]) -> None:
    error = status_error(status)
    assert type(error) is cls
    assert (error.code, error.message, error.explain) == (status, "Bad <thing>", "more & more")
    assert str(error) == f"{status} Bad <thing>"


def test_an_error_body_that_is_not_ganetis_still_gives_a_message() -> None:
    assert status_error(502, Response(502, b"<html>Bad Gateway</html>\n", "Bad Gateway")).message == (
        "<html>Bad Gateway</html>"
    )
    assert status_error(503, Response(503, b"", "Service Unavailable")).message == "Service Unavailable"
    assert status_error(500, reply([1, 2], 500)).message == "Error"


HTTPX_CASES: list[tuple[httpx.TransportError, type[errors.TransportError]]] = [
    (httpx.ConnectTimeout("slow"), errors.ConnectTimeout),
    (httpx.ReadTimeout("slow"), errors.ReadTimeout),
    (httpx.WriteTimeout("slow"), errors.ReadTimeout),
    (httpx.PoolTimeout("slow"), errors.ReadTimeout),
    (httpx.ConnectError("refused"), errors.Unreachable),
    (httpx.ReadError("reset"), errors.Unreachable),
    (httpx.WriteError("broken pipe"), errors.Unreachable),
    (httpx.RemoteProtocolError("garbage"), errors.Unreachable),
    (httpx.LocalProtocolError("bad"), errors.Unreachable),
    (httpx.UnsupportedProtocol("ftp"), errors.Unreachable),
    (httpx.ProxyError("proxy"), errors.Unreachable),
]


def _caused(exc: httpx.TransportError, cause: BaseException) -> httpx.TransportError:
    exc.__cause__ = cause
    return exc


TLS_CASES: list[tuple[httpx.TransportError, type[errors.TransportError]]] = [
    (_caused(httpx.ConnectError("tls"), PinMismatchError("a" * 64, "b" * 64)), errors.CertificateMismatch),
    (_caused(httpx.ConnectError("tls"), ssl.SSLCertVerificationError(1, "bad")), errors.CertificateMismatch),
]


@pytest.mark.parametrize(("exc", "cls"), HTTPX_CASES + TLS_CASES)
def test_each_httpx_failure_has_its_class(
    exc: httpx.TransportError, cls: type[errors.TransportError]
) -> None:
    mapped = map_transport_error(exc, "c1:5080")
    assert type(mapped) is cls
    assert str(mapped).startswith("c1:5080: ")


def _all_subclasses(cls: type[Any]) -> set[type[Any]]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_all_subclasses(sub)}
    return out


@pytest.mark.parametrize("cls", sorted(_all_subclasses(httpx.TransportError), key=lambda c: c.__name__))
def test_every_httpx_transport_error_is_mapped(cls: type[httpx.TransportError]) -> None:
    assert isinstance(map_transport_error(cls("x"), "c1:5080"), errors.TransportError)


def _job_errors() -> list[RapiError]:
    base = {"id": 1, "summary": [], "ops": [], "opstatus": ["error"], "opresult": [["OpExecError", ["x"]]]}
    found: list[RapiError] = []
    for status in ("error", "canceled"):
        try:
            Job.parse({**base, "status": status}).raise_for_status()
        except RapiError as exc:
            found.append(exc)
    return found


def test_every_error_class_is_produced_by_some_case() -> None:
    """Guards the tree: a new error class needs a case that raises it."""
    produced: set[type[Any]] = {cls for _, cls in STATUS_CASES}
    produced |= {cls for _, cls in HTTPX_CASES + TLS_CASES}
    produced |= {type(e) for e in _job_errors()}
    produced |= {errors.JobNotFound, errors.JobWaitTimeout}  # test_flows.py: the waiter raises these
    client = RapiClient(FakeTransport(Response(200, b"not json")))
    with pytest.raises(errors.UnexpectedResponse):
        client.call(cluster.info())
    produced.add(errors.UnexpectedResponse)
    abstract = {errors.RapiError, errors.TransportError, errors.Timeout, errors.JobError}
    declared = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, RapiError) and obj not in abstract
    }
    assert declared == produced
    assert set(errors.__all__) >= {c.__name__ for c in declared}

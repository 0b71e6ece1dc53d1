"""The httpx transport over real TLS sockets: pinning, CA files, timeouts, unreachable servers (sync, async).

A local TLS server with a fresh self-signed certificate stands in for Ganeti's rapi.pem; the simulator tests
(test_simulator.py) cover the same paths against `fleet simulate`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fleet.rapi import (
    AsyncRapiClient,
    CaFile,
    Credentials,
    Pin,
    RapiClient,
    Timeouts,
    cluster,
    errors,
    fetch_fingerprint,
    jobs,
)
from fleet.rapi.transport import Endpoint, normalize_fingerprint
from fleet.rapi.wire import Call
from tests.rapi.tls import Cert, TlsServer, black_hole, closed_port, make_cert

CREDS = Credentials("fleet", "s3cret")
FAST = Timeouts(connect=0.5, read=0.5, long_poll=0.5)


def answer(method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
    return 200, {"name": "c1", "authorization": headers.get("authorization"), "target": target}


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cert, Cert]:
    directory = tmp_path_factory.mktemp("certs")
    return make_cert(directory), make_cert(directory)


@pytest.fixture
def server(certs: tuple[Cert, Cert]) -> Iterator[TlsServer]:
    with TlsServer(certs[0], answer) as srv:
        yield srv


def call(driver: str, url: str, c: Call[Any], **options: Any) -> Any:
    """Run one call with a fresh sync or async client."""
    if driver == "sync":
        with RapiClient.connect(url, **options) as client:
            return client.call(c)

    async def main() -> Any:
        async with AsyncRapiClient.connect(url, **options) as client:
            return await client.call(c)

    return asyncio.run(main())


DRIVERS = pytest.mark.parametrize("driver", ["sync", "async"])


@DRIVERS
def test_right_pin_connects_and_sends_basic_auth(
    driver: str, server: TlsServer, certs: tuple[Cert, Cert]
) -> None:
    info = call(driver, server.url, cluster.info(), trust=Pin(certs[0].fingerprint), credentials=CREDS)
    assert info["name"] == "c1"
    assert info["authorization"] == "Basic " + base64.b64encode(b"fleet:s3cret").decode()


@DRIVERS
def test_wrong_pin_fails_before_anything_is_sent(
    driver: str, server: TlsServer, certs: tuple[Cert, Cert]
) -> None:
    with pytest.raises(errors.CertificateMismatch, match=certs[0].fingerprint):
        call(driver, server.url, cluster.info(), trust=Pin(certs[1].fingerprint), credentials=CREDS)
    time.sleep(0.2)  # let the server side of the connection see it close
    assert server.connections, "the TLS handshake should have reached the server"
    assert all(c.data == b"" for c in server.connections), "no request byte may follow a pin mismatch"


@DRIVERS
def test_ca_file_with_the_server_certificate_verifies(
    driver: str, server: TlsServer, certs: tuple[Cert, Cert]
) -> None:
    assert call(driver, server.url, cluster.info(), trust=CaFile(certs[0].cert_file))["name"] == "c1"


def test_ca_file_with_a_leaf_certificate_verifies(tmp_path: Path) -> None:
    leaf = make_cert(tmp_path, ca=False)
    with TlsServer(leaf, answer) as srv:
        assert call("sync", srv.url, cluster.info(), trust=CaFile(leaf.cert_file))["name"] == "c1"


@DRIVERS
def test_ca_file_that_does_not_match_fails(driver: str, server: TlsServer, certs: tuple[Cert, Cert]) -> None:
    with pytest.raises(errors.CertificateMismatch, match="verification failed"):
        call(driver, server.url, cluster.info(), trust=CaFile(certs[1].cert_file), credentials=CREDS)
    time.sleep(0.2)
    assert all(c.data == b"" for c in server.connections)


def test_ca_file_checks_the_hostname(server: TlsServer, certs: tuple[Cert, Cert], tmp_path: Path) -> None:
    other_name = make_cert(tmp_path, name="elsewhere.example", ip_names=False)
    with TlsServer(other_name, answer) as srv:
        with pytest.raises(errors.CertificateMismatch):
            call("sync", srv.url, cluster.info(), trust=CaFile(other_name.cert_file))
        relaxed = CaFile(other_name.cert_file, check_hostname=False)
        assert call("sync", srv.url, cluster.info(), trust=relaxed)["name"] == "c1"


@DRIVERS
def test_ca_file_with_ganetis_own_certificate_is_trusted_without_a_name(driver: str, tmp_path: Path) -> None:
    # Ganeti's rapi.pem names no host (CN=ganeti.example.com, no extensions): a file holding only such a
    # certificate trusts exactly it, like a pin, and the host name is not checked unless asked for.
    ganeti = make_cert(tmp_path, name="ganeti.example.com", bare=True)
    with TlsServer(ganeti, answer) as srv:
        assert call(driver, srv.url, cluster.info(), trust=CaFile(ganeti.cert_file))["name"] == "c1"
        with pytest.raises(errors.CertificateMismatch, match="verification failed"):
            call(driver, srv.url, cluster.info(), trust=CaFile(ganeti.cert_file, check_hostname=True))
        with pytest.raises(errors.CertificateMismatch, match="verification failed"):
            call(driver, srv.url, cluster.info(), trust=CaFile(make_cert(tmp_path, bare=True).cert_file))


@DRIVERS
def test_black_holed_server_times_out_on_connect(driver: str, certs: tuple[Cert, Cert]) -> None:
    sock, port = black_hole()  # the kernel accepts; nobody ever answers the TLS handshake
    with sock:
        started = time.monotonic()
        with pytest.raises(errors.ConnectTimeout):
            call(driver, f"127.0.0.1:{port}", cluster.info(), trust=Pin(certs[0].fingerprint), timeouts=FAST)
        assert time.monotonic() - started < 5


@DRIVERS
def test_silent_server_times_out_on_read(driver: str, certs: tuple[Cert, Cert]) -> None:
    with TlsServer(certs[0], mode="silent") as srv, pytest.raises(errors.ReadTimeout):
        call(driver, srv.url, cluster.info(), trust=Pin(certs[0].fingerprint), timeouts=FAST)


@DRIVERS
def test_the_long_poll_has_its_own_read_timeout(driver: str, certs: tuple[Cert, Cert]) -> None:
    trust = Pin(certs[0].fingerprint)
    with TlsServer(certs[0], mode="silent") as srv:
        started = time.monotonic()
        with pytest.raises(errors.ReadTimeout):
            call(driver, srv.url, jobs.wait_for_change(1), trust=trust, timeouts=Timeouts(1, 60, 0.3))
        assert time.monotonic() - started < 5
        started = time.monotonic()
        with pytest.raises(errors.ReadTimeout):
            call(driver, srv.url, cluster.info(), trust=trust, timeouts=Timeouts(1, 0.3, 60))
        assert time.monotonic() - started < 5


@DRIVERS
def test_closed_port_is_unreachable(driver: str, certs: tuple[Cert, Cert]) -> None:
    url = f"https://127.0.0.1:{closed_port()}"
    with pytest.raises(errors.Unreachable, match=r"127\.0\.0\.1"):
        call(driver, url, cluster.info(), trust=Pin(certs[0].fingerprint), timeouts=FAST)


@DRIVERS
def test_each_request_is_logged_at_debug_with_the_cluster(
    driver: str, server: TlsServer, certs: tuple[Cert, Cert], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="fleet.rapi"):
        call(driver, server.url, cluster.info(), trust=Pin(certs[0].fingerprint), name="grnet-a")
        with pytest.raises(errors.Unreachable):
            url = f"https://127.0.0.1:{closed_port()}"
            call(driver, url, cluster.info(), trust=Pin(certs[0].fingerprint), timeouts=FAST, name="grnet-b")
    lines = [
        (r.name, r.levelname, r.getMessage()) for r in caplog.records if r.name.startswith(("fleet", "httpx"))
    ]
    assert [line[:2] for line in lines] == [("fleet.rapi", "DEBUG")] * 2, lines
    assert lines[0][2].startswith("grnet-a: GET /2/info 200 in ")
    assert lines[1][2].startswith("grnet-b: GET /2/info failed after ") and "127.0.0.1" in lines[1][2]


def test_a_cluster_without_a_name_is_logged_by_its_address(
    server: TlsServer, certs: tuple[Cert, Cert], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="fleet.rapi"):
        call("sync", server.url, cluster.info(), trust=Pin(certs[0].fingerprint))
    [line] = [r.getMessage() for r in caplog.records if r.name == "fleet.rapi"]
    assert line.startswith(f"127.0.0.1:{server.port}: GET /2/info 200")


def test_fetch_fingerprint(server: TlsServer, certs: tuple[Cert, Cert]) -> None:
    assert fetch_fingerprint("127.0.0.1", server.port) == certs[0].fingerprint
    with pytest.raises(errors.Unreachable):
        fetch_fingerprint("127.0.0.1", closed_port(), timeout=1)
    sock, port = black_hole()
    with sock, pytest.raises(errors.ConnectTimeout):
        fetch_fingerprint("127.0.0.1", port, timeout=0.3)


def test_fingerprint_forms() -> None:
    digest = "ab" * 32
    assert normalize_fingerprint(digest.upper()) == digest
    assert normalize_fingerprint(":".join(["AB"] * 32)) == digest
    assert normalize_fingerprint("sha256 Fingerprint=" + ":".join(["AB"] * 32)) == digest
    for bad in ("ab" * 31, "zz" * 32, ""):
        with pytest.raises(ValueError):
            Pin(bad)


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("https://c1.example.org:5080", "c1.example.org", 5080),
        ("c1.example.org:5081", "c1.example.org", 5081),
        ("c1.example.org", "c1.example.org", 5080),
        ("https://[::1]:5080/", "::1", 5080),
    ],
)
def test_endpoints(text: str, host: str, port: int) -> None:
    assert Endpoint.parse(text) == Endpoint(host, port)


@pytest.mark.parametrize(
    "bad", ["http://c1:5080", "https://c1:5080/2/info", "https://u:p@c1", "c1:99999", ""]
)
def test_bad_endpoints(bad: str) -> None:
    with pytest.raises(ValueError):
        Endpoint.parse(bad)


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="connect"):
        Timeouts(connect=0)


def test_credentials_do_not_show_the_password() -> None:
    assert "s3cret" not in repr(CREDS)

"""The proxy's RFB handshake with a VNC server (fleet.console.vnc) against the simulator's own RFB server: VNC
authentication with the cluster's password, a wrong or missing password refused with a message, and a
server that never speaks a timeout; the browser's side offers no authentication."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from fleet.console import vnc
from fleet.simulator.rfb import ConsoleServer, vnc_response

PASSWORD = "s3cret-vnc"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, int]]:
    """Two simulated consoles in a loop of their own: one without a password, one with."""
    loop = asyncio.new_event_loop()
    events: list[dict[str, object]] = []
    started: dict[str, ConsoleServer] = {}

    async def start() -> None:
        for name, password in (("open", None), ("locked", PASSWORD)):
            port = _free_port()
            server = ConsoleServer(f"{name}.example.org", "127.0.0.1", port, events.append, password)
            await server.start()
            started[name] = server

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    yield {name: server.port for name, server in started.items()}
    for server in started.values():
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    return sock


def _server_init(sock: socket.socket) -> bytes:
    sock.sendall(b"\x01")  # ClientInit, as the browser's noVNC sends it through the relay
    header = sock.recv(24, socket.MSG_WAITALL)
    name = sock.recv(int.from_bytes(header[20:24], "big"), socket.MSG_WAITALL)
    return name


def test_des_matches_the_simulators() -> None:
    challenge = bytes(range(16))
    assert vnc.vnc_response(PASSWORD, challenge) == vnc_response(PASSWORD, challenge)
    assert vnc.vnc_response(PASSWORD, challenge) != vnc.vnc_response("other", challenge)


def test_no_password(servers: dict[str, int]) -> None:
    with _connect(servers["open"]) as sock:
        vnc.with_server(sock, None)
        assert _server_init(sock) == b"open.example.org"


def test_the_clusters_password(servers: dict[str, int]) -> None:
    with _connect(servers["locked"]) as sock:
        vnc.with_server(sock, PASSWORD)
        assert _server_init(sock) == b"locked.example.org"


@pytest.mark.parametrize(
    ("password", "message"), [("wrong", "refused the password"), (None, "Fleet has none for this cluster")]
)
def test_a_wrong_or_missing_password(servers: dict[str, int], password: str | None, message: str) -> None:
    with _connect(servers["locked"]) as sock, pytest.raises(vnc.HandshakeError, match=message):
        vnc.with_server(sock, password)


def test_a_server_that_never_speaks() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        sock = socket.create_connection(listener.getsockname(), timeout=0.3)
        with sock, pytest.raises(TimeoutError):
            vnc.with_server(sock, None)


def test_the_browser_side_offers_no_authentication() -> None:
    sent: list[bytes] = []
    answers = iter([b"RFB 003.008\n", b"\x01"])
    vnc.with_browser(sent.append, lambda n: next(answers))
    assert sent == [b"RFB 003.008\n", b"\x01\x01", b"\x00\x00\x00\x00"]
    answers = iter([b"RFB 003.008\n", b"\x02"])
    with pytest.raises(vnc.HandshakeError):
        vnc.with_browser(sent.append, lambda n: next(answers))

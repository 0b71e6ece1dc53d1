"""The proxy's half of the RFB handshake: with the VNC server (answering VNC authentication with the
cluster's password), then with the browser (offering no authentication, since the proxy already did it).
From there on the two sides speak the same protocol and the proxy only relays bytes. This way the VNC password
never reaches a browser, and a VNC server that never answers is a timeout with a message, not a hang."""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable

VERSION = b"RFB 003.008\n"
NONE, VNC_AUTH = 1, 2


class HandshakeError(Exception):
    """The VNC server did not accept the proxy; the message says why."""


def vnc_response(password: str, challenge: bytes) -> bytes:
    """VNC authentication: the challenge DES-encrypted under the password (its first 8 bytes, each byte's
    bits reversed, as RFB has it)."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    key = bytes(int(f"{b:08b}"[::-1], 2) for b in password.encode("latin-1")[:8].ljust(8, b"\0"))
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()  # DES: one key three times
    return encryptor.update(challenge) + encryptor.finalize()


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise HandshakeError("The VNC server closed the connection during the handshake.")
        data += chunk
    return data


def with_server(sock: socket.socket, password: str | None) -> None:
    """Version, security and its result with the VNC server (socket timeouts raise ``TimeoutError``)."""
    version = _read(sock, 12)
    if not version.startswith(b"RFB 003.") or version < b"RFB 003.008":
        raise HandshakeError(f"The VNC server speaks {version!r}, not RFB 3.8.")
    sock.sendall(VERSION)
    (count,) = _read(sock, 1)
    if count == 0:
        (length,) = struct.unpack(">I", _read(sock, 4))
        raise HandshakeError(f"The VNC server refused: {_read(sock, length).decode('latin-1')}")
    types = set(_read(sock, count))
    if NONE in types:
        sock.sendall(bytes([NONE]))
    elif VNC_AUTH in types and password is not None:
        sock.sendall(bytes([VNC_AUTH]))
        sock.sendall(vnc_response(password, _read(sock, 16)))
    elif VNC_AUTH in types:
        raise HandshakeError("The VNC server asks for a password, and Fleet has none for this cluster.")
    else:
        raise HandshakeError(f"The VNC server offers no security type Fleet speaks ({sorted(types)}).")
    (result,) = struct.unpack(">I", _read(sock, 4))
    if result != 0:
        reason = b""
        try:
            (length,) = struct.unpack(">I", _read(sock, 4))
            reason = _read(sock, length)
        except HandshakeError:
            pass
        raise HandshakeError(f"The VNC server refused the password: {reason.decode('latin-1') or 'failed'}")


def with_browser(send: Callable[[bytes], None], receive: Callable[[int], bytes]) -> None:
    """Be an RFB 3.8 server without authentication up to the security result (the browser's ClientInit,
    and all that follows, is relayed to the VNC server)."""
    send(VERSION)
    receive(12)
    send(bytes([1, NONE]))
    if receive(1) != bytes([NONE]):
        raise HandshakeError("The browser chose a security type the proxy did not offer.")
    send(struct.pack(">I", 0))

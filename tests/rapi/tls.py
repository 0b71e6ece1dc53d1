"""A small HTTPS server for transport tests: a self-signed certificate, scripted answers, a record of what it
received, and modes that misbehave (never answer)."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class Cert:
    """A self-signed certificate and key on disk, with its SHA-256 fingerprint."""

    cert_file: str
    key_file: str
    fingerprint: str


def make_cert(
    directory: Path, name: str = "localhost", *, ip_names: bool = True, ca: bool = True, bare: bool = False
) -> Cert:
    """A self-signed certificate for `name` (and 127.0.0.1 and ::1 unless not `ip_names`); `ca=False` leaves
    out the CA flag, as a plain leaf certificate; `bare` leaves out every extension, as Ganeti's own rapi.pem
    (`CN=ganeti.example.com`, no subjectAltName) does."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    ips: list[x509.GeneralName] = []
    if ip_names:
        ips = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
    )
    if not bare:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), *ips]), critical=False
        ).add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    cert = builder.sign(key, hashes.SHA256())
    cert_file = directory / f"{name}-{x509.random_serial_number() % 10**6}.pem"
    key_file = cert_file.with_suffix(".key")
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    return Cert(str(cert_file), str(key_file), hashlib.sha256(der).hexdigest())


@dataclass
class Received:
    """What one connection sent after the TLS handshake."""

    data: bytes = b""


Handler = Callable[[str, str, dict[str, str], bytes], tuple[int, object]]


@dataclass
class TlsServer:
    """A threaded TLS server on 127.0.0.1. `mode` is `http` (answer with `handler`), or `silent` (complete
    the handshake, read what comes, never answer)."""

    cert: Cert
    handler: Handler | None = None
    mode: str = "http"
    connections: list[Received] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self.port = self._sock.getsockname()[1]
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(self.cert.cert_file, self.cert.key_file)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> TlsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        record = Received()
        self.connections.append(record)
        conn.settimeout(0.2 if self.mode == "silent" else 5)
        try:
            with self._ctx.wrap_socket(conn, server_side=True) as tls:
                if self.mode == "silent":
                    self._read_all(tls, record)
                    return
                head, body = self._read_request(tls, record)
                if head is None:
                    return
                request_line, *header_lines = head.split("\r\n")
                method, target, _ = request_line.split(" ", 2)
                headers = {}
                for line in header_lines:
                    key, _, value = line.partition(":")
                    headers[key.strip().lower()] = value.strip()
                assert self.handler is not None
                status, payload = self.handler(method, target, headers, body)
                content = json.dumps(payload).encode()
                tls.sendall(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nConnection: close\r\n"
                    f"Content-Length: {len(content)}\r\n\r\n".encode()
                    + content
                )
        except (OSError, ValueError):
            return

    def _read_all(self, tls: ssl.SSLSocket, record: Received) -> None:
        while not self._stop.is_set():
            try:
                chunk = tls.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            record.data += chunk

    def _read_request(self, tls: ssl.SSLSocket, record: Received) -> tuple[str | None, bytes]:
        while b"\r\n\r\n" not in record.data:
            chunk = tls.recv(65536)
            if not chunk:
                return None, b""
            record.data += chunk
        head, _, body = record.data.partition(b"\r\n\r\n")
        text = head.decode("latin-1")
        length = 0
        for line in text.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == "content-length":
                length = int(value)
        while len(body) < length:
            chunk = tls.recv(65536)
            if not chunk:
                break
            body += chunk
        record.data = head + b"\r\n\r\n" + body
        return text, body


def black_hole() -> tuple[socket.socket, int]:
    """A listening socket that accepts connections (the kernel does) but never reads or answers."""
    sock = socket.create_server(("127.0.0.1", 0), backlog=16)
    return sock, sock.getsockname()[1]


def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

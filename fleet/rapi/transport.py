"""The only code that touches the network: httpx transports with TLS verification, timeouts and Basic auth,
and the mapping of every network failure to `fleet.rapi.errors`.

TLS is always verified, one of two ways:

- `Pin(sha256)`: the cluster's self-signed `rapi.pem`, trusted by its SHA-256 fingerprint (of the DER). The
  handshake runs without CA checks, then the peer certificate is compared with the pin inside the handshake
  itself, before httpx can write a byte of the request: a wrong certificate never sees the credentials.
- `CaFile(path)`: ordinary verification against the certificates in a PEM file (a CA, or the server's own
  certificate). The host name is checked against a CA's certificates, but not against a file that holds only
  the server's own certificate (none in it may issue others): that file trusts exactly that certificate, as a
  pin does, and Ganeti writes `CN=ganeti.example.com` and no subjectAltName into every cluster's `rapi.pem`,
  so no host name could ever match it. `check_hostname` set to True or False overrides the choice.

Each request is logged at DEBUG on the `fleet.rapi` logger, named by its cluster (``name``, or host:port):
method, path, status and time, or the failure. What a request meant (a pass, a job) is logged above it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
from cryptography import x509

from fleet.rapi import errors
from fleet.rapi.wire import Request, Response

__all__ = [
    "DEFAULT_PORT",
    "AsyncHttpxTransport",
    "CaFile",
    "Credentials",
    "Endpoint",
    "HttpxTransport",
    "Pin",
    "Timeouts",
    "Trust",
    "fetch_fingerprint",
    "normalize_fingerprint",
    "ssl_context",
]

DEFAULT_PORT: Final = 5080
log = logging.getLogger("fleet.rapi")


@dataclass(frozen=True)
class Timeouts:
    """Per-cluster timeouts in seconds. `long_poll` is the read timeout of `/2/jobs/N/wait`, which the server
    holds for up to 10 s, so it must stay well above that."""

    connect: float = 10.0
    read: float = 60.0
    long_poll: float = 30.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "long_poll"):
            if not getattr(self, name) > 0:
                raise ValueError(f"timeout {name} must be a positive number of seconds")


@dataclass(frozen=True)
class Credentials:
    """A RAPI user (from Ganeti's `rapi/users` file) and its password; the password never shows in repr."""

    username: str
    password: str = field(repr=False)


def normalize_fingerprint(text: str) -> str:
    """A SHA-256 fingerprint as lowercase hex without colons; accepts `AB:CD:...` and a `sha256:` prefix."""
    value = text.strip().lower()
    for prefix in ("sha256 fingerprint=", "sha256:", "sha256="):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.replace(":", "")
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ValueError(f"not a SHA-256 fingerprint: {text!r}")
    return value


@dataclass(frozen=True)
class Pin:
    """Trust exactly the certificate with this SHA-256 fingerprint (of its DER encoding)."""

    sha256: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", normalize_fingerprint(self.sha256))


@dataclass(frozen=True)
class CaFile:
    """Trust the certificates in this PEM file (a CA, or the server's certificate itself).

    `check_hostname=None` (the default) checks the host name unless the file holds only certificates that
    cannot issue others (no `CA:TRUE`, no `keyCertSign`), such as Ganeti's self-signed `rapi.pem`: its name is
    always `ganeti.example.com`, and trusting that one certificate is as strict as pinning it.
    """

    path: str
    check_hostname: bool | None = None


Trust = Pin | CaFile


@dataclass(frozen=True)
class Endpoint:
    """Where a RAPI listens: `https://host:port`, `host:port` or `host` (port 5080)."""

    host: str
    port: int = DEFAULT_PORT

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        """Read a URL or `host[:port]`; only https is accepted (RAPI credentials never travel in clear)."""
        text = url.strip()
        if "://" not in text:
            text = "https://" + text
        parts = urlsplit(text)
        if parts.scheme != "https":
            raise ValueError(f"RAPI URL must use https: {url!r}")
        if parts.path not in ("", "/") or parts.query or parts.username:
            raise ValueError(f"RAPI URL takes only a host and a port: {url!r}")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError as exc:
            raise ValueError(f"bad port in RAPI URL: {url!r}") from exc
        if not parts.hostname:
            raise ValueError(f"no host in RAPI URL: {url!r}")
        return cls(parts.hostname, port)

    @property
    def base_url(self) -> str:
        """`https://host:port`, with IPv6 addresses in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"


# TLS --------------------------------------------------------------------------------------------------------


# The pinned fingerprint rides on a plain SSLContext as an attribute, not on a subclass: anyio creates the TLS
# objects of any other context type in a worker thread, a thread hop on every connection (and Ganeti's RAPI
# closes the connection after every request).
_PIN = "fleet_pin"


class PinMismatchError(ssl.SSLCertVerificationError):
    """Raised inside the TLS handshake; the transports turn it into `errors.CertificateMismatch`."""

    def __init__(self, expected: str, actual: str | None) -> None:
        got = actual or "no certificate"
        super().__init__(1, f"server certificate SHA-256 {got} does not match the pinned {expected}")
        self.expected = expected
        self.actual = actual


def _check_pin(context: ssl.SSLContext, der: bytes | None) -> None:
    pin = getattr(context, _PIN, None)
    if not isinstance(pin, str):
        raise PinMismatchError("?", None)
    actual = hashlib.sha256(der).hexdigest() if der else None
    if actual is None or not hmac.compare_digest(actual, pin):
        raise PinMismatchError(pin, actual)


class _PinnedSSLSocket(ssl.SSLSocket):
    """Blocking TLS socket (httpx sync) that checks the pin when the handshake completes, and refuses to send
    anything if the check has not passed."""

    _pin_checked = False

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        _check_pin(self.context, self.getpeercert(binary_form=True))
        self._pin_checked = True

    def _require_pin(self) -> None:
        if not self._pin_checked:
            self.do_handshake()

    def send(self, data: Any, flags: int = 0) -> int:
        self._require_pin()
        return super().send(data, flags)

    def sendall(self, data: Any, flags: int = 0) -> None:
        self._require_pin()
        super().sendall(data, flags)

    def write(self, data: Any) -> int:
        self._require_pin()
        return super().write(data)


class _PinnedSSLObject(ssl.SSLObject):
    """In-memory TLS object (httpx async, through anyio) with the same check."""

    _pin_checked = False

    def do_handshake(self) -> None:
        super().do_handshake()
        _check_pin(self.context, self.getpeercert(binary_form=True))
        self._pin_checked = True

    def write(self, data: Any) -> int:
        if not self._pin_checked:
            raise PinMismatchError(getattr(self.context, _PIN, "?"), None)
        return super().write(data)


def ssl_context(trust: Trust) -> ssl.SSLContext:
    """The SSL context for a trust setting: a pinned certificate or a CA file. TLS 1.2 at least."""
    ctx: ssl.SSLContext
    if isinstance(trust, Pin):
        pinned = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        setattr(pinned, _PIN, trust.sha256)
        pinned.check_hostname = False
        pinned.verify_mode = ssl.CERT_NONE  # the pin check in the handshake replaces chain verification
        pinned.sslsocket_class = _PinnedSSLSocket
        pinned.sslobject_class = _PinnedSSLObject
        ctx = pinned
    else:
        ctx = ssl.create_default_context(cafile=trust.path)
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a server certificate in the file is trusted as is
        check = trust.check_hostname
        ctx.check_hostname = check if check is not None else not _holds_only_server_certificates(trust.path)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _holds_only_server_certificates(path: str) -> bool:
    """Whether no certificate in the PEM file may issue others (a CA flag or the `keyCertSign` usage).

    A version 1 certificate (Ganeti's `rapi.pem`) has no extensions; OpenSSL would accept it as the issuer of
    a certificate signed with its key, but that key is the server's own.
    """
    with open(path, "rb") as pem:
        try:
            certificates = x509.load_pem_x509_certificates(pem.read())
        except ValueError:
            return False
    return bool(certificates) and not any(_may_issue(c) for c in certificates)


def _may_issue(certificate: x509.Certificate) -> bool:
    try:
        if certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return False


def fetch_fingerprint(host: str, port: int = DEFAULT_PORT, timeout: float = 10.0) -> str:
    """Connect once, without verification, and return the server certificate's SHA-256 (lowercase hex).

    For the admin to compare with `openssl x509 -fingerprint -sha256 -in rapi.pem` on the master, then pin.
    Sends nothing but the TLS handshake.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    server_name = None if _is_ip(host) else host
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except TimeoutError as exc:
        raise errors.ConnectTimeout(f"{host}:{port}: no TLS handshake within {timeout:g} s") from exc
    except ssl.SSLError as exc:
        raise errors.Unreachable(f"{host}:{port}: TLS handshake failed: {exc.reason or exc}") from exc
    except OSError as exc:
        raise errors.Unreachable(f"{host}:{port}: {exc.strerror or exc}") from exc
    if not der:
        raise errors.CertificateMismatch(f"{host}:{port} sent no certificate")
    return hashlib.sha256(der).hexdigest()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


# Error mapping ----------------------------------------------------------------------------------------------


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def map_transport_error(exc: httpx.TransportError, where: str) -> errors.TransportError:
    """Translate an httpx failure into our tree; `where` (`host:port`) starts the message."""
    for inner in _chain(exc):
        if isinstance(inner, PinMismatchError):
            return errors.CertificateMismatch(f"{where}: {inner.strerror}")
        if isinstance(inner, ssl.SSLCertVerificationError):
            reason = getattr(inner, "verify_message", None) or inner.strerror or str(inner)
            return errors.CertificateMismatch(f"{where}: certificate verification failed: {reason}")
    if isinstance(exc, httpx.ConnectTimeout):
        return errors.ConnectTimeout(f"{where}: connection timed out")
    if isinstance(exc, httpx.TimeoutException):
        return errors.ReadTimeout(f"{where}: no answer in time")
    detail = str(exc) or type(exc).__name__
    return errors.Unreachable(f"{where}: {detail}")


@contextlib.contextmanager
def _mapped(where: str, name: str, request: Request) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    except httpx.TransportError as exc:
        error = map_transport_error(exc, where)
        elapsed = time.monotonic() - started
        log.debug("%s: %s %s failed after %.3f s: %s", name, request.method, request.path, elapsed, error)
        raise error from exc


def _answer(name: str, request: Request, reply: httpx.Response) -> Response:
    """The reply as our Response, logged at DEBUG."""
    elapsed = reply.elapsed.total_seconds()
    log.debug("%s: %s %s %d in %.3f s", name, request.method, request.path, reply.status_code, elapsed)
    return Response(reply.status_code, reply.content, reply.reason_phrase)


def _client_options(
    endpoint: Endpoint, trust: Trust, credentials: Credentials | None, timeouts: Timeouts
) -> dict[str, Any]:
    return {
        "base_url": endpoint.base_url,
        "verify": ssl_context(trust),
        "auth": None if credentials is None else httpx.BasicAuth(credentials.username, credentials.password),
        "timeout": httpx.Timeout(timeouts.read, connect=timeouts.connect),
        "headers": {"User-Agent": "fleet-rapi"},
        "follow_redirects": False,
        "trust_env": False,
    }


def _request_timeout(request: Request, timeouts: Timeouts) -> httpx.Timeout:
    read = timeouts.long_poll if request.long_poll else timeouts.read
    return httpx.Timeout(read, connect=timeouts.connect)


class HttpxTransport:
    """Blocking transport over httpx: one per cluster, for the CLI and views."""

    def __init__(
        self,
        url: str,
        *,
        trust: Trust,
        credentials: Credentials | None = None,
        timeouts: Timeouts | None = None,
        name: str | None = None,
    ) -> None:
        self.endpoint = Endpoint.parse(url)
        self.timeouts = timeouts or Timeouts()
        self._where = f"{self.endpoint.host}:{self.endpoint.port}"
        self.name = name or self._where  # how log lines name the cluster
        self._client = httpx.Client(**_client_options(self.endpoint, trust, credentials, self.timeouts))

    def handle(self, request: Request) -> Response:
        """Send one request and return the answer, whatever its status; network failures raise."""
        with _mapped(self._where, self.name, request):
            reply = self._client.request(
                request.method,
                request.path,
                params=request.query,
                content=request.body,
                headers=request.headers,
                timeout=_request_timeout(request, self.timeouts),
            )
        return _answer(self.name, request, reply)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


class AsyncHttpxTransport:
    """Asyncio transport over httpx: one per cluster, for the worker."""

    def __init__(
        self,
        url: str,
        *,
        trust: Trust,
        credentials: Credentials | None = None,
        timeouts: Timeouts | None = None,
        name: str | None = None,
    ) -> None:
        self.endpoint = Endpoint.parse(url)
        self.timeouts = timeouts or Timeouts()
        self._where = f"{self.endpoint.host}:{self.endpoint.port}"
        self.name = name or self._where  # how log lines name the cluster
        self._client = httpx.AsyncClient(**_client_options(self.endpoint, trust, credentials, self.timeouts))

    async def handle(self, request: Request) -> Response:
        """Send one request and return the answer, whatever its status; network failures raise."""
        with _mapped(self._where, self.name, request):
            reply = await self._client.request(
                request.method,
                request.path,
                params=request.query,
                content=request.body,
                headers=request.headers,
                timeout=_request_timeout(request, self.timeouts),
            )
        return _answer(self.name, request, reply)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

"""``fleet console-proxy``: websockify's server with Fleet's request handler, which claims the token
(``fleet.console.plugin``), connects to the VNC server with a timeout, does the RFB handshake on both sides
(``fleet.console.vnc``) and then relays, as websockify does. Each browser connection is served by a child
process of websockify's, so one stuck VNC server holds up nobody else."""

from __future__ import annotations

import gc
import logging
import socket
from typing import Any
from urllib.parse import parse_qs, urlparse

from websockify.websocketproxy import ProxyRequestHandler, WebSocketProxy

from fleet.console import plugin, vnc
from fleet.console.models import Outcome

log = logging.getLogger("fleet.console")

CONNECT_TIMEOUT = 5.0  # seconds to reach the node's VNC port
HANDSHAKE_TIMEOUT = 5.0  # seconds for the VNC server to go through its handshake
CLOSE_CODE = 4000  # the WebSocket close code of a console the proxy could not open (the page asks why)


class ConsoleHandler(ProxyRequestHandler):
    """One browser's console connection."""

    claim: plugin.Claim | None = None

    def log_message(self, format: str, *args: Any) -> None:
        # websockify logs the request's path, which holds the token: the log keeps the path, not the token.
        hidden = tuple(
            urlparse(a)._replace(query="token=(hidden)").geturl()
            if isinstance(a, str) and a == self.path
            else a
            for a in args
        )
        super().log_message(format, *hidden)

    def validate_connection(self) -> None:
        token = parse_qs(urlparse(self.path).query).get("token", [None])[0]
        try:
            self.claim = plugin.claim(token)
        except plugin.Refusal as refusal:
            raise self.server.EClose(str(refusal)) from None
        # websockify's logging reads the target from the server object; this process serves one client
        self.server.target_host, self.server.target_port = self.claim.host, self.claim.port

    def new_websocket_client(self) -> None:
        claim = self.claim
        assert claim is not None
        where = f"{claim.host}:{claim.port}"
        try:
            target = socket.create_connection((claim.host, claim.port), timeout=CONNECT_TIMEOUT)
        except TimeoutError:
            self._fail(
                claim,
                Outcome.UNREACHABLE,
                f"The node's VNC port {where} did not answer in {CONNECT_TIMEOUT:g} s.",
            )
        except OSError as exc:
            self._fail(
                claim,
                Outcome.UNREACHABLE,
                f"The node's VNC port {where} could not be reached: {exc.strerror or exc}.",
            )
        try:
            target.settimeout(HANDSHAKE_TIMEOUT)
            try:
                vnc.with_server(target, plugin.vnc_password(claim.cluster))
            except TimeoutError:
                self._fail(
                    claim,
                    Outcome.TIMEOUT,
                    f"The VNC server at {where} did not answer in {HANDSHAKE_TIMEOUT:g} s.",
                )
            except (vnc.HandshakeError, OSError) as exc:
                self._fail(claim, Outcome.REFUSED, str(exc))
            target.settimeout(None)
            target.setsockopt(socket.SOL_TCP, socket.TCP_NODELAY, 1)
            plugin.finish(claim.session, Outcome.CONNECTED, ended=False)
            try:
                vnc.with_browser(self.request.sendmsg, self._receive)
                self.do_proxy(target)
            finally:
                plugin.finish(claim.session, Outcome.ENDED)
        finally:
            target.close()

    def _receive(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.request.recvmsg()
            if chunk is None:
                raise self.CClose(1000, "The browser went away.")
            data += chunk
        return data

    def _fail(self, claim: plugin.Claim, outcome: Outcome, detail: str) -> Any:
        log.warning("console session %s of %s: %s", claim.session, claim.instance, detail)
        plugin.finish(claim.session, outcome, detail)
        raise self.CClose(CLOSE_CODE, detail[:120])


def serve(
    host: str, port: int, cert: str | None = None, key: str | None = None, verbose: bool = False
) -> None:
    """Run the proxy until SIGTERM or SIGINT (TLS when ``cert`` is given: browsers then use wss://)."""
    options: dict[str, Any] = {
        "listen_host": host,
        "listen_port": port,
        "verbose": verbose,
        "daemon": False,
        "token_plugin": object(),  # websockify then asks for no fixed target; the handler resolves tokens
        "ssl_only": bool(cert),
        "heartbeat": 30,
    }
    if cert:
        options.update(cert=cert, key=key or cert)
    # websockify forks a child per connection: what every child needs (the database driver, the ORM's
    # queries, DES) is loaded here once and shared, and frozen out of the collector's reach so that a child's
    # collection does not write to (and so copy) it.
    plugin.warm_up()
    vnc.vnc_response("warm-up", bytes(16))
    gc.freeze()
    WebSocketProxy(RequestHandlerClass=ConsoleHandler, **options).start_server()

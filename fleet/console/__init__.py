"""The console: short-lived, single-use signed tokens for websockify, and the proxy that resolves them.

The web process mints a token (``sessions.open_console``) after the policy and a fresh look at the cluster
(``cluster.console_of``); the browser's noVNC hands it to ``fleet console-proxy`` (websockify with Fleet's
token plugin, ``plugin``, and request handler, ``proxy``), which claims it once and connects to the node's
VNC port. The VNC stream never passes through the web process.
"""

"""For plain websockify (``websockify --token-plugin fleet.console.token_plugin.FleetTokens``): Fleet's
tokens,
claimed once, on a cluster whose VNC servers ask no password (``fleet console-proxy`` also answers their VNC
authentication). Django is set up when websockify makes the plugin, so this module imports nothing of it."""

from __future__ import annotations


class FleetTokens:
    """websockify's token plugin interface: ``lookup(token)`` gives ``(host, port)``, or None to refuse."""

    def __init__(self, src: str = "") -> None:
        from fleet.cli.django_app import setup

        setup()

    def lookup(self, token: str) -> tuple[str, int] | None:
        from fleet.console.plugin import Refusal, claim

        try:
            found = claim(token)
        except Refusal:
            return None
        return found.host, found.port

"""The ``[metrics]`` table of fleet.toml: who may read ``/metrics``.

``/metrics`` shows the whole fleet's shape (cluster, node and network names, capacity, job counts), so it is
closed by default. A scrape is let in when its client address is in ``allow_networks`` or when it carries
``Authorization: Bearer <token>`` with the configured token. Behind a reverse proxy every request comes
from the proxy's address: there, use the token (Prometheus's ``authorization.credentials_file``), not the
networks. Each key can also be set in the environment as ``FLEET_METRICS_<KEY>``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

KEYS = ("token", "allow_networks")
MIN_TOKEN_LENGTH = 32  # a guessable token would open the fleet's inventory to anyone who can reach the port

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class MetricsConfig:
    """The checked ``[metrics]`` settings: the bearer token (empty: none), the networks let in without it."""

    token: str = field(default="", repr=False)
    allow_networks: tuple[Network, ...] = ()

    @property
    def closed(self) -> bool:
        """Whether no scrape can get in (neither a token nor a network is configured)."""
        return not self.token and not self.allow_networks


class Table(Protocol):
    def get(self, key: str) -> Any: ...

    def origin(self, key: str) -> str: ...


def read_metrics(table: Table) -> MetricsConfig:
    """Check the ``[metrics]`` table (unknown keys are refused by the caller)."""
    token = str(table.get("token") or "").strip()
    if token and len(token) < MIN_TOKEN_LENGTH:
        raise ImproperlyConfigured(
            f"{table.origin('token')} must be at least {MIN_TOKEN_LENGTH} characters "
            '(make one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return MetricsConfig(token=token, allow_networks=_networks(table, "allow_networks"))


def _networks(table: Table, key: str) -> tuple[Network, ...]:
    value = table.get(key)
    if value is None:
        return ()
    items = value if isinstance(value, list) else str(value).split(",")
    out = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=True))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{table.origin(key)}: {item!r} is not a network ({exc})") from None
    return tuple(out)

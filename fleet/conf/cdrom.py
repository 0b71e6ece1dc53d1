"""The ``[cdrom]`` table of fleet.toml: which CD image URLs owners may boot their instances from.

Ganeti never fetches a CD image URL; KVM does, on the instance's primary node, each time the instance
starts. So the URL is a request the node will make on the owner's behalf, from inside the cluster's network:
Fleet accepts only http and https URLs on the usual ports whose host is a name (or an address) that
resolves to public addresses only. An operator who keeps images on an internal mirror lists it here.
Each key can also be set in the environment as ``FLEET_CDROM_<KEY>``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

KEYS = ("hosts", "allow_networks", "deny_networks", "ports", "resolve_timeout")
DEFAULT_PORTS = (80, 443)
HOST_PATTERN = re.compile(r"(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, float], Sequence[str]]
"""From a host name and the seconds it may take, the addresses it resolves to (text); raises
:class:`LookupError` when it does not resolve, :class:`TimeoutError` when it takes longer."""


@dataclass(frozen=True)
class CdromConfig:
    """The checked ``[cdrom]`` settings.

    ``hosts``: when set, the only host names (``*.example.org`` for any name under it) a URL may name;
    ``allow_networks``: addresses accepted although they are not public (an internal mirror);
    ``deny_networks``: public addresses refused all the same (the nodes' own networks, a metadata service);
    ``ports``: the ports a URL may name; ``resolve_timeout``: the seconds a name may take to resolve.
    """

    hosts: tuple[str, ...] = ()
    allow_networks: tuple[Network, ...] = ()
    deny_networks: tuple[Network, ...] = ()
    ports: tuple[int, ...] = DEFAULT_PORTS
    resolve_timeout: float = 2.0
    resolver: Resolver | None = field(default=None, repr=False, compare=False)  # None: this machine's


class Table(Protocol):
    def get(self, key: str) -> Any: ...

    def origin(self, key: str) -> str: ...


def read_cdrom(table: Table) -> CdromConfig:
    """Check the ``[cdrom]`` table (unknown keys are refused by the caller)."""
    hosts = tuple(_host(table, item) for item in _items(table, "hosts"))
    ports = tuple(_port(table, item) for item in _items(table, "ports")) or DEFAULT_PORTS
    return CdromConfig(
        hosts=hosts,
        allow_networks=_networks(table, "allow_networks"),
        deny_networks=_networks(table, "deny_networks"),
        ports=ports,
        resolve_timeout=_timeout(table),
    )


def _items(table: Table, key: str) -> list[str]:
    value = table.get(key)
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value).split(",") if item.strip()]


def _host(table: Table, value: str) -> str:
    host = value.lower().rstrip(".")
    if not HOST_PATTERN.fullmatch(host):
        raise ImproperlyConfigured(
            f"{table.origin('hosts')}: {value!r} is not a host name (or *.domain for the names under it)"
        )
    return host


def _networks(table: Table, key: str) -> tuple[Network, ...]:
    return tuple(_network(table, key, item) for item in _items(table, key))


def _network(table: Table, key: str, value: str) -> Network:
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{table.origin(key)}: {value!r} is not a network ({exc})") from None


def _port(table: Table, value: str) -> int:
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= 65535):
        raise ImproperlyConfigured(f"{table.origin('ports')}: {value!r} is not a port from 1 to 65535")
    return int(value)


def _timeout(table: Table) -> float:
    value = table.get("resolve_timeout")
    if value is None or value == "":
        return CdromConfig.resolve_timeout
    try:
        seconds = float(value) if not isinstance(value, bool) else -1.0
    except ValueError:
        seconds = -1.0
    if not 0.1 <= seconds <= 30:
        raise ImproperlyConfigured(
            f"{table.origin('resolve_timeout')} must be a number of seconds from 0.1 to 30, not {value!r}"
        )
    return seconds

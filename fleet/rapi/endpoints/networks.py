"""Network resources: list, read, create, modify, connect/disconnect to groups, delete and tags."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from typing import Any, Literal, cast

from fleet.rapi.endpoints import _common
from fleet.rapi.models import Network
from fleet.rapi.wire import Call, as_dict, body, dicts, names_of, path

NetworkMode = Literal["bridged", "routed", "openvswitch"]

_q = _common.write_query


def _network(data: Any) -> Network:
    return cast(Network, as_dict(data))


def _networks(data: Any) -> builtins.list[Network]:
    return [cast(Network, d) for d in dicts(data)]


def _opt_list(items: Iterable[str] | None) -> builtins.list[str] | None:
    return None if items is None else builtins.list(items)


def list() -> Call[builtins.list[str]]:
    """GET /2/networks: the network names."""
    return Call("GET", "/2/networks", names_of("name"))


def bulk() -> Call[builtins.list[Network]]:
    """GET /2/networks?bulk=1: every network with all its fields."""
    return Call("GET", "/2/networks", _networks, (("bulk", "1"),))


def get(name: str) -> Call[Network]:
    """GET /2/networks/N: one network (NotFound if unknown)."""
    return Call("GET", path("networks", name), _network)


def create(
    name: str,
    network: str,
    *,
    gateway: str | None = None,
    network6: str | None = None,
    gateway6: str | None = None,
    mac_prefix: str | None = None,
    add_reserved_ips: Sequence[str] | None = None,
    conflicts_check: bool | None = None,
    tags: Iterable[str] | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """POST /2/networks: add an IPv4 network (CIDR /16 to /30) with its address pool."""
    payload = body(
        {
            "network_name": name,
            "network": network,
            "gateway": gateway,
            "network6": network6,
            "gateway6": gateway6,
            "mac_prefix": mac_prefix,
            "add_reserved_ips": _opt_list(add_reserved_ips),
            "conflicts_check": conflicts_check,
            "tags": _opt_list(tags),
        }
    )
    return _common.job("POST", "/2/networks", _q(dry_run=dry_run, reason=reason), payload)


def modify(
    name: str,
    *,
    gateway: str | None = None,
    network6: str | None = None,
    gateway6: str | None = None,
    mac_prefix: str | None = None,
    add_reserved_ips: Sequence[str] | None = None,
    remove_reserved_ips: Sequence[str] | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/networks/N/modify (the CIDR itself cannot change)."""
    payload = body(
        {
            "gateway": gateway,
            "network6": network6,
            "gateway6": gateway6,
            "mac_prefix": mac_prefix,
            "add_reserved_ips": _opt_list(add_reserved_ips),
            "remove_reserved_ips": _opt_list(remove_reserved_ips),
        }
    )
    payload = _common.body_dry_run(payload, dry_run)
    return _common.job("PUT", path("networks", name, "modify"), _q(reason=reason), payload)


def connect(
    name: str,
    group_name: str,
    *,
    mode: NetworkMode = "bridged",
    link: str,
    vlan: str = "",
    conflicts_check: bool | None = None,
    dry_run: bool = False,
    reason: str | None = None,
) -> Call[int]:
    """PUT /2/networks/N/connect: make the network available to a node group, with its mode, link and vlan."""
    payload = body(
        {
            "group_name": group_name,
            "network_mode": mode,
            "network_link": link,
            "network_vlan": vlan,
            "conflicts_check": conflicts_check,
        }
    )
    return _common.job("PUT", path("networks", name, "connect"), _q(dry_run=dry_run, reason=reason), payload)


def disconnect(name: str, group_name: str, *, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """PUT /2/networks/N/disconnect: remove the network from a node group."""
    params = _q(dry_run=dry_run, reason=reason)
    return _common.job("PUT", path("networks", name, "disconnect"), params, {"group_name": group_name})


def delete(name: str, *, dry_run: bool = False, reason: str | None = None) -> Call[int]:
    """DELETE /2/networks/N (only when no group is connected)."""
    return _common.job("DELETE", path("networks", name), _q(dry_run=dry_run, reason=reason))


def tags(name: str) -> Call[builtins.list[str]]:
    """GET /2/networks/N/tags."""
    return _common.get_tags("networks", name)


def add_tags(
    name: str, tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """PUT /2/networks/N/tags?tag=...; returns a job id."""
    return _common.add_tags("networks", name, tag_list, dry_run=dry_run, reason=reason)


def delete_tags(
    name: str, tag_list: Iterable[str], *, dry_run: bool = False, reason: str | None = None
) -> Call[int]:
    """DELETE /2/networks/N/tags?tag=...; returns a job id."""
    return _common.delete_tags("networks", name, tag_list, dry_run=dry_run, reason=reason)

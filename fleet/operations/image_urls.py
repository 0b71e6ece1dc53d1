"""Which CD image URLs an owner may boot an instance from: checked without fetching anything.

Fleet never requests the URL (ganetimgr did, with a HEAD from the web server, which is where its SSRF was),
and neither does Ganeti: KVM reads the image over HTTP from the instance's primary node each time the
instance starts, and the guest sees what the node got. So the URL must not name anything the node can reach
that the owner should not read: Fleet accepts only http and https on the allowed ports, no user name or
password, a host written as a name or a dotted IPv4 or bracketed IPv6 address (never the other notations
that resolvers and URL parsers accept: ``2130706433``, ``0x7f.1``, ``017700000001``), and a name only if it
resolves, within a bounded time, to public addresses alone. The ranges refused and the exceptions an
operator allows are in :data:`REFUSED` and ``[cdrom]`` of fleet.toml (``fleet.conf.cdrom``).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

from fleet.conf.cdrom import CdromConfig, Network

__all__ = ["MAX_URL_LENGTH", "REFUSED", "UrlRefused", "check_image_url", "system_resolver"]

MAX_URL_LENGTH = 2048
SCHEMES = ("http", "https")
DEFAULT_PORT = {"http": 80, "https": 443}
URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+;=%]*")
"""RFC 3986's characters but the comma: KVM's command line (``-drive file=URL,media=cdrom``) splits options
on commas, so one in the URL would add options of the owner's to the node's qemu (write ``%2C``)."""
LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*", re.IGNORECASE)
"""A last label that URL parsers (WHATWG's, curl's) take for an IPv4 address in one of its notations."""

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _nets(*pairs: tuple[str, str]) -> tuple[tuple[Network, str], ...]:
    return tuple((ipaddress.ip_network(net), what) for net, what in pairs)


REFUSED = _nets(
    # the most specific first: the first match names the reason
    ("169.254.169.254/32", "the address of a cloud metadata service"),
    ("fd00:ec2::254/128", "the address of a cloud metadata service"),
    ("168.63.129.16/32", "the address of a cloud metadata service"),
    ("100.100.100.200/32", "the address of a cloud metadata service"),
    ("0.0.0.0/32", "unspecified"),
    ("::/128", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("::1/128", "loopback"),
    ("0.0.0.0/8", "reserved ('this network')"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("fc00::/7", "private (unique local)"),
    ("64:ff9b:1::/48", "private (local NAT64)"),
    ("100.64.0.0/10", "shared (carrier-grade NAT)"),
    ("169.254.0.0/16", "link-local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("192.0.2.0/24", "documentation"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("2001:db8::/32", "documentation"),
    ("3fff::/20", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("ff00::/8", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("192.0.0.0/24", "reserved (IETF protocol assignments)"),
    ("2001::/23", "reserved (IETF protocol assignments)"),
    ("192.88.99.0/24", "reserved (6to4 relays)"),
    ("198.18.0.0/15", "reserved (benchmarking)"),
    ("240.0.0.0/4", "reserved"),
    ("100::/64", "reserved (discard only)"),
    ("::/96", "reserved (IPv4-compatible)"),
)
"""The addresses a URL may not lead to, each with what it is."""

_LOOKUPS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cdrom-resolve")
"""getaddrinfo has no timeout of its own: lookups run here and are waited for at most the configured time,
so a slow resolver holds up no request for longer, and a flood of slow names queues behind four threads."""


class UrlRefused(ValueError):
    """The URL may not be used; the message says why, for the owner."""


def system_resolver(host: str, timeout: float) -> Sequence[str]:
    """The addresses ``host`` has for this machine (its resolver, /etc/hosts included), within ``timeout``
    seconds; :class:`LookupError` if it has none, :class:`TimeoutError` if the answer takes longer."""
    lookup = _LOOKUPS.submit(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM)
    try:
        answers = lookup.result(timeout=timeout)
    except FutureTimeout:
        lookup.cancel()
        raise TimeoutError(host) from None
    except (OSError, UnicodeError) as exc:
        raise LookupError(host) from exc
    return [str(sockaddr[0]) for *_, sockaddr in answers]


def check_image_url(url: str, config: CdromConfig) -> str:
    """``url`` as Fleet sends it to Ganeti (scheme and host in lower case), or :class:`UrlRefused`."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(f"at most {MAX_URL_LENGTH} characters")
    if not url.isascii():
        raise UrlRefused("only ASCII characters: write an international host name in its xn-- form")
    if "," in url:
        raise UrlRefused("no commas (write %2C): KVM's command line would split the URL there")
    if "\\" in url:
        raise UrlRefused("no backslashes: URL parsers disagree on what they mean")
    if not URL_CHARACTERS.fullmatch(url):
        raise UrlRefused("no spaces, quotes or control characters: percent-encode them")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise UrlRefused("not a URL: a host in brackets must be an IPv6 address, closed by ]") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not url[len(scheme) :].startswith("://"):
        raise UrlRefused("an http:// or https:// URL")
    if "@" in parts.netloc:
        raise UrlRefused("no user name or password in the URL")
    try:
        port = parts.port
    except ValueError:
        raise UrlRefused("the port must be a number from 1 to 65535") from None
    effective = port if port is not None else DEFAULT_PORT[scheme]
    if effective not in config.ports:
        raise UrlRefused(f"port {effective} is not allowed (allowed: {', '.join(map(str, config.ports))})")
    host = parts.hostname or ""
    if not host:
        raise UrlRefused("the URL names no host")
    if "[" in parts.netloc:
        _check_address(_ipv6_literal(host), config, host)
        shown = f"[{host}]"
    else:
        name = host.removesuffix(".")
        if _looks_numeric(name):
            _check_address(_ipv4_literal(name), config, name)
        else:
            _check_name(name, config)
        shown = host
    netloc = shown if port is None else f"{shown}:{port}"
    rest = url[len(scheme) + 3 + len(parts.netloc) :]
    return f"{scheme}://{netloc}{rest}"


def _looks_numeric(name: str) -> bool:
    return bool(NUMERIC_LABEL.fullmatch(name.rpartition(".")[2]))


def _ipv4_literal(name: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(name)  # four decimal numbers, no leading zeros
    except ValueError:
        raise UrlRefused(
            f"{name!r} is not a host name; write an IPv4 address as four decimal numbers (a.b.c.d)"
        ) from None


def _ipv6_literal(host: str) -> ipaddress.IPv6Address:
    if "%" in host:
        raise UrlRefused("no zone index in an IPv6 address")
    try:
        return ipaddress.IPv6Address(host)
    except ValueError:
        raise UrlRefused(f"[{host}] is not an IPv6 address") from None


def _check_name(name: str, config: CdromConfig) -> None:
    labels = name.split(".")
    if len(name) > 253 or not all(LABEL.fullmatch(label) for label in labels):
        raise UrlRefused(f"{name!r} is not a host name")
    if config.hosts and not any(_matches(name, pattern) for pattern in config.hosts):
        raise UrlRefused(f"{name} is not one of the hosts CD images may come from")
    resolve = config.resolver or system_resolver
    try:
        answers = list(resolve(name, config.resolve_timeout))
    except TimeoutError:
        raise UrlRefused(f"{name} did not resolve within {config.resolve_timeout:g} s") from None
    except LookupError:
        raise UrlRefused(f"{name} does not resolve") from None
    if not answers:
        raise UrlRefused(f"{name} does not resolve")
    for answer in answers:
        try:
            address = ipaddress.ip_address(answer.partition("%")[0])
        except ValueError:
            raise UrlRefused(f"{name} resolves to {answer!r}, which is not an address") from None
        why = refusal(address, config)
        if why:
            raise UrlRefused(f"{name} resolves to {address}, {why}")


def _matches(name: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return name.endswith(pattern[1:])
    return name == pattern


def _check_address(address: Address, config: CdromConfig, written: str) -> None:
    why = refusal(address, config)
    if why:
        raise UrlRefused(f"{written} is {why}")


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: IPv4-mapped (and -translated), NAT64, 6to4."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    value = int(address)
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if value >> 32 == 0xFFFF0000:  # ::ffff:0:a.b.c.d, IPv4-translated
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address in _NAT64:
        return ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    return None


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def refusal(address: Address, config: CdromConfig) -> str:
    """What makes ``address`` one a CD image may not come from, as "a loopback address", or ""."""
    inner = embedded_ipv4(address)
    if any(address in net for net in config.deny_networks):
        return "an address this Fleet refuses"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:  # IPv4, as IPv6
        why = refusal(inner, config)
        return f"an IPv4-mapped form of {inner}, {why}" if why else ""
    if any(address in net for net in config.allow_networks):
        return ""
    if inner is not None:
        why = refusal(inner, config)
        if why:
            return f"a form of {inner}, {why}"
    for net, what in REFUSED:
        if address.version == net.version and address in net:
            if what.startswith("the "):
                return what
            return f"{'an' if what[0] in 'aeiou' else 'a'} {what} address"
    if not address.is_global:
        return "not a public address"
    return ""

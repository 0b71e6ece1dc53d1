"""The CD image URL check: every nasty URL refused with its reason, names resolved through a resolver the
test controls (the check's own seam: the resolver is part of its configuration), the operator's exceptions
and limits, and this machine's resolver bounded in time."""

from __future__ import annotations

import contextlib
import ipaddress
import threading
from collections.abc import Sequence
from dataclasses import replace

import pytest

from fleet.conf.cdrom import CdromConfig
from fleet.operations.image_urls import UrlRefused, check_image_url, system_resolver

NAMES = {
    "images.example.net": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
    "rebind.example.net": ["93.184.216.34", "10.0.0.7"],  # one public answer and one private
    "metadata.example.net": ["169.254.169.254"],
    "metadata6.example.net": ["fd00:ec2::254"],
    "loop.example.net": ["127.0.0.1"],
    "mapped.example.net": ["::ffff:10.1.2.3"],
    "cgnat.example.net": ["100.64.0.1"],
    "mirror.internal.example": ["10.20.30.40"],
    "empty.example.net": [],
}


def resolver(asked: list[str]) -> CdromConfig:
    def resolve(host: str, timeout: float) -> Sequence[str]:
        asked.append(host)
        if host not in NAMES:
            raise LookupError(host)
        return NAMES[host]

    return CdromConfig(resolver=resolve)


REFUSED = [
    # (url, what the reason says)
    ("ftp://images.example.net/x.iso", "an http:// or https:// URL"),
    ("file:///etc/passwd", "an http:// or https:// URL"),
    ("gopher://images.example.net/", "an http:// or https:// URL"),
    ("http:/images.example.net/x.iso", "an http:// or https:// URL"),
    ("//images.example.net/x.iso", "an http:// or https:// URL"),
    ("/srv/iso/rescue.iso", "an http:// or https:// URL"),
    ("http://user:secret@images.example.net/x.iso", "no user name or password"),
    ("http://images.example.net@127.0.0.1/", "no user name or password"),
    ("http://images.example.net:8080/x.iso", "port 8080 is not allowed"),
    ("https://images.example.net:22/x.iso", "port 22 is not allowed"),
    ("http://images.example.net:99999/x.iso", "the port must be a number"),
    ("http://images.example.net/a,if=none.iso", "no commas"),
    ("http://images.example.net/a b.iso", "no spaces"),
    ("http://images.example.net/x.iso\n", "no spaces"),
    ("http://images.example.net\\@127.0.0.1/", "no backslashes"),
    ("http://imäges.example.net/x.iso", "only ASCII"),
    ("http://images.example.net/" + "a" * 2048, "at most 2048 characters"),
    ("http:///x.iso", "names no host"),
    ("http://127.0.0.1/x.iso", "127.0.0.1 is a loopback address"),
    ("http://127.0.0.1:80/x.iso", "loopback"),
    ("http://2130706433/x.iso", "four decimal numbers"),
    ("http://0x7f000001/x.iso", "four decimal numbers"),
    ("http://0x7f.1/x.iso", "four decimal numbers"),
    ("http://017700000001/x.iso", "four decimal numbers"),
    ("http://0177.0.0.1/x.iso", "four decimal numbers"),
    ("http://127.1/x.iso", "four decimal numbers"),
    ("http://1.2.3.4.5/x.iso", "four decimal numbers"),
    ("http://%31%32%37.0.0.1/x.iso", "four decimal numbers"),
    ("http://10.0.0.1/x.iso", "10.0.0.1 is a private address"),
    ("http://172.16.5.4/x.iso", "a private address"),
    ("http://192.168.1.1/x.iso", "a private address"),
    ("http://100.64.0.1/x.iso", "a shared (carrier-grade NAT) address"),
    ("http://169.254.169.254/latest/meta-data/", "the address of a cloud metadata service"),
    ("http://169.254.1.1/x.iso", "a link-local address"),
    ("http://0.0.0.0/x.iso", "an unspecified address"),
    ("http://0.1.2.3/x.iso", "reserved"),
    ("http://224.0.0.1/x.iso", "a multicast address"),
    ("http://239.255.255.250/x.iso", "a multicast address"),
    ("http://255.255.255.255/x.iso", "a broadcast address"),
    ("http://240.0.0.1/x.iso", "a reserved address"),
    ("http://192.0.2.10/x.iso", "a documentation address"),
    ("http://198.51.100.10/x.iso", "a documentation address"),
    ("http://203.0.113.10/x.iso", "a documentation address"),
    ("http://198.18.0.1/x.iso", "benchmarking"),
    ("http://192.0.0.192/x.iso", "IETF protocol assignments"),
    ("http://[::1]/x.iso", "::1 is a loopback address"),
    ("http://[::]/x.iso", "an unspecified address"),
    ("http://[::ffff:127.0.0.1]/x.iso", "an IPv4-mapped form of 127.0.0.1, a loopback address"),
    ("http://[::ffff:7f00:1]/x.iso", "an IPv4-mapped form of 127.0.0.1"),
    ("http://[::ffff:169.254.169.254]/x.iso", "the address of a cloud metadata service"),
    ("http://[::ffff:0:a00:1]/x.iso", "a form of 10.0.0.1, a private address"),
    ("http://[::127.0.0.1]/x.iso", "reserved (IPv4-compatible)"),
    ("http://[64:ff9b::a9fe:a9fe]/x.iso", "a form of 169.254.169.254"),
    ("http://[2002:7f00:1::]/x.iso", "a form of 127.0.0.1, a loopback address"),
    ("http://[fd00:ec2::254]/latest/", "the address of a cloud metadata service"),
    ("http://[fd12:3456::1]/x.iso", "a private (unique local) address"),
    ("http://[fe80::1]/x.iso", "a link-local address"),
    ("http://[fe80::1%25eth0]/x.iso", "no zone index"),
    ("http://[ff02::1]/x.iso", "a multicast address"),
    ("http://[2001:db8::1]/x.iso", "a documentation address"),
    ("http://[2001::1]/x.iso", "IETF protocol assignments"),
    ("http://[::1/x.iso", "not a URL"),
    ("http://[not-v6]/x.iso", "must be an IPv6 address"),
    ("http://localhost.example.net/x.iso", "does not resolve"),
    ("http://empty.example.net/x.iso", "does not resolve"),
    ("http://rebind.example.net/x.iso", "rebind.example.net resolves to 10.0.0.7, a private address"),
    ("http://metadata.example.net/x.iso", "resolves to 169.254.169.254, the address of a cloud metadata"),
    ("http://metadata6.example.net/x.iso", "resolves to fd00:ec2::254, the address of a cloud metadata"),
    ("http://loop.example.net/x.iso", "resolves to 127.0.0.1, a loopback address"),
    ("http://mapped.example.net/x.iso", "an IPv4-mapped form of 10.1.2.3, a private address"),
    ("http://cgnat.example.net/x.iso", "carrier-grade NAT"),
    ("http://under_score.example.net/x.iso", "is not a host name"),
    ("http://-dash.example.net/x.iso", "is not a host name"),
    ("http://" + "a" * 64 + ".example.net/x.iso", "is not a host name"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_a_nasty_url_is_refused_with_its_reason(url: str, reason: str) -> None:
    asked: list[str] = []
    with pytest.raises(UrlRefused) as refused:
        check_image_url(url, resolver(asked))
    assert reason in str(refused.value), str(refused.value)


@pytest.mark.parametrize(
    ("url", "sent"),
    [
        ("https://images.example.net/debian-12.iso", "https://images.example.net/debian-12.iso"),
        ("HTTP://Images.Example.NET/Rescue.ISO?v=1#x", "http://images.example.net/Rescue.ISO?v=1#x"),
        ("https://images.example.net:443/x.iso", "https://images.example.net:443/x.iso"),
        ("http://images.example.net./x.iso", "http://images.example.net./x.iso"),
        ("http://93.184.216.34/x.iso", "http://93.184.216.34/x.iso"),
        (
            "http://[2606:2800:220:1:248:1893:25c8:1946]/x.iso",
            "http://[2606:2800:220:1:248:1893:25c8:1946]/x.iso",
        ),
        ("https://images.example.net/a%2Cb.iso", "https://images.example.net/a%2Cb.iso"),
    ],
)
def test_a_public_url_is_accepted_as_ganeti_takes_it(url: str, sent: str) -> None:
    assert check_image_url(url, resolver([])) == sent


def test_addresses_written_literally_are_not_resolved() -> None:
    asked: list[str] = []
    for url in ("http://93.184.216.34/x.iso", "http://2130706433/", "http://[::1]/"):
        with contextlib.suppress(UrlRefused):
            check_image_url(url, resolver(asked))
    assert asked == []


def test_the_operator_allows_an_internal_mirror_and_denies_more() -> None:
    base = resolver([])
    mirror = "http://mirror.internal.example/isos/debian.iso"
    with pytest.raises(UrlRefused, match=r"resolves to 10\.20\.30\.40, a private address"):
        check_image_url(mirror, base)
    allowed = replace(base, allow_networks=(ipaddress.ip_network("10.20.30.0/24"),))
    assert check_image_url(mirror, allowed) == mirror
    # the exception is for those addresses only, and never for the metadata service or other ranges
    with pytest.raises(UrlRefused, match="private"):
        check_image_url("http://10.20.31.1/x.iso", allowed)
    with pytest.raises(UrlRefused, match="metadata"):
        check_image_url("http://169.254.169.254/", allowed)
    denied = replace(base, deny_networks=(ipaddress.ip_network("93.184.216.0/24"),))
    with pytest.raises(UrlRefused, match=r"93\.184\.216\.34, an address this Fleet refuses"):
        check_image_url("https://images.example.net/x.iso", denied)
    with pytest.raises(UrlRefused, match="refuses"):
        check_image_url("http://[::ffff:93.184.216.34]/x.iso", denied)


def test_the_operator_limits_hosts_and_ports() -> None:
    only = replace(resolver([]), hosts=("*.example.net",), ports=(8080,))
    assert check_image_url("http://images.example.net:8080/x.iso", only)
    with pytest.raises(UrlRefused, match="port 80 is not allowed"):
        check_image_url("http://images.example.net/x.iso", only)
    with pytest.raises(UrlRefused, match="not one of the hosts CD images may come from"):
        check_image_url("http://images.example.org:8080/x.iso", only)
    exact = replace(resolver([]), hosts=("images.example.net",))
    with pytest.raises(UrlRefused, match="not one of the hosts"):
        check_image_url("http://other.images.example.net/x.iso", exact)


def test_a_slow_resolver_is_a_refusal_within_the_bound() -> None:
    def slow(host: str, timeout: float) -> Sequence[str]:
        raise TimeoutError(host)

    with pytest.raises(UrlRefused, match=r"did not resolve within 2 s"):
        check_image_url("http://slow.example.net/x.iso", CdromConfig(resolver=slow))


def test_this_machines_resolver_knows_localhost_and_is_bounded() -> None:
    assert "127.0.0.1" in system_resolver("localhost", 2.0)
    with pytest.raises(UrlRefused, match=r"localhost resolves to .*a loopback address"):
        check_image_url("http://localhost/x.iso", CdromConfig())
    with pytest.raises(LookupError):
        system_resolver("no-such-name.invalid", 2.0)
    # A lookup that does not answer in time is given up at the bound (the thread finishes on its own).
    release = threading.Event()
    from fleet.operations import image_urls

    blockers = [image_urls._LOOKUPS.submit(release.wait, 5) for _ in range(4)]  # every lookup thread busy
    try:
        with pytest.raises(TimeoutError):
            system_resolver("localhost", 0.2)
    finally:
        release.set()
        for blocker in blockers:
            blocker.result(timeout=5)

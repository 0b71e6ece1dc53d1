"""The allow-from grammar of fleet.access.tags: which ranges may be exceptions to an isolation, how they are
written as tags, and that ranges read from a cluster never raise."""

from __future__ import annotations

import pytest

from fleet.access.tags import (
    TagError,
    allow_from_from_tags,
    allow_from_tag_of,
    format_allow_from_tag,
    parse_allow_from,
    validate_tag,
)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("192.0.2.0/26", "192.0.2.0/26"),
        ("192.0.2.64/28", "192.0.2.64/28"),
        ("198.51.100.7", "198.51.100.7/32"),
        ("198.51.100.7/32", "198.51.100.7/32"),
        (" 10.0.0.0/30 ", "10.0.0.0/30"),
        ("2001:db8::/64", "2001:db8::/64"),
        ("2001:DB8:0:0:1::/80", "2001:db8:0:0:1::/80"),
        ("2001:db8::1", "2001:db8::1/128"),
    ],
)
def test_a_range_in_bounds_is_written_in_its_canonical_form(given: str, canonical: str) -> None:
    assert parse_allow_from(given) == canonical
    tag = format_allow_from_tag(given, "fleet")
    assert tag == f"fleet:whitelist_ip:{canonical}"
    assert validate_tag(tag) == tag  # Ganeti takes it


BAD_RANGES = [
    ("10.0.0.5/24", "'10.0.0.5/24' has host bits set: the network is 10.0.0.0/24"),
    ("192.0.2.1/26", "has host bits set"),
    ("2001:db8::1/64", "has host bits set"),
    ("10.0.0.0/24", "10.0.0.0/24 is too wide: at most a /26 for IPv4"),
    ("0.0.0.0/0", "is too wide"),
    ("2001:db8::/48", "2001:db8::/48 is too wide: at most a /64 for IPv6"),
    ("::/0", "is too wide"),
    ("10.0.0.0/33", "is not an IP address"),
    ("10.0.0.256", "is not an IP address"),
    ("010.0.0.1", "is not an IP address"),
    ("10.0.0.0/", "is not an IP address"),
    ("example.org", "is not an IP address"),
    ("10.0.0.1; drop", "is not an IP address"),
    ("fe80::1%eth0", "is not an IP address"),
    ("2001:db8::/64/64", "is not an IP address"),
    ("", "cannot be empty"),
    ("   ", "cannot be empty"),
    ("1" * 100, "is not an IP address"),
]
"""Ranges refused, and what the refusal says."""


@pytest.mark.parametrize(("given", "message"), BAD_RANGES)
def test_a_bad_range_says_what_is_wrong(given: str, message: str) -> None:
    with pytest.raises(TagError) as error:
        parse_allow_from(given)
    assert message in str(error.value)


def test_ranges_read_from_a_cluster_never_raise() -> None:
    tags = [
        "fleet:isolate",
        "fleet:whitelist_ip:192.0.2.0/28",
        "fleet:whitelist_ip:192.0.2.0/28",  # twice: once in the list
        "fleet:whitelist_ip:2001:DB8::/64",  # another spelling, read canonically
        "fleet:whitelist_ip:10.0.0.0/8",  # too wide: set aside, never enforced as written by Fleet
        "fleet:whitelist_ip:nonsense",
        "other:whitelist_ip:198.51.100.0/28",  # another prefix
        "fleet:user:alice",
    ]
    found = allow_from_from_tags(tags, "fleet")
    assert found.networks == ("192.0.2.0/28", "2001:db8::/64")
    assert found.malformed == ("fleet:whitelist_ip:10.0.0.0/8", "fleet:whitelist_ip:nonsense")
    assert allow_from_tag_of(tags, "2001:db8::/64", "fleet") == "fleet:whitelist_ip:2001:DB8::/64"
    assert allow_from_tag_of(tags, "198.51.100.0/28", "fleet") is None

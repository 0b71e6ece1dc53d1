"""The ownership tag grammar: round trips, what is not an ownership tag, and clear refusals."""

from __future__ import annotations

import pytest

from fleet.access.tags import (
    MAX_TAG_LENGTH,
    Flag,
    OwnerKind,
    Owners,
    OwnerTag,
    TagError,
    flag_tag,
    flags_from_tags,
    format_owner_tag,
    owners_from_tags,
    parse_owner_tag,
    validate_prefix,
    validate_tag,
)

NAMES = ["alice", "alice@example.org", "a.b-c_d+e", "ops/noc", "x*", "0"]


@pytest.mark.parametrize("kind", list(OwnerKind))
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("prefix", ["fleet", "ganetimgr", "grnet.gr"])
def test_format_then_parse_gives_back_the_owner(kind: OwnerKind, name: str, prefix: str) -> None:
    tag = format_owner_tag(kind, name, prefix)
    assert tag == f"{prefix}:{kind.value}:{name}"
    assert validate_tag(tag) == tag
    assert parse_owner_tag(tag, prefix) == OwnerTag(kind, name)


def test_the_kind_may_be_given_as_text() -> None:
    assert format_owner_tag("group", "ops", "fleet") == "fleet:group:ops"


@pytest.mark.parametrize(
    "tag",
    [
        "fleet:adminlock",  # another tag of ours
        "fleet:isolate",
        "fleet:users:alice",  # the predecessor's documentation typo is not ownership
        "fleet:application:12",
        "other:user:alice",  # another prefix
        "fleetx:user:alice",
        "fleet",
        "htools:iextags:service",
        "ganeti:watcher:autorepair:migrate",
    ],
)
def test_other_tags_are_not_ownership(tag: str) -> None:
    assert parse_owner_tag(tag, "fleet") is None


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("fleet:user:", "names no user"),
        ("fleet:group:", "names no group"),
        ("fleet:user:a:b", "contains characters an owner name cannot have"),
        ("fleet:user:bad name", "Ganeti allows only"),
        ("fleet:user:" + "a" * 200, f"at most {MAX_TAG_LENGTH}"),
    ],
)
def test_malformed_ownership_tags_are_refused_with_the_reason(tag: str, message: str) -> None:
    with pytest.raises(TagError, match=message):
        parse_owner_tag(tag, "fleet")


@pytest.mark.parametrize(
    ("kind", "name", "prefix", "message"),
    [
        ("user", "", "fleet", "user name cannot be empty"),
        ("user", "bob smith", "fleet", "user name 'bob smith' cannot be written in a Ganeti tag"),
        ("group", "a:b", "fleet", "group name 'a:b' cannot be written"),
        ("user", "b" * 120, "fleet", "too long"),
        ("owner", "bob", "fleet", "unknown owner kind 'owner'"),
        ("user", "bob", "", "prefix cannot be empty"),
        ("user", "bob", "my:fleet", "no ':'"),
        ("user", "bob", "my fleet", "may contain only"),
    ],
)
def test_format_refuses_what_ganeti_would_refuse(kind: str, name: str, prefix: str, message: str) -> None:
    with pytest.raises(TagError, match=message):
        format_owner_tag(kind, name, prefix)


def test_the_longest_tag_ganeti_takes_is_accepted_and_one_more_is_not() -> None:
    name = "n" * (MAX_TAG_LENGTH - len("fleet:user:"))
    assert len(format_owner_tag(OwnerKind.USER, name, "fleet")) == MAX_TAG_LENGTH
    with pytest.raises(TagError, match="129 characters"):
        format_owner_tag(OwnerKind.USER, name + "n", "fleet")


@pytest.mark.parametrize("tag", ["", "a b", "tag\n", "t#g", "ünïcode-is-\\w-but-not-$"])
def test_validate_tag_refuses_bad_characters_and_empty(tag: str) -> None:
    with pytest.raises(TagError):
        validate_tag(tag)


def test_validate_prefix_accepts_the_default() -> None:
    assert validate_prefix("fleet") == "fleet"


def test_owners_from_tags_sorts_owners_and_sets_the_malformed_aside() -> None:
    tags = [
        "fleet:user:alice",
        "fleet:user:bob",
        "fleet:user:alice",
        "fleet:group:ops",
        "fleet:user:",
        "fleet:group:a:b",
        "fleet:adminlock",
        "other:user:mallory",
    ]
    assert owners_from_tags(tags, "fleet") == Owners(
        users=frozenset({"alice", "bob"}),
        groups=frozenset({"ops"}),
        malformed=("fleet:user:", "fleet:group:a:b"),
    )


def test_owners_from_no_tags_is_empty() -> None:
    assert owners_from_tags([], "fleet") == Owners()


def test_flags_round_trip_and_the_maintenance_of_a_node_group() -> None:
    for flag in Flag:
        tag = flag_tag(flag, "grnet.gr")
        assert validate_tag(tag) == tag
        assert flags_from_tags([tag, "grnet.gr:user:alice", f"other:{flag}"], "grnet.gr") == {flag}
        assert parse_owner_tag(tag, "grnet.gr") is None  # a flag is no ownership
    assert flag_tag(Flag.MAINTENANCE, "fleet") == "fleet:maintenance"
    with pytest.raises(TagError):
        flag_tag(Flag.ADMIN_LOCK, "bad:prefix")


@pytest.mark.parametrize("name", ["ÿves", "δοκιμή", "名前"])
def test_a_name_outside_ascii_is_refused(name: str) -> None:
    # Ganeti 3.0.2's tag check lets these letters through, then fails the job with an HTTP 500.
    with pytest.raises(TagError):
        format_owner_tag(OwnerKind.USER, name, "fleet")

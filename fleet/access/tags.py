"""The ownership tag grammar: the one place that knows how Fleet writes owners into Ganeti tags.

Ownership lives in Ganeti, as tags on each instance, so that the database can be rebuilt from the clusters and
Ganeti's own tools see who owns what:

    <prefix>:user:<username>     the Fleet user <username> owns the instance
    <prefix>:group:<groupname>   every member of the Fleet group <groupname> owns it

Other tags of ours mark a condition (:class:`Flag`): ``<prefix>:adminlock``, ``<prefix>:isolate`` and
``<prefix>:needsreboot`` on an instance, ``<prefix>:maintenance`` on a node group. An instance made from
an application says so: ``<prefix>:application:<id>``, ``<prefix>:organisation:<name>``
(:func:`origin_tags`). An isolated instance's exceptions are ``<prefix>:whitelist_ip:<network>``
(:func:`parse_allow_from` says which ranges are allowed).

The prefix is a setting (``FLEET_TAG_PREFIX``, ``fleet`` by default). Several ``user`` and ``group`` tags
may sit on one instance (co-owners). Every tag must also satisfy Ganeti's own rule (``lib/objects.py``,
``TaggableObject.ValidateTag``): at most 128 characters from ``[\\w.+*/:@-]``.

Tags read from a cluster are data from outside: :func:`owners_from_tags` never raises on them, it sets aside
the malformed ones so that the caller can report them. Tags Fleet writes go through :func:`format_owner_tag`,
which raises :class:`TagError` with a message fit for the user.
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_TAG_LENGTH = 128
"""Ganeti's ``constants.MAX_TAG_LEN``."""

TAG_PATTERN = re.compile(r"[\w.+*/:@-]+", re.ASCII)
"""Ganeti's ``objects.TaggableObject.VALID_TAG_RE``, matched in full: no trailing newline slips by. ASCII
only: Ganeti 3.0.2 lets other letters through its check, then fails the job with an HTTP 500."""

PREFIX_PATTERN = re.compile(r"[\w.+*/@-]+", re.ASCII)
"""A prefix is a tag without ``:``, so that it ends where the first ``:`` is."""

NAME_PATTERN = re.compile(r"[\w.+*/@-]+", re.ASCII)
"""An owner name: what Ganeti allows in a tag, less ``:``, which separates the fields."""


class TagError(ValueError):
    """A tag, a prefix or an owner name that breaks the grammar; the message says which rule and why."""


class OwnerKind(enum.StrEnum):
    """What an ownership tag names: one user, or every member of a group."""

    USER = "user"
    GROUP = "group"


@dataclass(frozen=True)
class OwnerTag:
    """One parsed ownership tag."""

    kind: OwnerKind
    name: str


@dataclass(frozen=True)
class Owners:
    """The owners an instance's tags name, and the tags that look like ownership tags but are malformed."""

    users: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)
    malformed: tuple[str, ...] = ()


def validate_tag(tag: str) -> str:
    """Return ``tag`` if Ganeti would accept it; raise :class:`TagError` saying why not otherwise."""
    if not isinstance(tag, str) or not tag:
        raise TagError("a tag cannot be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise TagError(f"tag {tag!r} is {len(tag)} characters long; Ganeti allows at most {MAX_TAG_LENGTH}")
    if not TAG_PATTERN.fullmatch(tag):
        bad = sorted({c for c in tag if not TAG_PATTERN.fullmatch(c)})
        raise TagError(
            f"tag {tag!r} contains {''.join(bad)!r}; "
            "Ganeti allows only letters, digits and the characters _.+*/:@-"
        )
    return tag


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it can start ownership tags; raise :class:`TagError` saying why not otherwise."""
    if not isinstance(prefix, str) or not prefix:
        raise TagError("the tag prefix cannot be empty")
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise TagError(
            f"tag prefix {prefix!r} may contain only letters, digits and the characters _.+*/@- (no ':')"
        )
    # The longest fixed part is ":group:" plus a one-character name.
    if len(prefix) + len(":group:") + 1 > MAX_TAG_LENGTH:
        raise TagError(
            f"tag prefix {prefix!r} is too long to leave room for an owner name in {MAX_TAG_LENGTH}"
        )
    return prefix


def max_owner_name(prefix: str) -> int:
    """The longest owner name that fits a tag of either kind under ``prefix`` (a group's tag is the longer):
    one bound for users and groups alike, so that a name's validity does not depend on its kind."""
    return MAX_TAG_LENGTH - len(f"{prefix}:{OwnerKind.GROUP}:")


def format_owner_tag(kind: OwnerKind | str, name: str, prefix: str) -> str:
    """Build the tag that makes ``name`` (a user or a group, per ``kind``) an owner.

    Raises :class:`TagError` if the kind is unknown, the name has characters a tag cannot hold, or the whole
    tag would be longer than Ganeti allows.
    """
    try:
        kind = OwnerKind(kind)
    except ValueError:
        raise TagError(f"unknown owner kind {kind!r}; expected one of: user, group") from None
    validate_prefix(prefix)
    if not isinstance(name, str) or not name:
        raise TagError(f"the {kind} name cannot be empty")
    if not NAME_PATTERN.fullmatch(name):
        raise TagError(
            f"{kind} name {name!r} cannot be written in a Ganeti tag: "
            "only letters, digits and the characters _.+*/@- are allowed"
        )
    tag = f"{prefix}:{kind}:{name}"
    if len(tag) > MAX_TAG_LENGTH:
        raise TagError(
            f"{kind} name {name!r} is too long: the tag {tag[:40]}... would be {len(tag)} characters, "
            f"Ganeti allows at most {MAX_TAG_LENGTH}"
        )
    return tag


def parse_owner_tag(tag: str, prefix: str) -> OwnerTag | None:
    """Read one tag: an :class:`OwnerTag` if it is an ownership tag, ``None`` if it is any other tag.

    A tag that starts like an ownership tag (``<prefix>:user:`` or ``<prefix>:group:``) but is not a valid one
    raises :class:`TagError`: it was meant to give ownership and does not, which someone should hear about.
    """
    validate_prefix(prefix)
    head, sep, rest = tag.partition(":")
    if not sep or head != prefix:
        return None
    kind_text, sep, name = rest.partition(":")
    if not sep:
        return None
    try:
        kind = OwnerKind(kind_text)
    except ValueError:
        return None  # another tag of ours, e.g. <prefix>:adminlock
    validate_tag(tag)
    if not name:
        raise TagError(f"tag {tag!r} names no {kind}")
    if not NAME_PATTERN.fullmatch(name):
        raise TagError(f"tag {tag!r}: the {kind} name {name!r} contains characters an owner name cannot have")
    return OwnerTag(kind, name)


def owners_from_tags(tags: Iterable[str], prefix: str) -> Owners:
    """Collect the owners named by an object's tags; malformed ownership tags are set aside, never raised."""
    validate_prefix(prefix)
    users: set[str] = set()
    groups: set[str] = set()
    malformed: list[str] = []
    for tag in tags:
        try:
            owner = parse_owner_tag(tag, prefix)
        except TagError:
            malformed.append(tag)
            continue
        if owner is None:
            continue
        (users if owner.kind is OwnerKind.USER else groups).add(owner.name)
    return Owners(frozenset(users), frozenset(groups), tuple(malformed))


APPLICATION = "application"
ORGANISATION = "organisation"
_NOT_IN_TAGS = re.compile(r"[^\w.+*/@-]+", re.ASCII)


def origin_tags(application_id: int, organisation: str, prefix: str) -> list[str]:
    """The tags that say which application an instance was made from and for which organisation.

    An organisation is free text ("GRNET S.A."): each run of characters a tag cannot hold becomes ``_``, and
    the name is cut to fit, so that any organisation gets a tag (the application keeps the exact text).
    """
    validate_prefix(prefix)
    tags = [f"{prefix}:{APPLICATION}:{int(application_id)}"]
    head = f"{prefix}:{ORGANISATION}:"
    name = _NOT_IN_TAGS.sub("_", organisation.strip()).strip("_")[: MAX_TAG_LENGTH - len(head)]
    if name:
        tags.append(head + name)
    return tags


class Flag(enum.StrEnum):
    """Tags of ours that mark an object's condition, ``<prefix>:<flag>``: an instance's are shown as badges,
    and the access policy enforces the lock and the maintenance."""

    NEEDS_REBOOT = "needsreboot"  # a changed parameter takes effect at the next reboot
    ADMIN_LOCK = "adminlock"  # an administrator has locked the owner's actions
    ISOLATED = "isolate"  # the instance is cut off the network (abuse handling)
    MAINTENANCE = "maintenance"  # on a node group: its instances' owners may not act on them for now


def flag_tag(flag: Flag, prefix: str) -> str:
    """The tag that sets ``flag`` under ``prefix``, e.g. ``fleet:adminlock``."""
    return _flag_tags_by_flag(prefix)[flag]


def flags_from_tags(tags: Iterable[str], prefix: str) -> frozenset[Flag]:
    """The flags an object's tags set; other tags, ours or not, are ignored."""
    known = _flag_tags(prefix)
    return frozenset(known[tag] for tag in tags if tag in known)


@functools.cache
def _flag_tags(prefix: str) -> dict[str, Flag]:
    """Each flag's tag under ``prefix`` (one prefix per deployment: the lists ask for every row)."""
    return {tag: flag for flag, tag in _flag_tags_by_flag(prefix).items()}


@functools.cache
def _flag_tags_by_flag(prefix: str) -> dict[Flag, str]:
    validate_prefix(prefix)
    return {flag: f"{prefix}:{flag}" for flag in Flag}


# Allow-from ranges: the exceptions of an isolated instance --------------------------------------------------

ALLOW_FROM = "whitelist_ip"
"""``<prefix>:whitelist_ip:<network>``: while the instance is isolated (``<prefix>:isolate``), traffic between
it and ``<network>`` still passes. ganetimgr's name, so that a cluster it managed keeps its exceptions; the
node-side script (``deploy/ganeti/kvm-vif-bridge``) reads the same tags."""

MAX_ALLOW_FROM_PREFIX = {4: 26, 6: 64}
"""The widest range an exception may open: a /26 of IPv4 (64 addresses), a /64 of IPv6 (one LAN), as
ganetimgr's ``WHITELIST_IP_MAX_SUBNET_V4/V6``. An isolation that lets a whole network in isolates nothing."""

MAX_ALLOW_FROM = 16
"""Ranges on one instance at most (each is a tag and a rule on the node)."""


@dataclass(frozen=True)
class AllowFrom:
    """The allow-from ranges an object's tags name, in canonical form, and the malformed ones set aside."""

    networks: tuple[str, ...] = ()
    malformed: tuple[str, ...] = ()


def parse_allow_from(text: str) -> str:
    """The canonical form of an allow-from range (``192.0.2.0/26``, ``2001:db8::/64``; a single address is
    ``/32`` or ``/128``). Raises :class:`TagError` saying what is wrong: not an address, host bits set, or
    wider than :data:`MAX_ALLOW_FROM_PREFIX`."""
    if not isinstance(text, str) or not text.strip():
        raise TagError("an allow-from range cannot be empty")
    text = text.strip()
    if len(text) > 64 or not re.fullmatch(r"[0-9A-Fa-f.:/]+", text, re.ASCII):
        raise TagError(f"{text[:64]!r} is not an IP address or a network such as 192.0.2.0/26")
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise TagError(f"{text!r} is not an IP address or a network such as 192.0.2.0/26") from None
    if "/" in text and network.network_address != ipaddress.ip_interface(text).ip:
        raise TagError(
            f"{text!r} has host bits set: the network is {network}, or give the single address "
            f"{ipaddress.ip_interface(text).ip}"
        )
    widest = MAX_ALLOW_FROM_PREFIX[network.version]
    if network.prefixlen < widest:
        raise TagError(f"{network} is too wide: at most a /{widest} for IPv{network.version}")
    return str(network)


def _octets(step: int) -> str:
    return "|".join(str(n) for n in sorted(range(0, 256, step), reverse=True))  # "250" before "25"


_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
ALLOW_FROM_NETWORK_PATTERNS = (
    # IPv4 networks from /26 to /32, the last octet a multiple of the block: no host bits set.
    rf"^({_OCTET}\.){{3}}("
    + "|".join(f"({_octets(2 ** (32 - bits))})/{bits}" for bits in range(26, 33))
    + ")$",
    # IPv6 /64 networks written with at most four groups before "::": the other 64 bits are zero.
    r"^([0-9A-Fa-f]{1,4}:){1,4}:/64$",
)
"""Regular expressions that only valid ranges match (for the API's schema); besides single addresses, the
grammar also takes narrower IPv6 networks and other spellings, which no regular expression checks for host
bits."""


def format_allow_from_tag(text: str, prefix: str) -> str:
    """The tag that lets the range ``text`` reach an isolated instance; raises :class:`TagError`."""
    validate_prefix(prefix)
    return validate_tag(f"{prefix}:{ALLOW_FROM}:{parse_allow_from(text)}")


def allow_from_from_tags(tags: Iterable[str], prefix: str) -> AllowFrom:
    """The allow-from ranges an object's tags name (data from a cluster: never raises)."""
    head = f"{validate_prefix(prefix)}:{ALLOW_FROM}:"
    networks: list[str] = []
    malformed: list[str] = []
    for tag in tags:
        if not tag.startswith(head):
            continue
        try:
            network = parse_allow_from(tag[len(head) :])
        except TagError:
            malformed.append(tag)
            continue
        if network not in networks:
            networks.append(network)
    return AllowFrom(tuple(networks), tuple(malformed))


def allow_from_tag_of(tags: Iterable[str], network: str, prefix: str) -> str | None:
    """The tag on the object that names ``network`` (in whatever spelling it was written), if any."""
    head = f"{validate_prefix(prefix)}:{ALLOW_FROM}:"
    for tag in tags:
        if tag.startswith(head):
            try:
                if parse_allow_from(tag[len(head) :]) == network:
                    return tag
            except TagError:
                continue
    return None

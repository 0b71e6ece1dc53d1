"""The rows of the instance list, rendered in Python with ``format_html``.

A page shows up to 100 rows; the template's loops per row, per NIC and per owner, with a queryset per
relation and a URL reversed per link, made rendering the bulk of the page's time. Here a row is one
``format_html`` over plain values (the list's ``values()`` rows, the page's NICs and owners): every value is
escaped on the way in unless it is already safe HTML, so nothing from a cluster or a user can become markup.
The pieces rows share (a cluster's cell, a node, a network or an owner link) are built once per process.

The last cell (``options``) is the row's narrow column of per-row links; the list's layout keeps room for it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple
from urllib.parse import quote

from django.urls import reverse
from django.utils.html import conditional_escape, escape, format_html, format_html_join
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe

from fleet.inventory.models import InstanceStatus
from fleet.web.names import to_url
from fleet.web.templatetags.fleet import mib, mib_list, status_class

_CELLS = (
    "  {cluster}\n  <td>{node}</td>\n"
    '  <td class="num">{memory}</td>\n  <td class="num">{disks}</td>\n  <td class="num">{vcpus}</td>\n'
    "  <td>{status}{badges}</td>\n  <td>{networks}</td>\n  <td>{owners}</td>\n"
)
_NAME = {True: '<tr>\n  <td><a href="{url}">{name}</a></td>\n', False: "<tr>\n  <td>{name}</td>\n"}
_OPTIONS = {
    True: '  <td class="options"><a href="{url}">Details</a></td>\n</tr>',
    False: '  <td class="options">{options}</td>\n</tr>',
}
# One format string per case (a detail page or not, the default options or given ones): one format_html a row.
_ROWS = {
    (linked, details): _NAME[linked] + _CELLS + _OPTIONS[details] for linked in _NAME for details in _OPTIONS
}

_STATUS_LABELS = {value: str(label) for value, label in InstanceStatus.choices}


class NicText(NamedTuple):
    """What the list shows of a NIC."""

    ip: str | None
    network_name: str
    link: str


class Owner(NamedTuple):
    """A user or a group that owns an instance."""

    name: str
    is_group: bool


def instance_row(
    row: dict[str, Any],
    url: str | None,
    nics: list[NicText],
    owners: list[Owner],
    badges: list[Any],
    options: SafeString | None = None,
) -> SafeString:
    """One row of the instance list: ``row`` from the list's queryset, ``url`` its detail page (``None``
    when it has none), ``options`` the last cell (a link to the page by default)."""
    linked = url is not None
    return format_html(
        _ROWS[linked, linked and options is None],
        url=url or "",
        name=row["name"],
        cluster=_cluster_cell(row["cluster_name"]),
        node=_text(row["node_name"] or ""),
        memory=_text(mib(row["memory"])),
        disks=_disks(row["disk_sizes"]),
        vcpus=_text(str(row["vcpus"])),
        status=_status(row["status"]),
        badges=_badges(tuple(badges)),
        networks=networks(nics),
        owners=owners_html(tuple(owners)),
        options=options or "",
    )


def join(separator: str, pieces: Iterable[SafeString | str]) -> SafeString:
    """``pieces`` joined by ``separator`` (HTML), each escaped unless it is safe HTML already: what the
    ``join`` template filter does, without ``format_html_join``'s second pass over pieces already built."""
    return mark_safe(separator.join(map(conditional_escape, pieces)))  # every piece is escaped or safe


# Rows share most of their values (clusters, nodes, sizes, badges, owners): each piece is built once.
_SHARED = 4096


@functools.lru_cache(maxsize=_SHARED)
def _text(value: str) -> SafeString:
    return escape(value)


def _disks(sizes: Any) -> SafeString:
    """The disks' sizes (:func:`mib_list`), escaped; most instances share their disk layout."""
    try:
        return _disk_text(tuple(sizes))
    except TypeError:  # not a list of numbers: whatever mib_list makes of it
        return escape(mib_list(sizes))


@functools.lru_cache(maxsize=_SHARED)
def _disk_text(sizes: tuple[Any, ...]) -> SafeString:
    return escape(mib_list(list(sizes)))


@functools.lru_cache(maxsize=_SHARED)
def _cluster_cell(cluster: str) -> SafeString:
    return format_html('<td><a href="?cluster={}">{}</a></td>', _query_value(cluster), cluster)


@functools.lru_cache(maxsize=64)
def _status(status: str) -> SafeString:
    return format_html(
        '<span class="badge {}">{}</span>', status_class(status), _STATUS_LABELS.get(status, status)
    )


@functools.lru_cache(maxsize=64)
def _badges(badges: tuple[Any, ...]) -> SafeString:
    return format_html_join("", '<span class="badge {}">{}</span>', ((b.kind, b.label) for b in badges))


_SLOT = "@@slot@@"  # left as it is by reverse()'s quoting, and in no route


def detail_url_maker() -> Callable[[str, str], str | None]:
    """``reverse("instance-detail", args=[cluster, name])`` for many rows: the route is resolved once, then
    each row's names are quoted into it as ``reverse()`` quotes them; ``None`` for an empty name, which no
    route holds."""
    prefix, middle, suffix = reverse("instance-detail", args=[_SLOT, _SLOT]).split(_SLOT)
    safe = RFC3986_SUBDELIMS + "/~:@"

    @functools.lru_cache(maxsize=_SHARED)
    def cluster_part(cluster: str) -> str:
        return f"{prefix}{quote(to_url(cluster), safe=safe)}{middle}"

    def url(cluster: str, name: str) -> str | None:
        if not cluster or not name:
            return None
        return f"{cluster_part(cluster)}{quote(to_url(name), safe=safe)}{suffix}"

    return url


def _query_value(value: str) -> str:
    """A value for a query string, as the ``urlencode`` template filter writes it."""
    return quote(value, safe="/")


def networks(nics: list[NicText]) -> SafeString:
    """Each NIC on a line: ``ip@network`` linking to the network's instances, else ``ip@link``, else
    ``link``; escaped HTML."""
    lines: list[SafeString | str] = []
    for nic in nics:
        if nic.network_name:
            # safe + safe stays safe; were a piece plain text, the line would be, and join() escapes it
            start, end = _network_link(nic.network_name)
            lines.append(start + escape(f"{nic.ip}@") + end if nic.ip else start + end)
        elif nic.ip:
            lines.append(f"{nic.ip}@{nic.link}" if nic.link else nic.ip)
        else:
            lines.append(nic.link)
    return join("<br>", lines)


@functools.lru_cache(maxsize=_SHARED)
def _network_link(network: str) -> tuple[SafeString, SafeString]:
    """A network's link to its instances, in two parts around where a NIC's ``ip@`` goes."""
    return format_html('<a href="?network={}">', _query_value(network)), format_html("{}</a>", network)


@functools.lru_cache(maxsize=_SHARED)
def owners_html(owners: tuple[Owner, ...]) -> SafeString:
    """The owning users, then the owning groups, each linking to the instances it owns; escaped HTML."""
    return format_html_join(
        "",
        '<a href="?owner={}"{}>{}</a> ',
        ((_query_value(o.name), SafeString(' class="group"') if o.is_group else "", o.name) for o in owners),
    )


def options_html(choices: list[tuple[str, str]], chosen: list[str] | None) -> SafeString:
    """The ``<option>`` elements of a select over (value, label) ``choices``, the ``chosen`` values selected:
    built here, as the rows are, rather than in a template loop over the fleet's clusters; escaped HTML."""
    picked = set(chosen or ())
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, SafeString(" selected") if value in picked else "", label) for value, label in choices),
    )

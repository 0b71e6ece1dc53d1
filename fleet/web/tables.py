"""The rows of the instance list, rendered in Python.

A page shows up to 100 rows; the template's loops per row, per NIC and per owner, with a queryset per
relation and a URL reversed per link, made rendering the bulk of the page's time. Here a row is one string
template over plain values (the list's ``values()`` rows, the page's NICs and owners), every value passed
through :func:`html.escape`, which is what Django's autoescape and ``format_html`` apply to text, so the
HTML is the same as the template wrote.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from html import escape
from typing import Any, NamedTuple
from urllib.parse import quote

from django.urls import reverse
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe

from fleet.inventory.models import InstanceStatus
from fleet.web.templatetags.fleet import mib, mib_list, status_class

_ROW = """<tr>
  <td><a href="{url}">{name}</a></td>
  <td><a href="?cluster={cluster_query}">{cluster}</a></td>
  <td>{node}</td>
  <td class="num">{memory}</td>
  <td class="num">{disks}</td>
  <td class="num">{vcpus}</td>
  <td><span class="badge {status_class}">{status}</span>{badges}</td>
  <td>{networks}</td>
  <td>{owners}</td>
  <td><a href="{url}">Details</a></td>
</tr>"""

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
    row: dict[str, Any], url: str, nics: list[NicText], owners: list[Owner], badges: list[Any]
) -> SafeString:
    """One row of the instance list: ``row`` from the list's queryset, ``url`` its detail page."""
    cluster = row["cluster_name"]
    status = row["status"]
    return mark_safe(  # every value below is escaped
        _ROW.format(
            url=escape(url),
            name=escape(row["name"]),
            cluster_query=_query_text(cluster),
            cluster=_text(cluster),
            node=_text(row["node_name"] or ""),
            memory=_text(mib(row["memory"])),
            disks=escape(mib_list(row["disk_sizes"])),
            vcpus=_text(str(row["vcpus"])),
            status_class=_text(status_class(status)),
            status=_text(_STATUS_LABELS.get(status, status)),
            badges="".join(f'<span class="badge {_text(b.kind)}">{_text(b.label)}</span>' for b in badges),
            networks=networks(nics),
            owners=owners_html(owners),
        )
    )


# Rows share most of their values (clusters, nodes, sizes, networks, owners): each is escaped and quoted once.
_SHARED = 4096


@functools.lru_cache(maxsize=_SHARED)
def _text(value: str) -> str:
    """``value`` escaped for HTML."""
    return escape(value)


@functools.lru_cache(maxsize=_SHARED)
def _query_text(value: str) -> str:
    """``value`` as a query string value (:func:`_query_value`), escaped for an HTML attribute."""
    return escape(_query_value(value))


_SLOT = "@@slot@@"  # left as it is by reverse()'s quoting, and in no route


def detail_url_maker() -> Callable[[str, str], str]:
    """``reverse("instance-detail", args=[cluster, name])`` for many rows: the route is resolved once, then
    each row's names are quoted into it as ``reverse()`` quotes them."""
    prefix, middle, suffix = reverse("instance-detail", args=[_SLOT, _SLOT]).split(_SLOT)
    safe = RFC3986_SUBDELIMS + "/~:@"

    @functools.lru_cache(maxsize=_SHARED)
    def cluster_part(cluster: str) -> str:
        return f"{prefix}{quote(cluster, safe=safe)}{middle}"

    def url(cluster: str, name: str) -> str:
        return f"{cluster_part(cluster)}{quote(name, safe=safe)}{suffix}"

    return url


def _query_value(value: str) -> str:
    """A value for a query string, as the ``urlencode`` template filter writes it."""
    return quote(value, safe="/")


def networks(nics: list[NicText]) -> str:
    """Each NIC on a line: ``ip@network`` linking to the network's instances, else ``ip@link``, else
    ``link``; escaped HTML."""
    lines = []
    for nic in nics:
        if nic.network_name:
            name, ip = nic.network_name, f"{nic.ip}@" if nic.ip else ""
            lines.append(f'<a href="?network={_query_text(name)}">{escape(ip)}{_text(name)}</a>')
        elif nic.ip:
            lines.append(escape(f"{nic.ip}@{nic.link}" if nic.link else nic.ip))
        else:
            lines.append(escape(nic.link))
    return "<br>".join(lines)


def owners_html(owners: list[Owner]) -> str:
    """The owning users, then the owning groups, each linking to the instances it owns; escaped HTML."""
    links = []
    for owner in owners:
        css = ' class="group"' if owner.is_group else ""
        links.append(f'<a href="?owner={_query_text(owner.name)}"{css}>{_text(owner.name)}</a> ')
    return "".join(links)


def options_html(choices: list[tuple[str, str]], chosen: list[str] | None) -> SafeString:
    """The ``<option>`` elements of a select over (value, label) ``choices``, the ``chosen`` values selected:
    built here, as the rows are, rather than in a template loop over the fleet's clusters; escaped HTML."""
    picked = set(chosen or ())
    options = (
        (escape(value), " selected" if value in picked else "", escape(label)) for value, label in choices
    )
    html = "".join(f'<option value="{v}"{s}>{label}</option>' for v, s, label in options)
    return mark_safe(html)  # every value is escaped

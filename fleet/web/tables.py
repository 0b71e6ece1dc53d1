"""The rows of the instance list, rendered in Python.

A page shows up to 100 rows; the template's loops per row, per NIC and per owner, with a queryset per
relation and a URL reversed per link, made rendering the bulk of the page's time. Here a row is one
``format_html`` (every value escaped) over plain lists that the list's prefetches filled
(``Prefetch(..., to_attr=...)``), with the same HTML the template wrote.
"""

from __future__ import annotations

from typing import Any

from django.template.defaultfilters import urlencode
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

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


def instance_row(instance: Any, badges: list[Any]) -> SafeString:
    """One row of the instance list; ``instance`` comes from the list's queryset, with its prefetches."""
    cluster = instance.cluster.name
    return format_html(
        _ROW,
        url=detail_url(instance),
        name=instance.name,
        cluster_query=urlencode(cluster),
        cluster=cluster,
        node=instance.primary_node.name if instance.primary_node else "",
        memory=mib(instance.memory),
        disks=mib_list(instance.disk_sizes),
        vcpus=instance.vcpus,
        status_class=status_class(instance.status),
        status=instance.get_status_display(),
        badges=mark_safe(  # each badge escaped by format_html
            "".join(format_html('<span class="badge {}">{}</span>', b.kind, b.label) for b in badges)
        ),
        networks=networks(instance.nic_list),
        owners=owners(instance.owner_user_list, instance.owner_group_list),
    )


def detail_url(instance: Any) -> str:
    """The instance's detail page."""
    return reverse("instance-detail", args=[instance.cluster.name, instance.name])


def networks(nics: list[Any]) -> SafeString:
    """Each NIC on a line: ``ip@network`` linking to the network's instances, else ``ip@link``, else
    ``link``."""
    lines = []
    for nic in nics:
        if nic.network_name:
            name, ip = nic.network_name, f"{nic.ip}@" if nic.ip else ""
            lines.append(format_html('<a href="?network={}">{}{}</a>', urlencode(name), ip, name))
        elif nic.ip:
            lines.append(format_html("{}{}", nic.ip, f"@{nic.link}" if nic.link else ""))
        else:
            lines.append(format_html("{}", nic.link))
    return mark_safe("<br>".join(lines))  # each line escaped by format_html


def owners(users: list[Any], groups: list[Any]) -> SafeString:
    """The owning users, then the owning groups, each linking to the instances it owns."""
    links = [
        format_html('<a href="?owner={}">{}</a> ', urlencode(name), name)
        for name in (user.get_username() for user in users)
    ]
    links += [
        format_html('<a href="?owner={}" class="group">{}</a> ', urlencode(group.name), group.name)
        for group in groups
    ]
    return mark_safe("".join(links))  # each link escaped by format_html

"""Formatting for the pages: sizes, usage bars, status classes, Ganeti timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from django import template
from django.utils.html import format_html

from fleet.jobs import lifecycle

register = template.Library()


@register.filter
def mib(value: Any) -> str:
    """A size in MiB for people: ``6.0 GB``, ``512 MB``; empty for an unknown size."""
    if value is None or value == "":
        return ""
    try:
        size = int(value)
    except (TypeError, ValueError):
        return ""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} TB"
    if size >= 1024:
        return f"{size / 1024:.1f} GB"
    return f"{size} MB"


@register.filter
def mib_list(values: Any) -> str:
    """Each disk's size, comma-separated: ``78.1 GB, 50.0 GB``."""
    if not isinstance(values, list | tuple):
        return ""
    return ", ".join(mib(value) for value in values)


@register.simple_tag
def used_percent(total: int | None, free: int | None) -> int | None:
    """How full a resource is, 0-100, or ``None`` when Ganeti reports no figure."""
    if not total or free is None:
        return None
    return max(0, min(100, round(100 * (total - free) / total)))


_STATUS_CLASS = {"running": "ok", "ADMIN_down": "off", "USER_down": "off", "ADMIN_offline": "off"}


@register.filter
def status_class(status: str) -> str:
    """The badge colour of an instance status: ok, off, or bad for every ``ERROR_*`` state."""
    return _STATUS_CLASS.get(status, "bad")


_JOB_CLASS = {"success": "ok", "error": "bad", "canceled": "off", "canceling": "off"}


@register.filter
def job_class(status: str) -> str:
    """The badge colour of a job status: ok, bad, off, or busy for the unfinished ones."""
    return _JOB_CLASS.get(status, "busy")


_OPERATION_CLASS = {"succeeded": "ok", "failed": "bad", "refused": "bad"}


@register.filter
def operation_class(status: str) -> str:
    """The badge colour of an operation status: ok, bad, or busy for the open ones."""
    return _OPERATION_CLASS.get(status, "busy")


@register.filter
def ganeti_ts(value: Any) -> dt.datetime | None:
    """Ganeti's ``[seconds, microseconds]`` as a datetime, for log entries."""
    try:
        seconds, microseconds = value
        return dt.datetime.fromtimestamp(float(seconds) + float(microseconds) / 1e6, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


@register.filter
def log_text(message: Any) -> str:
    """A job log entry's message as text (``fleet.jobs.lifecycle.log_text``)."""
    return lifecycle.log_text(message)


@register.simple_tag(takes_context=True)
def sort_header(context: template.Context, key: str, label: str) -> str:
    """A column header that sorts by ``key``, and by ``-key`` when already sorted by it, from page 1."""
    current, others = _sort_query(context)
    target = f"-{key}" if current == key else key
    arrow = " ▲" if current == key else " ▼" if current == f"-{key}" else ""
    return format_html('<a href="?{}sort={}" class="sort">{}{}</a>', others, quote(target), label, arrow)


def _sort_query(context: template.Context) -> tuple[str, str]:
    """The current sort key, and the rest of the query string without ``sort`` and ``page`` (ending in
    ``&`` unless empty): worked out once per page (``render_context``), not once per column."""
    cached = context.render_context.get(_sort_query)
    if cached is None:
        query = context["request"].GET.copy()
        current = query.get("sort", "")
        query.pop("sort", None)
        query.pop("page", None)
        others = query.urlencode()
        cached = context.render_context[_sort_query] = (current, f"{others}&" if others else "")
    return cached

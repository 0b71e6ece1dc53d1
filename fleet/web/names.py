"""Names in page URLs: Ganeti's names (host names) sit in the path, one segment each.

A host name holds no ``/``, but the read model keeps whatever a cluster reports, and a page must link to
anything it lists. So a name's ``%`` and ``/`` are written ``%25`` and ``%2F`` before ``reverse()`` quotes the
result again: the server decodes the path once, leaving one segment, which :class:`NameConverter` decodes.
Host names are left as they are.
"""

from __future__ import annotations

from urllib.parse import unquote


def to_url(name: str) -> str:
    """``name`` as one path segment, before ``reverse()``'s quoting."""
    if "%" not in name and "/" not in name:
        return name
    return name.replace("%", "%25").replace("/", "%2F")


class NameConverter:
    """A cluster, node or instance name: one path segment, see the module's docstring."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value) if "%" in value else value

    def to_url(self, value: str) -> str:
        return to_url(value)

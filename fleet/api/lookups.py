"""How the API names an instance in its URLs: by row id, by Ganeti uuid, or by cluster and name."""

from __future__ import annotations

import re

from django.http import Http404

from fleet.operations.core import NOT_FOUND

UUID = re.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def instance_lookup(key: str) -> dict[str, object]:
    """What ``key`` names: an id, a Ganeti uuid, or ``CLUSTER:NAME``; anything else names no instance."""
    if key.isascii() and key.isdigit() and len(key) <= 18:
        return {"pk": int(key)}
    if UUID.fullmatch(key.lower()):
        return {"uuid": key.lower()}
    cluster, colon, name = key.partition(":")
    if colon and cluster and name:
        return {"cluster__name": cluster, "name": name}
    raise Http404(NOT_FOUND)

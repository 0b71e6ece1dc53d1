"""The base of every API viewset: read-only, restricted by the policy, filtered by a filterset."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import QuerySet
from rest_framework import viewsets

from fleet.access import policy


class RestrictedViewSet(viewsets.ReadOnlyModelViewSet):  # type: ignore[type-arg]
    """List and retrieve what the caller may see; anything else is a 404, as on the pages."""

    queryset: ClassVar[QuerySet[Any]]

    def get_queryset(self) -> QuerySet[Any]:
        return policy.restrict(self.queryset.all(), self.request.user, policy.Action.VIEW)

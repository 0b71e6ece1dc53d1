"""The query on a user's SSH keys, for the API (conventions as in ``fleet.inventory.filtersets``)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from fleet.inventory.filterset_base import FilterSet
from fleet.inventory.filtersets import ChoicesFilter, TextFilter
from fleet.requests.models import SshKey
from fleet.requests.sshkeys import ACCEPTED


class SshKeyFilterSet(FilterSet):
    """A user's keys: by type, or by a part of the name or fingerprint."""

    q = TextFilter(method="search", label="Search name or fingerprint")
    kind = ChoicesFilter(choices=[(kind, kind) for kind in ACCEPTED], distinct=False, label="Type")

    class Meta:
        model = SshKey
        fields: list[str] = []

    def search(self, qs: QuerySet[SshKey], name: str, value: str) -> QuerySet[SshKey]:
        if not value:
            return qs
        return qs.filter(Q(name__icontains=value) | Q(fingerprint__icontains=value))

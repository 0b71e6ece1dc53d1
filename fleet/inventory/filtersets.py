"""The queries on the read model, one filterset per list, shared by the web pages, the API and the CLI.

Every parameter is validated by a form field before it reaches the database: text is bounded and may not
hold NUL characters, numbers are bounded to what every database can compare, names are exact and repeatable
(``?cluster=a&cluster=b``), sort keys come from a fixed list. Bad input therefore becomes a form error naming
the parameter (a 400), never a database error; LIKE wildcards (``%``, ``_``) in search text are escaped by the
ORM and match themselves.

Conventions: ``q`` searches everything a row is known by; ``<column>`` alone is an exact name filter, and
``<column>__ic`` a "contains" search on that column; ``<figure>_min``/``<figure>_max`` bound a figure;
``sort`` takes a column key, ``-`` in front for descending.
"""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q, QuerySet

from fleet.inventory import paging
from fleet.inventory.filterset_base import FilterSet
from fleet.inventory.models import (
    Cluster,
    Instance,
    InstanceOwner,
    InstanceStatus,
    Network,
    Nic,
    Node,
    NodeGroup,
    NodeRole,
)

SEARCH_MAX_LENGTH = 200
NAME_MAX_LENGTH = 253
MAX_NAMES = 100
MAX_FIGURE = 2**53  # exact in every database and in JavaScript; far above any real size in MiB
SEARCH_INLINE_IDS = 1_000  # a global search writes up to this many ids found by owner, IP or MAC as constants


class NamesWidget(forms.TextInput):
    """Reads every value of a repeated parameter, as a list."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        getlist = getattr(data, "getlist", None)
        if getlist is not None:
            return getlist(name)
        value = data.get(name)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def format_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return value[0] if value else None
        return value


class NamesField(forms.Field):
    """One or more exact names; empty values are dropped, each is bounded and free of NUL characters."""

    widget = NamesWidget
    default_error_messages = {
        "too_long": f"A name has at most {NAME_MAX_LENGTH} characters.",
        "too_many": f"Give at most {MAX_NAMES} names.",
    }

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        values = value if isinstance(value, list | tuple) else [value]
        if len(values) > MAX_NAMES:  # counted as given, empty ones too
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        names = [str(item).strip() for item in values]
        return [name for name in names if name]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > MAX_NAMES:
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        for name in value:
            if len(name) > NAME_MAX_LENGTH:
                raise forms.ValidationError(self.error_messages["too_long"], code="too_long")
            ProhibitNullCharactersValidator()(name)


class NamesFilter(filters.Filter):
    """Rows whose ``field_name`` is one of the given names (or, with ``method``, whatever it decides)."""

    field_class = NamesField

    def filter(self, qs: QuerySet[Any], value: list[str]) -> QuerySet[Any]:
        if not value:
            return qs
        return qs.filter(**{f"{self.field_name}__in": value})


class ChoicesField(filters.fields.MultipleChoiceField):
    """Repeatable choices where an empty value means "any": a form's "All" option sends ``status=``."""

    def to_python(self, value: Any) -> list[str]:
        return [item for item in super().to_python(value) if item != ""]


class ChoicesFilter(filters.MultipleChoiceFilter):
    """``?status=a&status=b`` keeps rows with any of the values; ``?status=`` alone filters nothing."""

    field_class = ChoicesField


class TextFilter(filters.CharFilter):
    """Bounded text; ``icontains`` unless told otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "icontains")
        kwargs.setdefault("max_length", SEARCH_MAX_LENGTH)
        kwargs.setdefault("strip", True)
        super().__init__(*args, **kwargs)


class WholeNumberField(forms.IntegerField):
    """A whole number written in ASCII digits: Python's ``int`` also reads fullwidth or Arabic-Indic digits,
    ``1_0`` and blanks around the number."""

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and value != "" and not paging.is_whole_number(value):
            raise forms.ValidationError("Give a whole number in digits 0-9.", code="invalid")
        number: int | None = super().to_python(value)
        return number


class FigureFilter(filters.Filter):
    """A whole number from 0 to :data:`MAX_FIGURE`, compared with ``lookup_expr``."""

    field_class = WholeNumberField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_FIGURE)
        super().__init__(*args, **kwargs)


class TruthField(forms.Field):
    """``true`` or ``false`` (also ``1`` or ``0``, in any case); empty means either. Django's own boolean
    fields read anything else as "either" (and ``2`` as true, ``3`` as false, for their select widget)."""

    widget = forms.TextInput
    TRUE = frozenset({"true", "1"})
    FALSE = frozenset({"false", "0"})

    def to_python(self, value: Any) -> bool | None:
        text = "" if value is None else str(value).lower()
        if text == "":
            return None
        if text in self.TRUE or text in self.FALSE:
            return text in self.TRUE
        raise forms.ValidationError("Give true or false.", code="invalid")


class TruthFilter(filters.Filter):
    """A yes-or-no column: ``?drained=true``."""

    field_class = TruthField


class SortKeyField(filters.fields.ChoiceField):
    """One key of ``sort``: an empty one (``sort=name,``) is an error, not a sort by nothing."""

    def validate(self, value: Any) -> None:
        if value == "":
            raise forms.ValidationError(
                "A sort key is empty: give keys separated by commas, such as name,-memory.", code="empty"
            )
        super().validate(value)


class SortFilter(filters.OrderingFilter):
    """``sort=<key>`` or ``sort=-<key>``; ties are broken by ``tiebreak``, which ends on the primary key, so
    that pages never overlap."""

    field_class = SortKeyField

    def __init__(self, *args: Any, tiebreak: tuple[str, ...] = ("pk",), **kwargs: Any) -> None:
        self.tiebreak = tiebreak
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value]
        return qs.order_by(*ordering, *self.tiebreak)


class InstanceFilterSet(FilterSet):
    """The instance list: global search, search by column, filters, figure ranges, sorting."""

    q = TextFilter(method="search", label="Search name, IP, MAC or owner")
    name = TextFilter(field_name="name", label="Name contains")
    cluster = NamesFilter(field_name="cluster__name", label="Cluster")
    status = ChoicesFilter(choices=InstanceStatus.choices, distinct=False, label="Status")
    node = NamesFilter(method="filter_node", label="Node (primary or secondary)")
    node__ic = TextFilter(method="filter_node_contains", label="Node contains")
    network = NamesFilter(method="filter_network", label="Network")
    network__ic = TextFilter(method="filter_network_contains", label="Network contains")
    owner = NamesFilter(method="filter_owner", label="Owner (user or group)")
    owner__ic = TextFilter(method="filter_owner_contains", label="Owner contains")
    ip = TextFilter(method="filter_ip", label="IP address starts with")
    mac = TextFilter(method="filter_mac", label="MAC address contains")
    vcpus_min = FigureFilter(field_name="vcpus", lookup_expr="gte", label="CPUs, at least")
    vcpus_max = FigureFilter(field_name="vcpus", lookup_expr="lte", label="CPUs, at most")
    memory_min = FigureFilter(field_name="memory", lookup_expr="gte", label="Memory (MiB), at least")
    memory_max = FigureFilter(field_name="memory", lookup_expr="lte", label="Memory (MiB), at most")
    disk_min = FigureFilter(field_name="disk_total", lookup_expr="gte", label="Disk (MiB), at least")
    disk_max = FigureFilter(field_name="disk_total", lookup_expr="lte", label="Disk (MiB), at most")
    sort = SortFilter(
        fields=(
            ("name", "name"),
            ("cluster__name", "cluster"),
            ("primary_node__name", "node"),
            ("memory", "memory"),
            ("disk_total", "disk"),
            ("vcpus", "vcpus"),
            ("status", "status"),
        ),
        tiebreak=("name", "pk"),
        label="Sort by",
    )

    class Meta:
        model = Instance
        fields: list[str] = []

    def search(self, qs: QuerySet[Instance], name: str, value: str) -> QuerySet[Instance]:
        """Instances whose name contains ``value``, with an IP starting with it or a MAC containing it, or
        owned by a user or group whose name contains it.

        The name is compared on the row itself, so that the planner can choose per search: walk the list's
        (name, id) index in order and stop at the end of the page when many names match, or take the few
        that match from the trigram index. The other lookups are read first, each through an index of its
        own, and their ids (usually none, or a few) go into the statement as constants; a subquery there
        would hide how many rows it selects and rule out the trigram index. Only when they find more than
        :data:`SEARCH_INLINE_IDS` does the statement carry them as a subquery. A lookup that cannot match
        is left out: an IP's text holds only hex digits, dots and colons, a MAC's only hex digits and colons.
        """
        if not value:
            return qs
        others = [_owned_by_names(value, "icontains").values_list("instance_id", flat=True)]
        if set(value) <= _IP_CHARACTERS:
            others.append(
                Nic.objects.filter(ip__startswith=value).order_by().values_list("instance_id", flat=True)
            )
        mac = _mac(value)
        if set(mac) <= _MAC_CHARACTERS:
            others.append(
                Nic.objects.filter(mac__icontains=mac).order_by().values_list("instance_id", flat=True)
            )
        first, *rest = others
        # UNION ALL streams, so the limit stops the read early; the ids are complete if it was not reached.
        every = first.union(*rest, all=True) if rest else first
        found = list(every[: SEARCH_INLINE_IDS + 1])
        if len(found) > SEARCH_INLINE_IDS:
            return qs.filter(Q(name__icontains=value) | Q(pk__in=first.union(*rest) if rest else first))
        if not found:
            return qs.filter(name__icontains=value)
        return qs.filter(Q(name__icontains=value) | Q(pk__in=sorted(set(found))))

    def filter_node(self, qs: QuerySet[Instance], name: str, value: list[str]) -> QuerySet[Instance]:
        return qs.filter(_on_nodes(Q(name__in=value))) if value else qs

    def filter_node_contains(self, qs: QuerySet[Instance], name: str, value: str) -> QuerySet[Instance]:
        return qs.filter(_on_nodes(Q(name__icontains=value))) if value else qs

    def filter_network(self, qs: QuerySet[Instance], name: str, value: list[str]) -> QuerySet[Instance]:
        if not value:
            return qs
        nics = Nic.objects.filter(Q(network__name__in=value) | Q(network_name__in=value))
        return qs.filter(pk__in=nics.values("instance_id"))

    def filter_network_contains(self, qs: QuerySet[Instance], name: str, value: str) -> QuerySet[Instance]:
        if not value:
            return qs
        nics = Nic.objects.filter(Q(network_name__icontains=value) | Q(link__icontains=value))
        return qs.filter(pk__in=nics.values("instance_id"))

    def filter_owner(self, qs: QuerySet[Instance], name: str, value: list[str]) -> QuerySet[Instance]:
        return qs.filter(pk__in=_owned_by_names(value, "in")) if value else qs

    def filter_owner_contains(self, qs: QuerySet[Instance], name: str, value: str) -> QuerySet[Instance]:
        return qs.filter(pk__in=_owned_by_names(value, "icontains")) if value else qs

    def filter_ip(self, qs: QuerySet[Instance], name: str, value: str) -> QuerySet[Instance]:
        if not value:
            return qs
        return qs.filter(pk__in=Nic.objects.filter(ip__startswith=value).values("instance_id"))

    def filter_mac(self, qs: QuerySet[Instance], name: str, value: str) -> QuerySet[Instance]:
        if not value:
            return qs
        return qs.filter(pk__in=Nic.objects.filter(mac__icontains=_mac(value)).values("instance_id"))


_IP_CHARACTERS = frozenset("0123456789abcdefABCDEF.:")
_MAC_CHARACTERS = frozenset("0123456789abcdef:")


def _mac(value: str) -> str:
    """MAC text as Ganeti writes it: lower case, colons."""
    return value.lower().replace("-", ":")


def _on_nodes(nodes: Q) -> Q:
    """Instances whose primary or one of whose secondaries is among the nodes ``nodes`` selects."""
    node_ids = Node.objects.filter(nodes).values("pk")
    secondary = Instance.secondary_nodes.through.objects.filter(node_id__in=node_ids).values("instance_id")
    return Q(primary_node_id__in=node_ids) | Q(pk__in=secondary)


def _owned_by_names(value: str | list[str], lookup: str) -> QuerySet[Any]:
    """Ids of the instances whose tags name a user or a group whose name matches ``value`` by ``lookup``
    (whether or not that account exists: the name is what the tag says)."""
    return InstanceOwner.objects.filter(**{f"name__{lookup}": value}).order_by().values("instance_id")


class ClusterFilterSet(FilterSet):
    """The cluster list: by name and health."""

    q = TextFilter(method="search", label="Search name or description")
    name = NamesFilter(field_name="name", label="Cluster")
    health = ChoicesFilter(choices=Cluster._meta.get_field("health").choices, distinct=False, label="Health")
    sort = SortFilter(fields=(("name", "name"), ("health", "health"), ("last_sync_at", "synced")))

    class Meta:
        model = Cluster
        fields: list[str] = []

    def search(self, qs: QuerySet[Cluster], name: str, value: str) -> QuerySet[Cluster]:
        return qs.filter(Q(name__icontains=value) | Q(description__icontains=value)) if value else qs


class NodeFilterSet(FilterSet):
    """The node list: per cluster and node group, by role and flags."""

    q = TextFilter(field_name="name", label="Name contains")
    cluster = NamesFilter(field_name="cluster__name", label="Cluster")
    group = NamesFilter(field_name="group__name", label="Node group")
    role = ChoicesFilter(choices=NodeRole.choices, distinct=False, label="Role")
    offline = TruthFilter()
    drained = TruthFilter()
    vm_capable = TruthFilter()
    sort = SortFilter(
        fields=(
            ("name", "name"),
            ("cluster__name", "cluster"),
            ("group__name", "group"),
            ("role", "role"),
            ("memory_free", "memory_free"),
            ("disk_free", "disk_free"),
            ("primary_instance_count", "instances"),
        ),
        tiebreak=("name", "pk"),
    )

    class Meta:
        model = Node
        fields: list[str] = []


class NodeGroupFilterSet(FilterSet):
    """Node groups, per cluster."""

    q = TextFilter(field_name="name", label="Name contains")
    cluster = NamesFilter(field_name="cluster__name", label="Cluster")
    sort = SortFilter(fields=(("name", "name"), ("cluster__name", "cluster")))

    class Meta:
        model = NodeGroup
        fields: list[str] = []


class NetworkFilterSet(FilterSet):
    """Networks, per cluster."""

    q = TextFilter(method="search", label="Name or CIDR contains")
    cluster = NamesFilter(field_name="cluster__name", label="Cluster")
    sort = SortFilter(fields=(("name", "name"), ("cluster__name", "cluster"), ("free_count", "free")))

    class Meta:
        model = Network
        fields: list[str] = []

    def search(self, qs: QuerySet[Network], name: str, value: str) -> QuerySet[Network]:
        return qs.filter(Q(name__icontains=value) | Q(network__icontains=value)) if value else qs

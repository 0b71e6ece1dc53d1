"""The co-owner picker: as an owner types a name in the instance page's "Add owner" field, the accounts and
groups whose names begin with it, as the options of the field's datalist (an htmx partial).

Only those who may change the instance's owners may ask (its owners and admins; anyone else gets the 404 or
403 of the instance page), and they get names only: an owner never sees another user's e-mail address nor
full name through it; admins see the e-mail beside the name, as on the instance page. The query is a prefix
and the answer at most :data:`MAX_SUGGESTIONS` names, so that the picker lists no directory wholesale.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from fleet.access import policy
from fleet.access.tags import NAME_PATTERN
from fleet.inventory.models import Instance

MAX_SUGGESTIONS = 20
MAX_PREFIX = 120  # the field's own limit


def suggestions(prefix: str, kind: str, *, with_emails: bool) -> list[tuple[str, str]]:
    """(name, label) of the active accounts, or the groups, whose names begin with ``prefix``, in name
    order, at most :data:`MAX_SUGGESTIONS`; the label is the e-mail address for admins, else empty."""
    if not prefix or len(prefix) > MAX_PREFIX or not NAME_PATTERN.fullmatch(prefix):
        return []  # nothing a tag could hold: no query at all
    if kind == "group":
        groups = Group.objects.filter(name__startswith=prefix).order_by("name")
        return [(name, "") for name in groups.values_list("name", flat=True)[:MAX_SUGGESTIONS]]
    model = get_user_model()
    field = model.USERNAME_FIELD
    accounts = model._default_manager.filter(is_active=True, **{f"{field}__startswith": prefix})
    rows = accounts.order_by(field).values_list(field, "email")[:MAX_SUGGESTIONS]
    return [(name, (email or "") if with_emails else "") for name, email in rows]


class OwnerNames(LoginRequiredMixin, View):
    """``GET .../owner-names/?kind=user&name=PREFIX``: the datalist's options."""

    def get(self, request: HttpRequest, cluster: str, name: str) -> HttpResponse:
        policy.get_object(
            Instance.objects.all(), request.user, policy.Action.OWNERS, cluster__name=cluster, name=name
        )
        admin = policy.role_of(request.user) is policy.Role.ADMIN
        names = suggestions(request.GET.get("name", ""), request.GET.get("kind", "user"), with_emails=admin)
        return render(request, "fleet/instances/_owner_names.html", {"names": names})

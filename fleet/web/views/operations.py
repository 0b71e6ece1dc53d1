"""The instance page's actions and the audit log.

An action is a POST to the instance page (``InstanceDetail.post``): it calls ``fleet.operations`` (as the API
and the CLI do) and, once recorded, goes back to the page (303), where the operation's panel follows it live
(htmx polls its partial while it is open) to its outcome. A form carries a key made when the page was drawn,
so that sending it twice (a double click, a reload of the POST) records one operation. A bad field, a
refusal, an instance the caller may not see: the page again with the reason, as a 400, 403 or 409, or a 404.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views import View

from fleet import operations
from fleet.access import policy
from fleet.access.tags import Flag, allow_from_from_tags, flags_from_tags
from fleet.inventory.models import Instance
from fleet.operations.callers import caller_from_request
from fleet.operations.filtersets import OperationFilterSet
from fleet.operations.models import Operation, OperationKind, Via
from fleet.web.views.base import ListPage
from fleet.web.views.configuration import configuration_fields, configuration_panel

ACTIONS: dict[str, tuple[str, policy.Action, Callable[[dict[str, str]], dict[str, Any]]]] = {
    # form action: (what the button says, the policy's verb, the fields of the operation from the form)
    "start": ("Start", policy.Action.POWER, lambda form: {}),
    "shutdown": ("Shut down", policy.Action.POWER, lambda form: {}),
    "reboot": ("Reboot", policy.Action.POWER, lambda form: {"kind": form.get("kind", "soft")}),
    "migrate": ("Migrate", policy.Action.MIGRATE, lambda form: {}),
    "failover": ("Fail over", policy.Action.MIGRATE, lambda form: {}),
    "lock": ("Lock", policy.Action.LOCK, lambda form: {}),
    "unlock": ("Unlock", policy.Action.LOCK, lambda form: {}),
    "add_owner": ("Add owner", policy.Action.OWNERS, lambda form: _owner(form)),
    "remove_owner": ("Remove owner", policy.Action.OWNERS, lambda form: _owner(form)),
    "modify": ("Change configuration", policy.Action.MODIFY, configuration_fields),
    "isolate": ("Isolate", policy.Action.ISOLATE, lambda form: {"allow_from": form.get("allow_from", "")}),
    "deisolate": ("De-isolate", policy.Action.ISOLATE, lambda form: {}),
    "change_allow_from": ("Change allow-from", policy.Action.ISOLATE, lambda form: _allow_from(form)),
    "reinstall": ("Reinstall", policy.Action.REINSTALL, lambda form: _reinstall(form)),
    "rename": (
        "Rename",
        policy.Action.RENAME,
        lambda form: {"new_name": form.get("new_name", ""), **_typed(form)},
    ),
    "destroy": ("Destroy", policy.Action.DESTROY, lambda form: _typed(form)),
}
BUTTONS = ("start", "shutdown", "reboot", "migrate", "failover", "lock", "unlock", "isolate", "deisolate")


def _owner(form: dict[str, str]) -> dict[str, Any]:
    return {"kind": form.get("kind", ""), "name": form.get("name", "")}


def _allow_from(form: dict[str, str]) -> dict[str, Any]:
    return {"remove" if form.get("change") == "remove" else "add": form.get("ranges", "")}


def _typed(form: dict[str, str]) -> dict[str, Any]:
    """An administrator's typed confirmation (the instance's name), if any: else a link is mailed."""
    typed = form.get("confirm", "").strip()
    return {"confirm": typed} if typed else {}


def _reinstall(form: dict[str, str]) -> dict[str, Any]:
    return {"os": form.get("os", ""), "clear_osparams": form.get("clear_osparams") == "on", **_typed(form)}


LIFECYCLE = ("reinstall", "rename", "destroy")  # each a form of its own, below the buttons


def new_form_key() -> str:
    """The idempotency key of a form drawn now."""
    return secrets.token_urlsafe(18)


def buttons(tags: list[str] | None, allowed: frozenset[policy.Action]) -> list[str]:
    """The panel's buttons, by action name, that an instance with ``tags`` shows a caller ``allowed`` these
    verbs: Lock or Unlock, whichever applies, and the rest the policy allows."""
    flags = flags_from_tags(tags or [], settings.FLEET_TAG_PREFIX)
    skipped = {"lock" if Flag.ADMIN_LOCK in flags else "unlock"}
    skipped.add("isolate" if Flag.ISOLATED in flags else "deisolate")
    return [name for name in BUTTONS if name not in skipped and ACTIONS[name][1] in allowed]


def action_panel(request: HttpRequest, instance: Instance) -> dict[str, Any]:
    """What the instance page's action panel shows: the actions the caller may take, the operation under
    way or the last one, and a fresh form key."""
    allowed = policy.actions_for(request.user, [instance]).get(instance.pk, frozenset())
    visible = policy.restrict(Operation.objects.on_instance(instance), request.user)
    shown = buttons(instance.tags, allowed)
    return {
        "actions": [(name, ACTIONS[name][0]) for name in shown],
        "lifecycle": {name: ACTIONS[name][1] in allowed for name in LIFECYCLE},
        "os_names": instance.cluster.os_names or [],
        "confirms_by_name": policy.role_of(request.user) is policy.Role.ADMIN,
        "may_change_owners": policy.Action.OWNERS in allowed,
        "may_change_allow_from": "deisolate" in shown,
        "allow_from": allow_from_from_tags(instance.tags or [], settings.FLEET_TAG_PREFIX).networks,
        "operation": visible.select_related("job").first(),
        "form_key": new_form_key(),
        **configuration_panel(instance, allowed),
    }


def row_options(request: HttpRequest, rows: list[dict[str, Any]], urls: list[str | None]) -> list[SafeString]:
    """The list's last cell for each of a page's rows: the operation under way on it, as a badge, and the
    actions the caller may take, each a button posting to the instance page. Two queries for the page."""
    allowed = policy.actions_for(request.user, rows)
    names = [row["name"] for row in rows]
    under_way = {
        (cluster_id, name): label
        for cluster_id, name, label in Operation.objects.open()
        .filter(instance_name__in=names)
        .values_list("cluster_id", "instance_name", "kind")
    }
    token = get_token(request)
    cells = []
    for row, url in zip(rows, urls, strict=True):
        kind = under_way.get((row["cluster_id"], row["name"]))
        badge = (
            format_html('<span class="badge busy">{} under way</span>', OperationKind(kind).label)
            if kind
            else ""
        )
        names_shown = buttons(row["tags"], allowed.get(row["pk"], frozenset()))
        if url is None or not names_shown:
            cells.append(format_html("{}", badge))
            continue
        shown = format_html_join("", '<button type="submit" name="action" value="{}">{}</button>',
                                 ((n, ACTIONS[n][0]) for n in names_shown))  # fmt: skip
        if "isolate" in names_shown:
            shown = format_html("{}{}", ALLOW_FROM_INPUT, shown)
        cells.append(format_html(
            '{}<details class="row-actions"><summary>Actions</summary><form method="post" action="{}">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="form_key" value="{}">{}</form></details>',
            badge, url, token, new_form_key(), shown,
        ))  # fmt: skip
    return cells


ALLOW_FROM_INPUT = format_html(
    '<input type="text" name="allow_from" maxlength="1200" placeholder="{}" aria-label="{}">',
    "allow from (optional)",
    "Allow from, when isolating",
)


def act(request: HttpRequest, instance: Instance) -> tuple[dict[str, str], int]:
    """Record the action the instance page's form POSTed. Returns what is wrong, by field ("" for a
    refusal), and the status to answer with; no errors when it was recorded. Raises Http404 when the caller
    may not see the instance (the attempt is recorded all the same)."""
    chosen = request.POST.get("action", "")
    action = ACTIONS.get(chosen)
    if action is None:
        return {"action": "Choose one of the actions offered."}, 400
    _, _, fields = action
    return perform(
        request, functools.partial(getattr(operations, chosen), instance, **fields(request.POST.dict()))
    )


def perform(request: HttpRequest, action: Callable[..., Operation]) -> tuple[dict[str, str], int]:
    """Call ``action(by=..., reason=...)`` as the POSTing caller, with the form's key and reason. Returns
    what is wrong, by field ("" for a refusal), and the status to answer with: 303 once recorded."""
    try:
        caller = caller_from_request(request, Via.WEB, request.POST.get("form_key", ""))
        action(by=caller, reason=request.POST.get("reason", ""))
    except operations.Invalid as exc:
        return exc.errors, 400
    except operations.Refused as refused:
        return {"": refused.operation.error}, 409 if refused.conflict else 403
    return {}, 303


def see_other(url: str) -> HttpResponse:
    """Back to ``url`` with a GET (303), after an action was recorded."""
    back = redirect(url)
    back.status_code = 303
    return back


class InstanceOperation(LoginRequiredMixin, View):
    """The operation panel's partial: the operation under way on the instance, or the last one."""

    def get(self, request: HttpRequest, cluster: str, name: str) -> HttpResponse:
        instance = policy.get_object(Instance.objects.all(), request.user, cluster__name=cluster, name=name)
        visible = policy.restrict(Operation.objects.on_instance(instance), request.user)
        context = {"instance": instance, "operation": visible.select_related("job").first()}
        return render(request, "fleet/operations/_operation.html", context)


class AuditLog(ListPage):
    """Every operation and refused attempt the caller may see: their own and those on their instances; all
    of them for helpdesk and admins. Searched, filtered and paged on the server."""

    queryset = Operation.objects.select_related("confirmation").order_by("-created_at", "-pk")
    filterset_class = OperationFilterSet
    template_name = "fleet/operations/list.html"
    results_template_name = "fleet/operations/_results.html"
    title = "Audit log"

"""The console page (noVNC), the token it asks for when it connects, and how its session went.

The page itself mints nothing: its script POSTs for a token each time it connects (so a reload or a
reconnect gets a fresh, single-use one), then hands the token to noVNC, which talks to `fleet console-proxy`.
When the connection ends, the script asks the session's outcome, which the proxy wrote, to say why.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import View

from fleet.access import policy
from fleet.console.models import ConsoleSession, Outcome
from fleet.console.sessions import open_console
from fleet.inventory.models import Instance
from fleet.operations.callers import caller_from_request
from fleet.operations.core import NOT_FOUND, Refused
from fleet.operations.models import Via


def _visible(request: HttpRequest, cluster: str, name: str) -> Instance:
    rows = policy.restrict(
        Instance.objects.select_related("cluster", "primary_node"), request.user, policy.Action.VIEW
    )
    instance = rows.filter(cluster__name=cluster, name=name).first()
    if instance is None:
        raise Http404(NOT_FOUND)
    return instance


class ConsolePage(LoginRequiredMixin, View):
    """The noVNC page of one instance."""

    def get(self, request: HttpRequest, cluster: str, name: str) -> HttpResponse:
        instance = _visible(request, cluster, name)
        decision = policy.decide(request.user, policy.Action.CONSOLE, instance)
        context: dict[str, Any] = {"instance": instance, "refusal": "" if decision else decision.reason}
        if not settings.FLEET_CONSOLE_URL:
            context["refusal"] = "Consoles are not set up on this Fleet (console_url is empty)."
        return render(
            request, "fleet/instances/console.html", context, status=200 if not context["refusal"] else 403
        )


class ConsoleToken(LoginRequiredMixin, View):
    """POST: a fresh token, or why not (403 refused by the policy, 409 the instance's state or the cluster's
    answer, both with the message)."""

    def post(self, request: HttpRequest, cluster: str, name: str) -> JsonResponse:
        instance = (
            Instance.objects.select_related("cluster", "primary_node")
            .filter(cluster__name=cluster, name=name)
            .first()
        )
        if instance is None:
            raise Http404(NOT_FOUND)
        if not settings.FLEET_CONSOLE_URL:
            return JsonResponse({"error": "Consoles are not set up on this Fleet."}, status=409)
        try:
            opened = open_console(instance, by=caller_from_request(request, Via.WEB))
        except Refused as refused:
            return JsonResponse({"error": refused.operation.error}, status=409 if refused.conflict else 403)
        url = settings.FLEET_CONSOLE_URL.rstrip("/") + "/?token=" + opened.token
        return JsonResponse(
            {"session": str(opened.session.id), "url": url, "expires": opened.session.expires_at.isoformat()}
        )


class ConsoleStatus(LoginRequiredMixin, View):
    """GET: how a session of the caller's went, as the proxy wrote it."""

    def get(self, request: HttpRequest, session: str) -> JsonResponse:
        row = ConsoleSession.objects.filter(pk=session, user_id=request.user.pk).first()
        if row is None:
            raise Http404("No such console session.")
        message = row.detail or Outcome(row.outcome).label
        return JsonResponse({"outcome": row.outcome, "message": message})

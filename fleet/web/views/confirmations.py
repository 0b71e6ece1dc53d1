"""The page a mailed confirmation link opens: what the action will do, and a button that confirms it.

Only a POST confirms, so that a mail scanner or a preview that follows the link does nothing. The link is
its requester's alone: anyone else, logged in, gets a 404 as for a link that never existed; a link used
already, or expired, says so (410); an instance changed or busy since the request, 409; an action the
policy no longer allows (the instance was locked meanwhile), 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views import View

from fleet import operations
from fleet.operations import confirmation
from fleet.operations.callers import caller_from_request
from fleet.operations.models import Confirmation, Via
from fleet.web.views.operations import see_other

TEMPLATE = "fleet/operations/confirm.html"
NOT_FOUND = "No confirmation matches this link."


class ConfirmAction(LoginRequiredMixin, View):
    """GET shows the request; POST confirms it."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        found = _found(token, request)
        why = confirmation.state_of(found)
        return _page(request, found, error=why, status=410 if why else 200)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        found = _found(token, request)
        try:
            operation = confirmation.confirm_link(token, by=caller_from_request(request, Via.WEB, ""))
        except LookupError:
            raise Http404(NOT_FOUND) from None
        except confirmation.NotConfirmed as exc:
            found.refresh_from_db()
            found.operation.refresh_from_db()
            return _page(request, found, error=str(exc), status=exc.status)
        except operations.Refused as refused:
            found.operation.refresh_from_db()
            return _page(request, found, error=refused.operation.error, status=403)
        return see_other(reverse("instance-detail", args=[operation.cluster_name, operation.instance_name]))


def _found(token: str, request: HttpRequest) -> Confirmation:
    try:
        return confirmation.find(token, request.user)
    except LookupError:
        raise Http404(NOT_FOUND) from None


def _page(request: HttpRequest, found: Confirmation, *, error: str, status: int) -> HttpResponse:
    operation = found.operation
    context: dict[str, Any] = {
        "confirmation": found,
        "operation": operation,
        "what": confirmation.describe(operation),
        "error": error,
    }
    return render(request, TEMPLATE, context, status=status)

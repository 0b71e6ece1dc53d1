"""The caller's own account: the API token that automation uses (``Authorization: Token <key>``).

A key is shown once, on the page right after it was made (carried through the session across the redirect,
so a reload does not make another one); afterwards only its first characters and its age are shown. Making
a new key replaces the old one at once; revoking leaves none.
"""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View
from rest_framework.authtoken.models import Token

_NEW_KEY = "fleet-new-api-token"  # session key of a key made by the previous request, shown once
SHOWN_PREFIX = 6  # characters of a stored key the page shows, so its owner can tell keys apart


class ApiToken(LoginRequiredMixin, View):
    """GET shows the caller's token; POST ``action=create`` makes a new one, ``action=revoke`` drops it."""

    template_name = "fleet/account/token.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, new_key=request.session.pop(_NEW_KEY, None))

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        if action not in ("create", "revoke"):
            return self._page(request, error="Unknown action: use Create or Revoke.", status=400)
        with transaction.atomic():
            Token.objects.filter(user=request.user).delete()
            if action == "create":
                request.session[_NEW_KEY] = Token.objects.create(user=request.user).key
        return redirect("api-token")

    def _page(
        self, request: HttpRequest, new_key: str | None = None, error: str = "", status: int = 200
    ) -> HttpResponse:
        token = Token.objects.filter(user=request.user).first()
        context = {
            "title": "API token",
            "token": token,
            "new_key": new_key if token is not None and token.key == new_key else None,
            "prefix": token.key[:SHOWN_PREFIX] if token is not None else "",
            "error": error,
        }
        return render(request, self.template_name, context, status=status)

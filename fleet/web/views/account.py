"""The caller's own API tokens: list them, make one (name, scope, lifetime), revoke one.

A new token's key is shown once, on the page right after it was made (carried through the session across
the redirect, so that a reload makes no second token); afterwards only the start of its key is shown. Only
a hash of the key is stored (``fleet.tokens``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from fleet.tokens import lifetime
from fleet.tokens.issue import NAME_MAX_LENGTH, issue, revoke
from fleet.tokens.models import ApiToken, Scope

_NEW_KEY = "fleet-new-api-token"  # session key of the key made by the previous request, shown once


class TokenForm(forms.Form):
    """What a new token is for, what it may do, and how long it lives (within the operator's limits)."""

    name = forms.CharField(max_length=NAME_MAX_LENGTH, strip=True)
    scope = forms.ChoiceField(choices=Scope.choices, initial=Scope.READ, widget=forms.RadioSelect)
    expires = forms.ChoiceField(choices=lifetime.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["expires"].initial = lifetime.default_choice()


class ApiTokens(LoginRequiredMixin, View):
    """GET lists the caller's tokens; POST ``action=create`` makes one, ``action=revoke&token=ID`` revokes
    one of the caller's own (anyone else's is not found)."""

    template_name = "fleet/account/tokens.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, TokenForm(), new_key=request.session.pop(_NEW_KEY, None))

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        if action == "create":
            return self._create(request)
        if action == "revoke":
            return self._revoke(request)
        return self._page(request, TokenForm(), error="Unknown action: use Create or Revoke.", status=400)

    def _create(self, request: HttpRequest) -> HttpResponse:
        form = TokenForm(request.POST)
        if form.is_valid():
            try:
                _token, key = issue(
                    request.user,  # type: ignore[arg-type]
                    name=form.cleaned_data["name"],
                    scope=form.cleaned_data["scope"],
                    lifetime_text=form.cleaned_data["expires"],
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    form.add_error(field, messages)
            else:
                request.session[_NEW_KEY] = key
                return redirect("api-tokens")
        return self._page(request, form, status=400)

    def _revoke(self, request: HttpRequest) -> HttpResponse:
        token = self._tokens(request).filter(token_id=request.POST.get("token", "")).first()
        if token is None:
            return self._page(request, TokenForm(), error="No such token of yours.", status=404)
        revoke(token)
        return redirect("api-tokens")

    def _tokens(self, request: HttpRequest) -> Any:
        return ApiToken.objects.filter(user=request.user, revoked_at__isnull=True)

    def _page(
        self,
        request: HttpRequest,
        form: TokenForm,
        new_key: str | None = None,
        error: str = "",
        status: int = 200,
    ) -> HttpResponse:
        tokens = list(self._tokens(request))
        new_key = new_key if new_key and any(new_key.startswith(t.shown_id) for t in tokens) else None
        context = {
            "title": "API tokens",
            "tokens": tokens,
            "now": timezone.now(),
            "form": form,
            "new_key": new_key,
            "max_days": lifetime.max_days(),
            "error": error,
        }
        return render(request, self.template_name, context, status=status)

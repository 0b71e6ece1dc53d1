"""The caller's SSH keys: list them with their fingerprints, add one, delete one (``fleet.requests``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from fleet.requests.keyring import add_key, delete_key
from fleet.requests.models import SshKey


class KeyForm(forms.Form):
    """A public key line and, optionally, a name for it (its comment otherwise)."""

    name = forms.CharField(max_length=100, required=False, strip=True)
    public_key = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), strip=True)


class SshKeys(LoginRequiredMixin, View):
    """GET lists the caller's keys; POST ``action=add`` adds one, ``action=delete&key=ID`` deletes one of the
    caller's own (anyone else's is not found)."""

    template_name = "fleet/account/sshkeys.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, KeyForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        action = request.POST.get("action")
        if action == "add":
            form = KeyForm(request.POST)
            if form.is_valid():
                try:
                    add_key(request.user, form.cleaned_data["public_key"], form.cleaned_data["name"])
                except ValidationError as exc:
                    for field, messages in exc.message_dict.items():
                        form.add_error(field, messages)
                else:
                    return redirect("ssh-keys")
            return self._page(request, form, status=400)
        if action == "delete":
            if delete_key(request.user, request.POST.get("key", "")):
                return redirect("ssh-keys")
            return self._page(request, KeyForm(), error="No such key of yours.", status=404)
        return self._page(request, KeyForm(), error="Unknown action: use Add or Delete.", status=400)

    def _page(self, request: HttpRequest, form: KeyForm, error: str = "", status: int = 200) -> HttpResponse:
        context: dict[str, Any] = {
            "title": "SSH keys",
            "keys": list(SshKey.objects.filter(user=request.user)),
            "form": form,
            "error": error,
        }
        return render(request, self.template_name, context, status=status)

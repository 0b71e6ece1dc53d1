"""VM applications: a user applies, sees their applications and their states, withdraws one, or edits and
resubmits a failed one; a reviewer (the permission "review applications") sees the pending ones and
approves one with a placement or refuses it with a reason. The rules live in ``fleet.requests``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from fleet.requests import applications, automatic
from fleet.requests.forms import ApplicationForm
from fleet.requests.models import Application, ApplicationStatus
from fleet.requests.review import PlacementForm, RefusalForm, group_options, network_options, template_options


def _visible(request: HttpRequest, pk: int) -> Application:
    """The application ``pk`` if the caller applied for it or reviews; 404 otherwise."""
    application = Application.objects.select_related("applicant", "cluster").filter(pk=pk).first()
    if application is None or not (
        application.applicant_id == request.user.pk or applications.may_review(request.user)
    ):
        raise Http404("No such application.")
    return application


class ApplicationList(LoginRequiredMixin, View):
    """The caller's applications; for reviewers also every open one of others."""

    def get(self, request: HttpRequest) -> HttpResponse:
        mine = Application.objects.filter(applicant=request.user)
        context: dict[str, Any] = {"title": "Applications", "mine": list(mine)}
        if applications.may_review(request.user):
            pending = Application.objects.filter(status=ApplicationStatus.PENDING).select_related("applicant")
            context["pending"] = list(pending.order_by("created_at", "pk"))
        return render(request, "fleet/applications/list.html", context)


class ApplicationCreate(LoginRequiredMixin, View):
    """The form; a valid one is stored as pending and the reviewers are mailed."""

    template_name = "fleet/applications/form.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, ApplicationForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ApplicationForm(request.POST)
        if not form.is_valid():
            return self._page(request, form, status=400)
        application = applications.submit(form.apply_to(Application(applicant=request.user)))
        return redirect("application-detail", application.pk)

    def _page(self, request: HttpRequest, form: ApplicationForm, status: int = 200) -> HttpResponse:
        context = {"title": "Apply for a VM", "form": form}
        return render(request, self.template_name, context, status=status)


class ApplicationEdit(ApplicationCreate):
    """A failed application, edited by its applicant and resubmitted for review."""

    def _editable(self, request: HttpRequest, pk: int) -> Application:
        application = _visible(request, pk)
        if application.applicant_id != request.user.pk or application.status != ApplicationStatus.FAILED:
            raise Http404("No such failed application of yours.")
        return application

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        application = self._editable(request, pk)
        return self._page(request, ApplicationForm(initial=ApplicationForm.initial_from(application)))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:  # type: ignore[override]
        application = self._editable(request, pk)
        form = ApplicationForm(request.POST, application=application)
        if not form.is_valid():
            return self._page(request, form, status=400)
        applications.submit(form.apply_to(application))
        return redirect("application-detail", application.pk)


class ApplicationDetail(LoginRequiredMixin, View):
    """One application: what was asked, its state, the reviewer's word, Ganeti's error; POST withdraws."""

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._page(request, _visible(request, pk))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = _visible(request, pk)
        if application.applicant_id != request.user.pk or request.POST.get("action") != "withdraw":
            return self._page(request, application, error="Only the applicant may withdraw it.", status=403)
        try:
            applications.withdraw(application)
        except applications.NotNow as exc:
            return self._page(request, application, error=str(exc), status=409)
        return redirect("application-detail", application.pk)

    def _page(
        self, request: HttpRequest, application: Application, error: str = "", status: int = 200
    ) -> HttpResponse:
        context = {
            "title": f"Application for {application.hostname}",
            "application": application,
            "reviews": applications.may_review(request.user),
            "error": error,
        }
        return render(request, "fleet/applications/detail.html", context, status=status)


class ApplicationReview(LoginRequiredMixin, View):
    """The reviewer's page: approve with a placement, or refuse with a reason (mailed to the applicant)."""

    def _application(self, request: HttpRequest, pk: int) -> Application:
        if not applications.may_review(request.user):
            raise Http404("No such application.")
        return _visible(request, pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._application(request, pk)
        return self._page(request, application, PlacementForm(application=application), RefusalForm())

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        application = self._application(request, pk)
        placement, refusal = PlacementForm(application=application), RefusalForm()
        try:
            if request.POST.get("action") == "approve":
                placement = PlacementForm(request.POST, application=application)
                if placement.is_valid():
                    data = placement.cleaned_data
                    applications.approve(
                        application,
                        request.user,
                        cluster=data["group"].cluster,
                        node_group=data["group"].name,
                        disk_template=data["disk_template"],
                        network=data["network"].name,
                        comment=data["comment"],
                    )
                    return redirect("application-detail", application.pk)
            elif request.POST.get("action") == "auto":
                if automatic.approve_automatically(
                    application, request.user, request.POST.get("comment", "")
                ):
                    return redirect("application-detail", application.pk)
                return self._page(request, application, placement, refusal, "No node group can take it.", 409)
            elif request.POST.get("action") == "refuse":
                refusal = RefusalForm(request.POST)
                if refusal.is_valid():
                    applications.refuse(application, request.user, refusal.cleaned_data["reason"])
                    return redirect("application-detail", application.pk)
            else:
                return self._page(request, application, placement, refusal, "Unknown action.", 400)
        except applications.NotNow as exc:
            return self._page(request, application, placement, refusal, str(exc), 409)
        return self._page(request, application, placement, refusal, status=400)

    def _page(
        self,
        request: HttpRequest,
        application: Application,
        placement: PlacementForm,
        refusal: RefusalForm,
        error: str = "",
        status: int = 200,
    ) -> HttpResponse:
        context = {
            "title": f"Review {application.hostname}",
            "application": application,
            "placement": placement,
            "refusal": refusal,
            "groups": group_options(),
            "networks": network_options(),
            "templates": template_options(),
            "automatic": automatic.decide(application),
            "error": error,
        }
        return render(request, "fleet/applications/review.html", context, status=status)

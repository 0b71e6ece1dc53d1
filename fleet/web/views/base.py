"""The two shapes every page has: a filtered, sorted, paged list, and one object's detail.

Both narrow their queryset through ``fleet.access.policy`` and nothing else: a list shows only what the
caller may see, a detail of anything else is a 404. A list is driven by its filterset; invalid parameters
give the page back with the errors beside the fields and status 400. A long list counts its rows only as
far as the page needs (``paging.web_page``). A request from htmx (``HX-Request``) gets only the results part
of the page.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from fleet.access import policy
from fleet.inventory import paging


class ListPage(LoginRequiredMixin, View):
    """A list page: ``queryset`` restricted to the caller, filtered by ``filterset_class``, then paged."""

    queryset: ClassVar[QuerySet[Any]]
    filterset_class: ClassVar[type[django_filters.FilterSet]]
    template_name: ClassVar[str]
    results_template_name: ClassVar[str]
    title: ClassVar[str] = ""

    def get_queryset(self) -> QuerySet[Any]:
        return policy.restrict(self.queryset.all(), self.request.user, policy.Action.VIEW)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        filterset = self.filterset_class(request.GET or None, queryset=self.get_queryset(), request=request)
        errors: dict[str, list[str]] = {}
        try:
            size = paging.page_size(request.GET.get(paging.PAGE_SIZE_PARAM))
        except ValidationError as exc:
            errors.update(exc.message_dict)
            size = paging.DEFAULT_PAGE_SIZE
        try:
            number = paging.page_number(request.GET.get(paging.PAGE_PARAM))
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if filterset.is_bound and not filterset.is_valid():
            errors.update({field: list(messages) for field, messages in filterset.errors.items()})
        page: Page[Any] | None = None
        rows: list[Any] = []
        if not errors:
            queryset = filterset.qs if filterset.is_bound else self.get_queryset()
            page = paging.web_page(queryset, size, number)
            rows = self.decorate(list(page.object_list))
        context = {
            "title": self.title,
            "filterset": filterset,
            "form": filterset.form,
            "errors": errors,
            "page": page,
            "page_range": _page_range(page),
            "page_query": _query_without_page(request),
            "rows": rows,
            "page_size": size,
            "page_sizes": paging.PAGE_SIZES,
            **self.extra_context(filterset, page),
        }
        template = self.results_template_name if request.headers.get("HX-Request") else self.template_name
        return render(request, template, context, status=400 if errors else 200)

    def decorate(self, rows: list[Any]) -> list[Any]:
        """Add what the rows of one page need for display (no queries per row)."""
        return rows

    def extra_context(self, filterset: django_filters.FilterSet, page: Page[Any] | None) -> dict[str, Any]:
        return {}


class DetailPage(LoginRequiredMixin, View):
    """One object the caller may see, found by the URL's keywords; a 404 for anything else."""

    queryset: ClassVar[QuerySet[Any]]
    template_name: ClassVar[str]
    context_object_name: ClassVar[str] = "object"

    def lookup(self, **kwargs: Any) -> dict[str, Any]:
        return kwargs

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.respond(request, self.get_object(**kwargs))

    def get_object(self, **kwargs: Any) -> Any:
        return policy.get_object(
            self.queryset.all(), self.request.user, policy.Action.VIEW, **self.lookup(**kwargs)
        )

    def respond(self, request: HttpRequest, obj: Any, status: int = 200, **extra: Any) -> HttpResponse:
        context = {self.context_object_name: obj, "object": obj, **self.extra_context(obj), **extra}
        return render(request, self.template_name, context, status=status)

    def extra_context(self, obj: Model) -> dict[str, Any]:
        return {}


def _page_range(page: Page[Any] | None) -> list[int | None]:
    """The page numbers to link around ``page``, ``None`` for a gap (Django's ellipsis is a lazy translation,
    costly to compare in a template loop)."""
    if page is None:
        return []
    gap = page.paginator.ELLIPSIS
    return [None if n == gap else int(n) for n in page.paginator.get_elided_page_range(page.number)]


def _query_without_page(request: HttpRequest) -> str:
    """The request's query string without ``page``, ready for ``page=N`` to be appended (pagination links)."""
    query = request.GET.copy()
    query.pop(paging.PAGE_PARAM, None)
    encoded = query.urlencode()
    return f"{encoded}&" if encoded else ""

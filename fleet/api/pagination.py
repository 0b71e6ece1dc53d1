"""The API's pages: the sizes of ``fleet.inventory.paging``; a bad parameter is a 400 naming it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from fleet.inventory import paging


class Pagination(PageNumberPagination):
    """``page`` (from 1, or ``last``) and ``page_size`` (20, 50 or 100); a page past the end is a 404."""

    page_size = paging.DEFAULT_PAGE_SIZE
    page_query_param = paging.PAGE_PARAM
    page_size_query_param = paging.PAGE_SIZE_PARAM
    max_page_size = max(paging.PAGE_SIZES)
    page_size_query_description = f"Rows per page: one of {', '.join(map(str, paging.PAGE_SIZES))}."
    page_query_description = "A page number from 1, or 'last'."

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        digits = len(str(paging.MAX_PAGE_NUMBER)) - 2  # 1 to 999,999,999; empty is the first page
        page = {"type": "string", "pattern": rf"^([1-9][0-9]{{0,{digits}}}|last)?$"}
        size = {"type": "integer", "enum": list(paging.PAGE_SIZES), "default": paging.DEFAULT_PAGE_SIZE}
        return [
            {"name": self.page_query_param, "required": False, "in": "query",
             "description": self.page_query_description, "schema": page},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": self.page_size_query_description, "schema": size},
        ]  # fmt: skip

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        try:
            size = paging.page_size(request.query_params.get(self.page_size_query_param))
            number = paging.page_number(request.query_params.get(self.page_query_param))
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        paginator = Paginator(queryset, size)
        if number == -1:
            number = paginator.num_pages
        if number > paginator.num_pages:
            raise NotFound(
                f"Page {number} is past the last page, {paginator.num_pages} "
                f"({paginator.count} rows at {size} per page)."
            )
        self.page = paginator.page(number)
        self.request = request
        return list(self.page)

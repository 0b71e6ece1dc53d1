"""How lists are cut into pages, the same for pages, the API and the CLI: sizes, and reading the parameters.

Sizes are a short fixed list, so that every list query has a known, small cost. A page number that is not a
whole number from 1 (or ``last``) is an error naming ``page``, on every face; one past the end is the
caller's choice (the web shows the last page, the API answers 404 saying how many pages there are). The web
lists count their rows only as far as they need (:func:`web_page`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 20
PAGE_PARAM = "page"
PAGE_SIZE_PARAM = "page_size"
MAX_PAGE_NUMBER = 10**9
_DIGITS = re.compile(r"[0-9]{1,40}")


def is_whole_number(text: str) -> bool:
    """Whether ``text`` is a whole number in ASCII digits (``int`` also reads other scripts' digits, ``_``
    and surrounding blanks)."""
    return _DIGITS.fullmatch(text) is not None


def page_size(value: str | None) -> int:
    """The page size asked for by the ``page_size`` parameter; absent or empty means the default."""
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    size = int(value) if is_whole_number(value) else -1
    if size not in PAGE_SIZES:
        allowed = ", ".join(str(size) for size in PAGE_SIZES)
        raise ValidationError({PAGE_SIZE_PARAM: [f"Choose a page size among {allowed}."]})
    return size


def page_number(value: str | None) -> int:
    """The page asked for by the ``page`` parameter, from 1 (``last`` is the last page, as in Django)."""
    if value is None or value == "":
        return 1
    if value == "last":
        return -1
    number = int(value) if is_whole_number(value) else 0
    if not 1 <= number <= MAX_PAGE_NUMBER:
        raise ValidationError({PAGE_PARAM: ["Give a page number, a whole number from 1, or 'last'."]})
    return number


COUNT_BOUND = 1_000
"""The web lists count their rows exactly up to this many; past it a page says "more than 1000 entries".

An exact count reads every row that matches, which for a search matching thousands of the fleet's 40,000
instances costs more than everything else on the page together; counting stops here instead.
"""


class BoundedPaginator(Paginator):
    """A paginator over a queryset whose count reads at most ``bound + 1`` rows (``bound=None``: all of them).

    When more rows match than ``bound``, ``count`` is ``bound + 1`` and :attr:`exact` is false: every page up
    to ``num_pages`` exists and has a next one until proven otherwise, but which page is the last is unknown.
    """

    def __init__(self, object_list: QuerySet[Any], per_page: int, bound: int | None = None) -> None:
        super().__init__(object_list, per_page)
        self.bound = bound

    @cached_property
    def count(self) -> int:
        rows = self.object_list.order_by().values("pk")  # no sort, no joins that only serve the display
        return rows.count() if self.bound is None else rows[: self.bound + 1].count()

    def page(self, number: int | str) -> Page[Any]:
        """Page ``number``; past the first, its rows are read by id after the ids of the page.

        A statement with ``OFFSET`` computes the selected values of every row it skips, and a list's values
        may be subqueries (names, NICs, owners): deep in a long list that cost more than the page. The ids
        of the page cost nothing of the kind, and the rows are then looked up by primary key.
        """
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        if bottom == 0:
            return self._get_page(self.object_list[bottom:top], number, self)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)

    @property
    def exact(self) -> bool:
        """Whether :attr:`count` is the number of rows, not a floor."""
        return self.bound is None or self.count <= self.bound

    def get_elided_page_range(
        self, number: int | str = 1, *, on_each_side: int = 3, on_ends: int = 2
    ) -> Iterator[str | int]:
        """Django's page links around ``number``, ending on an ellipsis when the last page is unknown."""
        if self.exact:
            yield from super().get_elided_page_range(number, on_each_side=on_each_side, on_ends=on_ends)
            return
        current = self.validate_number(number)
        if current > on_each_side + on_ends + 2:  # as Django elides the head
            yield from range(1, on_ends + 1)
            yield self.ELLIPSIS
            yield from range(current - on_each_side, current + 1)
        else:
            yield from range(1, current + 1)
        yield from range(current + 1, min(current + on_each_side, self.num_pages) + 1)
        yield self.ELLIPSIS


def web_page(queryset: QuerySet[Any], size: int, number: int) -> Page[Any]:
    """Page ``number`` of ``queryset`` (as :func:`page_number` reads it: from 1, or -1 for the last page); a
    page past the end is the last one. A page within the first :data:`COUNT_BOUND` rows counts up to the
    bound only; any other needs the exact count to know where the end is.
    """
    last = number < 1
    bound = COUNT_BOUND if not last and number * size <= COUNT_BOUND else None
    paginator = BoundedPaginator(queryset, size, bound)
    return paginator.get_page(paginator.num_pages if last else number)

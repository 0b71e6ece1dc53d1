"""How lists are cut into pages, the same for pages, the API and the CLI: sizes, and reading the parameters.

Sizes are a short fixed list, so that every list query has a known, small cost. A page number that is not a
number is an error naming ``page``; one past the end is the caller's choice (the web shows the last page, the
API answers 404 saying how many pages there are).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 20
PAGE_PARAM = "page"
PAGE_SIZE_PARAM = "page_size"
MAX_PAGE_NUMBER = 10**9


def page_size(value: str | None) -> int:
    """The page size asked for by the ``page_size`` parameter; absent or empty means the default."""
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(value)
    except ValueError:
        size = -1
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
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PAGE_NUMBER:
        raise ValidationError({PAGE_PARAM: ["Give a page number, a whole number from 1, or 'last'."]})
    return number

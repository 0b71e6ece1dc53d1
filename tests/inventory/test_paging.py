"""Pages of the web lists: counted exactly up to a bound, every page reachable, the end found when asked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet

from fleet.inventory import paging
from fleet.inventory.models import Instance
from tests.inventory import factories

pytestmark = pytest.mark.django_db

BEYOND = paging.COUNT_BOUND + 30  # 1,030 rows: 21 pages of 50, the last of 30


def _instances(n: int) -> QuerySet[Instance]:
    cluster = factories.cluster()
    Instance.objects.bulk_create(Instance(cluster=cluster, name=f"vm{i:05d}.example.org") for i in range(n))
    return Instance.objects.order_by("name", "pk")


def _names(page: object) -> list[str]:
    return [row.name for row in page.object_list]  # type: ignore[attr-defined]


def test_a_short_list_is_counted_exactly() -> None:
    rows = _instances(30)
    page = paging.web_page(rows, 20, 1)
    assert page.paginator.exact and page.paginator.count == 30 and page.paginator.num_pages == 2
    assert list(page.paginator.get_elided_page_range(page.number)) == [1, 2]


def test_a_long_list_is_counted_up_to_the_bound() -> None:
    rows = _instances(BEYOND)
    page = paging.web_page(rows, 50, 1)
    assert not page.paginator.exact
    assert page.paginator.count == paging.COUNT_BOUND + 1  # "more than 1000"
    assert page.has_next() and len(_names(page)) == 50
    ellipsis = page.paginator.ELLIPSIS
    assert list(page.paginator.get_elided_page_range(1)) == [1, 2, 3, 4, ellipsis]
    around_ten = [1, 2, ellipsis, 7, 8, 9, 10, 11, 12, 13, ellipsis]
    assert list(page.paginator.get_elided_page_range(10)) == around_ten


def test_every_page_of_a_long_list_is_the_same_as_an_exact_paginator_gives() -> None:
    rows = _instances(BEYOND)
    exact = Paginator(rows, 50)
    for number in range(1, exact.num_pages + 1):
        page = paging.web_page(rows, 50, number)
        assert _names(page) == _names(exact.page(number)), number
        # within the bound the count stops there; past it the page needs the end, so it counts it all
        assert page.paginator.exact == (number * 50 > paging.COUNT_BOUND)
    assert paging.web_page(rows, 50, 21).paginator.count == BEYOND


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (None, 1),
        ("", 1),
        ("2", 2),
        ("last", 21),
        ("21", 21),
        ("999999", 21),
        (str(paging.MAX_PAGE_NUMBER), 21),
    ],
)
def test_a_page_past_the_end_is_the_last_one(value: str | None, number: int) -> None:
    rows = _instances(BEYOND)
    page = paging.web_page(rows, 50, paging.page_number(value))
    assert page.number == number
    if number == 21:
        assert page.paginator.exact and _names(page)[-1] == f"vm{BEYOND - 1:05d}.example.org"
        assert len(_names(page)) == 30


@pytest.mark.parametrize(
    "value", ["abc", "1e3", "2.0", "0", "-4", "9" * 30, " 2", "\uff12", "\u0662", "1_0", "+2", "0x2", "\x00"]
)
def test_a_page_that_is_not_a_whole_number_from_one_is_an_error(value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        paging.page_number(value)
    assert list(raised.value.message_dict) == [paging.PAGE_PARAM]


@pytest.mark.parametrize("value", ["\uff12\uff10", "\u0662\u0660", "20 ", "2_0", "+20", "020x"])
def test_a_page_size_in_other_digits_is_an_error(value: str) -> None:
    with pytest.raises(ValidationError) as raised:
        paging.page_size(value)
    assert list(raised.value.message_dict) == [paging.PAGE_SIZE_PARAM]


def test_an_empty_list_has_one_empty_page() -> None:
    page = paging.web_page(Instance.objects.order_by("name"), 20, 3)
    assert page.number == 1 and page.paginator.count == 0 and _names(page) == []

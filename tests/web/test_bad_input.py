"""Every parameter of every list page, given every nasty value: results or a 400 naming it, never a 500."""

from __future__ import annotations

import pytest

from tests.inventory.scenario import Scenario
from tests.web.nasty import LISTS, NASTY, params

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", list(LISTS))
def test_no_value_of_any_parameter_breaks_a_list_page(login, scenario: Scenario, path: str) -> None:
    client = login("root")
    for param in params(LISTS[path]):
        for value in NASTY:
            response = client.get(path, {param: value})
            assert response.status_code in (200, 400), (param, value, response.status_code)
            body = response.content.decode()
            if response.status_code == 400:
                assert f"<code>{param}</code>" in body, (param, value)
            assert "<script>alert(1)</script>" not in body, (param, value)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("vcpus_min=99999999999999999999999", "vcpus_min"),
        ("memory_max=-1", "memory_max"),
        ("memory_min=1.5", "memory_min"),
        ("status=bogus", "status"),
        ("sort=password", "sort"),
        ("q=%00", "q"),
        ("cluster=a%00b", "cluster"),
        ("page_size=1000", "page_size"),
        (f"q={'x' * 201}", "q"),
    ],
)
def test_invalid_values_name_the_parameter(login, scenario: Scenario, query: str, field: str) -> None:
    response = login("root").get(f"/?{query}")
    assert response.status_code == 400
    assert f"<code>{field}</code>" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/instances/alpha.example.org/%00/",
        "/instances/%F0%9F%98%80/x/",
        "/clusters/'%20OR%201=1/",
        "/jobs/alpha.example.org/99999999999999999999999/",
        "/jobs/alpha.example.org/-1/",
        "/jobs/%25/1/",
    ],
)
def test_nasty_detail_paths_are_404(login, scenario: Scenario, path: str) -> None:
    assert login("root").get(path).status_code == 404

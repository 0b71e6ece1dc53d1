"""Every parameter of every list page, given nasty values: results or a 400 naming it, as tests/web/nasty.py's
table says for its kind; never a 500."""

from __future__ import annotations

import pytest

from tests.inventory.scenario import Scenario
from tests.web.nasty import LISTS, NASTY, PAST, SAMPLE, expected, kind, one_param_per_kind, params

pytestmark = pytest.mark.django_db


def answers(client, path: str, query: dict[str, str] | str) -> tuple[int, str]:
    """The status and the results part of the page (as htmx asks for it: the same form, less to draw)."""
    partial = {"HTTP_HX_REQUEST": "true"}
    if isinstance(query, str):
        response = client.get(f"{path}?{query}", **partial)
    else:
        response = client.get(path, query, **partial)
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body, (path, query)
    return response.status_code, body


@pytest.mark.parametrize("path", list(LISTS))
def test_each_kind_of_parameter_answers_each_value_as_the_table_says(
    login, scenario: Scenario, path: str
) -> None:
    client, filterset = login("root"), LISTS[path]
    for param in params(filterset):
        for value in NASTY if param in one_param_per_kind(filterset) else SAMPLE:
            status, body = answers(client, path, {param: value})
            want = expected(filterset, param, value)
            assert status == (200 if want == PAST else want), (param, value, status)
            if status == 400:
                assert f"<code>{param}</code>" in body, (param, value)


@pytest.mark.parametrize("path", list(LISTS))
def test_undecodable_bytes_and_repeated_parameters(login, scenario: Scenario, path: str) -> None:
    client, filterset = login("root"), LISTS[path]
    for param in one_param_per_kind(filterset):
        # A lone surrogate, as UTF-8 bytes: Django reads them as replacement characters.
        status, _ = answers(client, path, f"{param}=%ED%A0%80")
        assert status == expected(filterset, param, "\ufffd\ufffd"), param
        # A single value given twice is the last one; names take every one, and each must be good.
        status, _ = answers(client, path, f"{param}=%00&{param}=1")
        want = 400 if kind(filterset, param) == "names" else expected(filterset, param, "1")
        assert status == want, param


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

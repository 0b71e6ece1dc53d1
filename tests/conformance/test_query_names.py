"""A query2 filter of names alone (an equality on ``name``, or an ``or`` of them) makes luxid look each name
up: one that does not exist fails the whole query with a 500, where any other filter just matches nothing.
Fleet's resync after a destroy or a rename asks for names that may be gone, so it wraps them in an ``and``
(``fleet.sync.fetch.named``)."""

from __future__ import annotations

import ssl

import httpx
import pytest

from fleet.sync.fetch import named
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance


def query(target: RapiTarget, qfilter: object) -> httpx.Response:
    verify = ssl.create_default_context(cafile=target.cert_file)
    verify.check_hostname = False
    return httpx.put(
        f"{target.url}/2/query/instance",
        json={"fields": ["name"], "qfilter": qfilter},
        verify=verify,
        auth=(target.username, target.password),
        timeout=30,
    )


def test_a_missing_name_fails_a_query_of_names_alone(target: RapiTarget) -> None:
    existing = query(target, None).json()["data"][0][0][1]
    missing = "gone-for-good.example.test"
    for asked in (["=", "name", missing], ["|", ["==", "name", existing], ["=", "name", missing]]):
        answer = query(target, asked)
        assert answer.status_code == 500, asked
        assert f"Instance name {missing} not found" in answer.json()["message"].replace("&#x27;", "'")
    assert query(target, ["=~", "name", "^gone-for-good"]).json()["data"] == []
    found = query(target, named([existing, missing]))
    assert found.status_code == 200 and found.json()["data"] == [[[0, existing]]]

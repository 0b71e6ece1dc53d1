"""The REST API: token authentication, scoping, the shared filters and paging, bad input, the schema."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

from fleet.inventory.models import Instance, Node
from fleet.inventory.owners import sync_owners
from tests.inventory import factories
from tests.inventory.scenario import Scenario
from tests.tokens import new_key
from tests.web.nasty import API_LISTS, NASTY, PAST, SAMPLE, expected, one_param_per_kind, params
from tests.web.test_instances import FILTERS

pytestmark = pytest.mark.django_db


def token_client(user, scope: str = "read") -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {new_key(user, scope)}")


def names(client: Client, path: str, query: str = "") -> list[str]:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 200, response.content[:500]
    return [row["name"] for row in response.json()["results"]]


def test_anonymous_and_bad_tokens_get_401(client: Client, scenario: Scenario) -> None:
    for path in API_LISTS:
        assert client.get(path).status_code == 401
    bad = Client(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    assert bad.get("/api/instances/").status_code == 401


def test_token_authentication(scenario: Scenario) -> None:
    client = token_client(scenario.alice)
    body = client.get("/api/instances/").json()
    assert body["count"] == 5
    row = next(row for row in body["results"] if row["name"] == "aai-box.grnet.gr")
    assert row["cluster"] == "alpha.example.org"
    assert row["primary_node"] == "alpha-n1.example.org"
    assert row["owners"] == {"users": ["alice"], "groups": []}
    assert row["flags"] == ["needsreboot"]
    assert row["nics"][0] == {
        "index": 0, "name": "", "ip": "83.212.168.153", "mac": "aa:00:00:12:34:56", "mode": "routed",
        "link": "rt500", "network": "public_500",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("who", "counts"),
    [
        ("alice", {"instances": 5, "clusters": 2, "nodes": 0, "groups": 0, "networks": 0, "jobs": 1}),
        ("bob", {"instances": 5, "clusters": 2, "nodes": 0, "groups": 0, "networks": 0, "jobs": 1}),
        ("carol", {"instances": 0, "clusters": 0, "nodes": 0, "groups": 0, "networks": 0, "jobs": 0}),
        ("helpdesk", {"instances": 18, "clusters": 3, "nodes": 4, "groups": 3, "networks": 2, "jobs": 4}),
        ("root", {"instances": 18, "clusters": 3, "nodes": 4, "groups": 3, "networks": 2, "jobs": 4}),
    ],
)
def test_scoping(scenario: Scenario, who: str, counts: dict[str, int]) -> None:
    client = token_client(getattr(scenario, who))
    assert {kind: client.get(f"/api/{kind}/").json()["count"] for kind in counts} == counts


def test_details_one_may_not_see_are_404(scenario: Scenario) -> None:
    box = scenario["aai-box"].pk
    assert token_client(scenario.alice).get(f"/api/instances/{box}/").status_code == 200
    carol = token_client(scenario.carol)
    assert carol.get(f"/api/instances/{box}/").status_code == 404
    assert carol.get(f"/api/clusters/{scenario.alpha.pk}/").status_code == 404
    assert carol.get(f"/api/jobs/{scenario.jobs['alpha-ok'].pk}/").status_code == 404
    helpdesk = token_client(scenario.helpdesk)
    assert helpdesk.get(f"/api/instances/{box}/").status_code == 200
    for path in ["/api/instances/99999999999999999999999/", "/api/instances/abc/", "/api/instances/-1/"]:
        assert helpdesk.get(path).status_code == 404


def test_the_api_is_read_only(scenario: Scenario) -> None:
    client = token_client(scenario.root, "write")  # a read token is refused before the method is looked at
    box = scenario["aai-box"].pk
    assert client.post("/api/instances/", {"name": "x"}).status_code == 405
    assert client.delete(f"/api/instances/{box}/").status_code == 405
    assert (
        client.patch(f"/api/instances/{box}/", {"name": "x"}, content_type="application/json").status_code
        == 405
    )


def test_cluster_credentials_never_leave(scenario: Scenario) -> None:
    row = token_client(scenario.root).get(f"/api/clusters/{scenario.beta.pk}/").json()
    assert not {"rapi_url", "rapi_username", "rapi_password_encrypted", "rapi_fingerprint"} & row.keys()
    assert row["health"] == "unreachable" and "timed out" in row["last_error"]


@pytest.mark.parametrize(("query", "count"), FILTERS)
def test_instance_filters_match_the_page(scenario: Scenario, query: str, count: int) -> None:
    assert token_client(scenario.root).get(f"/api/instances/?{query}").json()["count"] == count


def test_job_node_and_network_filters(scenario: Scenario) -> None:
    client = token_client(scenario.root)
    assert [row["job_id"] for row in client.get("/api/jobs/?status=error").json()["results"]] == [102]
    assert client.get("/api/jobs/?cluster=alpha.example.org").json()["count"] == 2
    assert client.get("/api/jobs/?job_id=7").json()["count"] == 1
    assert names(client, "/api/nodes/", "role=C") == ["alpha-n2.example.org"]
    assert names(client, "/api/networks/", "q=83.212") == ["public_500"]
    assert names(client, "/api/groups/", "cluster=beta.example.org") == ["default"]
    assert names(client, "/api/clusters/", "health=unreachable") == ["beta.example.org"]


def test_paging(scenario: Scenario) -> None:
    for n in range(100):
        factories.instance(scenario.alpha, f"bulk{n:03d}.example.org")
    client = token_client(scenario.root)
    first = client.get("/api/instances/").json()
    assert first["count"] == 118 and len(first["results"]) == 20 and first["next"].endswith("page=2")
    assert len(client.get("/api/instances/?page_size=50&page=3").json()["results"]) == 18
    assert len(client.get("/api/instances/?page_size=100&page=last").json()["results"]) == 18
    past = client.get("/api/instances/?page_size=100&page=3")
    assert past.status_code == 404
    assert past.json()["detail"] == "Page 3 is past the last page, 2 (118 rows at 100 per page)."
    assert client.get("/api/instances/?page_size=30").json() == {
        "page_size": ["Choose a page size among 20, 50, 100."]
    }
    assert "page" in client.get("/api/instances/?page=0").json()


def test_empty_list_has_one_empty_page(scenario: Scenario) -> None:
    client = token_client(scenario.carol)
    assert client.get("/api/instances/?page=1").json()["results"] == []
    assert client.get("/api/instances/?page=2").status_code == 404


@pytest.mark.parametrize("path", list(API_LISTS))
def test_each_kind_of_parameter_answers_each_value_as_the_table_says(scenario: Scenario, path: str) -> None:
    """The same table as the pages' (tests/web/nasty.py): the same rule on both faces, in JSON."""
    client, filterset = token_client(scenario.root), API_LISTS[path]
    for param in params(filterset):
        for value in NASTY if param in one_param_per_kind(filterset) else SAMPLE:
            response = client.get(path, {param: value})
            status, want = response.status_code, expected(filterset, param, value)
            assert response["Content-Type"] == "application/json", (param, value)
            assert status in ((200, 404) if want == PAST else (want,)), (param, value, status)
            if status == 400:
                assert param in response.json(), (param, value, response.json())
            if status == 404:
                assert "past the last page" in response.json()["detail"], (param, value)


def test_an_instance_has_its_secondary_nodes(scenario: Scenario) -> None:
    client = token_client(scenario.root)
    rows = {row["name"]: row for row in client.get("/api/instances/?page_size=100").json()["results"]}
    assert rows["vm-b1.example.org"]["secondary_nodes"] == ["alpha-n2.example.org"]
    assert rows["vm-b0.example.org"]["secondary_nodes"] == []
    one = client.get(f"/api/instances/{scenario['vm-b1'].pk}/").json()
    assert one["primary_node"] == "beta-n1.example.org" and one["secondary_nodes"] == ["alpha-n2.example.org"]


def test_instance_list_query_count(scenario: Scenario, django_assert_num_queries) -> None:
    for n in range(60):
        instance = factories.instance(
            scenario.alpha, f"bulk{n:03d}.example.org", tags=["fleet:user:alice", "fleet:group:ops"]
        )
        instance.secondary_nodes.add(Node.objects.get(name="alpha-n2.example.org"))
    sync_owners(Instance.objects.all())
    client = token_client(scenario.root)
    assert client.get("/api/clusters/").status_code == 200  # writes the token's first use
    # token+user, count, page, nics, owners, secondary nodes (the token's last use is written once a minute)
    for size in (20, 50):
        with django_assert_num_queries(6):
            assert client.get(f"/api/instances/?page_size={size}").status_code == 200


def test_schema_and_docs(client: Client, scenario: Scenario) -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = set(schema["paths"])
    for kind in ["instances", "clusters", "nodes", "groups", "networks", "jobs"]:
        assert f"/api/{kind}/" in paths and f"/api/{kind}/{{id}}/" in paths
    parameters = {p["name"] for p in schema["paths"]["/api/instances/"]["get"]["parameters"]}
    assert {"q", "cluster", "status", "owner", "node", "network", "vcpus_min", "memory_max", "sort", "page",
            "page_size"} <= parameters  # fmt: skip
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200 and response.json()["info"]["title"] == "Fleet API"
    docs = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "//cdn" not in docs and "unpkg" not in docs


@pytest.mark.parametrize(
    "path",
    [
        "/api/jobs/abc/",
        "/api/nodes/abc/",
        "/api/operations/abc/",
        "/api/jobs/99999999999999999999999/",
        "/api/instances/1/nope/",
        "/api/nope/",
    ],
)
def test_a_url_no_route_matches_is_a_json_404_under_the_api(scenario: Scenario, path: str) -> None:
    client = token_client(scenario.root, "write")
    for response in (client.get(path), client.post(path, {})):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}


def test_a_server_error_under_the_api_is_json(rf) -> None:
    from fleet.conf import errors

    response = errors.server_error(rf.get("/api/instances/"))
    assert (response.status_code, response["Content-Type"]) == (500, "application/json")
    assert json.loads(response.content) == {"detail": "Server error."}
    assert errors.server_error(rf.get("/instances/"))["Content-Type"].startswith("text/html")

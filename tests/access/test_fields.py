"""Field visibility is one rule of the policy, on the cluster page, the banner and the API alike."""

from __future__ import annotations

import pytest
from django.test import Client

from fleet.access import policy
from fleet.api.serializers.clusters import ClusterSerializer
from fleet.inventory.models import Cluster
from tests.inventory.scenario import Scenario
from tests.tokens import new_key

pytestmark = pytest.mark.django_db

HIDDEN_FROM_OWNERS = {"master_node", "tags", "last_error", "last_error_at"}
MASTER = "alpha-master.internal.example.org"
TAG = "fleet-internal:rack-b7"


@pytest.fixture
def clusters(scenario: Scenario) -> Scenario:
    Cluster.objects.filter(pk=scenario.alpha.pk).update(master_node=MASTER, tags=[TAG])
    return scenario


def api(user) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {new_key(user)}")


def test_the_rule(clusters: Scenario) -> None:
    owner = policy.visible_fields(clusters.alice, Cluster)
    assert owner is not None and not HIDDEN_FROM_OWNERS & owner
    assert {"name", "health", "last_sync_at", "ipolicy", "drained", "offline"} <= owner
    assert policy.visible_fields(clusters.helpdesk, Cluster) is None
    assert policy.visible_fields(clusters.root, Cluster) is None
    assert policy.visible_fields(None, Cluster) == frozenset()


@pytest.mark.parametrize("who", ["alice", "helpdesk", "root"])
def test_the_api_shows_what_the_rule_allows(clusters: Scenario, who: str) -> None:
    client = api(getattr(clusters, who))
    rows = {row["name"]: row for row in client.get("/api/clusters/").json()["results"]}
    single = client.get(f"/api/clusters/{clusters.alpha.pk}/").json()
    every = set(ClusterSerializer.Meta.fields)
    visible = policy.visible_fields(getattr(clusters, who), Cluster)
    expected = every if visible is None else every & visible
    for row in [*rows.values(), single]:
        assert set(row) == expected
    if who == "alice":
        assert MASTER not in str(rows) and TAG not in str(rows) and "timed out" not in str(rows)
    else:
        assert rows["alpha.example.org"]["master_node"] == MASTER
        assert rows["alpha.example.org"]["tags"] == [TAG]
        assert "timed out" in rows["beta.example.org"]["last_error"]


def test_the_schema_still_lists_every_field(clusters: Scenario) -> None:
    schema = api(clusters.alice).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    properties = set(schema["components"]["schemas"]["Cluster"]["properties"])
    assert properties >= HIDDEN_FROM_OWNERS


@pytest.mark.parametrize("who", ["alice", "helpdesk"])
def test_the_cluster_page_and_banner_show_what_the_rule_allows(clusters: Scenario, login, who: str) -> None:
    client = login(who)
    alpha = client.get("/clusters/alpha.example.org/").content.decode()
    beta = client.get("/clusters/beta.example.org/").content.decode()
    banner = client.get("/").content.decode()
    staff = who == "helpdesk"
    assert (MASTER in alpha) is staff
    assert (TAG in alpha) is staff
    assert ("Master node" in alpha) is staff
    assert ("timed out" in beta) is staff
    assert ("timed out" in banner) is staff
    assert "alpha.example.org" in alpha and "beta.example.org" in banner

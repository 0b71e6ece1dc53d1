"""``analyze`` gives the planner statistics on rows just written (PostgreSQL); elsewhere it does nothing."""

from __future__ import annotations

import pytest
from django.db import connection

from fleet.inventory.maintenance import analyze
from fleet.inventory.models import Instance, InstanceStatus, Node
from tests.inventory import factories

pytestmark = pytest.mark.django_db


def _estimated_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return float(cursor.fetchone()[0])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's")
def test_analyze_makes_the_planner_see_the_rows_of_a_bulk_write() -> None:
    cluster = factories.cluster()
    Instance.objects.bulk_create(
        Instance(cluster=cluster, name=f"vm{i:04d}.example.org", status=InstanceStatus.RUNNING)
        for i in range(1_200)
    )
    assert analyze() is True
    assert _estimated_rows(Instance._meta.db_table) == 1_200
    plan = Instance.objects.filter(status=InstanceStatus.RUNNING).explain()
    assert "rows=1200 " in plan, plan  # every row matches, and the planner now knows it


@pytest.mark.skipif(connection.vendor != "postgresql", reason="statistics are PostgreSQL's")
def test_analyze_takes_the_models_it_is_given() -> None:
    Node.objects.bulk_create(Node(cluster=factories.cluster(), name=f"n{i}.example.org") for i in range(30))
    assert analyze([Node]) is True
    assert _estimated_rows(Node._meta.db_table) == 30
    assert analyze([]) is False


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the other databases")
def test_analyze_does_nothing_elsewhere() -> None:
    assert analyze() is False

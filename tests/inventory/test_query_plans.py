"""At the design's scale (40,000 instances), the list queries are answered from indexes on PostgreSQL.

PostgreSQL's planner is what production runs; these tests skip on SQLite. The plan is read with EXPLAIN after
ANALYZE, so that the planner sees the real table sizes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import QuerySet

from fleet.inventory.filtersets import InstanceFilterSet
from fleet.inventory.models import (
    Cluster,
    Instance,
    InstanceOwner,
    InstanceStatus,
    Node,
)

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are checked on PostgreSQL"),
    # pytest-django creates the test database only for the aliases that marked tests ask for: without the
    # mark, this module run alone would build its fleet in (and truncate) the configured database itself.
    pytest.mark.django_db,
]

CLUSTERS, NODES_PER_CLUSTER, INSTANCES = 10, 40, 40_000
USERS, GROUPS = 2_000, 200


@pytest.fixture(scope="module")
def fleet_at_scale(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[dict[str, object]]:
    """Built once for the module (it takes seconds), committed, and truncated at the end."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        yield _build()
        tables = [Cluster._meta.db_table, User._meta.db_table, Group._meta.db_table]
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")


def _build() -> dict[str, object]:
    rng = random.Random(4)
    clusters = Cluster.objects.bulk_create(
        Cluster(
            name=f"c{c}.example.org", rapi_url=f"https://c{c}.example.org:5080", rapi_fingerprint="ab" * 32
        )
        for c in range(CLUSTERS)
    )
    nodes = Node.objects.bulk_create(
        Node(cluster=cluster, name=f"n{n}.{cluster.name}")
        for cluster in clusters
        for n in range(NODES_PER_CLUSTER)
    )
    users = User.objects.bulk_create(User(username=f"user{u}") for u in range(USERS))
    groups = Group.objects.bulk_create(Group(name=f"group{g}") for g in range(GROUPS))
    User.groups.through.objects.bulk_create(
        User.groups.through(user_id=user.pk, group_id=groups[i % GROUPS].pk) for i, user in enumerate(users)
    )
    statuses = list(InstanceStatus)
    instances = Instance.objects.bulk_create(
        (
            Instance(
                cluster=clusters[i % CLUSTERS],
                name=f"vm{i:05d}.example.org",
                primary_node=nodes[(i % CLUSTERS) * NODES_PER_CLUSTER + rng.randrange(NODES_PER_CLUSTER)],
                status=rng.choice(statuses),
                memory=rng.choice([512, 1024, 2048, 4096, 8192]),
                vcpus=rng.randint(1, 8),
                disk_total=rng.randint(5, 200) * 1024,
            )
            for i in range(INSTANCES)
        ),
        batch_size=5_000,
    )
    owners = [
        InstanceOwner(instance=vm, kind="user", name=f"user{i % USERS}") for i, vm in enumerate(instances)
    ]
    owners += (
        InstanceOwner(instance=vm, kind="group", name=f"group{(i // 10) % GROUPS}")
        for i, vm in enumerate(instances)
        if i % 10 == 0
    )
    # and the tags of accounts that do not exist (yet), as many as of those that do
    owners += (
        InstanceOwner(instance=vm, kind="user", name=f"later{i % USERS}") for i, vm in enumerate(instances)
    )
    InstanceOwner.objects.bulk_create(owners, batch_size=5_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"user": users[7], "cluster": clusters[3]}


def _plan(queryset: QuerySet[Instance]) -> str:
    return queryset.explain()


def test_instances_visible_to_a_user_come_from_indexes(fleet_at_scale: dict[str, object]) -> None:
    user = fleet_at_scale["user"]
    visible = Instance.objects.owned_by(user)
    # 20 direct (40,000 / 2,000 users) and 20 through the user's group (4,000 group rows / 200 groups).
    assert visible.count() == 40

    plan = _plan(visible.order_by("name")[:50])
    # The user's groups may come from a scan of the (small) group table; the fleet's tables are not scanned.
    assert "Seq Scan on inventory_" not in plan, plan
    assert "auth_user_groups_user_id" in plan, plan
    assert plan.count("instanceowner_unique") == 2, plan  # by username, by group name
    assert "inventory_instance_pkey" in plan, plan


@pytest.mark.parametrize(
    ("order", "index"),
    [
        ("name", "instance_name_idx"),
        ("-memory", "instance_memory_idx"),
        ("vcpus", "instance_vcpus_idx"),
        ("-disk_total", "instance_disk_total_idx"),
    ],
)
def test_the_first_page_of_the_whole_list_is_read_from_the_sort_index(
    fleet_at_scale: dict[str, object], order: str, index: str
) -> None:
    plan = _plan(Instance.objects.order_by(order, "pk")[:50])
    assert index in plan, plan
    assert "Seq Scan on inventory_instance" not in plan, plan


def test_one_cluster_sorted_by_name_is_read_from_an_index(fleet_at_scale: dict[str, object]) -> None:
    plan = _plan(Instance.objects.filter(cluster=fleet_at_scale["cluster"]).order_by("name")[:50])
    assert "Seq Scan on inventory_instance" not in plan, plan


def test_filtering_on_status_uses_the_status_index(fleet_at_scale: dict[str, object]) -> None:
    plan = _plan(Instance.objects.filter(status=InstanceStatus.ERROR_DOWN).order_by("name")[:50])
    assert "Seq Scan on inventory_instance" not in plan, plan


def test_a_name_search_can_use_the_trigram_index(fleet_at_scale: dict[str, object]) -> None:
    # What the instance filterset's ``name`` search runs: UPPER(name) LIKE UPPER('%...%'). The synthetic names
    # share most of their trigrams, so the planner may still prefer a scan here; with scans priced out, the
    # plan shows that the index matches the expression Django writes.
    query = Instance.objects.filter(name__icontains="m1234")
    assert query.count() == 10  # vm12340 .. vm12349
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = _plan(query)
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "instance_name_trgm_idx" in plan, plan


def test_an_owner_search_can_use_the_owner_trigram_index(fleet_at_scale: dict[str, object]) -> None:
    # What ``owner__ic`` and the global search's owner lookup run: UPPER(name) LIKE UPPER('%...%').
    query = InstanceOwner.objects.filter(name__icontains="later123").values("instance_id")
    assert query.count() == 20 * 11  # later123 and later1230..later1239, 20 instances each
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = query.explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert "instanceowner_name_trgm_idx" in plan, plan


def _searched(query: dict[str, str]) -> QuerySet[Instance]:
    filterset = InstanceFilterSet(query, queryset=Instance.objects.order_by("name", "pk"))
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


def test_a_global_search_for_one_name_is_planned_for_the_few_rows_it_matches(
    fleet_at_scale: dict[str, object],
) -> None:
    # The owner lookups find nothing, so the statement compares the name alone, and the planner sees that
    # few rows match: it picks them out (trigram index or scan, depending on the synthetic names' shared
    # trigrams) rather than walk all 40,000 names in list order, as it did when a subquery sat beside them.
    query = _searched({"q": "vm12345"})
    assert [i.name for i in query[:50]] == ["vm12345.example.org"]
    plan = _plan(query[:50])
    assert "SubPlan" not in plan, plan
    assert "instance_name_idx" not in plan, plan


def test_a_global_search_matching_many_names_walks_the_list_order(fleet_at_scale: dict[str, object]) -> None:
    # A quarter of the names match: the first page is found by reading the name index in order.
    query = _searched({"q": "vm1"})
    assert query.count() == 10_000
    plan = _plan(query[:50])
    assert "instance_name_idx" in plan, plan
    assert "Sort" not in plan.replace("Incremental Sort", ""), plan

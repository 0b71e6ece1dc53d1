"""The migration to owners by name rebuilds them from the stored tags, and going back links what matches."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("inventory", "0004_instance_name_index_nic_search_indexes")]
AFTER = [("inventory", "0005_instance_owners_by_name")]


@pytest.fixture
def executor(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    yield executor
    executor = MigrationExecutor(connection)  # the suite goes on with the latest schema
    executor.migrate(executor.loader.graph.leaf_nodes())


def _migrate(executor: MigrationExecutor, target: list[tuple[str, str]]) -> Any:
    executor.loader.build_graph()
    executor.migrate(target)
    return MigrationExecutor(connection).loader.project_state(target).apps


def test_owners_are_rebuilt_from_the_tags_and_linked_back(executor: MigrationExecutor) -> None:
    apps = _migrate(executor, BEFORE)
    user = apps.get_model("auth", "User").objects.create(username="alice")
    group = apps.get_model("auth", "Group").objects.create(name="ops")
    cluster = apps.get_model("inventory", "Cluster").objects.create(
        name="c.example.org", rapi_url="https://c.example.org:5080", rapi_fingerprint="ab" * 32
    )
    Instance = apps.get_model("inventory", "Instance")
    tagged = Instance.objects.create(
        cluster=cluster,
        name="vm1.example.org",
        tags=["fleet:user:alice", "fleet:group:ops", "fleet:user:later", "fleet:user:", "other"],
    )
    Instance.objects.create(cluster=cluster, name="vm2.example.org", tags=[])
    apps.get_model("inventory", "InstanceUserOwner").objects.create(instance=tagged, user=user)
    apps.get_model("inventory", "InstanceGroupOwner").objects.create(instance=tagged, group=group)

    apps = _migrate(executor, AFTER)
    owners = apps.get_model("inventory", "InstanceOwner").objects.values_list(
        "instance__name", "kind", "name"
    )
    assert sorted(owners) == [
        ("vm1.example.org", "group", "ops"),
        ("vm1.example.org", "user", "alice"),
        ("vm1.example.org", "user", "later"),  # no such account (yet): the name is kept all the same
    ]

    apps = _migrate(executor, BEFORE)
    links = apps.get_model("inventory", "InstanceUserOwner").objects.values_list(
        "instance__name", "user__username"
    )
    groups = apps.get_model("inventory", "InstanceGroupOwner").objects.values_list(
        "instance__name", "group__name"
    )
    assert list(links) == [("vm1.example.org", "alice")]
    assert list(groups) == [("vm1.example.org", "ops")]

"""Small builders of read-model rows for the tests."""

from __future__ import annotations

import itertools

from fleet.inventory.models import Cluster, Instance, InstanceStatus, Node

_counter = itertools.count(1)


def cluster(name: str | None = None, **fields: object) -> Cluster:
    defaults: dict[str, object] = {
        "name": name or f"cluster{next(_counter)}.example.org",
        "rapi_url": "https://cluster.example.org:5080",
        "rapi_fingerprint": "ab" * 32,
    }
    return Cluster.objects.create(**(defaults | fields))


def node(on: Cluster, name: str | None = None, **fields: object) -> Node:
    return Node.objects.create(cluster=on, name=name or f"node{next(_counter)}.example.org", **fields)


def instance(
    on: Cluster, name: str | None = None, tags: list[str] | None = None, **fields: object
) -> Instance:
    defaults: dict[str, object] = {"status": InstanceStatus.RUNNING, "memory": 1024, "vcpus": 1}
    return Instance.objects.create(
        cluster=on, name=name or f"vm{next(_counter)}.example.org", tags=tags or [], **(defaults | fields)
    )

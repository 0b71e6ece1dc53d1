"""Locks as Ganeti's logical units take them: instance, node and node-res levels, shared and exclusive."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import Simulated
from tests.simulator.helpers import client, instances, ok, wait_job, wait_status


@pytest.fixture
def cl(fresh_simulator: Callable[..., Simulated]) -> httpx.Client:
    return client(fresh_simulator().targets[0])


def _drbd(cl: httpx.Client) -> dict[str, Any]:
    running = (i for i in instances(cl).values() if i["status"] == "running")
    return next(i for i in running if i["disk_template"] == "drbd")


def _locks(cl: httpx.Client) -> dict[str, dict[str, Any]]:
    reply = ok(cl.put("/2/query/lock", json={"fields": ["name", "mode", "owner", "pending"]}))
    return {row[0][1]: {"mode": row[1][1], "owner": row[2][1], "pending": row[3][1]} for row in reply["data"]}


def test_instance_job_holds_its_nodes_and_shows_in_the_lock_query(cl: httpx.Client) -> None:
    inst = _drbd(cl)
    long_job = ok(cl.post(f"/2/instances/{inst['name']}/replace-disks", json={"mode": "replace_auto"}))
    wait_status(cl, long_job, "running")
    locks = _locks(cl)
    owner = [f"job/{long_job}"]
    assert locks[f"instance/{inst['name']}"] == {"mode": "exclusive", "owner": owner, "pending": []}
    for node in [inst["pnode"], *inst["snodes"]]:
        assert locks[f"node/{node}"]["mode"] == "exclusive" and locks[f"node/{node}"]["owner"] == owner
        assert locks[f"node-res/{node}"]["owner"] == owner
    assert locks["cluster/BGL"]["mode"] == "shared" and f"job/{long_job}" in locks["cluster/BGL"]["owner"]
    # a node modify of the secondary waits for the node lock, then runs
    # (a parameter, not a flag: the secondary may be the master, whose role only master-failover changes)
    drain = ok(cl.post(f"/2/nodes/{inst['snodes'][0]}/modify", json={"ndparams": {"spindle_count": 1}}))
    wait_status(cl, drain, "waiting")
    pending = _locks(cl)[f"node/{inst['snodes'][0]}"]["pending"]
    assert pending == [["exclusive", [f"job/{drain}"]]]
    assert wait_job(cl, long_job)["status"] == "success"
    assert wait_job(cl, drain)["status"] == "success"
    assert ok(cl.get("/2/query/lock", params={"fields": "name"}))["data"] == []


def test_node_evacuate_waits_for_an_instance_job_on_the_node(cl: httpx.Client) -> None:
    inst = _drbd(cl)
    long_job = ok(cl.post(f"/2/instances/{inst['name']}/replace-disks", json={"mode": "replace_auto"}))
    wait_status(cl, long_job, "running")
    evac = ok(cl.post(f"/2/nodes/{inst['snodes'][0]}/evacuate", json={"mode": "secondary-only"}))
    wait_status(cl, evac, "waiting")
    assert _locks(cl)[f"instance/{inst['name']}"]["pending"] == [["shared", [f"job/{evac}"]]]
    assert wait_job(cl, long_job)["status"] == "success"
    assert wait_job(cl, evac)["status"] == "success"

"""The create an approved application leads to, sent to the simulator as the worker will send it: per-disk
volume groups, one NIC from the network's pool, the owner/application/organisation tags, hail inside the
reviewer's node group; the refusals Ganeti gives for a provider on a non-ext template, and a failed job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User

from fleet.access.tags import origin_tags
from fleet.conf.storage import StorageClass, StorageConfig, StorageSite
from fleet.inventory.models import Cluster
from fleet.requests.creation import NotPlaceable, create_spec
from fleet.requests.models import Application
from tests.conftest import Simulated, start_simulated
from tests.simulator.helpers import client, instances, ok, wait_job


def storage(bulk: dict[str, str]) -> StorageConfig:
    return StorageConfig(
        {
            "fast": StorageClass(
                "fast", "SSD", 1, 50, (StorageSite("*", None, "xenvg", None, ("plain", "drbd")),)
            ),
            "bulk": StorageClass(
                "bulk",
                "",
                1,
                500,
                (StorageSite("*", None, bulk.get("vg"), bulk.get("provider"), ("plain",)),),
            ),
        }
    )


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulated]:
    simulated = start_simulated(Path(tmp_path_factory.mktemp("creation")))
    try:
        yield simulated
    finally:
        simulated.stop()


@pytest.fixture
def cl(sim: Simulated) -> Iterator[httpx.Client]:
    with client(sim.targets[0]) as http:
        yield http


def application(cl: httpx.Client, hostname: str, template: str = "plain") -> Application:
    """An approved application placed on the simulator's first cluster, its first group and network."""
    cluster = ok(cl.get("/2/info"))["name"]
    group = ok(cl.get("/2/groups"))[0]["name"]
    network = ok(cl.get("/2/networks"))[0]["name"]
    made = Application(
        applicant=User(username="alice"),
        hostname=hostname,
        memory_mb=512,
        vcpus=1,
        disks=[{"storage_class": "fast", "size_gb": 2}, {"storage_class": "bulk", "size_gb": 20}],
        os="debootstrap+default",
        network=network,
        organisation="GRNET S.A. (NOC)",
        cluster=Cluster(name=cluster),
        node_group=group,
        disk_template=template,
    )
    made.pk = 41
    return made


def send(cl: httpx.Client, spec: dict[str, Any]) -> dict[str, Any]:
    return wait_job(cl, ok(cl.post("/2/instances", json={**spec, "__version__": 1})))


def test_the_create_of_an_application_makes_its_instance(cl: httpx.Client) -> None:
    wanted = application(cl, "web1.example.org")
    spec = create_spec(wanted, storage=storage({"vg": "xenvg"}), prefix="fleet")
    assert spec["disks"] == [
        {"size": 2048, "name": "os", "vg": "xenvg"},
        {"size": 20480, "name": "data1", "vg": "xenvg"},
    ]
    assert spec["tags"] == ["fleet:user:alice", "fleet:application:41", "fleet:organisation:GRNET_S.A._NOC"]
    job = send(cl, spec)
    assert job["status"] == "success", job["opresult"]
    made = instances(cl)["web1.example.org"]
    assert set(spec["tags"]) <= set(made["tags"])
    assert made["disk.sizes"] == [2048, 20480] and made["beparams"]["maxmem"] == 512
    assert made["nic.networks.names"] == [wanted.network] and made["nic.ips"][0]


def test_a_provider_needs_the_ext_template_as_ganeti_says(cl: httpx.Client) -> None:
    spec = create_spec(
        application(cl, "web2.example.org"), storage=storage({"provider": "nfs"}), prefix="fleet"
    )
    assert spec["disks"][1] == {"size": 20480, "name": "data1", "provider": "nfs"}
    job = send(cl, spec)
    assert job["status"] == "error"
    assert (
        job["opresult"][0][1][0] == "The 'provider' option is only valid for the ext disk template, not plain"
    )
    assert "web2.example.org" not in instances(cl)


def test_a_failed_create_job_says_why(sim: Simulated, cl: httpx.Client) -> None:
    cluster = ok(cl.get("/2/info"))["name"]
    ok(httpx.put(f"{sim.control_url}/clusters/{cluster}/faults", json={"fail_jobs": 1}))
    try:
        job = send(
            cl,
            create_spec(
                application(cl, "web3.example.org"), storage=storage({"vg": "xenvg"}), prefix="fleet"
            ),
        )
    finally:
        ok(httpx.put(f"{sim.control_url}/clusters/{cluster}/faults", json={"fail_jobs": 0}))
    assert job["status"] == "error" and job["opresult"][0][0] == "OpExecError"
    assert "web3.example.org" not in instances(cl)


def test_a_class_missing_where_it_was_placed_is_not_sent() -> None:
    placed = Application(
        applicant=User(username="alice"),
        hostname="x.example.org",
        disks=[{"storage_class": "bulk", "size_gb": 20}],
        cluster=Cluster(name="c1"),
        node_group="default",
        disk_template="plain",
    )
    placed.pk = 1
    lonely = StorageConfig(
        {"bulk": StorageClass("bulk", "", 1, 9, (StorageSite("c2", None, "hdd", None, ("plain",)),))}
    )
    with pytest.raises(NotPlaceable, match="storage class bulk is not on c1/default"):
        create_spec(placed, storage=lonely, prefix="fleet")
    unplaced = Application(applicant=User(username="alice"), hostname="x.example.org")
    with pytest.raises(NotPlaceable, match="no placement"):
        create_spec(unplaced, storage=lonely, prefix="fleet")


def test_an_organisation_of_no_tag_characters_gets_no_tag() -> None:
    assert origin_tags(3, "  ΕΔΕΤ  ", "fleet") == ["fleet:application:3"]
    assert len(origin_tags(3, "x" * 300, "fleet")[1]) == 128

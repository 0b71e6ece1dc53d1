"""The shapes of the create an approved application sends (``fleet.requests.creation``), against the
simulator and, with FLEET_REAL_GANETI=1, the real cluster: disks that each name their pool (``vg``) and their
name, the tags of owner, application and organisation, the same shape in a multi-alloc, and Ganeti's refusal
of an ExtStorage ``provider`` on another template. The real test cluster has the file templates only (no
LVM, no ExtStorage): a per-disk ``vg`` is taken and kept there without being used, which is the shape; the
pools themselves are proven on a cluster with volume groups."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.official import Facts, batch, call, facts, failed, job, ok, succeeded
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance

TAGS = ["fleet:user:alice", "fleet:application:41", "fleet:organisation:GRNET_S.A."]


def spec(name: str, f: Facts, **extra: Any) -> dict[str, Any]:
    """A create as Fleet writes one for an application: two disks each naming its pool, tags, hail."""
    body = {
        "mode": "create",
        "instance_name": name,
        "disk_template": f.disk_template,
        "disks": [{"size": 128, "name": "os", "vg": "xenvg"}, {"size": 256, "name": "data1", "vg": "xenvg"}],
        "nics": [{}],
        "os_type": f.os,
        "beparams": {"maxmem": 64, "minmem": 64, "vcpus": 1},
        "tags": TAGS,
        "name_check": False,
        "ip_check": False,
        "start": False,
        "hypervisor": f.hypervisor,  # multi-alloc does not fill it in (test_instances.py)
    }
    body.update(extra)
    return body


def test_per_disk_pools_names_and_tags_are_taken(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            job("CreateInstance", **{"mode": "create", "name": name, **_client_kwargs(spec(name, f))}),
            call("GetInstance", name),
            job("DeleteInstance", name),
        ],
    )
    succeeded(r[0])
    made = ok(r[1])
    assert made["disk.sizes"] == [128, 256] and made["disk.names"] == ["os", "data1"]
    assert set(TAGS) <= set(made["tags"])
    succeeded(r[2])


def test_a_provider_on_another_template_is_refused(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    body = spec(name, f)
    body["disks"] = [{"size": 128, "provider": "nfs"}]
    (r,) = batch(target, [job("CreateInstance", **{"mode": "create", "name": name, **_client_kwargs(body)})])
    assert failed(r) == (
        "OpPrereqError",
        [
            f"The 'provider' option is only valid for the ext disk template, not {f.disk_template}",
            "wrong_input",
        ],
    )


def test_multi_alloc_takes_the_same_shape(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    names = [f"conf-{unique}-{i}.example.test" for i in range(2)]
    r = batch(
        target,
        [
            {**job("InstancesMultiAlloc", [spec(n, f) for n in names]), "children": True},
            call("GetInstance", names[0]),
            call("GetInstance", names[1]),
            job("DeleteInstance", names[0]),
            job("DeleteInstance", names[1]),
        ],
    )
    result = succeeded(r[0])["opresult"][0]
    assert sorted(result["allocatable"]) == sorted(names) and result["failed"] == []
    assert all(c["status"] == "success" for c in r[0]["children"])
    for report in r[1:3]:
        made = ok(report)
        assert made["disk.names"] == ["os", "data1"] and set(TAGS) <= set(made["tags"])
    succeeded(r[3])
    succeeded(r[4])


def _client_kwargs(body: dict[str, Any]) -> dict[str, Any]:
    """The official client's CreateInstance(mode, name, disk_template, disks, nics, **kwargs) arguments."""
    kwargs = {k: v for k, v in body.items() if k not in ("mode", "instance_name", "os_type")}
    return {**kwargs, "os": body["os_type"]}

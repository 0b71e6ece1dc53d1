"""What an instance's jobs say as they work: the log lines of create and grow-disk, disk and NIC changes
through modify with their results, refusals on a running instance (texts and codes), and the instance info
job's fields."""

from __future__ import annotations

import re

import pytest

from tests.conformance.official import batch, call, create, facts, failed, job, log_lines, ok, succeeded
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance

MAC = r"[0-9a-f]{2}(:[0-9a-f]{2}){5}"
INFO_KEYS = {
    "name", "config_state", "run_state", "pnode", "pnode_group_uuid", "pnode_group_name", "snodes",
    "snodes_group_uuids", "snodes_group_names", "os", "nics", "disk_template", "disks", "hypervisor",
    "network_port", "hv_instance", "hv_actual", "be_instance", "be_actual", "os_instance", "os_actual",
    "serial_no", "mtime", "ctime", "uuid",
}  # fmt: skip
DISK_KEYS = {
    "iv_name", "dev_type", "logical_id", "drbd_info", "pstatus", "sstatus", "children", "mode", "size",
    "spindles", "name", "uuid",
}  # fmt: skip


def synced(name: str) -> list[str]:
    return [
        f" - INFO: Waiting for instance {name} to sync disks",
        f" - INFO: Instance {name}'s disks are in sync",
    ]


def test_create_and_grow_disk_log_what_they_do(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, template="file", pnode=f.nodes[-1]),
            job("GrowInstanceDisk", name, 0, 64),
            job("GrowInstanceDisk", name, 0, 1024),
            job("DeleteInstance", name),
        ],
    )
    assert succeeded(r[0])["opresult"] == [[f.nodes[-1]]]
    assert log_lines(r[0]) == [
        "* disk 0, size 128M",
        "* creating instance disks...",
        f"adding instance {name} to cluster config",
        "adding disks to cluster config",
        *synced(name),
        *synced(name),
        "* running the instance OS create scripts...",
        "* starting instance...",
    ]
    succeeded(r[1])
    assert log_lines(r[1]) == [f"Growing disk 0 of instance '{name}' by 64M to 192M", *synced(name)]
    succeeded(r[2])
    assert log_lines(r[2])[0] == f"Growing disk 0 of instance '{name}' by 1.0G to 1.2G"
    assert log_lines(r[3]) == []


def test_diskless_create_through_hail_logs_the_choice(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(target, [create(name, f, template="diskless", start=False), job("DeleteInstance", name)])
    (nodes,) = succeeded(r[0])["opresult"]
    assert log_lines(r[0]) == [
        f" - INFO: Selected nodes for instance {name} via iallocator hail: {nodes[0]}",
        "* creating instance disks...",
        f"adding instance {name} to cluster config",
        "adding disks to cluster config",
    ]
    succeeded(r[1])


def test_disks_and_nics_through_modify(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, template="file", pnode=f.nodes[0]),
            job("ModifyInstance", name, disks=[["add", {"size": 32}]]),
            job("ModifyInstance", name, disks=[["remove", {}]]),
            job("ModifyInstance", name, nics=[["add", {}]]),
            job("ModifyInstance", name, nics=[[1, {"ip": "192.0.2.99"}]]),
            job("ModifyInstance", name, nics=[["remove", {}]]),
            job("ModifyInstance", name),
            job("RecreateInstanceDisks", name),
            job("DeactivateInstanceDisks", name),
            job("ShutdownInstance", name),
            job("ModifyInstance", name, disks=[["remove", {}]]),
            call("GetInstance", name),
            job("DeleteInstance", name),
        ],
    )
    succeeded(r[0])
    assert succeeded(r[1])["opresult"] == [[["disk/1", "add:size=32,mode=rw"]]]
    assert log_lines(r[1]) == ["* disk 1, size 32M", *synced(name)]
    running = f"Instance '{name}' is marked to be up, "
    refusals = {
        2: "can't remove volume from a running instance without using hotplug",
        7: "cannot recreate disks",
        8: "cannot shutdown disks",
    }
    for index, text in refusals.items():
        error_class, (message, ecode) = failed(r[index])
        assert (error_class, message, ecode) == ("OpPrereqError", running + text, "wrong_state")
        assert log_lines(r[index]) == []
    ((change,),) = succeeded(r[3])["opresult"]
    assert change[0] == "nic.1"
    assert re.fullmatch(
        f"add:mac={MAC},ip=None,mode=bridged,link={re.escape(f.nic_link)},network=None", change[1]
    )
    assert succeeded(r[4])["opresult"] == [
        [
            ["nic.ip/1", "192.0.2.99"],
            ["nic.link/1", f.nic_link],
            ["nic.mode/1", "bridged"],
            ["nic.vlan/1", ""],
        ]
    ]
    assert succeeded(r[5])["opresult"] == [[["NIC/1", "remove"]]]
    error_class, (message, ecode) = failed(r[6])
    assert (error_class, message, ecode) == ("OpPrereqError", "No changes submitted", "wrong_input")
    succeeded(r[9])
    assert succeeded(r[10])["opresult"] == [[["disk/1", "remove"]]]
    after = ok(r[11])
    assert after["disk.sizes"] == [128] and len(after["nic.macs"]) == 1
    succeeded(r[12])


def test_instance_info_job(target: RapiTarget, unique: str) -> None:
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, template="file", pnode=f.nodes[0]),
            job("GetInstanceInfo", name),
            job("GetInstanceInfo", name, static=True),
            job("ShutdownInstance", name),
            job("GetInstanceInfo", name),
            call("GetInstance", name),
            job("DeleteInstance", name),
        ],
    )
    succeeded(r[0])
    live = succeeded(r[1])["opresult"][0][name]
    static = succeeded(r[2])["opresult"][0][name]
    stopped = succeeded(r[4])["opresult"][0][name]
    bulk = ok(r[5])
    assert set(live) == set(static) == INFO_KEYS
    assert log_lines(r[1]) == [" - WARNING: Non-static data requested, locks need to be acquired"]
    assert log_lines(r[2]) == []
    assert (live["config_state"], live["run_state"]) == ("up", "up")
    assert (static["config_state"], static["run_state"]) == ("up", None)
    assert (stopped["config_state"], stopped["run_state"]) == ("down", "down")
    assert live["pnode"] == f.nodes[0] and live["snodes"] == [] and live["snodes_group_names"] == []
    assert live["pnode_group_name"] in f.groups and live["uuid"] == bulk["uuid"]
    assert "memory" not in live["be_actual"] and live["be_actual"]["maxmem"] == 64
    assert live["be_instance"] == {"maxmem": 64, "minmem": 64, "vcpus": 1}
    (nic,) = live["nics"]
    assert len(nic) == 9 and nic[1] == bulk["nic.uuids"][0] and nic[3] == bulk["nic.macs"][0]
    assert nic[4:7] == ["bridged", f.nic_link, ""] and nic[7:] == [None, None]
    (disk,) = live["disks"]
    assert set(disk) == DISK_KEYS
    assert (disk["iv_name"], disk["dev_type"], disk["size"], disk["mode"]) == ("disk/0", "file", 128, "rw")
    assert disk["logical_id"][0] == "loop" and disk["logical_id"][1].endswith(".file.disk0")
    assert disk["uuid"] == bulk["disk.uuids"][0] and disk["children"] == [] and disk["drbd_info"] is None
    assert disk["pstatus"] == [disk["logical_id"][1], None, None, None, None, False, 1]
    assert disk["sstatus"] is None
    assert static["disks"][0]["pstatus"] is None

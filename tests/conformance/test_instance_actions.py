"""The Ganeti facts behind Fleet's instance actions (docs/ganeti-actions.md): reinstall and OS parameters,
rename checks, power actions, tags, parameter changes, on the simulator and on a real Ganeti 3.0.2."""

from __future__ import annotations

import html
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conformance.official import (
    Facts,
    Step,
    batch,
    call,
    create,
    facts,
    failed,
    http_error,
    job,
    log_lines,
    ok,
    raw,
    succeeded,
)
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance

IMAGE = {"img_id": "debian-12", "img_format": "diskdump"}
RUNNING_OS_SCRIPTS = " - INFO: Running instance OS create scripts..."


@dataclass(frozen=True)
class Shared:
    """Two diskless instances the module's tests share, each test leaving them as it found them: one stopped
    (no tags, its name its own), one running (a create, or a delete, is a second or two of a real cluster)."""

    target: RapiTarget
    facts: Facts
    stopped: str
    running: str


@pytest.fixture(scope="module")
def shared(module_target: RapiTarget) -> Iterator[Shared]:
    f = facts(module_target)
    token = uuid.uuid4().hex[:8]
    stopped, running = f"conf-{token}.example.test", f"conf-{token}-up.example.test"
    try:
        for report in batch(module_target, [create(stopped, f, start=False), create(running, f)]):
            succeeded(report)
        yield Shared(module_target, f, stopped, running)
    finally:
        gone = batch(module_target, [job("DeleteInstance", stopped), job("DeleteInstance", running)])
    for report in gone:
        succeeded(report)


def redacted(report: dict[str, Any], status: str = "success") -> dict[str, Any]:
    """A job given private OS parameters that ended with `status`: Ganeti shows their values as null in the
    job's opcodes, which its own opcode check then refuses (and nothing else may be wrong)."""
    found = report["job"]
    assert found["status"] == status, found["opresult"]
    assert report["verify"] and all("osparams_private' fails validation" in p for p in report["verify"])
    assert all(v is None for op in found["ops"] for v in (op.get("osparams_private") or {}).values())
    return dict(found)


def unsupported(report: dict[str, Any], os_name: str) -> set[str]:
    """The parameters a failed job's OS check names (Ganeti lists them in no fixed order)."""
    error_class, (message,) = failed(report)
    assert error_class == "OpExecError" and message.startswith("OS Parameters validation failed on node ")
    head, _, names = message.partition(f"The following parameters are not supported by the OS {os_name}: ")
    assert head and names, message
    return set(names.split(", "))


def osparams(name: str) -> Step:
    """The instance's OS parameters through query2 (GET /2/instances/NAME has none): merged and custom."""
    return call("Query", "instance", ["osparams", "custom_osparams", "os"], ["=", "name", name])


def row(report: dict[str, Any]) -> tuple[Any, Any, Any]:
    ((merged, custom, os_name),) = ok(report)["data"]
    return merged[1], custom[1], os_name[1]


def test_reinstall_replaces_the_os_parameters(target: RapiTarget, unique: str) -> None:
    """A reinstall keeps exactly the osparams its body gives (none: all are cleared, private ones too);
    modify merges them, `default` removing a key."""
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, template=f.disk_template, osparams=IMAGE, osparams_private={"img_passwd": "pw"}),
            osparams(name),
            job("ReinstallInstance", name, os=f.os),
            osparams(name),  # 3
            job("ModifyInstance", name, osparams={"img_id": "debian-12"}),
            job("ModifyInstance", name, osparams={"img_id": "default", "img_format": "default"}),
            osparams(name),
            job("ModifyInstance", name, osparams={"bogus": "x"}),
            job("ModifyInstance", name, osparams={"img_id": "x"}, osparams_private={"img_id": "y"}),  # 8
            job("ReinstallInstance", name, osparams={"img_id": "default"}),
            osparams(name),
            job("ReinstallInstance", name, osparams=IMAGE),
            osparams(name),
            raw("POST", f"/2/instances/{name}/reinstall", None, {"osparams": ["img_id"]}),
            raw("POST", f"/2/instances/{name}/reinstall", None, {"os": 5}),  # 14
            job("DeleteInstance", name),
        ],
    )
    redacted(r[0])
    assert row(r[1]) == (IMAGE, IMAGE, f.os)
    reinstall = succeeded(r[2])
    assert [op["OP_ID"] for op in reinstall["ops"]] == [
        "OP_INSTANCE_SHUTDOWN",
        "OP_INSTANCE_REINSTALL",
        "OP_INSTANCE_STARTUP",
    ]
    assert log_lines(r[2]) == [f"Changing OS scripts to '{f.os}'...", RUNNING_OS_SCRIPTS]
    assert row(r[3]) == ({}, {}, f.os)
    assert succeeded(r[4])["opresult"] == [[["os/img_id", "debian-12"]]]
    assert succeeded(r[5])["opresult"] == [[["os/img_format", "default"], ["os/img_id", "default"]]]
    assert row(r[6]) == ({}, {}, f.os)
    assert unsupported(r[7], f.os) == {"bogus"}
    assert redacted(r[8], "error")["opresult"] == [
        ["OpPrereqError", ["OS parameters repeated multiple times: img_id"]]
    ]
    succeeded(r[9])
    assert row(r[10])[1] == {"img_id": "default"}  # a reinstall stores `default` as a value
    assert log_lines(r[11]) == [RUNNING_OS_SCRIPTS]
    assert row(r[12]) == (IMAGE, IMAGE, f.os)
    # RAPI builds a reinstall's opcodes unchecked: luxid refuses the wrong types (502), and no job exists
    assert http_error(r[13]) == 502 and "Can't parse value for 'osparams'" in html.unescape(r[13]["error"])
    assert http_error(r[14]) == 502 and "Can't parse value for 'os_type'" in html.unescape(r[14]["error"])
    succeeded(r[15])


def test_reinstall_to_another_os_clears_first(target: RapiTarget, unique: str) -> None:
    """The target OS is checked against the instance's parameters, private ones included, so a reinstall to
    an OS that does not declare them fails (leaving the instance stopped) until a modify removes them."""
    f = facts(target)
    name = f"conf-{unique}.example.test"
    r = batch(
        target,
        [
            create(name, f, template=f.disk_template, osparams=IMAGE, osparams_private={"img_passwd": "pw"}),
            job("ReinstallInstance", name, os="debootstrap+default", osparams={"img_id": "default"}),
            call("GetInstance", name),
            job(
                "ModifyInstance",
                name,
                osparams={"img_id": "default", "img_format": "default"},
                osparams_private={"img_passwd": "default", "img_properties": "default"},
            ),
            job("ReinstallInstance", name, os="debootstrap"),
            job("ReinstallInstance", name, os="debootstrap+sid"),  # 5
            job("ReinstallInstance", name, os="debootstrap+default"),
            call("GetInstance", name),
            job("DeleteInstance", name),
        ],
    )
    redacted(r[0])
    found = r[1]["job"]
    assert found["opstatus"] == ["success", "error", "error"]
    assert found["opresult"][2] == ["OpExecError", ["Preceding opcode failed"]]
    # img_id was given as `default`; img_format and the private img_passwd are the instance's
    assert unsupported(r[1], "debootstrap") == {"img_format", "img_passwd"}
    assert ok(r[2])["status"] == "ADMIN_down"  # the shutdown ran, the reinstall did not
    assert [change for change, _ in redacted(r[3])["opresult"][0]] == [
        "os/img_format",
        "os/img_id",
        "os_private/img_passwd",
        "os_private/img_properties",
    ]
    assert redacted(r[3])["opresult"][0][2][1] == "Private(?, descr='img_passwd')"
    assert failed(r[4])[1][0].endswith("OS name 'debootstrap' must include a variant")
    assert failed(r[5])[1][0].endswith("OS 'debootstrap' does not support variant 'sid'")
    assert log_lines(r[6]) == ["Changing OS scripts to 'debootstrap+default'...", RUNNING_OS_SCRIPTS]
    assert ok(r[7])["os"] == "debootstrap+default" and ok(r[7])["status"] == "running"
    succeeded(r[8])


def test_rename_checks_in_ganeti_order(shared: Shared, unique: str) -> None:
    """The IP check needs the name check; the new name must resolve (name_check) to an address nobody
    answers on (ip_check); an existing name is refused before the state is looked at; only a stopped
    instance is renamed."""
    target, f = shared.target, shared.facts
    stopped, running = shared.stopped, shared.running
    node = f.nodes[-1]
    short = node.split(".")[0]
    no_checks = {"name_check": False, "ip_check": False}
    r = batch(
        target,
        [
            job("RenameInstance", stopped, f"conf-{unique}-b.example.test", name_check=False),
            job("RenameInstance", stopped, f"conf-{unique}-b.example.test", ip_check=False),
            job("RenameInstance", running, stopped, **no_checks),
            job("RenameInstance", running, f"conf-{unique}-b.example.test", **no_checks),
            job("RenameInstance", stopped, node),
            job("RenameInstance", stopped, short, ip_check=False),  # 5
            job("RenameInstance", node, stopped, **no_checks),
            call("GetNode", node),
            call("RenameInstance", stopped, "", **no_checks),
        ],
    )
    assert failed(r[0]) == ("OpPrereqError", ["IP address check requires a name check", "wrong_input"])
    error_class, (message, ecode) = failed(r[1])
    assert (error_class, ecode) == ("OpPrereqError", "resolver_error")
    assert message.startswith(f"The given name (conf-{unique}-b.example.test) does not resolve: ")
    assert failed(r[2]) == (
        "OpPrereqError",
        [f"Instance '{stopped}' is already in the cluster", "already_exists"],
    )
    assert failed(r[3]) == (
        "OpPrereqError",
        [f"Instance '{running}' is marked to be up, cannot rename", "wrong_state"],
    )
    pip = ok(r[7])["pip"]
    assert failed(r[4]) == (
        "OpPrereqError",
        [f"IP {pip} of instance {node} already in use", "resource_not_unique"],
    )
    renamed = succeeded(r[5])
    assert renamed["opresult"] == [node] and renamed["summary"] == ["INSTANCE_RENAME"]
    assert log_lines(r[5]) == [f" - INFO: Resolved given name '{short}' to '{node}'"]
    assert succeeded(r[6])["opresult"] == [stopped]
    assert http_error(r[8]) == 400


def test_power_actions_and_their_refusals(target: RapiTarget, unique: str) -> None:
    """Startup of a running instance and shutdown of a stopped one succeed and change nothing; a reboot
    starts a stopped instance; timeouts are non-negative; file instances neither migrate nor fail over."""
    f = facts(target)
    up, down = f"conf-{unique}.example.test", f"conf-{unique}-down.example.test"
    r = batch(
        target,
        [
            create(up, f, template="file", pnode=f.nodes[0]),
            create(down, f, start=False),
            job("StartupInstance", up),
            job("RebootInstance", up, reboot_type="soft", ignore_secondaries=True),
            job("RebootInstance", up, reboot_type="full", shutdown_timeout=5),
            call("RebootInstance", up, reboot_type="bogus"),  # 5
            job("RebootInstance", down, reboot_type="soft"),
            call("GetInstance", down),
            job("ShutdownInstance", down, timeout=3),
            job("ShutdownInstance", down, timeout=3),
            call("ShutdownInstance", up, timeout=-1),  # 10
            job("MigrateInstance", up),
            job("FailoverInstance", up),
            job("MigrateInstance", up, mode="non-live"),
            call("DeleteInstance", down, shutdown_timeout=-1),
            job("DeleteInstance", down, shutdown_timeout=5),  # 15
            job("DeleteInstance", up),
        ],
    )
    succeeded(r[0])
    succeeded(r[1])
    for index in (2, 3, 4, 8, 9):  # nothing to say: no log line
        succeeded(r[index])
        assert log_lines(r[index]) == []
    assert http_error(r[5]) == 400
    assert log_lines(r[6]) == [f" - INFO: Instance {down} was already stopped, starting now"]
    assert ok(r[7])["status"] == "running"
    assert http_error(r[10]) == 400
    assert failed(r[11]) == (
        "OpPrereqError",
        ["Instance's disk layout 'file' does not allow migrations", "wrong_state"],
    )
    assert failed(r[12]) == (
        "OpPrereqError",
        ["Instance's disk layout 'file' does not allow failovers", "wrong_state"],
    )
    assert failed(r[13])[1][0] == "Instance's disk layout 'file' does not allow migrations"
    assert http_error(r[14]) == 400
    assert succeeded(r[15])["ops"][0]["shutdown_timeout"] == 5
    succeeded(r[16])


def test_ownership_tags(shared: Shared, unique: str) -> None:
    """Tags as Fleet writes owners: added idempotently; a removal of a tag that is not there fails and
    removes nothing; Ganeti's characters and 128-character limit; non-ASCII text cannot enter a job."""
    target, name = shared.target, shared.stopped
    owners = [f"fleet:user:{unique}", "fleet:group:noc"]
    r = batch(
        target,
        [
            job("AddInstanceTags", name, owners),
            job("AddInstanceTags", name, owners[:1]),
            job("DeleteInstanceTags", name, ["fleet:user:bob"]),
            job("DeleteInstanceTags", name, ["fleet:user:bob", "fleet:user:carol", owners[0]]),
            call("GetInstanceTags", name),
            job("AddInstanceTags", name, ["fleet:user:a b"]),  # 5
            job("AddInstanceTags", name, ["ok.tag", "a=b"]),
            job("AddInstanceTags", name, ["x" * 128]),
            job("AddInstanceTags", name, ["y" * 129]),
            job("DeleteInstanceTags", name, ["x" * 128, "bad tag"]),
            call("AddInstanceTags", name, ["fleet:user:\u00e9"]),  # 10
            call("GetInstanceTags", name),
            job("DeleteInstanceTags", name, [*owners, "x" * 128]),
            call("GetInstanceTags", name),
        ],
    )
    assert succeeded(r[0])["summary"] == ["TAGS_SET"]
    succeeded(r[1])
    assert failed(r[2]) == ("OpPrereqError", ["Tag(s) 'fleet:user:bob' not found", "unknown_entity"])
    assert failed(r[3]) == (
        "OpPrereqError",
        ["Tag(s) 'fleet:user:bob', 'fleet:user:carol' not found", "unknown_entity"],
    )
    assert sorted(ok(r[4])) == sorted(owners)
    for index in (5, 6, 9):
        assert failed(r[index]) == ("TagError", ["Tag contains invalid characters"])
    succeeded(r[7])
    assert failed(r[8]) == ("TagError", ["Tag too long (>128 characters)"])
    assert http_error(r[10]) == 500
    assert sorted(ok(r[11])) == sorted([*owners, "x" * 128])
    succeeded(r[12])
    assert ok(r[13]) == []


def test_backend_parameters_against_the_ipolicy(shared: Shared) -> None:
    """vCPUs outside the ipolicy are refused with its range; more memory than the node has is refused before
    the policy is looked at; a running instance keeps its live values until it restarts; migration settings
    are the cluster's."""
    target, name = shared.target, shared.running
    r = batch(
        target,
        [
            job("ModifyInstance", name, beparams={"vcpus": 9}),
            job("ModifyInstance", name, beparams={"maxmem": 4 * 1024 * 1024}),
            job("ModifyInstance", name, beparams={"maxmem": "x"}),
            job("ModifyInstance", name, beparams={"bogus": 1}),
            job("ModifyInstance", name, beparams={"vcpus": 2, "maxmem": 96, "minmem": 96}),
            call("GetInstance", name),  # 5
            job("RebootInstance", name, reboot_type="hard"),
            call("GetInstance", name),
            job("ModifyInstance", name, hvparams={"migration_mode": "non-live"}),
        ],
    )
    error_class, (message, ecode) = failed(r[0])
    assert (error_class, ecode) == ("OpPrereqError", "wrong_input")
    assert message.startswith("Instance allocation to group ")
    assert message.endswith("violates policy: cpu-count value 9 is not in range [1, 8]")
    error_class, (message, ecode) = failed(r[1])
    assert (error_class, ecode) == ("OpPrereqError", "insufficient_resources")
    assert message.startswith("This change will prevent the instance from starting, due to ")
    assert failed(r[2]) == (
        "TypeEnforcementError",
        ["'maxmem' (value x) is not a valid size. error: Invalid format"],
    )
    assert failed(r[3]) == ("TypeEnforcementError", ["Unknown parameter 'bogus'"])
    assert succeeded(r[4])["opresult"] == [[["be/maxmem", 96], ["be/minmem", 96], ["be/vcpus", 2]]]
    assert (ok(r[5])["oper_vcpus"], ok(r[5])["beparams"]["vcpus"]) == (1, 2)
    succeeded(r[6])
    assert ok(r[7])["oper_vcpus"] == 2
    # the fake hypervisor's only parameter is global, so the real test cluster refuses every instance-level
    # one; a KVM cluster refuses this one the same way (test_kvm_parameters_fleet_changes has the others)
    assert failed(r[8]) == (
        "OpPrereqError",
        ["The following hypervisor parameters are global and cannot be customized at instance level, please"
         " modify them at cluster level: migration_mode", "wrong_input"],
    )  # fmt: skip


def test_cancel_a_job_waiting_for_another(target: RapiTarget, unique: str) -> None:
    """A job whose dependency is still queued stays queued, and its cancel dequeues it at once; a job that
    has ended is no longer in the queue."""
    tag = f"conformance:{unique}"
    r = batch(
        target,
        [
            call(
                "AddFilter", 0, [["jobid", [">", "id", "watermark"]]], "PAUSE", [["conformance", unique, 0]]
            ),
            call("AddClusterTags", [tag]),
            raw("PUT", "/2/modify", None, {"depends": [["$1", ["success"]]]}),
            call("GetJobStatus", "$2"),
            call("CancelJob", "$2"),
            {"call": "WaitJob", "args": ["$2"]},  # 5
            call("DeleteFilter", "$0"),
            {"call": "WaitJob", "args": ["$1"]},
            call("GetClusterTags"),
            job("DeleteClusterTags", [tag]),
            call("CancelJob", "$1"),  # 10
        ],
    )
    assert ok(r[3])["status"] == "queued"
    assert ok(r[4]) == [True, f"Dequeued job {r[2]['result']}"]
    assert r[5]["job"]["status"] == "canceled" and r[5]["job"]["opresult"] == [None]
    assert r[7]["job"]["status"] == "success"
    assert tag in ok(r[8])
    succeeded(r[9])
    assert ok(r[10]) == [False, f"Job {r[1]['result']} not found in queue"]  # it has ended


def test_kvm_parameters_fleet_changes(sim_target: RapiTarget, unique: str) -> None:
    """KVM's checks of the parameters Fleet sends (hv_kvm's PARAMETERS), which the fake hypervisor of the real
    test cluster cannot run: the simulator answers as a KVM cluster would."""
    f = facts(sim_target)
    name = f"conf-{unique}.example.test"
    iso = "https://images.example.org/rescue.iso"
    r = batch(
        sim_target,
        [
            create(name, f),
            job("ModifyInstance", name, hvparams={"boot_order": "cdrom", "cdrom_image_path": iso}),
            job(
                "ModifyInstance",
                name,
                hvparams={"nic_type": "e1000", "disk_type": "scsi", "use_localtime": True},
            ),
            job("ModifyInstance", name, hvparams={"boot_order": "usb"}),
            job("ModifyInstance", name, hvparams={"cdrom_image_path": "", "boot_order": "cdrom"}),
            job("ModifyInstance", name, hvparams={"cdrom_image_path": "/srv/iso/x.iso"}),  # 5
            job("ModifyInstance", name, hvparams={"cdrom_image_path": "rescue.iso"}),
            job("ModifyInstance", name, hvparams={"nic_type": "virtio"}),
            job("ModifyInstance", name, hvparams={"use_localtime": "maybe"}),
            job("ModifyInstance", name, hvparams={"migration_mode": "non-live"}),
            job("ModifyInstance", name, hvparams={"no_such": 1}),  # 10
            job("ModifyInstance", name, hvparams={"boot_order": "default", "cdrom_image_path": "default"}),
            call("GetInstance", name),
            job("DeleteInstance", name),
        ],
    )
    succeeded(r[0])
    assert succeeded(r[1])["opresult"] == [[["hv/boot_order", "cdrom"], ["hv/cdrom_image_path", iso]]]
    assert succeeded(r[2])["opresult"] == [
        [["hv/disk_type", "scsi"], ["hv/nic_type", "e1000"], ["hv/use_localtime", True]]
    ]
    assert failed(r[3]) == (
        "HypervisorError",
        ["Parameter 'boot_order' fails syntax check: The value must be one of: cdrom, disk, floppy, network"
         " (current value: 'usb')"],
    )  # fmt: skip
    assert failed(r[4]) == ("HypervisorError", ["Cannot boot from cdrom without an ISO path"])
    assert failed(r[5])[0] == "OpExecError"
    assert failed(r[6])[1][0].endswith(
        "must be an absolute normalized path or a URL (current value: 'rescue.iso')"
    )
    assert "The value must be one of: e1000, i82551" in failed(r[7])[1][0]
    assert failed(r[8]) == ("TypeEnforcementError", ["'use_localtime' (value maybe) is not a valid boolean"])
    assert failed(r[9])[1][1] == "wrong_input"
    assert failed(r[10]) == ("TypeEnforcementError", ["Unknown parameter 'no_such'"])
    succeeded(r[11])
    custom = ok(r[12])["custom_hvparams"]
    assert custom == {"nic_type": "e1000", "disk_type": "scsi", "use_localtime": True}
    succeeded(r[13])

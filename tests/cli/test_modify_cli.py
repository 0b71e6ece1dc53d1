"""`fleet instance modify NAME` as a process, with `fleet worker` beside: an owner changes the configuration
and is told how to apply it; bad values are usage errors naming the option; a stranger sees no instance; a
soft reboot of the marked instance says that it keeps the old configuration."""

from __future__ import annotations

from pathlib import Path

from fleet.cli import actions
from fleet.operations import configuration
from tests.cli.test_instance_actions import Synced, act, fleet, worker_running
from tests.sync.conftest import database_url, migrated_database

__all__ = ["database_url", "fleet", "migrated_database"]  # fixtures, used by name


def test_an_owner_modifies_through_the_cli(fleet: Synced, tmp_path: Path) -> None:
    runner, _, name, owner = fleet
    bad = act(
        runner, "modify", name, "--as", owner, "--cdrom-image-url", "http://169.254.169.254/", "--no-wait"
    )
    assert bad.returncode == 2
    assert "--cdrom-image-url: 169.254.169.254 is the address of a cloud metadata service" in bad.stderr
    odd = act(runner, "modify", name, "--as", owner, "--cdrom-image-url", "http://0x7f.1/x.iso", "--no-wait")
    assert odd.returncode == 2 and "four decimal numbers" in odd.stderr
    model = act(runner, "modify", name, "--as", owner, "--nic-type", "virtio", "--no-wait")
    assert model.returncode == 2 and "'virtio' is not one of" in model.stderr
    nothing = act(runner, "modify", name, "--as", owner, "--no-wait")
    assert nothing.returncode == 2 and "Nothing to change" in nothing.stderr
    stranger = act(runner, "modify", name, "--as", "bob", "--vcpus", "2", "--no-wait")
    assert stranger.returncode == 1 and f"no instance {name} that bob may see" in stranger.stderr

    with worker_running(runner, tmp_path / "worker.log"):
        done = act(
            runner, "modify", name, "--as", owner, "--boot-order", "cdrom", "--cdrom-image-url",
            "https://93.184.216.34/rescue.iso", "--nic-type", "e1000", "--localtime", "--vcpus", "2",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"fleet instance reboot {name} --kind hard" in done.stdout and "succeeded" in done.stdout
        soft = act(runner, "reboot", name, "--as", owner, "--kind", "soft")
    assert soft.returncode == 0, soft.stdout + soft.stderr
    assert "a soft reboot keeps" in soft.stdout and "use --kind hard" in soft.stdout
    rows = runner.python(
        "from fleet.operations.models import Operation;"
        "[print(o.requester_name, o.status, sorted(o.params))"
        " for o in Operation.objects.filter(kind='modify').order_by('pk')]"
    )
    # bob's attempt is on record, refused; the bad values recorded nothing; the change went through.
    assert rows.splitlines() == [
        "bob refused ['vcpus']",
        f"{owner} succeeded ['beparams', 'hvparams', 'mark']",
    ]


def test_the_cli_offers_the_values_the_operation_takes() -> None:
    assert actions.BOOT_ORDERS == configuration.BOOT_ORDERS
    assert actions.NIC_TYPES == configuration.NIC_TYPES
    assert actions.DISK_TYPES == configuration.DISK_TYPES

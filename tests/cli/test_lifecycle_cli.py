"""`fleet instance reinstall|rename|destroy` as processes: an owner is told that a link was mailed and
nothing is sent; an administrator's --confirm with the name acts at once, followed to the job's end by the
worker; bad options are usage errors naming them."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_instance_actions import Synced, act, fleet, worker_running
from tests.sync.conftest import database_url, migrated_database

__all__ = ["database_url", "fleet", "migrated_database"]  # fixtures, used by name


def test_reinstall_rename_and_destroy_through_the_cli(fleet: Synced, tmp_path: Path) -> None:
    runner, _, name, owner = fleet
    runner.python(
        "from django.contrib.auth.models import User;"
        "User.objects.create_superuser('root', 'root@example.org', 'pw')"
    )
    oses = runner.python(
        "from fleet.inventory.models import Instance;"
        f"print(Instance.objects.get(name={name!r}).cluster.os_names)"
    )
    assert "debootstrap+default" in oses

    bad = act(runner, "reinstall", name, "--as", owner, "--os", "windows")
    assert bad.returncode == 1 and "refused: windows is not an OS cluster" in bad.stderr
    pair = act(runner, "reinstall", name, "--as", owner, "--os", "noop", "--osparam", "img_id")
    assert pair.returncode == 2 and "--osparam" in pair.stderr
    running = act(runner, "rename", name, "web-new.example.org", "--as", owner)
    assert running.returncode == 1 and "is marked to be up, cannot rename" in running.stderr
    not_admin = act(runner, "destroy", name, "--as", owner, "--confirm", name)
    assert not_admin.returncode == 1 and "refused: Only administrators confirm" in not_admin.stderr

    asked = act(runner, "reinstall", name, "--as", owner, "--os", "debootstrap+default", "--clear-osparams")
    assert asked.returncode == 0, asked.stderr
    assert (
        "(awaiting)" in asked.stdout and "a confirmation link was mailed to owner@example.org" in asked.stdout
    )
    outbox = runner.python(
        "from fleet.notify.models import Mail; m = Mail.objects.get(); print(m.to, m.subject)"
    )
    assert outbox.startswith("['owner@example.org'] Fleet: confirm the reinstall of " + name)

    with worker_running(runner, tmp_path / "worker.log"):
        done = act(runner, "destroy", name, "--as", "root", "--confirm", name, "--reason", "from the cli")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pending" in done.stdout and "succeeded" in done.stdout
    rows = runner.python(
        "from fleet.operations.models import Operation;"
        "[print(o.kind, o.status, o.confirmation.confirmed_by, o.confirmation.confirmed_via)"
        " for o in Operation.objects.exclude(status='refused').order_by('pk')]"
    )
    # the owner's reinstall still awaits its link; the administrator's destroy, typed, is done
    assert rows.splitlines() == ["reinstall awaiting  ", "destroy succeeded name cli"]

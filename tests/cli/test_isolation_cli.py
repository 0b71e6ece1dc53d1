"""`fleet instance isolate|allow-from|deisolate NAME` as processes, with `fleet worker` running beside: an
admin isolates with allow-from ranges and reconnects; an owner is refused; a bad range is a usage error
naming the option, and nothing is recorded."""

from __future__ import annotations

from pathlib import Path

from tests.cli.test_instance_actions import Synced, act, fleet, worker_running
from tests.sync.conftest import database_url, migrated_database

__all__ = ["database_url", "fleet", "migrated_database"]  # fixtures, used by name

TAGS = (
    "from fleet.inventory.models import Instance;"
    "i = Instance.objects.get(name={name!r});"
    "print(' '.join(sorted(t for t in i.tags if 'isolate' in t or 'whitelist' in t)))"
)


def test_an_admin_isolates_and_reconnects_through_the_cli(fleet: Synced, tmp_path: Path) -> None:
    runner, _, name, owner = fleet
    runner.python(
        "from django.contrib.auth.models import User; User.objects.create_superuser('root', '', 'pw')"
    )
    refused = act(runner, "isolate", name, "--as", owner, "--allow-from", "192.0.2.0/28", "--no-wait")
    assert refused.returncode == 1 and "refused: Only holders of the permission" in refused.stderr
    bad = act(runner, "isolate", name, "--as", "root", "--allow-from", "10.0.0.5/24", "--no-wait")
    assert bad.returncode == 2 and "--allow-from: '10.0.0.5/24' has host bits set" in bad.stderr
    wide = act(runner, "allow-from", name, "--as", "root", "--add", "2001:db8::/56", "--no-wait")
    assert wide.returncode == 2 and "--add: 2001:db8::/56 is too wide: at most a /64 for IPv6" in wide.stderr

    with worker_running(runner, tmp_path / "worker.log"):
        done = act(runner, "isolate", name, "--as", "root", "--allow-from", "192.0.2.0/28",
                   "--allow-from", "2001:db8::/64", "--reason", "abuse 9")  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "succeeded" in done.stdout
        assert runner.python(TAGS.format(name=name)) == (
            "fleet:isolate fleet:whitelist_ip:192.0.2.0/28 fleet:whitelist_ip:2001:db8::/64"
        )
        again = act(runner, "isolate", name, "--as", "root", "--no-wait")
        assert again.returncode == 1 and "isolated already" in again.stderr
        removed = act(runner, "allow-from", name, "--as", "root", "--remove", "192.0.2.0/28")
        assert removed.returncode == 0, removed.stdout + removed.stderr
        assert runner.python(TAGS.format(name=name)) == "fleet:isolate fleet:whitelist_ip:2001:db8::/64"
        back = act(runner, "deisolate", name, "--as", "root")
        assert back.returncode == 0, back.stdout + back.stderr
    assert runner.python(TAGS.format(name=name)) == ""
    kinds = runner.python(
        "from fleet.operations.models import Operation;"
        "print(' '.join(f'{o.kind}:{o.status}' for o in Operation.objects.order_by('pk')))"
    )
    # the refusals are on record; the bad ranges recorded nothing
    assert kinds == "isolate:refused isolate:succeeded isolate:refused isolate:succeeded deisolate:succeeded"

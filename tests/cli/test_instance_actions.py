"""`fleet instance reboot|shutdown|...` as processes, as an operator runs them, with `fleet worker` running
beside: the CLI acts as a named account under the policy, waits for the job and prints its outcome; a
worker killed with SIGKILL in the middle of the job still closes the operation once restarted."""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Simulated
from tests.sync.conftest import FLEET, Fleet, database_url, migrated_database, set_faults, wait_for_text

__all__ = ["database_url", "migrated_database"]  # fixtures, used by name

OWNED = (
    "from fleet.inventory.models import InstanceOwner;"
    "o = InstanceOwner.objects.filter(kind='user', instance__status='running')"
    ".order_by('instance__name').first();"
    "print(o.instance.name, o.name)"
)


@pytest.fixture
def fleet(
    fresh_simulator: Callable[..., Simulated], database_url: str, tmp_path: Path
) -> Iterator[tuple[Fleet, Simulated, str, str]]:
    """A synced Fleet of one simulated cluster; a running instance, and the account that owns it by its tag
    (made after the sync); and an account "bob" that owns nothing."""
    sim = fresh_simulator(time_scale=0.05)
    fleet = Fleet(database_url, tmp_path)
    fleet.add_cluster(sim.targets[0])
    fleet.run("worker", "--once")
    name, owner = fleet.python(
        f"{OWNED};"
        "from django.contrib.auth.models import User;"
        "User.objects.create_user(o.name, 'owner@example.org', 'pw');"
        "User.objects.create_user('bob', 'bob@example.org', 'pw')"
    ).split()
    yield fleet, sim, name, owner


def act(fleet: Fleet, *args: str) -> subprocess.CompletedProcess[str]:
    command = [*FLEET, "instance", *args]
    return subprocess.run(command, env=fleet.env, capture_output=True, text=True, timeout=120)


@contextlib.contextmanager
def worker_running(fleet: Fleet, log: Path) -> Iterator[None]:
    """`fleet worker` as a process (full passes ten minutes apart) while the block runs."""
    worker = fleet.start(log, "worker", "--interval", "600")
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)


Synced = tuple[Fleet, Simulated, str, str]


def test_an_owner_reboots_through_the_cli_and_others_are_refused(fleet: Synced, tmp_path: Path) -> None:
    runner, _, name, owner = fleet
    nobody = act(runner, "reboot", name, "--as", "mallory", "--no-wait")
    assert nobody.returncode == 2 and "no active Fleet account named 'mallory'" in nobody.stderr
    bob = act(runner, "reboot", name, "--as", "bob", "--no-wait")
    assert bob.returncode == 1 and f"no instance {name} that bob may see" in bob.stderr
    bad = act(runner, "shutdown", name, "--as", owner, "--shutdown-timeout", "-5", "--no-wait")
    assert bad.returncode == 2 and "--timeout" in bad.stderr

    with worker_running(runner, tmp_path / "worker.log"):
        done = act(runner, "reboot", name, "--as", owner, "--kind", "hard", "--reason", "from the cli")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pending" in done.stdout and "succeeded" in done.stdout
    rows = runner.python(
        "from fleet.operations.models import Operation;"
        "[print(o.via, o.requester_name, o.status, o.reason, o.params)"
        " for o in Operation.objects.order_by('pk')]"
    )
    # bob's attempt is on record as refused; the bad timeout recorded nothing; the reboot succeeded.
    assert rows.splitlines() == [
        "cli bob refused  {'type': 'soft'}",
        f"cli {owner} succeeded from the cli {{'type': 'hard'}}",
    ]


def test_a_worker_killed_mid_job_still_closes_the_operation(fleet: Synced, tmp_path: Path) -> None:
    runner, sim, name, owner = fleet
    set_faults(sim.control_url, sim.targets[0].name, stuck_jobs=True)
    queued = act(runner, "shutdown", name, "--as", owner, "--no-wait")
    assert queued.returncode == 0, queued.stderr
    first_log = tmp_path / "worker1.log"
    first = runner.start(first_log, "worker", "--interval", "600")
    try:
        wait_for_text(first_log, "following job")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    state = "from fleet.operations.models import Operation; print(Operation.objects.get().status)"
    assert runner.python(state) in ("submitted", "running")
    set_faults(sim.control_url, sim.targets[0].name, stuck_jobs=False)
    second = runner.start(tmp_path / "worker2.log", "worker", "--once", "--job-timeout", "60")
    assert second.wait(timeout=90) == 0
    assert runner.python(state) == "succeeded"

"""Health and isolation: a black-holed cluster is recorded unreachable while another syncs in the same pass;
an offline cluster is never contacted; `fleet worker --check` reports the failing cluster."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from fleet.cli.worker import worker
from fleet.inventory.models import Cluster, ClusterHealth, Instance
from tests.conftest import Simulated
from tests.sync.conftest import register, run_once, set_faults, simulator_counts

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_blackholed_cluster_is_unreachable_and_delays_no_other(
    fresh_simulator: Callable[..., Simulated],
) -> None:
    sim = fresh_simulator()
    good, bad = sim.targets
    register(good, timeout=10.0)
    register(bad, timeout=1.0)
    set_faults(sim.control_url, bad.name, blackhole=True)

    started = time.monotonic()
    loops = run_once()
    elapsed = time.monotonic() - started

    healthy = Cluster.objects.get(name=good.name)
    assert healthy.health == ClusterHealth.HEALTHY
    assert Instance.objects.filter(cluster=healthy).count() == simulator_counts(sim.control_url)[good.name]
    failed = Cluster.objects.get(name=bad.name)
    assert failed.health == ClusterHealth.UNREACHABLE
    assert "timed out" in failed.last_error
    assert failed.consecutive_failures == 1
    assert failed.last_sync_at is None
    assert not Instance.objects.filter(cluster=failed).exists()
    # The good cluster's pass ended long before the bad one's timeout.
    good_loop = next(loop for loop in loops.values() if loop.cluster_id == healthy.pk)
    assert good_loop.last_outcome is not None and good_loop.last_outcome.ok
    assert elapsed < 10

    result = CliRunner().invoke(worker, ["--check"])
    assert result.exit_code == 1
    assert bad.name in result.stderr and "unreachable" in result.stderr
    assert good.name not in result.stderr

    set_faults(sim.control_url, bad.name, blackhole=False)
    run_once()
    failed.refresh_from_db()
    assert failed.health == ClusterHealth.HEALTHY
    assert failed.last_error == "" and failed.consecutive_failures == 0
    assert CliRunner().invoke(worker, ["--check"]).exit_code == 0


def test_offline_clusters_are_not_contacted(fresh_simulator: Callable[..., Simulated]) -> None:
    sim = fresh_simulator()
    online, offline = sim.targets
    register(online)
    register(offline, offline=True)
    run_once()
    row = Cluster.objects.get(name=offline.name)
    assert row.last_attempt_at is None
    assert row.health == ClusterHealth.UNKNOWN
    assert not Instance.objects.filter(cluster=row).exists()
    assert Cluster.objects.get(name=online.name).health == ClusterHealth.HEALTHY

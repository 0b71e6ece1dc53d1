"""The RAPI checks as Icinga runs them: real processes against one simulated fleet, each cluster put into the
state its check must catch (a memory-starved node and an N+1 failure, offline and drained nodes with and
without the maintenance tag, an almost empty pool, failed and stuck jobs), and the failures that must be
UNKNOWN (wrong credentials, an unreachable cluster, a bad range, a timeout)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checks.conftest import (
    BIN,
    clear_faults,
    credentials_file,
    rapi_args,
    run_check,
    set_faults,
    submit,
    writer,
)
from tests.conftest import Simulated, start_simulated
from tests.simulator.helpers import ok
from tests.targets import RapiTarget

RAPI_CHECKS = ("cluster", "balance", "freemem", "ippool", "joblist", "nodes", "queue")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulated]:
    """Five tiny clusters, one per scenario, so that the scenarios do not disturb each other."""
    sim = start_simulated(tmp_path_factory.mktemp("checks-sim"), "--clusters", "5")
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def creds(fleet: Simulated, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("checks-creds")
    return {t.name: credentials_file(directory, t) for t in fleet.targets}


def _args(fleet: Simulated, creds: dict[str, Path], index: int) -> list[str]:
    target = fleet.targets[index]
    return rapi_args(target, creds[target.name])


def _create(
    target: RapiTarget, name: str, template: str, pnode: str, memory: int, snode: str | None = None
) -> None:
    body = {
        "__version__": 1, "mode": "create", "instance_name": name, "disk_template": template,
        "disks": [{"size": 1024}], "nics": [{}], "os_type": "noop", "pnode": pnode, "start": True,
        "name_check": False, "ip_check": False, "beparams": {"maxmem": memory, "minmem": memory, "vcpus": 1},
    }  # fmt: skip
    if snode:
        body["snode"] = snode
    with writer(target) as http:
        job = submit(http, "POST", "/2/instances", json=body)
    assert job["status"] == "success", job


def _leave_free(target: RapiTarget, node: str, share: float, name: str) -> None:
    """Start plain instances on `node` (each within the ipolicy's 32 GiB) until `share` of its memory
    is free."""
    info = _nodes(target)[node]
    need, n = info["mfree"] - int(info["mtotal"] * share), 0
    while need > 0:
        n += 1
        _create(target, f"{name}{n}.example.org", "plain", node, min(need, 32768))
        need -= min(need, 32768)


def _nodes(target: RapiTarget) -> dict[str, dict[str, int]]:
    with writer(target) as http:
        return {n["name"]: n for n in ok(http.get("/2/nodes", params={"bulk": 1}))}


def test_a_healthy_cluster_is_ok_for_every_rapi_check(fleet: Simulated, creds: dict[str, Path]) -> None:
    for name in RAPI_CHECKS:
        outcome = run_check(name, *_args(fleet, creds, 4))
        assert outcome.state == "OK", outcome
        assert outcome.perfdata, outcome  # every check reports perfdata
        assert len(outcome.stdout.splitlines()) == 1
    assert outcome.perfdata["jobs_total"] == "0"
    # The cluster's own certificate as the trust, instead of its fingerprint.
    target = fleet.targets[4]
    by_ca = creds[target.name].with_name("by-ca.ini")
    pin = f"fingerprint = {target.fingerprint}"
    by_ca.write_text(creds[target.name].read_text().replace(pin, f"ca_file = {target.cert_file}"))
    assert run_check("nodes", *rapi_args(target, by_ca)).state == "OK"


def test_a_memory_starved_node_and_an_n1_failure(fleet: Simulated, creds: dict[str, Path]) -> None:
    target, args = fleet.targets[0], _args(fleet, creds, 0)
    first, second, third = sorted(_nodes(target))
    # `first` keeps 15 % of its memory free: WARNING (below 20 %), not CRITICAL (10 %).
    node = _nodes(target)[first]
    _leave_free(target, first, 0.15, "hog")
    outcome = run_check("freemem", *args)
    assert outcome.state == "WARNING", outcome
    assert f"{first} has 15.0% free" in outcome.line
    assert outcome.perfdata[f"{first}_mfree"] == "15.0%"
    assert outcome.perfdata["n1_fail"] == "0"
    # then 5 %: CRITICAL
    _leave_free(target, first, 0.05, "pig")
    assert run_check("freemem", *args).state == "CRITICAL"
    # The memory use of the group's nodes is now far apart: the balance check sees it.
    balance = run_check("balance", *args)
    assert balance.state == "CRITICAL", balance
    assert f"({first} to" in balance.line
    # Its score is hbal's own initial score, but for the spindles term (a few thousandths here).
    if shutil.which("hbal"):  # Debian's ganeti package (scripts/bootstrap)
        url = f"https://{target.username}:{target.password}@{target.host}:{target.port}"
        hbal = subprocess.run(
            ["hbal", "-m", url, "-G", "default"], capture_output=True, text=True, check=False
        )
        initial = float(re.search(r"Initial score: ([0-9.]+)", hbal.stdout).group(1))  # type: ignore[union-attr]
        assert abs(float(balance.perfdata["default_score"]) - initial) < 0.01 + 0.002 * initial, balance

    # A DRBD instance on `second` mirrored on `first`, more than `first` has free: N+1 fails on `first`.
    _create(target, "mirror.example.org", "drbd", second, int(node["mtotal"] * 0.06), snode=first)
    ignore_free = ["-w", "0:", "-c", "0:"]  # judge the N+1 test alone
    outcome = run_check("freemem", *args, *ignore_free)
    assert outcome.state == "WARNING", outcome
    assert f"{first} cannot take {second}'s" in outcome.line
    assert outcome.perfdata["n1_fail"] == "1"
    assert run_check("freemem", *args, *ignore_free, "--n1-critical").state == "CRITICAL"
    assert third  # the third node stays untouched


def test_offline_and_drained_nodes_without_a_maintenance_tag(
    fleet: Simulated, creds: dict[str, Path]
) -> None:
    target, args = fleet.targets[1], _args(fleet, creds, 1)
    _, second = sorted(_nodes(target))
    with writer(target) as http:
        assert submit(http, "PUT", f"/2/nodes/{second}/role", json="drained")["status"] == "success"
        outcome = run_check("nodes", *args)
        assert outcome.state == "WARNING", outcome
        assert f"drained without maintenance tag: {second}" in outcome.line
        assert outcome.perfdata["drained"] == "1"

        assert (
            submit(http, "PUT", f"/2/nodes/{second}/role", json="offline", params={"force": 1})["status"]
            == "success"
        )
        outcome = run_check("nodes", *args)
        assert outcome.state == "WARNING", outcome
        assert f"offline without maintenance tag: {second}" in outcome.line
        # Its instances are now on an offline node: the cluster check says so.
        cluster = run_check("cluster", *args)
        assert cluster.state == "CRITICAL", cluster
        assert "ERROR_nodeoffline" in cluster.line

        # The operators announce the maintenance on the node group: the offline node is expected.
        group = ok(http.get("/2/groups"))[0]["name"]
        assert (
            submit(http, "PUT", f"/2/groups/{group}/tags", params={"tag": "fleet:maintenance"})["status"]
            == "success"
        )
        outcome = run_check("nodes", *args)
        assert outcome.state == "OK", outcome
        assert outcome.perfdata["maintenance"] == "1"
        assert f"in maintenance: {second}" in outcome.line
        # A different prefix does not take Fleet's tag for its own.
        assert run_check("nodes", *args, "--tag-prefix", "other").state == "WARNING"


def test_an_almost_empty_pool(fleet: Simulated, creds: dict[str, Path]) -> None:
    target, args = fleet.targets[2], _args(fleet, creds, 2)
    with writer(target) as http:
        group = ok(http.get("/2/groups"))[0]["name"]
        for name, cidr, keep in (("low", "10.200.0.0/28", 1), ("empty", "10.201.0.0/27", 1)):
            size = 16 if cidr.endswith("/28") else 32
            base = cidr.rsplit(".", 1)[0]
            reserved = [f"{base}.{i}" for i in range(1, size - keep - 1)]
            body = {"network_name": name, "network": cidr, "add_reserved_ips": reserved}
            assert submit(http, "POST", "/2/networks", json=body)["status"] == "success"
            connect = {"group_name": group, "network_mode": "bridged", "network_link": "br0"}
            assert submit(http, "PUT", f"/2/networks/{name}/connect", json=connect)["status"] == "success"
            outcome = run_check("ippool", *args)
            free = outcome.perfdata[f"{name}_free"]
            assert outcome.state == ("WARNING" if name == "low" else "CRITICAL"), outcome
            assert f"{name} has {free} addresses free" in outcome.line
    assert int(run_check("ippool", *args).perfdata["low_free"]) < 2


def test_failed_and_stuck_jobs(fleet: Simulated, creds: dict[str, Path]) -> None:
    target, args = fleet.targets[3], _args(fleet, creds, 3)
    cluster = target.name
    with writer(target) as http:
        set_faults(fleet.control_url, cluster, fail_jobs=1.0)
        try:
            job = submit(http, "PUT", "/2/tags", params={"tag": "failing"})
        finally:
            clear_faults(fleet.control_url, cluster)
        assert job["status"] == "error"
        outcome = run_check("joblist", *args)
        assert outcome.state == "WARNING", outcome
        assert f"1 failed: job {job['id']}" in outcome.line
        assert outcome.perfdata["error"] == "1"
        assert run_check("joblist", *args, "--ignore-op", "TAGS").state == "OK"

        set_faults(fleet.control_url, cluster, stuck_jobs=True)
        try:
            stuck = ok(http.put("/2/tags", params={"tag": "stuck"}))
            time.sleep(1.5)
            quick = ["--ignore-op", "TAGS_SET\\(\\)$|failing"]
            outcome = run_check("joblist", *args, "--running-warning", "1", *quick)
            assert outcome.perfdata["running"] == "1", outcome
            assert outcome.state == "WARNING", outcome
            assert f"job {stuck} " in outcome.line and "running for" in outcome.line
            assert run_check("joblist", *args, "--running-critical", "1", *quick).state == "CRITICAL"
        finally:
            clear_faults(fleet.control_url, cluster)


def test_failures_to_reach_or_read_a_cluster_are_unknown(
    fleet: Simulated, creds: dict[str, Path], tmp_path: Path
) -> None:
    target = fleet.targets[4]
    wrong = credentials_file(tmp_path, target, password="not-the-password")
    outcome = run_check("freemem", *rapi_args(target, wrong))
    assert outcome.state == "UNKNOWN"
    assert "refused the credentials (401)" in outcome.line
    assert len(outcome.stdout.splitlines()) == 1

    pinned = tmp_path / "other-pin.ini"
    pinned.write_text(creds[target.name].read_text().replace(target.fingerprint, "ab" * 32))
    outcome = run_check("ippool", *rapi_args(target, pinned))
    assert outcome.state == "UNKNOWN" and "does not match the pinned one" in outcome.line, outcome

    closed = [*_args(fleet, creds, 4), "-P", "1"]
    outcome = run_check("joblist", *closed)
    assert outcome.state == "UNKNOWN" and "unreachable" in outcome.line, outcome
    # Reachability is what the cluster check is about: for it, unreachable is CRITICAL.
    outcome = run_check("cluster", *closed)
    assert outcome.state == "CRITICAL" and "unreachable" in outcome.line, outcome

    outcome = run_check("freemem", *_args(fleet, creds, 4), "-w", "20:10")
    assert outcome.state == "UNKNOWN" and "bad range '20:10'" in outcome.line, outcome
    outcome = run_check("ippool", "-H", target.host, "--credentials", str(tmp_path / "missing.ini"))
    assert outcome.state == "UNKNOWN" and "cannot read the credentials file" in outcome.line

    set_faults(fleet.control_url, target.name, blackhole=True)
    try:
        outcome = run_check("queue", *_args(fleet, creds, 4), "-t", "1")
        assert outcome.state == "UNKNOWN" and "timed out after 1 s" in outcome.line, outcome
    finally:
        clear_faults(fleet.control_url, target.name)


def test_fleet_check_runs_the_same_check(fleet: Simulated, creds: dict[str, Path]) -> None:
    args = _args(fleet, creds, 4)
    done = subprocess.run(
        [str(BIN / "fleet"), "check", "nodes", "-c", "x:y", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3, done
    assert done.stdout.startswith("GANETI_NODES UNKNOWN - bad arguments: argument -c/--critical: bad range")

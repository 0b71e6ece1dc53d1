"""Debian's htools (hinfo, hbal, hspace, hcheck) run unchanged against the target's RAPI (-m https://...)."""

from __future__ import annotations

import re

import pytest

from tests.conformance.official import batch, call, htool, machine_readable, ok
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance


def _counts(target: RapiTarget) -> tuple[int, int]:
    nodes, instances = batch(target, [call("GetNodes"), call("GetInstances")])
    return len(ok(nodes)), len(ok(instances))


def test_hinfo_hcheck_hspace_hbal_read_the_cluster(target: RapiTarget) -> None:
    hinfo = htool(target, "hinfo")
    assert hinfo.returncode == 0, hinfo.stderr
    assert "Cluster" in hinfo.stdout and "node" in hinfo.stdout.lower()

    hcheck = htool(target, "hcheck", "--machine-readable")
    report = machine_readable(hcheck.stdout)
    assert report.get("HCHECK_OK") == "1" and "HCHECK_INIT_GROUP_0_N1_FAIL" in report, hcheck.stderr
    # hcheck exits 1 when it finds the cluster needs rebalancing (a one-node cluster fails global N+1)
    rebalance = report["HCHECK_INIT_CLUSTER_NEED_REBALANCE"] == "1"
    assert hcheck.returncode == (1 if rebalance else 0), hcheck.stderr

    hbal = htool(target, "hbal", "--print-nodes=name,fmem,pinst")
    assert hbal.returncode == 0, hbal.stderr
    if _counts(target)[1]:
        assert re.search(r"Initial score: [0-9.]+", hbal.stdout), hbal.stdout
    else:
        assert "Cluster is empty" in hbal.stdout

    hspace = htool(target, "hspace", "--machine-readable")
    assert hspace.returncode == 0, hspace.stderr
    assert machine_readable(hspace.stdout).get("HTS_OK") == "1"


def test_htools_see_what_the_rapi_lists(sim_target: RapiTarget) -> None:
    """Plausibility on a generated fleet: htools count the same nodes and instances as the RAPI, hspace finds
    room, and hbal never makes the score worse."""
    target = sim_target
    n_nodes, n_instances = _counts(target)
    hspace = machine_readable(htool(target, "hspace", "--machine-readable").stdout)
    assert hspace["HTS_OK"] == "1"
    assert int(hspace["HTS_INI_INST_CNT"]) == n_instances
    assert int(hspace["HTS_INI_MEM_FREE"]) > 0 and int(hspace["HTS_INI_DSK_FREE"]) >= 0

    hbal = htool(target, "hbal")
    assert hbal.returncode == 0, hbal.stderr
    initial = float(re.search(r"Initial score: ([0-9.]+)", hbal.stdout).group(1))  # type: ignore[union-attr]
    final = re.search(r"Cluster score improved from [0-9.]+ to ([0-9.]+)", hbal.stdout)
    if final:
        assert float(final.group(1)) <= initial

    hinfo = htool(target, "hinfo")
    assert re.search(rf"\b{n_nodes} nodes?\b", hinfo.stdout) or str(n_nodes) in hinfo.stdout

"""Node role changes through the official client on a three-node cluster: drain, demotion, auto-promotion and
the master candidate pool, with the jobs' results and log lines."""

from __future__ import annotations

import pytest

from tests.conformance.official import Facts, batch, call, facts, failed, job, log_lines, ok, succeeded
from tests.targets import RapiTarget

pytestmark = pytest.mark.conformance


def _others(f: Facts) -> tuple[str, str]:
    """The two non-master nodes (every node a master candidate, the pool larger than the cluster)."""
    others = sorted(n for n in f.node_uuids.values() if n != f.master)
    if len(others) != 2:
        pytest.skip(f"needs exactly three nodes, not {len(others) + 1}")
    return others[0], others[1]


def _roles(target: RapiTarget, names: list[str]) -> list[str]:
    return [ok(r) for r in batch(target, [call("GetNodeRole", n) for n in names])]


def test_drain_then_regular_promotes_the_node_back(target: RapiTarget) -> None:
    """Draining a candidate clears its candidate flag; asking for "regular" afterwards promotes it again,
    because the pool lacks a candidate (Ganeti's _DecideSelfPromotion)."""
    f = facts(target)
    _, node = _others(f)
    assert _roles(target, [f.master, node]) == ["master", "master-candidate"]
    drain, regular, again = batch(
        target,
        [
            job("SetNodeRole", node, "drained"),
            job("SetNodeRole", node, "regular"),
            job("SetNodeRole", node, "master-candidate"),
        ],
    )
    assert succeeded(drain)["opresult"] == [[["master_candidate", "False"], ["drained", "True"]]]
    assert log_lines(drain) == []
    assert succeeded(regular)["opresult"] == [[["master_candidate", "True"], ["drained", "False"]]]
    assert log_lines(regular) == [
        " - INFO: Ignoring request to unset flag master_candidate, already unset",
        " - INFO: Ignoring request to unset flag offline, already unset",
        " - INFO: Auto-promoting node to master candidate",
    ]
    assert succeeded(again)["opresult"] == [[]]  # already a candidate: nothing changes
    assert _roles(target, [node]) == ["master-candidate"]


def test_demotion_needs_auto_promote_once_the_pool_is_short(target: RapiTarget) -> None:
    f = facts(target)
    first, second = _others(f)
    r = batch(
        target,
        [
            job("SetNodeRole", second, "regular"),
            job("SetNodeRole", first, "regular"),
            job("SetNodeRole", first, "regular", auto_promote=True),
            call("GetNodeRole", first),
            call("GetNodeRole", second),
            job("SetNodeRole", first, "master-candidate"),
            call("GetNodeRole", first),
        ],
    )
    # the first demotion leaves the pool one short, which the configuration check reports
    assert succeeded(r[0])["opresult"] == [[["master_candidate", "False"]]]
    assert log_lines(r[0])[-1] == (
        "Configuration data is not consistent: Not enough master candidates: actual 2, target 3"
    )
    # the second would leave it two short: refused unless another node may be promoted
    error_class, (message, ecode) = failed(r[1])
    assert (error_class, ecode) == ("OpPrereqError", "wrong_state")
    assert message == (
        "Not enough master candidates, please pass auto promote option to allow promotion"
        " (--auto-promote or RAPI auto_promote=True)"
    )
    assert succeeded(r[2])["opresult"] == [[["master_candidate", "False"]]]
    assert log_lines(r[2])[-1] == f" - INFO: Promoted nodes to master candidate role: {second}"
    assert (ok(r[3]), ok(r[4])) == ("regular", "master-candidate")
    assert succeeded(r[5])["opresult"] == [[["master_candidate", "True"]]]
    assert ok(r[6]) == "master-candidate"


def test_offline_and_back_warns_about_re_add(target: RapiTarget) -> None:
    f = facts(target)
    _, node = _others(f)
    offline, back = batch(
        target, [job("SetNodeRole", node, "offline"), job("SetNodeRole", node, "master-candidate")]
    )
    assert succeeded(offline)["opresult"] == [[["master_candidate", "False"], ["offline", "True"]]]
    assert succeeded(back)["opresult"] == [[["master_candidate", "True"], ["offline", "False"]]]
    assert log_lines(back) == [
        " - WARNING: Transitioning node from offline to online state without using re-add. Please make sure"
        " the node is healthy!"
    ]


def test_the_master_role_changes_only_by_failover(target: RapiTarget) -> None:
    f = facts(target)
    (r,) = batch(target, [job("SetNodeRole", f.master, "master-candidate")])
    error_class, (message, ecode) = failed(r)
    assert (error_class, ecode) == ("OpPrereqError", "wrong_input")
    assert message == "The master role can be changed only via master-failover"
    assert log_lines(r) == []

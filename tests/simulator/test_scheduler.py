"""The 3.0 scheduler: job dependencies, filter rules (ACCEPT, PAUSE, REJECT, CONTINUE, RATE_LIMIT), reason
rate limits, and luxid's cancel replies."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import Simulated
from tests.simulator.helpers import client, instances, ok, wait_job, wait_status


@pytest.fixture
def cl(fresh_simulator: Callable[..., Simulated]) -> httpx.Client:
    return client(fresh_simulator().targets[0])


def _long(cl: httpx.Client, name: str, **params: str) -> int:
    """A job of about 1.2 s (replace-disks) on an instance."""
    body = {"mode": "replace_auto"}
    return int(ok(cl.post(f"/2/instances/{name}/replace-disks", json=body, params=params)))


def _stays(cl: httpx.Client, job_id: int, status: str, seconds: float = 0.4) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert ok(cl.get(f"/2/jobs/{job_id}"))["status"] == status
        time.sleep(0.05)


def _modify(cl: httpx.Client, name: str, **body: object) -> int:
    """A quick job on one instance (Ganeti refuses a modify that changes nothing)."""
    return int(ok(cl.put(f"/2/instances/{name}/modify", json={"beparams": {"vcpus": 1}, **body})))


# -- dependencies ------------------------------------------------------------------------------------------


def test_dependent_job_stays_queued_until_its_dependency_succeeds(cl: httpx.Client) -> None:
    a, b = sorted(instances(cl))[:2]
    first = _long(cl, a)
    wait_status(cl, first, "running")
    second = _modify(cl, b, depends=[[first, ["success", "error"]]])
    _stays(cl, second, "queued")  # JQScheduler.jobEligible: not handed over while the dependency runs
    done = wait_job(cl, first)
    job = wait_job(cl, second)
    assert job["status"] == "success" and job["start_ts"] >= done["end_ts"]


def test_dependency_with_a_status_not_listed_fails_the_job(cl: httpx.Client) -> None:
    name = sorted(instances(cl))[0]
    failed = int(ok(cl.put("/2/instances/nope.example.org/startup")))
    assert wait_job(cl, failed)["status"] == "error"
    job = wait_job(cl, _modify(cl, name, depends=[[failed, ["success"]]]))
    assert job["status"] == "error"
    assert job["opresult"] == [
        [
            "OpExecError",
            [f"Dependency job {failed} finished with status 'error', not one of 'success' as required"],
        ]
    ]
    # an empty status list accepts any final status but canceled
    assert wait_job(cl, _modify(cl, name, depends=[[failed, []]]))["status"] == "success"


def test_dependency_on_unknown_job_fails(cl: httpx.Client) -> None:
    name = sorted(instances(cl))[0]
    job = wait_job(cl, _modify(cl, name, depends=[[99999, []]]))
    assert job["opresult"] == [["OpExecError", ["Dependency error: Job 99999 not found"]]]


def test_dependency_on_canceled_job_cancels_unless_canceled_is_listed(cl: httpx.Client) -> None:
    assert wait_job(cl, int(ok(cl.put("/2/modify", json={"max_running_jobs": 1}))))["status"] == "success"
    a, b, c = sorted(instances(cl))[:3]
    blocker = _long(cl, a)
    victim = _modify(cl, b)
    assert ok(cl.delete(f"/2/jobs/{victim}")) == [True, f"Dequeued job {victim}"]
    canceled = _modify(cl, c, depends=[[victim, ["success", "error"]]])
    accepted = _modify(cl, c, depends=[[victim, ["canceled"]]])
    wait_job(cl, blocker)
    job = wait_job(cl, canceled)
    assert job["status"] == "canceled" and job["opresult"] == ["Job canceled by request"]
    assert wait_job(cl, accepted)["status"] == "success"


def test_malformed_depends_is_a_400(cl: httpx.Client) -> None:
    name = sorted(instances(cl))[0]
    resp = cl.put(f"/2/instances/{name}/modify", json={"depends": [[1, ["done"]]]})
    assert resp.status_code == 400
    assert resp.json()["message"] == (
        "Invalid body parameters: (&quot;Parameter &#x27;OP_INSTANCE_SET_PARAMS.depends&#x27; "
        "fails validation&quot;, &#x27;wrong_input&#x27;)"
    )


# -- filter rules ------------------------------------------------------------------------------------------


def _rule(cl: httpx.Client, action: object, predicates: list[object], priority: int = 0) -> str:
    body = {"action": action, "predicates": predicates, "priority": priority}
    return str(ok(cl.post("/2/filters", json=body)))


MODIFIES = ["opcode", ["=", "OP_ID", "OP_INSTANCE_SET_PARAMS"]]


def test_pause_keeps_jobs_queued_until_the_rule_goes(cl: httpx.Client) -> None:
    name = sorted(instances(cl))[0]
    rule = _rule(cl, "PAUSE", [MODIFIES])
    held = _modify(cl, name)
    other = int(ok(cl.post(f"/2/instances/{name}/reboot")))  # not matched: runs
    assert wait_job(cl, other)["status"] == "success"
    _stays(cl, held, "queued")
    assert ok(cl.delete(f"/2/filters/{rule}")) is None
    assert wait_job(cl, held)["status"] == "success"


def test_reject_cancels_queued_jobs_and_new_ones_above_the_watermark(cl: httpx.Client) -> None:
    name = sorted(instances(cl))[0]
    _rule(cl, "PAUSE", [], priority=10)
    paused = _modify(cl, name)
    _stays(cl, paused, "queued", 0.2)
    _rule(cl, "REJECT", [MODIFIES])  # priority 0 comes first: the queued job is canceled
    job = wait_job(cl, paused)
    assert job["status"] == "canceled" and job["opresult"] == [None]
    drain = _rule(cl, "REJECT", [["jobid", [">", "id", "watermark"]]])
    watermark = ok(cl.get(f"/2/filters/{drain}"))["watermark"]
    later = int(ok(cl.post(f"/2/instances/{name}/reboot")))
    assert later > watermark and wait_job(cl, later)["status"] == "canceled"


def test_accept_before_pause_and_continue_is_skipped(cl: httpx.Client) -> None:
    name = sorted(instances(cl))[0]
    _rule(cl, "PAUSE", [], priority=5)
    _rule(cl, "CONTINUE", [MODIFIES], priority=0)
    _rule(cl, "ACCEPT", [["reason", ["=", "reason", "go"]]], priority=1)
    accepted = int(
        ok(cl.put(f"/2/instances/{name}/modify", json={"beparams": {"vcpus": 1}}, params={"reason": "go"}))
    )
    paused = _modify(cl, name)
    assert wait_job(cl, accepted)["status"] == "success"
    _stays(cl, paused, "queued")


def test_rate_limit_rule_runs_n_matching_jobs_at_once(cl: httpx.Client) -> None:
    a, b, c = sorted(instances(cl))[:3]
    _rule(cl, ["RATE_LIMIT", 1], [["opcode", ["=", "OP_ID", "OP_INSTANCE_REPLACE_DISKS"]]])
    first, second = _long(cl, a), _long(cl, b)
    wait_status(cl, first, "running")
    _stays(cl, second, "queued", 0.3)
    assert wait_job(cl, _modify(cl, c))["status"] == "success"  # not matched
    done = wait_job(cl, first)
    assert wait_job(cl, second)["start_ts"] >= done["end_ts"]


def test_reason_rate_limit_buckets(cl: httpx.Client) -> None:
    a, b, c = sorted(instances(cl))[:3]
    first = _long(cl, a, reason="rate-limit:1:batch")
    second = _long(cl, b, reason="rate-limit:1:batch")
    other_bucket = _long(cl, c, reason="rate-limit:2:batch")
    wait_status(cl, first, "running")
    wait_status(cl, other_bucket, "running")
    _stays(cl, second, "queued", 0.3)
    done = wait_job(cl, first)
    assert wait_job(cl, second)["start_ts"] >= done["end_ts"]


# -- error texts checked against Ganeti 3.0.2 --------------------------------------------------------------


def test_error_texts_of_console_query_and_body(cl: httpx.Client) -> None:
    resp = cl.get("/2/instances/nope.example.org/console")
    assert resp.status_code == 500
    assert resp.json()["message"] == (
        "(&#x27;Instance name nope.example.org not found&#x27;, &#x27;unknown_entity&#x27;)"
    )
    resp = cl.put("/2/query/instance", json={"fields": ["name"], "qfilter": ["==", "no_such_field", 1]})
    assert (
        resp.status_code == 500
        and resp.json()["message"] == "Can&#x27;t find field named &#x27;no_such_field&#x27;"
    )
    name = sorted(instances(cl))[0]
    resp = cl.put(f"/2/instances/{name}/modify", json={"no_such_param": 1})
    assert resp.json()["message"] == (
        "Invalid body parameters: Object OpInstanceSetParams doesn&#x27;t support the parameter "
        "&#x27;no_such_param&#x27;"
    )

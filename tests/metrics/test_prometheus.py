"""Fleet's /metrics met by the real tools: `promtool check metrics` on a scrape of a running `fleet demo`
(a simulated fleet with a job history, synced by its worker), the scrape's figures against the demo's
database, and a real Prometheus scraping it, where every panel of the shipped Grafana dashboards returns data
and every shipped alert rule evaluates without error. One demo and one Prometheus for the module."""

from __future__ import annotations

import json
import math
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.demo import Stack, running_demo
from tests.metrics.prometheus import REPOSITORY, Prometheus, running_prometheus

DASHBOARDS = sorted((REPOSITORY / "deploy" / "grafana").glob("*.json"))
RATE_WINDOW = "30s"  # what $__rate_interval stands for at a 1 s scrape interval


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    options = ["--history", "1", "--interval", "1", "--time-scale", "0.05"]
    with running_demo(tmp_path_factory.mktemp("metrics"), *options) as running:
        yield running


@pytest.fixture(scope="module")
def scrape(stack: Stack) -> str:
    answer = httpx.get(stack.url + "metrics", timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return answer.text


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    target = stack.url.removeprefix("http://").rstrip("/")
    with running_prometheus(tmp_path_factory.mktemp("prometheus"), [target]) as running:
        running.wait_for('up{job="fleet"} == 1')
        # rates and increases need samples over their window
        running.wait_for(f"count_over_time(fleet_cluster_up[{RATE_WINDOW}]) >= 3", timeout=90)
        yield running


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


def test_promtool_accepts_a_scrape(scrape: str) -> None:
    done = subprocess.run(["promtool", "check", "metrics"], input=scrape, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_scrape_says_what_the_database_holds(stack: Stack, scrape: str) -> None:
    truth = stack.query(
        "from collections import Counter\n"
        "from fleet.inventory.models import Instance, Node\n"
        "from fleet.jobs.models import Job\n"
        "jobs = [j for j in Job.objects.select_related('cluster') if j.started_at and j.ended_at"
        " and j.status in ('success', 'error', 'canceled')]\n"
        "runs = Counter((j.cluster.name, j.op_ids[0]) for j in jobs)\n"
        "quick = Counter((j.cluster.name, j.op_ids[0]) for j in jobs"
        " if (j.ended_at - j.started_at).total_seconds() <= 60)\n"
        "result = {'instances': Instance.objects.count(),"
        " 'running': Instance.objects.filter(status='running').count(), 'nodes': Node.objects.count(),"
        " 'runs': [[*k, n] for k, n in runs.items()],"
        " 'quick': [[*k, n] for k, n in quick.items()],"
        " 'memory': sum(n.memory_total or 0 for n in Node.objects.all())}"
    )
    found = samples(scrape)
    assert sum(v for _, v in found["fleet_cluster_instances"]) == truth["instances"]
    assert (
        sum(v for labels, v in found["fleet_cluster_instances"] if labels["status"] == "running")
        == truth["running"]
    )
    assert len(found["fleet_node_role"]) == truth["nodes"]
    assert sum(v for _, v in found["fleet_cluster_memory_size_bytes"]) == truth["memory"] * 1024 * 1024
    counts = {(lb["cluster"], lb["opcode"]): v for lb, v in found["fleet_ganeti_job_run_seconds_count"]}
    assert counts == {(c, op): n for c, op, n in truth["runs"]}
    assert {"OP_INSTANCE_CREATE", "OP_INSTANCE_MIGRATE", "OP_CLUSTER_VERIFY"} <= {op for _, op in counts}
    minute = {
        (lb["cluster"], lb["opcode"]): v
        for lb, v in found["fleet_ganeti_job_run_seconds_bucket"]
        if lb["le"] == "60.0" and v
    }
    assert minute == {(c, op): n for c, op, n in truth["quick"]}
    assert all(v == 1 for _, v in found["fleet_cluster_up"])
    assert all(0 <= v < 60 for _, v in found["fleet_sync_lag_seconds"])
    # bounded labels: nothing names an instance or a job
    assert not any(
        {"instance", "job", "job_id"} & set(labels) for series in found.values() for labels, _ in series
    )


def panels(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"]


def concrete(expr: str) -> str:
    """A panel's PromQL with Grafana's variables as the dashboard's "All" and its rate interval."""
    expr = expr.replace("$__rate_interval", RATE_WINDOW)
    return re.sub(r"\$(cluster|group|opcode)\b", ".*", expr)


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_every_dashboard_panel_returns_data(prometheus: Prometheus, path: Path) -> None:
    dashboard = json.loads(path.read_text())
    empty, shown = [], 0
    for title, expr in panels(dashboard):
        result = prometheus.query(concrete(expr))
        if not result:
            empty.append((title, expr))
            continue
        shown += 1
        if "histogram_quantile" in expr and "rate(" not in expr:  # over every job recorded: real figures
            values = [float(row["value"][1]) for row in result]
            assert any(math.isfinite(v) and v > 0 for v in values), (title, result)
    assert not empty, empty
    assert shown == len(list(panels(dashboard)))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            match = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["query"]["query"])
            assert match, variable
            series, label = concrete(match.group(1)), match.group(2)
            assert prometheus.api(f"label/{label}/values", **{"match[]": series}), variable["name"]


def test_the_alert_rules_load_and_evaluate(prometheus: Prometheus) -> None:
    groups = prometheus.api("rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 20
    assert [r["name"] for r in rules if r["health"] != "ok"] == []
    # the demo's fleet is healthy: its clusters are synced and reachable
    firing = {r["name"] for r in rules for alert in r.get("alerts", []) if alert["state"] == "firing"}
    assert not firing & {"FleetClusterUnreachable", "FleetSyncStale", "FleetMetricsDown"}

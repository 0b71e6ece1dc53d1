"""`fleet rapi` against the simulator: tables, JSON, job waits, and one-line errors with exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from fleet.cli.rapi import rapi
from fleet.rapi import Credentials, Pin, RapiClient, instances
from tests.rapi.tls import closed_port
from tests.targets import RapiTarget


@pytest.fixture
def target(simulator: list[RapiTarget]) -> RapiTarget:
    return simulator[0]


def invoke(target: RapiTarget, *args: str, user: str | None = None, password: str | None = None) -> Result:
    """Run `fleet rapi ARGS` with the target's URL, pin and (by default) the write user in the environment."""
    env = {
        "FLEET_RAPI_URL": target.url,
        "FLEET_RAPI_FINGERPRINT": target.fingerprint,
        "FLEET_RAPI_USER": user if user is not None else target.username,
        "FLEET_RAPI_PASSWORD": password if password is not None else target.password,
    }
    return CliRunner().invoke(rapi, list(args), env=env)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_fingerprint_prints_the_pin(target: RapiTarget) -> None:
    result = CliRunner().invoke(rapi, ["fingerprint", f"{target.host}:{target.port}"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == target.fingerprint
    assert "sha256 Fingerprint=" in result.stderr


def test_info_table_and_json(target: RapiTarget) -> None:
    table = invoke(target, "info")
    assert table.exit_code == 0, table.output
    assert target.name in table.stdout
    as_json = invoke(target, "info", "--json")
    assert json.loads(as_json.stdout)["name"] == target.name


def test_info_with_a_ca_file(target: RapiTarget) -> None:
    result = CliRunner().invoke(rapi, ["info", "--url", target.url, "--ca-file", target.cert_file, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == target.name


@pytest.mark.real_ganeti
def test_info_with_a_real_clusters_rapi_pem(real_ganeti: RapiTarget) -> None:
    # Ganeti's rapi.pem names no host (CN=ganeti.example.com): as a CA file it is trusted as it is.
    t = real_ganeti
    args = ["info", "--url", t.url, "--ca-file", t.cert_file, "--user", t.username, "--password", t.password]
    result = CliRunner().invoke(rapi, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == t.name


def test_instances_nodes_jobs_and_query(target: RapiTarget) -> None:
    listed = json.loads(invoke(target, "instances", "--json").stdout)
    table = invoke(target, "instances")
    assert table.stdout.splitlines()[0].split()[:3] == ["NAME", "STATUS", "PNODE"]
    assert all(i["name"] in table.stdout for i in listed)
    nodes = invoke(target, "nodes")
    assert nodes.exit_code == 0 and "ROLE" in nodes.stdout
    assert invoke(target, "jobs").exit_code == 0
    assert isinstance(json.loads(invoke(target, "jobs", "--json").stdout), list)
    query = invoke(target, "query", "node", "name,role", "--filter", '["==", "role", "M"]', "--json")
    assert [r["role"] for r in json.loads(query.stdout)] == ["M"]


def submit(target: RapiTarget, name: str) -> int:
    client = RapiClient.connect(
        target.url, trust=Pin(target.fingerprint), credentials=Credentials(target.username, target.password)
    )
    with client:
        return client.call(
            instances.reboot(name) if name != "missing" else instances.startup("missing.example")
        )


def test_job_wait_prints_the_log_and_the_outcome(target: RapiTarget) -> None:
    name = json.loads(invoke(target, "instances", "--json").stdout)[0]["name"]
    job_id = submit(target, name)
    result = invoke(target, "job", "wait", str(job_id))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == f"job {job_id}: success"
    shown = json.loads(invoke(target, "job", "show", str(job_id), "--json").stdout)
    assert (shown["id"], shown["status"]) == (job_id, "success")


def test_failed_job_exits_1_with_ganetis_error(target: RapiTarget) -> None:
    job_id = submit(target, "missing")
    result = invoke(target, "job", "wait", str(job_id))
    assert_one_line_error(result, f"job {job_id} failed", "OpPrereqError", "unknown_entity")


def test_http_errors_exit_1_with_one_line(target: RapiTarget) -> None:
    assert_one_line_error(invoke(target, "info", password="wrong"), "401")
    assert_one_line_error(invoke(target, "job", "show", "987654"), "404", "987654")
    assert_one_line_error(
        invoke(target, "job", "wait", "1", user=target.reader, password=target.reader_password), "403"
    )


def test_transport_errors_exit_1_with_one_line(target: RapiTarget) -> None:
    wrong_pin = CliRunner().invoke(rapi, ["info", "--url", target.url, "--fingerprint", "00" * 32])
    assert_one_line_error(wrong_pin, "does not match the pinned")
    closed = CliRunner().invoke(
        rapi,
        [
            "info",
            "--url",
            f"127.0.0.1:{closed_port()}",
            "--fingerprint",
            target.fingerprint,
            "--timeout",
            "2",
        ],
    )
    assert_one_line_error(closed, "127.0.0.1")
    fingerprint = CliRunner().invoke(rapi, ["fingerprint", f"127.0.0.1:{closed_port()}"])
    assert_one_line_error(fingerprint, "127.0.0.1")


def test_usage_errors_exit_2(target: RapiTarget) -> None:
    no_trust = CliRunner().invoke(rapi, ["info", "--url", target.url])
    assert no_trust.exit_code == 2
    assert "--fingerprint" in no_trust.stderr
    bad_pin = CliRunner().invoke(rapi, ["info", "--url", target.url, "--fingerprint", "nope"])
    assert bad_pin.exit_code == 2
    bad_url = CliRunner().invoke(rapi, ["info", "--url", "http://x:1", "--fingerprint", target.fingerprint])
    assert bad_url.exit_code == 2
    assert "https" in bad_url.stderr

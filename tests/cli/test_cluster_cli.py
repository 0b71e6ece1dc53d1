"""`fleet cluster` and `fleet instance list` against the simulator: add checks reachability, the pinned
certificate and the credentials, says which failed, and stores nothing then."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from fleet.cli.cluster import cluster
from fleet.cli.instance import instance
from fleet.inventory.models import Cluster
from tests.rapi.tls import closed_port
from tests.sync.conftest import run_once
from tests.targets import RapiTarget

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def target(simulator: list[RapiTarget]) -> RapiTarget:
    return simulator[0]


def add(target: RapiTarget, *extra: str, url: str | None = None, password: str | None = None) -> Result:
    args = [
        "add", url or target.url, "--user", target.username, "--fingerprint", target.fingerprint,
        "--password", target.password if password is None else password, "--timeout", "5", *extra,
    ]  # fmt: skip
    return CliRunner().invoke(cluster, args)


def assert_refused(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr
    assert not Cluster.objects.exists()


def test_add_then_list_and_show(target: RapiTarget) -> None:
    result = add(target)
    assert result.exit_code == 0, result.output
    row = Cluster.objects.get()
    assert row.name == target.name and row.rapi_password() == target.password
    assert row.rapi_password_encrypted != target.password
    listed = json.loads(CliRunner().invoke(cluster, ["list", "--json"]).stdout)
    assert [c["name"] for c in listed] == [target.name]
    shown = CliRunner().invoke(cluster, ["show", target.name])
    assert shown.exit_code == 0 and target.fingerprint in shown.stdout
    again = add(target)
    assert again.exit_code == 1 and "registered already" in again.stderr


def test_add_with_a_wrong_password_says_so_and_stores_nothing(target: RapiTarget) -> None:
    assert_refused(add(target, password="not-the-password"), "wrong user or password")


def test_add_with_a_wrong_fingerprint_says_so_and_stores_nothing(target: RapiTarget) -> None:
    wrong = ("0" if target.fingerprint[0] != "0" else "1") + target.fingerprint[1:]
    result = CliRunner().invoke(
        cluster,
        ["add", target.url, "--user", target.username, "--password", target.password, "--fingerprint", wrong],
    )
    assert_refused(result, "wrong fingerprint", target.fingerprint)


def test_add_with_an_unreachable_port_says_so_and_stores_nothing(target: RapiTarget) -> None:
    port = closed_port()
    assert_refused(add(target, url=f"https://127.0.0.1:{port}"), "unreachable", str(port))


def test_flags_remove_and_instance_list(target: RapiTarget) -> None:
    assert add(target).exit_code == 0
    run_once()
    for command, field in (("drain", "drained"), ("offline", "offline")):
        assert CliRunner().invoke(cluster, [command, target.name]).exit_code == 0
        assert getattr(Cluster.objects.get(), field) is True
        assert CliRunner().invoke(cluster, [command, target.name, "--clear"]).exit_code == 0
        assert getattr(Cluster.objects.get(), field) is False
    running = json.loads(CliRunner().invoke(instance, ["list", "--status", "running", "--json"]).stdout)
    assert running and all(r["status"] == "running" and r["cluster"] == target.name for r in running)
    bad = CliRunner().invoke(instance, ["list", "--status", "bogus"])
    assert bad.exit_code == 2 and "--status" in bad.output
    assert CliRunner().invoke(cluster, ["remove", target.name, "--yes"]).exit_code == 0
    assert not Cluster.objects.exists()
    missing = CliRunner().invoke(cluster, ["show", target.name])
    assert missing.exit_code == 1 and "no cluster named" in missing.stderr


def test_add_with_update_replaces_a_registration_after_the_same_checks(target: RapiTarget) -> None:
    assert add(target).exit_code == 0
    refused = add(target, "--update", password="not-the-password")
    assert refused.exit_code == 1 and "wrong user or password" in refused.stderr
    assert Cluster.objects.get().rapi_timeout == 5
    updated = add(target, "--update", "--timeout", "7")
    assert updated.exit_code == 0 and "Updated" in updated.stdout
    row = Cluster.objects.get()
    assert (row.rapi_url, row.rapi_timeout) == (target.url, 7)
    assert row.rapi_password() == target.password

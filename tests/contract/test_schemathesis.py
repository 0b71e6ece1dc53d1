"""The API's contract, held by schemathesis from outside: a live `fleet demo` (gunicorn, the worker and the
simulator behind it), fuzzed through its own OpenAPI schema with every check (server errors, status codes,
content types and bodies against the schema, requests the schema refuses, ignored auth, the stateful phase),
first as the plain user, then as the admin, each with a write token. The run must find no failure, and the
user's fuzzed writes must never have reached an instance the user did not own (the clusters' own job queues
say which instances each of the user's jobs acted on)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.demo import Stack, running_demo

CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 3  # per operation and phase: about 1,200 requests per account
SEED = 1  # the same cases each run, so a failure can be replayed
KEY = re.compile(r"fleet_[A-Za-z0-9_-]+")
INSTANCE_PATHS = r"^/api/instances/\{id\}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_demo(tmp_path_factory.mktemp("contract"), "--instances", "60", "--time-scale", "0.05") as s:
        yield s


def write_token(stack: Stack, username: str) -> str:
    made = stack.fleet("token", "create", "--user", username, "--name", "contract", "--scope", "write")
    assert made.returncode == 0, made.stderr
    found = KEY.search(made.stdout)
    assert found, made.stdout
    return found.group(0)


def fuzz(stack: Stack, username: str, target: str) -> str:
    """schemathesis against the demo as ``username``, the instance endpoints always on ``target`` (an instance
    as CLUSTER:NAME); its report, which must show no failure."""
    config = stack.state_dir / f"schemathesis-{username}.toml"
    config.write_text(  # JSON strings are TOML strings
        f"{CONFIG.read_text()}\n[[operations]]\ninclude-path-regex = {json.dumps(INSTANCE_PATHS)}\n"
        f'parameters = {{ "path.id" = {json.dumps(target)} }}\n'
    )
    st = str(Path(sys.executable).with_name("st"))
    command = [
        st, "--config-file", str(config), "run", f"{stack.url}api/schema/?format=json",
        "--header", f"Authorization: Token {write_token(stack, username)}",
        "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1",
        "--no-color", "--request-timeout", "30",
    ]  # fmt: skip
    # In the demo's directory: schemathesis keeps its cache of failures where it runs.
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=stack.state_dir)
    report = done.stdout[-20_000:]
    assert done.returncode == 0, report
    assert re.search(r"\d+ generated", report), report
    return report


def owned(stack: Stack, username: str) -> set[str]:
    """CLUSTER/NAME of each instance ``username`` may see, as Fleet's read model has them now."""
    return set(
        stack.query(
            "from django.contrib.auth import get_user_model\n"
            "from fleet.access.policy import Action, restrict\n"
            "from fleet.inventory.models import Instance\n"
            f"user = get_user_model().objects.get(username={username!r})\n"
            "rows = restrict(Instance.objects.all(), user, Action.VIEW)\n"
            "result = [f'{c}/{n}' for c, n in rows.values_list('cluster__name', 'name')]"
        )
    )


def jobs_asked_by(stack: Stack, username: str) -> list[list[str]]:
    """[cluster, instance, opcode] of every opcode on the clusters whose reason trail names ``username``,
    read from each cluster's own job queue."""
    return list(
        stack.query(
            "import httpx\n"
            "from fleet.inventory.models import Cluster\n"
            "result = []\n"
            "for c in Cluster.objects.all():\n"
            "    url = c.rapi_url.rstrip('/') + '/2/jobs?bulk=1'\n"
            "    auth = (c.rapi_username, c.rapi_password())\n"
            "    for job in httpx.get(url, verify=False, auth=auth, timeout=30).json():\n"
            "        for op in job['ops']:\n"
            "            said = ' '.join(str(entry[1]) for entry in op.get('reason') or [])\n"
            f"            if ' by {username}]' in said:\n"
            "                result.append([c.name, op.get('instance_name', ''), op['OP_ID']])\n"
        )
    )


@pytest.mark.timeout(1800)
def test_the_api_keeps_its_schema_for_a_user_and_an_admin(stack: Stack) -> None:
    user, admin = stack.user["username"], stack.admin["username"]
    mine, every = owned(stack, user), owned(stack, admin)
    assert mine and every - mine, "the demo user owns some instances, not all"
    theirs = min(every - mine).replace("/", ":", 1)
    report = fuzz(stack, user, theirs)  # every write aimed at another owner's instance
    print(report[report.find("SUMMARY") :])
    for cluster, instance, opcode in jobs_asked_by(stack, user):
        assert f"{cluster}/{instance}" in mine, (cluster, instance, opcode)
    report = fuzz(stack, admin, theirs)  # the admin's writes reach it, and their answers keep the schema
    print(report[report.find("SUMMARY") :])
    assert jobs_asked_by(stack, admin), "the admin's fuzzed writes became jobs"

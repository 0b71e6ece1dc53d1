"""ganetimgr's two flaws of its instance configuration form, each as the test that would have caught it, on
every face (the page, the API, the CLI):

- the config POST had no ownership (nor lock) check: here a user who does not own the instance gets a 404,
  and nothing is left for the worker to send to the cluster;
- the ISO URL was fetched by the web server for whoever asked (SSRF): here an address that is not public is
  refused with the reason, whoever asks, and nothing connects to it (an HTTP server there counts requests).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner
from django.conf import settings
from django.test import Client, override_settings

from fleet.cli.main import cli
from fleet.operations.models import Operation, OperationStatus
from tests.access.world import World, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build()


@pytest.fixture
def target() -> Iterator[tuple[int, list[str]]]:
    """An HTTP server on 127.0.0.1 counting requests, and a resolver that sends two names to it."""
    hits: list[str] = []

    class Recording(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    def resolve(host: str, timeout: float) -> Sequence[str]:
        return {"isos.example.net": ["127.0.0.1"], "cdn.example.net": ["93.184.216.34", "::1"]}[host]

    config = replace(settings.FLEET_CDROM, ports=(80, 443, port), resolver=resolve)
    try:
        with override_settings(FLEET_CDROM=config):
            yield port, hits
    finally:
        server.shutdown()
        server.server_close()


def faces(world: World, who: str, instance_name: str, fields: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(face, status or exit code, what it said) for the same change asked through each face."""
    user = world.accounts[who]
    instance = world.instances[instance_name]
    client = Client()
    client.force_login(user)
    api = client.post(f"/api/instances/{instance.pk}/modify/", fields, content_type="application/json")
    page = client.post(f"/instances/{instance.cluster.name}/{instance.name}/", {"action": "modify", **fields})
    options = [part for name, value in fields.items() for part in (f"--{name.replace('_', '-')}", str(value))]
    command = ["instance", "modify", instance.name, "--as", user.get_username(), "--no-wait", *options]
    run = CliRunner().invoke(cli, command)
    return [("api", api.status_code, api.content.decode()), ("page", page.status_code, page.content.decode()),
            ("cli", run.exit_code, run.output)]  # fmt: skip


def test_ganetimgr_config_post_without_ownership_check(world: World, target: tuple[int, list[str]]) -> None:
    port, hits = target
    pending = set(Operation.objects.filter(status=OperationStatus.PENDING).values_list("pk", flat=True))
    change = {"boot_order": "cdrom", "cdrom_image_url": f"http://isos.example.net:{port}/rescue.iso"}
    for who in ("carol", "bare", "helpdesk"):
        said = faces(world, who, "plain", change)
        if who == "helpdesk":  # sees it, may not change it
            assert [code for _, code, _ in said] == [403, 403, 1], said
            assert all(
                "Only its owners and administrators may change the configuration" in text for *_, text in said
            )
        else:
            assert [code for _, code, _ in said] == [404, 404, 1], said
            assert "no instance plain.example.org that" in said[2][2]
    locked = faces(world, "alice", "locked", {"vcpus": 2})
    assert [code for _, code, _ in locked] == [403, 403, 1], locked
    refused = Operation.objects.filter(kind="modify")
    assert refused.count() == 12 and set(refused.values_list("status", flat=True)) == {
        OperationStatus.REFUSED
    }
    now_pending = set(Operation.objects.filter(status=OperationStatus.PENDING).values_list("pk", flat=True))
    assert now_pending == pending  # nothing for the worker to send to the cluster
    assert hits == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/x.iso",
        "http://isos.example.net:{port}/x.iso",
        "http://cdn.example.net:{port}/x.iso",
        "http://2130706433:{port}/x.iso",
        "http://0x7f.1:{port}/x.iso",
        "http://[::ffff:127.0.0.1]:{port}/x.iso",
        "http://[::1]:{port}/x.iso",
    ],
)
def test_ganetimgr_ssrf_through_the_iso_url(world: World, target: tuple[int, list[str]], url: str) -> None:
    port, hits = target
    before = Operation.objects.count()
    for who in ("alice", "root"):  # an owner, and an admin: nobody makes Fleet reach a private address
        said = faces(world, who, "plain", {"cdrom_image_url": url.format(port=port)})
        assert [code for _, code, _ in said] == [400, 400, 2], said
        assert all("cdrom_image_url" in text or "--cdrom-image-url" in text for *_, text in said), said
    assert Operation.objects.count() == before  # an invalid request records nothing
    assert hits == []

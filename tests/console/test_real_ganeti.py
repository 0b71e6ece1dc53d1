"""The console's look at the cluster before a token is minted, on real Ganeti 3.0.2 (fake hypervisor) beside
the simulator: Ganeti's fake hypervisor answers a console of kind msg, whose message is the refusal Fleet
records and shows; the simulator's KVM answers where its VNC server listens, and the token carries it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from fleet.console import tokens
from fleet.console.sessions import open_console
from fleet.inventory.models import Cluster, Instance
from fleet.operations.core import Caller, Refused
from fleet.operations.models import Operation, OperationKind, OperationStatus
from fleet.sync.loop import LoopSettings
from fleet.sync.worker import WorkerSettings
from tests.sync.conftest import Running, register, running_worker, wait_for
from tests.targets import RapiTarget

__all__ = ["running_worker"]  # a fixture, used by name

pytestmark = pytest.mark.django_db(transaction=True)

SETTINGS = WorkerSettings(loop=LoopSettings(interval=600.0, job_poll=0.5), job_scan=0.2)


@pytest.fixture(params=["simulator", pytest.param("real_ganeti", marks=pytest.mark.real_ganeti)])
def target(request: pytest.FixtureRequest) -> tuple[str, RapiTarget]:
    if request.param == "simulator":
        return "simulator", request.getfixturevalue("simulator")[0]
    return "real_ganeti", request.getfixturevalue("real_ganeti")


def test_the_console_as_the_cluster_answers(
    target: tuple[str, RapiTarget], running_worker: Callable[[WorkerSettings], Running]
) -> None:
    kind, rapi = target
    admin = User.objects.create_superuser("root", "root@example.org", "secret-password-1")
    cluster = register(rapi, timeout=30.0)
    running_worker(SETTINGS)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None, timeout=60)
    instance = (
        Instance.objects.filter(cluster=cluster, status="running")
        .select_related("cluster", "primary_node")
        .order_by("name")
        .first()
    )
    assert instance is not None
    if kind == "real_ganeti":
        with pytest.raises(Refused) as refused:
            open_console(instance, by=Caller(admin))
        assert refused.value.conflict
        assert refused.value.operation.error == "Console not available for fake hypervisor"
        return
    opened = open_console(instance, by=Caller(admin))
    token = tokens.read(opened.token)
    assert (token.instance, token.port) == (instance.name, instance.network_port)
    assert token.host == rapi.url.split("//")[1].rsplit(":", 1)[0]  # the cluster's own loopback address
    operation = Operation.objects.get(pk=opened.session.operation_id)
    assert (operation.kind, operation.status) == (OperationKind.CONSOLE, OperationStatus.SUCCEEDED)

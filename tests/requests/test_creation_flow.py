"""An approved application's create, end to end over HTTP with a real worker and a simulated cluster over TLS:
the create fails (the simulator's ``fail_jobs`` fault), the application shows Ganeti's error and the
reviewers are mailed; the applicant edits and resubmits it, the reviewer approves it again, and a new create
makes the VM, which is the applicant's by its owner tag and in their list; they are mailed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from fleet.conf.config import load
from fleet.inventory.models import Cluster, Instance, Network
from fleet.notify.models import Mail
from fleet.operations.models import Operation
from fleet.requests.models import Application
from fleet.sync.worker import WorkerSettings
from tests.conf.test_config import KEY, SECRET
from tests.conftest import Simulated
from tests.operations.conftest import FAST
from tests.sync.conftest import Running, register, running_worker, set_faults, wait_for

__all__ = ["running_worker"]  # a fixture, used by name

pytestmark = pytest.mark.django_db(transaction=True)

HOSTNAME = "made.example.org"
STORAGE = """
[storage.fast]
max_gb = 50
on = [{ cluster = "*", vg = "xenvg" }]

[storage.bulk]
max_gb = 500
on = [{ cluster = "*", vg = "xenvg", disk_templates = ["plain"] }]
"""


def client_of(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def status_of(application: Application) -> str:
    return Application.objects.get(pk=application.pk).status


def test_a_failed_create_is_fixed_resubmitted_and_made(
    tmp_path, fresh_simulator: Callable[..., Simulated], running_worker: Callable[[WorkerSettings], Running]
) -> None:
    sim = fresh_simulator()
    cluster = register(sim.targets[0])
    running_worker(FAST)
    wait_for(lambda: Cluster.objects.get(pk=cluster.pk).last_sync_at is not None)
    path = tmp_path / "fleet.toml"
    path.write_text(f'secret_key = "{SECRET}"\ncredentials_key = "{KEY}"\n{STORAGE}')
    config = load({"FLEET_CONFIG": str(path)})
    alice = User.objects.create_user("alice", email="alice@example.org")
    root = User.objects.create_superuser("root", "root@example.org", "secret-password-1")
    network = Network.objects.filter(cluster=cluster, free_count__gt=0).order_by("name").first()
    assert network is not None
    wanted = {
        "hostname": HOSTNAME,
        "memory_mb": "512",
        "vcpus": "1",
        "disk0_class": "fast",
        "disk0_gb": "2",
        "disk1_class": "bulk",
        "disk1_gb": "20",
        "os": "debootstrap+default",
        "network": network.name,
        "organisation": "GRNET",
        "accept_terms": "on",
    }
    applicant, reviewer = client_of(alice), client_of(root)
    with override_settings(FLEET_STORAGE=config.storage, FLEET_LIMITS=config.limits):
        answer = applicant.post("/applications/new/", wanted)
        assert answer.status_code == 302, answer.content.decode()[:3000]
        application = Application.objects.get()
        review = f"/applications/{application.pk}/review/"

        set_faults(sim.control_url, cluster.name, fail_jobs=1.0)
        assert reviewer.post(review, {"action": "auto"}).status_code == 302
        assert status_of(application) == "submitted"
        wait_for(lambda: status_of(application) == "failed")
        application.refresh_from_db()
        first = application.operation
        assert first is not None and first.status == "failed"
        assert application.error.startswith("OpExecError: ") and application.error == first.error
        page = applicant.get(f"/applications/{application.pk}/").content.decode()
        assert application.error in page and "Edit and resubmit" in page
        (failed,) = Mail.objects.filter(template="application_failed")
        assert failed.to == ["root@example.org"] and application.error in failed.body
        assert not Instance.objects.filter(name=HOSTNAME).exists()

        set_faults(sim.control_url, cluster.name, fail_jobs=0.0)
        edited = applicant.post(f"/applications/{application.pk}/edit/", wanted | {"memory_mb": "1024"})
        assert edited.status_code == 302
        assert status_of(application) == "pending"
        assert reviewer.post(review, {"action": "auto"}).status_code == 302
        wait_for(lambda: status_of(application) == "succeeded")
        application.refresh_from_db()
        second = application.operation
        assert second is not None and second.pk != first.pk and second.status == "succeeded"
        assert Operation.objects.filter(kind="create").count() == 2
        (created,) = Mail.objects.filter(template="application_created")
        assert created.to == ["alice@example.org"] and HOSTNAME in created.body

        # the job's resync brings the VM in, the applicant's by its owner tag, with what was asked
        wait_for(lambda: Instance.objects.filter(cluster=cluster, name=HOSTNAME, status="running").exists())
        made = Instance.objects.get(cluster=cluster, name=HOSTNAME)
        assert "fleet:user:alice" in made.tags and f"fleet:application:{application.pk}" in made.tags
        assert list(made.owners.values_list("kind", "name")) == [("user", "alice")]
        assert made.memory == 1024 and made.disk_sizes == [2048, 20480]
        assert HOSTNAME in applicant.get("/").content.decode()
        # both creates are in the audit log, as the reviewer's, on the VM's name
        audit = reviewer.get("/audit/")
        assert audit.status_code == 200 and audit.content.decode().count(HOSTNAME) >= 2

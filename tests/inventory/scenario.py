"""A small fleet with known answers, shared by the page, API and policy tests.

Three clusters (alpha healthy, beta unreachable, gamma never synced); 18 instances; five accounts:

- alice owns a00-a02 and aai-box.grnet.gr directly, and b00 (also owned by the group ops): 5 instances;
- bob owns, through the group ops, a03-a05, b00 and b01: 5 instances;
- carol owns nothing; helpdesk reads everything; root is a superuser.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from fleet.inventory.models import (
    Cluster,
    ClusterHealth,
    Instance,
    InstanceStatus,
    Network,
    Nic,
    NodeGroup,
    NodeRole,
)
from fleet.inventory.owners import sync_owners
from fleet.jobs.models import Job, JobStatus
from tests.inventory import factories

BETA_ERROR = "<script>alert('pwned')</script> connect to beta.example.org:5080 timed out & gave up"
MEMORY = [512, 1024, 2048, 4096, 8192]


@dataclass
class Scenario:
    alpha: Cluster
    beta: Cluster
    gamma: Cluster
    alice: User
    bob: User
    carol: User
    helpdesk: User
    root: User
    ops: Group
    instances: dict[str, Instance]
    jobs: dict[str, Job]

    def __getitem__(self, name: str) -> Instance:
        return self.instances[name]


def owner(*names: str) -> list[str]:
    return [f"fleet:{name}" for name in names]


def build() -> Scenario:
    now = timezone.now()
    alpha = factories.cluster(
        "alpha.example.org",
        health=ClusterHealth.HEALTHY,
        last_sync_at=now,
        software_version="3.0.2",
        default_hypervisor="kvm",
        enabled_hypervisors=["kvm"],
        enabled_disk_templates=["drbd", "plain"],
        ipolicy={"std": {"memory-size": 128}, "vcpu-ratio": 4.0},
        description="Main <b>cluster</b>",
    )
    beta = factories.cluster(
        "beta.example.org",
        health=ClusterHealth.UNREACHABLE,
        last_sync_at=now - dt.timedelta(hours=2),
        last_error=BETA_ERROR,
        last_error_at=now,
        consecutive_failures=3,
    )
    gamma = factories.cluster("gamma.example.org")

    groups = {
        c.pk: NodeGroup.objects.create(cluster=c, name="default", node_count=1) for c in (alpha, beta, gamma)
    }
    n1 = factories.node(
        alpha,
        "alpha-n1.example.org",
        group=groups[alpha.pk],
        role=NodeRole.MASTER,
        memory_total=65536,
        memory_free=16384,
        disk_total=1_000_000,
        disk_free=100_000,
    )
    n2 = factories.node(
        alpha,
        "alpha-n2.example.org",
        group=groups[alpha.pk],
        role=NodeRole.CANDIDATE,
        memory_total=65536,
        memory_free=65536,
        disk_total=1_000_000,
        disk_free=1_000_000,
    )
    nb = factories.node(
        beta, "beta-n1.example.org", group=groups[beta.pk], role=NodeRole.DRAINED, drained=True
    )
    ng = factories.node(
        gamma, "gamma-n1.example.org", group=groups[gamma.pk], role=NodeRole.OFFLINE, offline=True
    )
    public = Network.objects.create(cluster=alpha, name="public_500", network="83.212.168.0/24")
    Network.objects.create(cluster=beta, name="vian85", network="10.85.0.0/16")

    ops = Group.objects.create(name="ops")
    alice = User.objects.create_user("alice", "alice@example.org", "pw")
    bob = User.objects.create_user("bob", "bob@example.org", "pw")
    bob.groups.add(ops)
    carol = User.objects.create_user("carol", "carol@example.org", "pw")
    helpdesk = User.objects.create_user("helpdesk", "help@example.org", "pw")
    desk = Group.objects.create(name="helpdesk")
    desk.permissions.add(Permission.objects.get(codename="view_all", content_type__app_label="access"))
    helpdesk.groups.add(desk)
    root = User.objects.create_superuser("root", "root@example.org", "pw")

    made: dict[str, Instance] = {}
    for n in range(10):
        tags = owner("user:alice") if n < 3 else owner("group:ops") if n < 6 else []
        made[f"vm-a{n}"] = factories.instance(
            alpha,
            f"vm-a{n}.example.org",
            tags=tags,
            memory=MEMORY[n % 5],
            vcpus=n % 4 + 1,
            status=InstanceStatus.RUNNING if n < 7 else InstanceStatus.ADMIN_DOWN,
            primary_node=n1 if n % 2 == 0 else n2,
            disk_sizes=[10240 * (n + 1)],
            disk_total=10240 * (n + 1),
        )
    made["aai-box"] = factories.instance(
        alpha,
        "aai-box.grnet.gr",
        tags=[*owner("user:alice"), "fleet:needsreboot"],
        memory=6144,
        vcpus=6,
        primary_node=n1,
        disk_sizes=[10240, 51200],
        disk_total=61440,
    )
    Nic.objects.create(
        instance=made["aai-box"],
        index=0,
        ip="83.212.168.153",
        mac="aa:00:00:12:34:56",
        network=public,
        network_name="public_500",
        mode="routed",
        link="rt500",
    )
    Nic.objects.create(
        instance=made["vm-a1"],
        index=0,
        ip="83.212.168.10",
        mac="aa:00:00:00:00:01",
        network=public,
        network_name="public_500",
        mode="routed",
        link="rt500",
    )
    for n in range(5):
        tags = [*owner("user:alice", "group:ops")] if n == 0 else owner("group:ops") if n == 1 else []
        made[f"vm-b{n}"] = factories.instance(
            beta,
            f"vm-b{n}.example.org",
            tags=tags,
            memory=2048,
            vcpus=2,
            primary_node=nb,
            status=InstanceStatus.ERROR_DOWN if n == 4 else InstanceStatus.RUNNING,
        )
    Nic.objects.create(
        instance=made["vm-b0"],
        index=0,
        mac="aa:00:00:00:0b:00",
        network_name="vian85",
        mode="bridged",
        link="vian85",
    )
    made["percent"] = factories.instance(beta, "50%_off.example.org", primary_node=nb, memory=1024, vcpus=1)
    made["unicode"] = factories.instance(
        gamma,
        "ünïcode-δοκιμή.example.org",
        tags=owner("user:dave"),
        primary_node=ng,
        memory=16384,
        vcpus=8,
    )
    made["vm-b1"].secondary_nodes.add(n2)
    sync_owners(Instance.objects.all())

    jobs = {
        "alpha-ok": Job.objects.create(
            cluster=alpha,
            job_id=101,
            status=JobStatus.SUCCESS,
            instance=made["vm-a0"],
            requester=alice,
            summary=["INSTANCE_REBOOT(vm-a0.example.org)"],
            op_ids=["OP_INSTANCE_REBOOT"],
            op_statuses=["success"],
            received_at=now - dt.timedelta(minutes=5),
            log=[[1, [1700000000, 0], "message", "Rebooting <instance>"]],
        ),
        "alpha-failed": Job.objects.create(
            cluster=alpha,
            job_id=102,
            status=JobStatus.ERROR,
            instance=made["vm-a6"],
            summary=["INSTANCE_STARTUP(vm-a6.example.org)"],
            op_ids=["OP_INSTANCE_STARTUP"],
            op_statuses=["error"],
            error_class="OpPrereqError",
            error_message="Not enough memory",
            error_code="insufficient_resources",
            received_at=now - dt.timedelta(minutes=3),
        ),
        "beta-running": Job.objects.create(
            cluster=beta,
            job_id=7,
            status=JobStatus.RUNNING,
            instance=made["vm-b1"],
            summary=["INSTANCE_MIGRATE(vm-b1.example.org)"],
            op_ids=["OP_INSTANCE_MIGRATE"],
            received_at=now - dt.timedelta(minutes=1),
        ),
        "gamma-cluster": Job.objects.create(
            cluster=gamma,
            job_id=1,
            status=JobStatus.QUEUED,
            summary=["CLUSTER_VERIFY"],
            op_ids=["OP_CLUSTER_VERIFY"],
            received_at=now,
        ),
    }
    return Scenario(alpha, beta, gamma, alice, bob, carol, helpdesk, root, ops, made, jobs)

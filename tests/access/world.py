"""A fleet with one instance per condition, and one account per role and named permission.

Clusters: main (as usual), dark (marked offline), dry (drained). main has two node groups: default, and
rack2 under maintenance (its tag ``fleet:maintenance``). Each instance is owned by alice directly and by the
group ops, which bob is in:

    plain   on main, group default       locked  on main, group default, tagged fleet:adminlock
    maint   on main, group rack2         dark    on the offline cluster       dry  on the drained cluster

Accounts: carol owns nothing; helpdesk holds access.view_all; root is a superuser; for each named
permission P, an account named after it holds P with access.view_all (how a NOC group is set up); bare
holds access.lock_instance alone.

Jobs (on plain unless named otherwise): queued, running, queued-locked, queued-maint, queued-dark; carol asked
for "asked" (queued, on plain, which she does not own).

Operations: root rebooted plain ("by-root"); carol was refused a reboot of plain ("by-carol"); root
destroyed an instance that is gone ("gone").
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, Group, Permission, User

from fleet.access.actions import Permission as Named
from fleet.inventory.models import Cluster, Instance, Network, Node, NodeGroup
from fleet.inventory.owners import sync_owners
from fleet.jobs.models import Job, JobStatus
from fleet.operations.models import Operation, OperationKind, OperationStatus
from tests.inventory import factories

CONDITIONS = ("plain", "locked", "maint", "dark", "dry")
OWNED = ["fleet:user:alice", "fleet:group:ops"]


@dataclass
class World:
    accounts: dict[str, User | AnonymousUser]
    instances: dict[str, Instance]
    jobs: dict[str, Job]
    operations: dict[str, Operation]
    clusters: dict[str, Cluster]
    groups: dict[str, NodeGroup]
    nodes: dict[str, Node]
    networks: dict[str, Network]


def permission(named: Named) -> Permission:
    app_label, codename = named.value.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def account(name: str, *named: Named, superuser: bool = False) -> User:
    if superuser:
        return User.objects.create_superuser(name, f"{name}@example.org", "pw")
    user = User.objects.create_user(name, f"{name}@example.org", "pw")
    user.user_permissions.add(*(permission(p) for p in named))
    return user


def build() -> World:
    main = factories.cluster("main.example.org")
    dark = factories.cluster("dark.example.org", offline=True)
    dry = factories.cluster("dry.example.org", drained=True)
    groups = {
        "default": NodeGroup.objects.create(cluster=main, name="default"),
        "rack2": NodeGroup.objects.create(cluster=main, name="rack2", tags=["fleet:maintenance"]),
        "dark": NodeGroup.objects.create(cluster=dark, name="default"),
        "dry": NodeGroup.objects.create(cluster=dry, name="default"),
    }
    nodes = {
        "n1": factories.node(main, "n1.main.example.org", group=groups["default"]),
        "n2": factories.node(main, "n2.main.example.org", group=groups["rack2"]),
        "dark": factories.node(dark, "n1.dark.example.org", group=groups["dark"]),
        "dry": factories.node(dry, "n1.dry.example.org", group=groups["dry"]),
    }
    place = {
        "plain": (main, nodes["n1"], []),
        "locked": (main, nodes["n1"], ["fleet:adminlock"]),
        "maint": (main, nodes["n2"], []),
        "dark": (dark, nodes["dark"], []),
        "dry": (dry, nodes["dry"], []),
    }
    instances = {
        name: factories.instance(cluster, f"{name}.example.org", tags=[*OWNED, *extra], primary_node=node)
        for name, (cluster, node, extra) in place.items()
    }
    sync_owners(Instance.objects.all())
    networks = {"public": Network.objects.create(cluster=main, name="public", network="192.0.2.0/24")}

    ops = Group.objects.create(name="ops")
    accounts: dict[str, User | AnonymousUser] = {
        "anonymous": AnonymousUser(),
        "carol": account("carol"),
        "alice": account("alice"),
        "bob": account("bob"),
        "helpdesk": account("helpdesk", Named.VIEW_ALL),
        "root": account("root", superuser=True),
        "bare": account("bare", Named.LOCK_INSTANCE),
    }
    accounts["bob"].groups.add(ops)  # type: ignore[union-attr]
    for named in Named:
        if named is not Named.VIEW_ALL:
            accounts[named.codename] = account(named.codename, Named.VIEW_ALL, named)

    def job(n: int, on: str, status: JobStatus, requester: User | None = None) -> Job:
        instance = instances[on]
        return Job.objects.create(
            cluster=instance.cluster, job_id=n, status=status, instance=instance, requester=requester
        )

    carol = accounts["carol"]
    assert isinstance(carol, User)
    jobs = {
        "queued": job(1, "plain", JobStatus.QUEUED),
        "running": job(2, "plain", JobStatus.RUNNING),
        "queued-locked": job(3, "locked", JobStatus.QUEUED),
        "queued-maint": job(4, "maint", JobStatus.WAITING),
        "queued-dark": job(5, "dark", JobStatus.QUEUED),
        "asked": job(6, "plain", JobStatus.QUEUED, requester=carol),
    }

    def operation(kind: OperationKind, on: str, by: User, status: OperationStatus) -> Operation:
        instance = instances.get(on)
        return Operation.objects.create(
            kind=kind,
            status=status,
            cluster=main,
            cluster_name=main.name,
            instance=instance,
            instance_name=f"{on}.example.org",
            requester=by,
            requester_name=by.username,
        )

    root = accounts["root"]
    assert isinstance(root, User)
    operations = {
        "by-root": operation(OperationKind.REBOOT, "plain", root, OperationStatus.SUCCEEDED),
        "by-carol": operation(OperationKind.REBOOT, "plain", carol, OperationStatus.REFUSED),
        "gone": operation(OperationKind.DESTROY, "gone", root, OperationStatus.SUCCEEDED),
    }
    return World(
        accounts,
        instances,
        jobs,
        operations,
        {"main": main, "dark": dark, "dry": dry},
        groups,
        nodes,
        networks,
    )

"""Issue 12's figure for the policy, on PostgreSQL over 40,000 synced instances, as ratios in one run.

- What the actions of a page of 50 rows cost (``policy.actions_for``, one query), against the page's own
  rows statement, and against asking ``policy.decide`` row by row for one action (what a page without it
  would do: 50 queries), for the owner with the most instances and for an admin.
- The rows an owner may reboot (``restrict(POWER)``: ownership, lock, maintenance and offline in SQL)
  against the rows they may see (``restrict(VIEW)``, the list's query), a page of 50 each.

Needs FLEET_DATABASE_URL naming a PostgreSQL server whose role may create databases (``fleet_bench_access``).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bench import deployment
from bench.common import report, side_by_side, simulator

PROFILE = ("--profile", "large")  # 30 clusters, 40,000 instances
RUNS = 40


def main() -> None:
    url = deployment.server_url()
    deployment.DATABASE = "fleet_bench_access"
    with deployment.database(url) as database_url, tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        deployment.configure(database_url, Path(tmp))
        from fleet.sync.leases import for_database
        from fleet.sync.worker import Worker, WorkerSettings

        with simulator(*PROFILE, time_scale=0.2) as sim:
            deployment.register(sim)
            asyncio.run(Worker(WorkerSettings(), for_database()).run_once(job_timeout=60))
        measure()


def measure() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from fleet.access import policy
    from fleet.access.policy import Action
    from fleet.inventory.models import Instance, InstanceOwner
    from fleet.web.views.instances import instance_list_queryset

    User = get_user_model()
    top = (
        InstanceOwner.objects.filter(kind="user")
        .values("name")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .first()
    )
    assert top is not None, "the profile gave no owner tags"
    owner = User.objects.create_user(top["name"], "owner@example.org", "pw")
    admin = User.objects.create_superuser("admin", "admin@example.org", "pw")
    # a few of the owner's instances locked, so that the conditions have something to refuse
    mine = Instance.objects.owned_by(owner).order_by("name")
    for instance in mine[:5]:
        Instance.objects.filter(pk=instance.pk).update(tags=[*instance.tags, "fleet:adminlock"])
    total = Instance.objects.count()
    print(f"\n{total:,} instances; the owner {owner.username} owns {top['n']}")

    for who, user in (("owner", owner), ("admin", admin)):
        user = User.objects.get(pk=user.pk)
        policy.role_of(user)  # a page has read the account's permissions for its menu already
        queryset = policy.restrict(instance_list_queryset(), user, Action.VIEW)
        page = list(queryset[:50])
        objects = list(Instance.objects.filter(pk__in=[row["pk"] for row in page]))
        with CaptureQueriesContext(connection) as queries:
            policy.actions_for(user, page)
        assert len(queries) == 1, queries.captured_queries

        def rows(queryset=queryset) -> object:
            return list(queryset[:50])

        def actions(user=user, page=page) -> object:
            return policy.actions_for(user, page)

        def one_by_one(user=user, objects=objects) -> object:
            return [policy.decide(user, Action.POWER, obj).allowed for obj in objects]

        base = f"the list's rows statement, {len(page)} rows"
        timed = side_by_side(
            {
                base: rows,
                f"actions_for() the {len(page)} rows (1 query, {len(Action)} actions)": actions,
                f"decide() row by row, one action ({len(objects)} queries)": one_by_one,
            },
            RUNS,
        )
        report(f"the actions of a page, {who}", timed, base)

    owner = User.objects.get(pk=owner.pk)
    visible = policy.restrict(Instance.objects.order_by("name", "pk"), owner, Action.VIEW)
    power = policy.restrict(Instance.objects.order_by("name", "pk"), owner, Action.POWER)
    print(f"\n  the owner sees {visible.count()} instances and may reboot {power.count()}")
    timed = side_by_side(
        {
            "restrict(VIEW), a page of 50": lambda: list(visible[:50]),
            "restrict(POWER), a page of 50": lambda: list(power[:50]),
        },
        RUNS,
    )
    report("rows an owner may act on, against the rows they may see", timed, "restrict(VIEW), a page of 50")


if __name__ == "__main__":
    main()

"""`fleet worker`: sync the clusters into the database, follow jobs, record health.

Runs until SIGTERM or SIGINT, then drains (finishes the writes in progress, leaves unfinished jobs for the
next start). `--once` does one pass of every cluster and follows the unfinished jobs to their end, sends the
mail that is due, then exits, non-zero if a cluster's pass failed (so that cron reports it; mail that
could not go is retried at the next run). `--check` runs nothing: it exits 1,
naming the clusters, when a cluster's sync is failing or stale.
"""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from fleet.cli.django_app import with_django
from fleet.sync import DEFAULT_INTERVAL, DEFAULT_JOB_POLL


@click.command()
@click.option(
    "--once",
    is_flag=True,
    help="One pass of every cluster, follow pending jobs to their end, send the mail due, exit.",
)
@click.option("--check", is_flag=True, help="Exit 1 if a cluster's sync is failing or stale, 0 otherwise.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.5),
    default=DEFAULT_INTERVAL,
    show_default=True,
    help="Seconds between full passes (what changes without a job: a node that dies, a VM shut down inside).",
)
@click.option(
    "--job-poll",
    type=click.FloatRange(min=0.2),
    default=DEFAULT_JOB_POLL,
    show_default=True,
    help="Seconds between polls of each cluster's job queue: a change made through any job shows this fast.",
)
@click.option(
    "--lease-period",
    type=click.FloatRange(min=0.5),
    default=10.0,
    show_default=True,
    help="Seconds between lease rounds (PostgreSQL): a dead worker's clusters move within one period.",
)
@click.option(
    "--job-timeout",
    type=click.FloatRange(min=0),
    default=300.0,
    show_default=True,
    help="With --once: how long to wait for pending jobs to end.",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="With --once: log every pass and job (at the configured log_level)."
)
@with_django
def worker(
    once: bool,
    check: bool,
    interval: float,
    job_poll: float,
    lease_period: float,
    job_timeout: float,
    verbose: bool,
) -> None:
    """Sync every cluster Fleet manages (except offline ones) and follow their jobs."""
    from django.utils import timezone

    from fleet.sync import health
    from fleet.sync.leases import LeaseError, for_database
    from fleet.sync.loop import LoopSettings
    from fleet.sync.worker import Worker, WorkerSettings

    if check:
        problems = health.problems(timezone.now(), interval)
        for line in problems:
            click.echo(line, err=True)
        if problems:
            raise SystemExit(1)
        click.echo("all clusters synced")
        return

    if once and not verbose:  # cron mails what a run prints: only warnings and errors
        root = logging.getLogger()
        root.setLevel(max(root.level, logging.WARNING))
    settings = WorkerSettings(
        loop=LoopSettings(interval=interval, job_poll=job_poll), lease_period=lease_period
    )
    try:
        leases = for_database()
    except LeaseError as exc:
        raise click.ClickException(str(exc)) from exc
    runner = Worker(settings, leases)

    async def main() -> bool:
        if once:
            loops = await runner.run_once(job_timeout=job_timeout)
            ok = True
            for loop in loops.values():
                outcome = loop.last_outcome
                state = "ok" if outcome is None or outcome.ok else f"failed: {outcome.error}"
                ok = ok and state == "ok"
                click.echo(f"{loop.name}: {state}")
            if runner.mail_pass is not None and runner.mail_pass.busy:
                click.echo(f"mail: {runner.mail_pass}")
            return ok
        event_loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            event_loop.add_signal_handler(signum, runner.stop)
        await runner.run()
        return True

    if not asyncio.run(main()):
        raise SystemExit(1)

"""`fleet instance start|shutdown|reboot|migrate|modify|lock|owners|isolate|... NAME`: the instance actions.

Each command calls its ``fleet.operations`` function, as the pages and the API do: the policy applies to the
account it acts as (``--as``, else ``$FLEET_USER``, else the login name; it must be an active Fleet
account: the CLI never acts as nobody). The worker submits the operation; ``--wait`` (the default) follows it
and prints the job's log lines as they come, exiting 0 when it succeeded and 1 when it failed; ``--no-wait``
prints the operation and returns at once.
"""

from __future__ import annotations

import functools
import getpass
import os
import time
from collections.abc import Callable
from typing import Any

import click

from fleet.cli.django_app import with_django

REBOOT_KINDS = ("soft", "hard", "full")  # as fleet.operations.power has them (imported late, with Django)
BOOT_ORDERS = ("disk", "cdrom", "network")  # as fleet.operations.configuration has them
NIC_TYPES = ("paravirtual", "rtl8139", "e1000", "ne2k_pci", "ne2k_isa", "i82551", "i82557b", "i82559er",
             "pcnet")  # fmt: skip
DISK_TYPES = ("paravirtual", "scsi", "ide", "sd", "mtd", "pflash", "scsi-hd", "scsi-cd", "scsi-block",
              "scsi-generic")  # fmt: skip
WAIT_STEP = 0.2  # seconds between looks at the operation while waiting
NO_WORKER_NOTE = 10.0  # seconds pending before saying that no worker seems to pick it up


def _acting(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every action takes."""
    options = [
        click.argument("name"),
        click.option("--cluster", help="The instance's cluster (needed when the name is on several)."),
        click.option("--as", "as_user", help="The Fleet account to act as [default: $FLEET_USER or login]."),
        click.option("--reason", default="", help="Why: kept in the audit log and sent to Ganeti."),
        click.option("--idempotency-key", default="", help="Retrying with the same key acts only once."),
        click.option("--wait/--no-wait", default=True, help="Follow the job to its end (the default)."),
        click.option("--timeout", "wait_timeout", type=click.FloatRange(min=1), default=3600.0,
                     help="Seconds to wait at most.", show_default=True),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _run(perform: Callable[..., Any], name: str, cluster: str | None, as_user: str | None, reason: str,
         idempotency_key: str, wait: bool, wait_timeout: float, **fields: Any) -> None:  # fmt: skip
    from django.http import Http404

    from fleet import operations
    from fleet.operations.models import Via

    user = _account(as_user)
    target = _instance(name, cluster)
    caller = operations.Caller(user, None, Via.CLI, idempotency_key)
    try:
        operation = perform(target, by=caller, reason=reason, **fields)
    except operations.Invalid as exc:
        raise click.UsageError(
            "; ".join(f"--{f.replace('_', '-')}: {m}" for f, m in exc.errors.items())
        ) from None
    except operations.Refused as refused:
        raise click.ClickException(f"refused: {refused.operation.error}") from None
    except Http404:  # not visible to this account: told like a missing one
        raise click.ClickException(f"no instance {name} that {user.get_username()} may see") from None
    click.echo(f"operation {operation.pk}: {operation.get_kind_display().lower()} {operation.instance_name} "
               f"({operation.status})")  # fmt: skip
    if operation.status == "awaiting":
        expires = operation.confirmation.expires_at
        click.echo(f"a confirmation link was mailed to {user.email}: nothing happens unless it is confirmed "
                   f"there before {expires:%Y-%m-%d %H:%M %Z}")  # fmt: skip
        return
    if wait:
        _follow(operation.pk, wait_timeout)


def _account(as_user: str | None) -> Any:
    from django.contrib.auth import get_user_model

    username = as_user or os.environ.get("FLEET_USER") or getpass.getuser()
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise click.UsageError(f"--as: no active Fleet account named {username!r}")
    return user


def _instance(name: str, cluster: str | None) -> Any:
    from fleet.inventory.models import Instance

    found = Instance.objects.select_related("cluster").filter(name=name)
    if cluster:
        found = found.filter(cluster__name=cluster)
    matches = list(found[:2])
    if not matches:
        raise click.ClickException(f"no instance {name}" + (f" on {cluster}" if cluster else ""))
    if len(matches) > 1:
        raise click.UsageError(f"{name} is on several clusters: say which with --cluster")
    return matches[0]


def _follow(operation_id: int, timeout: float) -> None:
    """Print the operation's progress and its job's new log lines until it ends; exit 1 if it failed."""
    from fleet.jobs.lifecycle import log_text
    from fleet.operations.models import Operation, OperationStatus

    started = time.monotonic()
    seen: tuple[str, int | None] = ("", None)  # the status and the job last printed
    printed, noted = 0, False
    while True:
        operation = Operation.objects.select_related("job").get(pk=operation_id)
        if (operation.status, operation.ganeti_job_id) != seen:
            if operation.ganeti_job_id != seen[1]:
                printed = 0  # the operation's next job: its log starts over
            seen = (operation.status, operation.ganeti_job_id)
            job = f" as job {operation.ganeti_job_id}" if operation.ganeti_job_id else ""
            click.echo(f"{operation.status}{job}")
        log = operation.job.log if operation.job is not None else []
        for serial, _, _, message in log[printed:]:
            click.echo(f"  [{serial}] {log_text(message)}")
        printed = len(log)
        if not operation.is_open:
            break
        waited = time.monotonic() - started
        if not noted and operation.status == OperationStatus.PENDING and waited > NO_WORKER_NOTE:
            click.echo("  (still pending: is `fleet worker` running?)", err=True)
            noted = True
        if waited > timeout:
            raise click.ClickException(f"gave up waiting after {timeout:g} s; the operation goes on")
        time.sleep(WAIT_STEP)
    if operation.status != OperationStatus.SUCCEEDED:
        raise click.ClickException(f"{operation.status}: {operation.error}")


def _change_owner(instance: Any, *, by: Any, reason: str, add: str | None, remove: str | None) -> Any:
    """``--add KIND:NAME`` or ``--remove KIND:NAME``, as fleet.operations' add_owner or remove_owner."""
    from fleet import operations

    if (add is None) == (remove is None):
        raise operations.Invalid({"add": "give one of --add or --remove, as user:NAME or group:NAME"})
    kind, _, name = (add or remove or "").partition(":")
    perform = operations.add_owner if add else operations.remove_owner
    return perform(instance, by=by, kind=kind, name=name, reason=reason)


def _modify(instance: Any, *, by: Any, reason: str, **fields: Any) -> Any:
    """``fleet.operations.modify``, then a word on what applies the change to a running instance."""
    from fleet import operations

    operation = operations.modify(instance, by=by, reason=reason, **fields)
    if "mark" in operation.params or _needs_reboot(instance):
        hard = f"fleet instance reboot {instance.name} --kind hard"
        click.echo(f"{instance.name} runs: the change applies at its next start, or with `{hard}` "
                   "(a soft reboot keeps the old one)")  # fmt: skip
    return operation


def _needs_reboot(instance: Any) -> bool:
    from django.conf import settings

    from fleet.access.tags import Flag, flags_from_tags

    return Flag.NEEDS_REBOOT in flags_from_tags(instance.tags or [], settings.FLEET_TAG_PREFIX)


def _reboot(instance: Any, *, by: Any, reason: str, kind: str) -> Any:
    """``fleet.operations.reboot``, with a word when a soft reboot leaves a change waiting."""
    from fleet import operations

    operation = operations.reboot(instance, by=by, reason=reason, kind=kind)
    if kind == "soft" and _needs_reboot(instance):
        click.echo(f"{instance.name} needs a reboot for its new configuration, which a soft reboot keeps "
                   "waiting: use --kind hard")  # fmt: skip
    return operation


def _osparam_pairs(pairs: tuple[str, ...]) -> dict[str, str] | None:
    """``--osparam KEY=VALUE`` options as a mapping."""
    from fleet import operations

    found: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals:
            raise operations.Invalid({"osparam": f"{pair!r}: give KEY=VALUE"})
        found[key] = value
    return found or None


def _reinstall(instance: Any, *, osparam: tuple[str, ...], **fields: Any) -> Any:
    from fleet import operations

    return operations.reinstall(instance, osparams=_osparam_pairs(osparam), **fields)


PERFORMERS = {
    "owners": _change_owner,
    "modify": _modify,
    "reboot": _reboot,
    "reinstall": _reinstall,
}  # more than one call
CONFIRM = click.option(
    "--confirm",
    metavar="NAME",
    help="Administrators: the instance's name, to confirm at once (others get a link by mail).",
)


def _command(name: str, perform_name: str, help_text: str, *extra: Callable[[Any], Any]) -> click.Command:
    def command(**kwargs: Any) -> None:
        from fleet import operations

        _run(PERFORMERS.get(perform_name) or getattr(operations, perform_name), **kwargs)

    command.__doc__ = help_text
    wrapped = with_django(_acting(functools.reduce(lambda f, option: option(f), extra, command)))
    return click.command(name=name)(wrapped)


MIGRATE = click.option(
    "--migrate/--no-migrate", default=True,
    help="Live-migrate it after, if it runs and can move, so that its node applies the rules at once.",
)  # fmt: skip

COMMANDS = [
    _command("start", "start", "Start the instance."),
    _command(
        "shutdown",
        "shutdown",
        "Shut the instance down (ACPI, then a hard stop after --shutdown-timeout seconds).",
        click.option(
            "--shutdown-timeout", "timeout", type=int, help="Seconds before a hard stop (default 120)."
        ),
    ),
    _command(
        "reboot",
        "reboot",
        "Reboot the instance.",
        click.option("--kind", type=click.Choice(REBOOT_KINDS), default="soft", show_default=True),
    ),
    _command(
        "migrate",
        "migrate",
        "Live-migrate the instance to its secondary node (administrators).",
        click.option("--live/--non-live", default=True, help="Live (the default) or stop, move and start."),
    ),
    _command("failover", "failover", "Fail the instance over to its secondary node (administrators)."),
    _command("lock", "lock", "Lock the instance: its owners' actions are refused until it is unlocked."),
    _command("unlock", "unlock", "Unlock the instance."),
    _command(
        "owners",
        "owners",
        "Add or remove a co-owner of the instance (a user or a group; its account may come later).",
        click.option("--add", metavar="KIND:NAME", help="e.g. user:alice or group:ops"),
        click.option("--remove", metavar="KIND:NAME", help="e.g. user:alice or group:ops"),
    ),
    _command(
        "modify",
        "modify",
        "Change the configuration (KVM): boot device, CD image, NIC and disk models, clock, memory, vCPUs.",
        click.option("--boot-order", type=click.Choice(BOOT_ORDERS), help="The boot device."),
        click.option("--cdrom-image-url", metavar="URL", help='An http(s) CD image URL; "" removes it.'),
        click.option("--cdrom-disk-type", type=click.Choice(["", *DISK_TYPES]), help='"": as --disk-type.'),
        click.option("--nic-type", type=click.Choice(NIC_TYPES), help="The NICs' model."),
        click.option("--disk-type", type=click.Choice(DISK_TYPES), help="The disks' bus."),
        click.option("--localtime/--utc", "use_localtime", default=None, help="The guest's clock."),
        click.option("--memory", type=int, metavar="MIB", help="Memory in MiB, within the policy."),
        click.option("--vcpus", type=int, help="Virtual CPUs, within the policy."),
    ),
    _command(
        "isolate",
        "isolate",
        "Isolate the instance from the network, but for the --allow-from ranges (isolate permission).",
        click.option(
            "--allow-from",
            "allow_from",
            metavar="CIDR",
            multiple=True,
            help="A range that may still reach it, e.g. 192.0.2.0/28 (at most /26, or /64 for "
            "IPv6); repeat for more.",
        ),
        MIGRATE,
    ),
    _command(
        "deisolate",
        "deisolate",
        "Reconnect the isolated instance: its allow-from ranges go too.",
        MIGRATE,
    ),
    _command(
        "allow-from",
        "change_allow_from",
        "Add ranges to, or remove ranges from, the allow-from list of an isolated instance.",
        click.option("--add", metavar="CIDR", multiple=True, help="A range to allow; repeat for more."),
        click.option("--remove", metavar="CIDR", multiple=True, help="A range to remove; repeat for more."),
        MIGRATE,
    ),
    _command(
        "reinstall",
        "reinstall",
        "Reinstall the instance (its disks are overwritten), once confirmed through the mailed link.",
        click.option("--os", "os", required=True, help="An OS the cluster offers, e.g. image+debian-12."),
        click.option("--clear-osparams", is_flag=True, help="Clear its OS parameters (kept by default)."),
        click.option("--osparam", multiple=True, metavar="KEY=VALUE", help="An OS parameter to set besides."),
        click.option("--start/--no-start", default=True, help="Start it once reinstalled (the default)."),
        CONFIRM,
    ),
    _command(
        "rename",
        "rename",
        "Rename the stopped instance to NEW_NAME, once confirmed through the mailed link.",
        click.argument("new_name"),
        CONFIRM,
    ),
    _command(
        "destroy",
        "destroy",
        "Destroy the instance and its disks, once confirmed through the mailed link.",
        CONFIRM,
    ),
]


def register(group: click.Group) -> None:
    """Add the action commands to ``group`` (``fleet instance``)."""
    for command in COMMANDS:
        group.add_command(command)

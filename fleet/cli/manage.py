"""`fleet manage ARGS`: Django's management commands (migrate, createsuperuser, shell, ...) with Fleet's
settings, e.g. `fleet manage migrate`."""

from __future__ import annotations

import click


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command, e.g. `fleet manage migrate` (`fleet manage help` lists them)."""
    from fleet.conf.manage import main

    main(list(args))

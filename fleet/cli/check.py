"""`fleet check NAME ...`: run one of the Icinga checks, as its `check_fleet_NAME` executable would.

The options are the check's own (see `fleet check NAME --help` and docs/checks.md); they are handed over
untouched so that the subcommand and the executable take exactly the same command line and exit with the same
plugin status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
"""

from __future__ import annotations

import click

from fleet.checks import plugin
from fleet.checks.registry import CHECKS

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


@click.group()
def check() -> None:
    """Icinga checks of a Ganeti cluster (monitoring-plugins conventions)."""


def _command(name: str) -> click.Command:
    module = CHECKS[name]

    @click.command(name, context_settings=_PASS_THROUGH, add_help_option=False)
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def run(args: tuple[str, ...]) -> None:
        plugin.run(module, list(args), prog=f"fleet check {name}")

    run.help = (module.__doc__ or "").split("\n\n")[0]
    return run


for _name in CHECKS:
    check.add_command(_command(_name))

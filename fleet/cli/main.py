"""The `fleet` command: a thin layer over the packages below it.

Each area registers its own click group in its own module; this one only assembles them and makes sure that
an expected failure (a RAPI error, bad input) prints one clear line and exits non-zero, never a traceback.
"""

from __future__ import annotations

import click

from fleet.cli import (
    actions,
    check,
    cluster,
    console,
    demo,
    instance,
    mail,
    manage,
    node_agent,
    rapi,
    simulate,
    token,
    worker,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fleet")
def cli() -> None:
    """Fleet: a multi-cluster manager for Ganeti."""


cli.add_command(simulate.simulate)
cli.add_command(rapi.rapi)
cli.add_command(cluster.cluster)
actions.register(instance.instance)
cli.add_command(instance.instance)
cli.add_command(worker.worker)
cli.add_command(token.token)
cli.add_command(mail.mail)
cli.add_command(manage.manage)
cli.add_command(demo.demo)
cli.add_command(check.check)
cli.add_command(node_agent.node_agent)
cli.add_command(console.console_proxy)
cli.add_command(console.console_password)


def main() -> None:
    cli(prog_name="fleet")

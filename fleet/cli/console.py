"""`fleet console-proxy` (websockify with Fleet's tokens, the browsers' way to the VNC servers) and
`fleet console-password` (a cluster's VNC password, stored encrypted, for the proxy to answer VNC
authentication with)."""

from __future__ import annotations

import sys

import click

from fleet.cli.django_app import setup


@click.command("console-proxy")
@click.option(
    "--listen",
    default="127.0.0.1:6080",
    show_default=True,
    metavar="HOST:PORT",
    help="Where browsers connect.",
)
@click.option(
    "--cert", type=click.Path(exists=True, dir_okay=False), help="TLS certificate (PEM): serve wss:// only."
)
@click.option("--key", type=click.Path(exists=True, dir_okay=False), help="TLS key (PEM), if not in --cert.")
@click.option("--verbose", is_flag=True, help="Log every connection's traffic.")
def console_proxy(listen: str, cert: str | None, key: str | None, verbose: bool) -> None:
    """Serve consoles: resolve Fleet's console tokens and relay to the nodes' VNC servers."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter("HOST:PORT, e.g. 0.0.0.0:6080", param_hint="--listen")
    if key and not cert:
        raise click.BadParameter("a key needs its --cert", param_hint="--key")
    setup()
    from fleet.console.proxy import serve

    serve(host.strip("[]"), int(port), cert, key, verbose)


@click.command("console-password")
@click.argument("cluster")
@click.option(
    "--password-file",
    type=click.File("r"),
    help="Read it from this file (e.g. the nodes' vnc_password_file).",
)
@click.option("--remove", is_flag=True, help="Forget the cluster's VNC password.")
def console_password(cluster: str, password_file: click.utils.LazyFile | None, remove: bool) -> None:
    """Set the VNC password of CLUSTER's consoles (asked for when --password-file is not given)."""
    setup()
    from fleet.console.models import VncPassword
    from fleet.inventory.models import Cluster

    row = Cluster.objects.filter(name=cluster).first()
    if row is None:
        raise click.ClickException(f"no cluster {cluster!r}")
    if remove:
        VncPassword.objects.filter(cluster=row).delete()
        click.echo(f"{cluster}: no VNC password")
        return
    if password_file is not None:
        password = password_file.read().strip()
    elif sys.stdin.isatty():
        password = click.prompt("VNC password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().strip()
    if not password:
        raise click.BadParameter("the password is empty", param_hint="--password-file")
    stored, _ = VncPassword.objects.get_or_create(cluster=row, defaults={"encrypted": ""})
    stored.set(password)
    stored.save()
    click.echo(f"{cluster}: VNC password stored (encrypted)")

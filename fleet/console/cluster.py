"""The fresh look at the cluster before a token is minted: RAPI ``GET /2/instances/N/console`` (as synnefo
asks before forwarding a console), so that a token never points at a port the read model has as stale.

The only module of the console that talks to a cluster; pages reach it through ``sessions``, never the RAPI
client itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.inventory.credentials import CredentialError
from fleet.inventory.models import Instance
from fleet.rapi import errors, instances
from fleet.sync.connect import Connection

WILDCARDS = {"0.0.0.0", "::", ""}  # a VNC server bound to every address: reach it at the node


@dataclass(frozen=True)
class Vnc:
    """Where the instance's VNC server listens."""

    host: str
    port: int


@dataclass(frozen=True)
class Unavailable:
    """No VNC console now: ``message`` says why, in words for the user (Ganeti's own when it gave one)."""

    message: str
    stopped: bool = False


def console_of(instance: Instance) -> Vnc | Unavailable:
    """Ask the instance's cluster where its console is."""
    cluster = instance.cluster
    try:
        with Connection.of(cluster).client() as client:
            console = client.call(instances.console(instance.name))
    except errors.Unavailable:
        return Unavailable(f"{instance.name} is not running: start it to open its console.", stopped=True)
    except (errors.RapiError, CredentialError) as exc:
        return Unavailable(f"The cluster {cluster.name} could not be asked for the console: {exc}")
    kind = console.get("kind")
    if kind == "msg":
        return Unavailable(str(console.get("message") or "This hypervisor offers no console."))
    if kind != "vnc":
        return Unavailable(f"{instance.name} has a {kind} console, which the browser cannot show.")
    host = str(console.get("host") or "")
    if host in WILDCARDS:
        node = instance.primary_node
        host = (node.primary_ip or node.name) if node is not None else ""
    port = console.get("port")
    if not host or not isinstance(port, int):
        return Unavailable(f"The cluster {cluster.name} gave no address for the console of {instance.name}.")
    return Vnc(host, port)

"""Node choice for instance creation: explicit nodes, or a basic hail."""

from __future__ import annotations

from typing import Any

from fleet.simulator.effects import OpError, get_node
from fleet.simulator.state import Cluster


def pick_nodes(cluster: Cluster, op: dict[str, Any]) -> list[str]:
    """The nodes of a new instance: [primary] or [primary, secondary]."""
    template = op.get("disk_template") or cluster.info["enabled_disk_templates"][0]
    memory = int((op.get("beparams") or {}).get("maxmem") or (op.get("beparams") or {}).get("memory") or 128)
    if op.get("pnode"):
        pnode = get_node(cluster, op["pnode"])["name"]
        if template == "drbd":
            if not op.get("snode"):
                raise OpError(
                    "OpPrereqError", "The networked disk templates need a mirror node", "wrong_input"
                )
            snode = get_node(cluster, op["snode"])["name"]
            if snode == pnode:
                raise OpError("OpPrereqError", "The secondary node cannot be the primary node", "wrong_input")
            return [pnode, snode]
        return [pnode]
    usable = [
        n
        for n in cluster.nodes.values()
        if not (n["offline"] or n["drained"] or not n["vm_capable"])
        and (
            not op.get("group_name")
            or (cluster.groups.get(op["group_name"]) or {}).get("uuid") == n["group.uuid"]
        )
    ]
    usable.sort(key=lambda n: (-(n["mfree"] or 0), n["name"]))
    if not usable or (usable[0]["mfree"] or 0) < memory:
        raise OpError(
            "OpPrereqError",
            "Can't compute nodes using iallocator 'hail': Request failed: "
            "Group default (preferred): No valid allocation solutions",
            "insufficient_resources",
        )
    pnode = usable[0]
    if template != "drbd":
        return [pnode["name"]]
    peers = [n for n in usable[1:] if n["group.uuid"] == pnode["group.uuid"]]
    if not peers:
        raise OpError(
            "OpPrereqError",
            "Can't compute nodes using iallocator 'hail': not enough nodes for DRBD",
            "insufficient_resources",
        )
    return [pnode["name"], peers[0]["name"]]

"""Handlers of `/2/nodes`, `/2/groups` and `/2/networks`."""

from __future__ import annotations

from typing import Any

from fleet.simulator.base import Ctx, HttpError
from fleet.simulator.state import G_FIELDS, N_FIELDS, NET_FIELDS, ROLE_WORDS, project

ROLE_FLAGS = {
    "regular": {"master_candidate": False, "offline": False, "drained": False},
    "master-candidate": {"master_candidate": True},
    "drained": {"drained": True},
    "offline": {"offline": True},
}


def _get(table: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    obj = table.get(name)
    if obj is None:
        raise HttpError(404)
    return obj


# -- nodes -------------------------------------------------------------------------------------------------


def list_nodes(ctx: Ctx) -> list[dict[str, Any]]:
    """GET /2/nodes."""
    nodes = ctx.cluster.nodes
    if ctx.bool_arg("bulk"):
        return [project(nodes[n], N_FIELDS) for n in sorted(nodes)]
    return [{"id": n, "uri": f"/2/nodes/{n}"} for n in sorted(nodes)]


def get_node(ctx: Ctx) -> dict[str, Any]:
    """GET /2/nodes/N."""
    node = _get(ctx.cluster.nodes, ctx.items[0])
    return {**project(node, N_FIELDS), "secondary_ip": node["sip"]}


def get_role(ctx: Ctx) -> str:
    """GET /2/nodes/N/role: the role as a word."""
    return ROLE_WORDS[_get(ctx.cluster.nodes, ctx.items[0])["role"]]


def set_role(ctx: Ctx) -> int:
    """PUT /2/nodes/N/role with a bare JSON string as the body."""
    role = ctx.body
    if role == "master" or role not in ROLE_FLAGS:
        raise HttpError(400, f"Can't set '{role}' role")
    static = {
        "node_name": ctx.items[0],
        "force": ctx.bool_arg("force"),
        "auto_promote": ctx.bool_arg("auto-promote"),
        **ROLE_FLAGS[str(role)],
    }
    return ctx.submit("OP_NODE_SET_PARAMS", {}, static)


def modify_node(ctx: Ctx) -> int:
    """POST /2/nodes/N/modify."""
    return ctx.submit("OP_NODE_SET_PARAMS", ctx.body_dict(), {"node_name": ctx.items[0]})


def evacuate(ctx: Ctx) -> int:
    """POST /2/nodes/N/evacuate: a job whose result lists the child jobs."""
    body = ctx.body_dict()
    if "mode" not in body:
        raise HttpError(400, "Required parameter 'mode' is missing")
    return ctx.submit("OP_NODE_EVACUATE", body, {"node_name": ctx.items[0], "dry_run": ctx.dry_run()})


def migrate_node(ctx: Ctx) -> int:
    """POST /2/nodes/N/migrate (body, or the legacy ?live= / ?mode= query)."""
    body = ctx.body_dict()
    if not body and ctx.query:
        if "live" in ctx.query and "mode" in ctx.query:
            raise HttpError(400, "Only one of 'live' and 'mode' should be provided")
        if "live" in ctx.query:
            body = {"mode": "live" if ctx.bool_arg("live") else "non-live"}
        elif "mode" in ctx.query:
            body = {"mode": ctx.str_arg("mode")}
    return ctx.submit("OP_NODE_MIGRATE", body, {"node_name": ctx.items[0]})


def powercycle(ctx: Ctx) -> int:
    """POST /2/nodes/N/powercycle."""
    return ctx.submit("OP_NODE_POWERCYCLE", {}, {"node_name": ctx.items[0], "force": ctx.bool_arg("force")})


def storage(ctx: Ctx) -> int:
    """GET /2/nodes/N/storage: a job listing storage units."""
    fields = ctx.str_arg("output_fields")
    if fields is None:
        raise HttpError(400, "Missing the required 'output_fields' parameter")
    static = {
        "nodes": [ctx.items[0]],
        "storage_type": ctx.str_arg("storage_type", "lvm-vg"),
        "output_fields": fields.split(","),
    }
    return ctx.submit("OP_NODE_QUERY_STORAGE", {}, static)


def _storage_unit(ctx: Ctx, op_id: str, with_changes: bool) -> int:
    name = ctx.str_arg("name")
    if name is None:
        raise HttpError(400, "Missing the required 'name' parameter")
    static: dict[str, Any] = {
        "node_name": ctx.items[0],
        "storage_type": ctx.str_arg("storage_type", "lvm-vg"),
        "name": name,
    }
    if with_changes:
        changes = {}
        if "allocatable" in ctx.query:
            changes["allocatable"] = ctx.bool_arg("allocatable")
        static["changes"] = changes
    return ctx.submit(op_id, {}, static)


def modify_storage(ctx: Ctx) -> int:
    """PUT /2/nodes/N/storage/modify."""
    return _storage_unit(ctx, "OP_NODE_MODIFY_STORAGE", True)


def repair_storage(ctx: Ctx) -> int:
    """PUT /2/nodes/N/storage/repair."""
    return _storage_unit(ctx, "OP_REPAIR_NODE_STORAGE", False)


# -- groups ------------------------------------------------------------------------------------------------


def list_groups(ctx: Ctx) -> list[dict[str, Any]]:
    """GET /2/groups."""
    groups = ctx.cluster.groups
    if ctx.bool_arg("bulk"):
        return [project(groups[g], G_FIELDS) for g in sorted(groups)]
    return [{"name": g, "uri": f"/2/groups/{g}"} for g in sorted(groups)]


def get_group(ctx: Ctx) -> dict[str, Any]:
    """GET /2/groups/N."""
    return project(_get(ctx.cluster.groups, ctx.items[0]), G_FIELDS)


def create_group(ctx: Ctx) -> int:
    """POST /2/groups."""
    return ctx.submit("OP_GROUP_ADD", ctx.body_dict(), {"dry_run": ctx.dry_run()}, {"name": "group_name"})


def delete_group(ctx: Ctx) -> int:
    """DELETE /2/groups/N."""
    return ctx.submit("OP_GROUP_REMOVE", {}, {"group_name": ctx.items[0], "dry_run": ctx.dry_run()})


def modify_group(ctx: Ctx) -> int:
    """PUT /2/groups/N/modify (also under the `custom_*` names)."""
    renames = {"custom_ndparams": "ndparams", "custom_ipolicy": "ipolicy", "custom_diskparams": "diskparams"}
    return ctx.submit("OP_GROUP_SET_PARAMS", ctx.body_dict(), {"group_name": ctx.items[0]}, renames)


def rename_group(ctx: Ctx) -> int:
    """PUT /2/groups/N/rename."""
    return ctx.submit(
        "OP_GROUP_RENAME", ctx.body_dict(), {"group_name": ctx.items[0], "dry_run": ctx.dry_run()}
    )


def assign_nodes(ctx: Ctx) -> int:
    """PUT /2/groups/N/assign-nodes."""
    static = {"group_name": ctx.items[0], "force": ctx.bool_arg("force"), "dry_run": ctx.dry_run()}
    return ctx.submit("OP_GROUP_ASSIGN_NODES", ctx.body_dict(), static)


# -- networks ----------------------------------------------------------------------------------------------


def list_networks(ctx: Ctx) -> list[dict[str, Any]]:
    """GET /2/networks."""
    nets = ctx.cluster.networks
    if ctx.bool_arg("bulk"):
        return [project(nets[n], NET_FIELDS) for n in sorted(nets)]
    return [{"name": n, "uri": f"/2/networks/{n}"} for n in sorted(nets)]


def get_network(ctx: Ctx) -> dict[str, Any]:
    """GET /2/networks/N."""
    return project(_get(ctx.cluster.networks, ctx.items[0]), NET_FIELDS)


def create_network(ctx: Ctx) -> int:
    """POST /2/networks."""
    return ctx.submit("OP_NETWORK_ADD", ctx.body_dict(), {"dry_run": ctx.dry_run()}, {"name": "network_name"})


def delete_network(ctx: Ctx) -> int:
    """DELETE /2/networks/N."""
    return ctx.submit("OP_NETWORK_REMOVE", {}, {"network_name": ctx.items[0], "dry_run": ctx.dry_run()})


def _network_op(op_id: str) -> Any:
    def handler(ctx: Ctx) -> int:
        return ctx.submit(op_id, ctx.body_dict(), {"network_name": ctx.items[0], "dry_run": ctx.dry_run()})

    handler.__doc__ = f"Submit {op_id} for the network in the URL."
    return handler


modify_network = _network_op("OP_NETWORK_SET_PARAMS")
connect_network = _network_op("OP_NETWORK_CONNECT")
disconnect_network = _network_op("OP_NETWORK_DISCONNECT")

"""Handlers of `/2/instances` and everything under an instance."""

from __future__ import annotations

from typing import Any

from fleet.simulator.base import Ctx, HttpError
from fleet.simulator.query_instance import console
from fleet.simulator.state import I_FIELDS, project

RENAMES_CREATE = {"name": "instance_name", "os": "os_type"}


def _instance(ctx: Ctx) -> dict[str, Any]:
    inst = ctx.cluster.instances.get(ctx.items[0])
    if inst is None:
        raise HttpError(404)
    return inst


def list_instances(ctx: Ctx) -> Any:
    """GET /2/instances: ids and URIs, or full objects with bulk=1."""
    if ctx.bool_arg("bulk"):
        return ctx.cluster.instances_bulk_json()
    return [{"id": n, "uri": f"/2/instances/{n}"} for n in sorted(ctx.cluster.instances)]


def create_instance(ctx: Ctx) -> int:
    """POST /2/instances: OP_INSTANCE_CREATE from a version 1 body."""
    body = ctx.body_dict()
    version = body.pop("__version__", 0)
    if version == 0:
        raise HttpError(400, "Instance creation request version 0 is no longer supported")
    if version != 1:
        raise HttpError(400, f"Unsupported request data version {version}")
    return ctx.submit("OP_INSTANCE_CREATE", body, {"dry_run": ctx.dry_run()}, RENAMES_CREATE, "instances")


def multi_alloc(ctx: Ctx) -> int:
    """POST /2/instances-multi-alloc: one job whose result lists a child job per instance."""
    body = ctx.body_dict()
    if "instances" not in body:
        raise HttpError(400, "Request is missing required 'instances' field")
    insts = []
    for spec in body.pop("instances"):
        op = ctx.opcode("OP_INSTANCE_CREATE", spec, None, RENAMES_CREATE, "instances-multi-alloc")
        insts.append(op)
    static = {"dry_run": ctx.dry_run()}
    op = ctx.opcode(
        "OP_INSTANCE_MULTI_ALLOC", {**body, "instances": []}, static, None, "instances-multi-alloc"
    )
    op["instances"] = insts
    return ctx.submit_ops([op])


def get_instance(ctx: Ctx) -> dict[str, Any]:
    """GET /2/instances/N."""
    return project(_instance(ctx), I_FIELDS)


def delete_instance(ctx: Ctx) -> int:
    """DELETE /2/instances/N."""
    return ctx.submit(
        "OP_INSTANCE_REMOVE",
        ctx.body_dict(),
        {"instance_name": ctx.items[0], "dry_run": ctx.dry_run()},
        None,
        "instances/[instance_name]",
    )


def instance_info(ctx: Ctx) -> int:
    """GET /2/instances/N/info: a job querying the instance's data."""
    static = ctx.int_arg("static")
    return ctx.submit("OP_INSTANCE_QUERY_DATA", {}, {"instances": [ctx.items[0]], "static": bool(static)})


def reboot(ctx: Ctx) -> int:
    """POST /2/instances/N/reboot (type from the query string, default hard)."""
    static = {
        "instance_name": ctx.items[0],
        "reboot_type": ctx.str_arg("type", "hard"),
        "ignore_secondaries": ctx.bool_arg("ignore_secondaries"),
        "dry_run": ctx.dry_run(),
    }
    return ctx.submit("OP_INSTANCE_REBOOT", ctx.body_dict(), static)


def startup(ctx: Ctx) -> int:
    """PUT /2/instances/N/startup (body ignored)."""
    static = {
        "instance_name": ctx.items[0],
        "force": ctx.bool_arg("force"),
        "dry_run": ctx.dry_run(),
        "no_remember": ctx.bool_arg("no_remember"),
    }
    return ctx.submit("OP_INSTANCE_STARTUP", {}, static)


def shutdown(ctx: Ctx) -> int:
    """PUT /2/instances/N/shutdown."""
    static = {
        "instance_name": ctx.items[0],
        "no_remember": ctx.bool_arg("no_remember"),
        "dry_run": ctx.dry_run(),
    }
    return ctx.submit("OP_INSTANCE_SHUTDOWN", ctx.body_dict(), static)


def reinstall(ctx: Ctx) -> int:
    """POST /2/instances/N/reinstall: a 3-opcode job (shutdown, reinstall, startup unless start is false)."""
    if ctx.body:
        if ctx.query:
            raise HttpError(400, "Can't combine query and body parameters")
        body = ctx.body_dict()
    elif ctx.query:
        body = {"os": ctx.str_arg("os"), "start": not ctx.bool_arg("nostartup")}
    else:
        body = {}
    start = body.get("start", True)
    if not isinstance(start, bool):
        raise HttpError(400, f"Parameter 'start' has wrong type: expected bool, got {type(start).__name__}")
    # RAPI builds these opcodes without checking them (other keys are ignored): luxid refuses wrong types
    for key, field, wanted, kind in (
        ("os", "os_type", str, "String"),
        ("osparams", "osparams", dict, "JSObject"),
    ):
        if body.get(key) is not None and not isinstance(body[key], wanted):
            raise HttpError(
                502,
                f"Failed to parse request: SubmitJob: Can't parse value for '{field}': Unable to read {kind}",
            )
    name = ctx.items[0]
    ops = [
        ctx.opcode("OP_INSTANCE_SHUTDOWN", {}, {"instance_name": name}),
        ctx.opcode(
            "OP_INSTANCE_REINSTALL",
            {},
            {"instance_name": name, "os_type": body.get("os"), "osparams": body.get("osparams")},
        ),
    ]
    if start:
        ops.append(ctx.opcode("OP_INSTANCE_STARTUP", {}, {"instance_name": name, "force": False}))
    for op in ops:  # RAPI builds these itself: their reason trails get neither the user's reason nor its own
        op["reason"] = []
    return ctx.submit_ops(ops)


def replace_disks(ctx: Ctx) -> int:
    """POST /2/instances/N/replace-disks (body, or the legacy query arguments)."""
    if ctx.body:
        data = ctx.body_dict()
    elif ctx.query:
        data = {k: ctx.str_arg(k) for k in ("remote_node", "mode", "disks", "iallocator")}
    else:
        data = {}
    raw = data.pop("disks", None)
    if raw:
        if isinstance(raw, list) and all(isinstance(d, int) for d in raw):
            data["disks"] = raw
        else:
            try:
                data["disks"] = [int(part) for part in str(raw).split(",")]
            except ValueError as exc:
                raise HttpError(400, f"Invalid disk index passed: {exc}") from None
    return ctx.submit("OP_INSTANCE_REPLACE_DISKS", data, {"instance_name": ctx.items[0]})


def _simple(op_id: str, extra: tuple[str, ...] = (), body: bool = True) -> Any:
    def handler(ctx: Ctx) -> int:
        static: dict[str, Any] = {"instance_name": ctx.items[0]}
        for flag in extra:
            if flag == "dry-run":
                static["dry_run"] = ctx.dry_run()
            else:
                static[flag.replace("-", "_")] = ctx.bool_arg(flag)
        return ctx.submit(op_id, ctx.body_dict() if body else {}, static)

    handler.__doc__ = f"Submit {op_id} for the instance in the URL."
    return handler


recreate_disks = _simple("OP_INSTANCE_RECREATE_DISKS")
activate_disks = _simple("OP_INSTANCE_ACTIVATE_DISKS", ("ignore_size",), body=False)
deactivate_disks = _simple("OP_INSTANCE_DEACTIVATE_DISKS", ("force",), body=False)
migrate = _simple("OP_INSTANCE_MIGRATE")
failover = _simple("OP_INSTANCE_FAILOVER")
rename = _simple("OP_INSTANCE_RENAME")
modify = _simple("OP_INSTANCE_SET_PARAMS")


def grow_disk(ctx: Ctx) -> int:
    """POST /2/instances/N/disk/I/grow."""
    return ctx.submit(
        "OP_INSTANCE_GROW_DISK", ctx.body_dict(), {"instance_name": ctx.items[0], "disk": int(ctx.items[1])}
    )


def prepare_export(ctx: Ctx) -> int:
    """PUT /2/instances/N/prepare-export (?mode=local|remote)."""
    return ctx.submit(
        "OP_BACKUP_PREPARE", {}, {"instance_name": ctx.items[0], "mode": ctx.str_arg("mode", "local")}
    )


def export(ctx: Ctx) -> int:
    """PUT /2/instances/N/export (`destination` is the target node)."""
    body = ctx.body_dict()
    return ctx.submit(
        "OP_BACKUP_EXPORT", body, {"instance_name": ctx.items[0]}, {"destination": "target_node"}
    )


async def get_console(ctx: Ctx) -> dict[str, Any]:
    """GET /2/instances/N/console: the console dict, 503 while the instance is not running.

    A VNC console is served for real (``fleet.simulator.rfb``) at the cluster's own loopback address, which
    the dict then names as the host, as a node's ``vnc_bind_address`` would be.

    RAPI queries luxid without turning its errors into HTTP ones here, so an unknown instance is a 500 whose
    message is the OpPrereqError's arguments, as Ganeti 3.0.2's HTTP server formats any other exception.
    """
    inst = ctx.cluster.instances.get(ctx.items[0])
    if inst is None:
        raise HttpError(500, str((f"Instance name {ctx.items[0]} not found", "unknown_entity")))
    info = console(ctx.cluster, inst)
    if info is None:
        raise HttpError(503, "Instance console unavailable")
    consoles = ctx.rt.extra.get("consoles")
    if consoles is not None and info["kind"] == "vnc":
        info = {**info, "host": consoles.host}
        await consoles.ensure(inst["name"], info["port"])
    return info

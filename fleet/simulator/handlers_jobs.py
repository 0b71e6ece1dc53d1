"""Handlers of `/2/jobs`: list, one job, cancel, and the `/wait` long poll."""

from __future__ import annotations

from typing import Any

from fleet.simulator.base import Ctx, HttpError

J_FIELDS_BULK = ["id", "ops", "status", "summary", "opstatus", "received_ts", "start_ts", "end_ts"]
J_FIELDS = [*J_FIELDS_BULK, "oplog", "opresult"]


def list_jobs(ctx: Ctx) -> list[dict[str, Any]]:
    """GET /2/jobs: the jobs not archived yet, by id."""
    queue = ctx.rt.queue
    jobs = [j for j in queue.jobs.values() if not j["archived"]]
    if ctx.bool_arg("bulk"):
        return [queue.view(j, J_FIELDS_BULK) for j in jobs]
    return [{"id": j["id"], "uri": f"/2/jobs/{j['id']}"} for j in jobs]


def get_job(ctx: Ctx) -> dict[str, Any]:
    """GET /2/jobs/J: the job; an unknown id gives every field null but `id`, as Ganeti 3.0 does."""
    job_id = int(ctx.items[0])
    job = ctx.rt.queue.jobs.get(job_id)
    if job is None:
        return {f: (job_id if f == "id" else None) for f in J_FIELDS}
    return ctx.rt.queue.view(job, J_FIELDS)


async def cancel_job(ctx: Ctx) -> list[Any]:
    """DELETE /2/jobs/J: [success, message] as luxid answers (a finished job is no longer in the queue)."""
    return await ctx.rt.queue.cancel(int(ctx.items[0]))


async def wait_job(ctx: Ctx) -> dict[str, Any]:
    """GET /2/jobs/J/wait: block up to 10 s until the watched fields change or new log entries appear.

    As in Ganeti 3.0.2, a request without a body and an unknown job are server errors (500)."""
    if ctx.body is None:
        raise HttpError(500, "'NoneType' object is not subscriptable")
    body = ctx.body_dict()
    if "fields" not in body:
        raise HttpError(400, "Required parameter 'fields' is missing")
    fields = body["fields"]
    if not isinstance(fields, list):
        raise HttpError(400, "The 'fields' parameter should be a list")
    previous = body.get("previous_job_info")
    if previous is not None and not isinstance(previous, list):
        raise HttpError(400, "The 'previous_job_info' parameter should be a list")
    serial = body.get("previous_log_serial")
    if serial is not None and not isinstance(serial, int):
        raise HttpError(400, "The 'previous_log_serial' parameter should be a number")
    job_id = int(ctx.items[0])
    if job_id not in ctx.rt.queue.jobs:
        raise HttpError(500, "Can't load job file")
    return await ctx.rt.queue.wait_for_change(job_id, fields, previous, serial)

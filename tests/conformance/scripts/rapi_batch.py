"""Runs a batch of calls of Ganeti's official RAPI client and prints one JSON report.

Runs under Debian's /usr/bin/python3, which imports the `ganeti` package installed by Debian's `ganeti`;
the pytest suite (in its own virtualenv) starts it as a subprocess, feeds it the steps as JSON on stdin and
asserts on the JSON it prints.

    python3 rapi_batch.py --url https://HOST:PORT --user U --password P < steps.json

With --serve it stays up and answers batch after batch, one JSON line of steps in, one JSON line of reports
out, each batch with a fresh client (starting Debian's python3 and importing Ganeti costs half a second, which
a suite of hundreds of batches would otherwise pay each time).

Each step is an object:

    {"call": "StartupInstance", "args": [...], "kwargs": {...}}   a GanetiRapiClient method
    {"call": "StartupInstance", ..., "wait": true}                 the result is a job id: wait for the job to
                                                                   end and report it, its opcodes checked
                                                                   with VerifyOpInput / VerifyOpResult
    {"call": "EvacuateNode", ..., "wait": true, "children": true}  also wait for the child jobs the opcode
                                                                   result lists ({"jobs": [[true, id], ...]})
    {"call": "WaitJob", "args": [job_id]}                          wait for a job submitted earlier
    {"call": "Raw", "args": [method, path, query, body]}          the client's own request path (query: pairs)
    {"call": "VerifyJobs", "args": [limit]}                        VerifyOpInput/VerifyOpResult on the opcodes
                                                                   of the last `limit` jobs the server lists
    {"call": "GetInstanceConsole", ..., "validate_console": true}  also check the reply with Ganeti's
                                                                   objects.InstanceConsole(...).Validate()

A string "$N" anywhere in args/kwargs is replaced by the result of step N; "$N.key.0" by a part of it.
Each step reports {"ok": true, "result": ...} (plus "job", "verify", "children") or
{"ok": false, "code": HTTP status, "error": text}.
"""

import argparse
import json
import sys
import time
import urllib.parse

sys.path.insert(0, "/usr/share/ganeti/3.0")

from ganeti.rapi import client as rapi
from ganeti.rapi import testutils

FINAL = ("success", "error", "canceled")
JOB_TIMEOUT = 30.0


def make_client(url, user, password):
    parts = urllib.parse.urlsplit(url)
    cl = rapi.GanetiRapiClient(
        parts.hostname,
        port=parts.port or 5080,
        username=user,
        password=password,
        curl_config_fn=rapi.GenericCurlConfig(connect_timeout=10, timeout=60),
    )
    return cl


def wait_job(cl, job_id):
    """Waits for a job to end through the long-poll /wait, and returns the final job dict."""
    deadline = time.monotonic() + JOB_TIMEOUT
    prev_info, prev_serial = None, None
    while time.monotonic() < deadline:
        r = cl.WaitForJobChange(job_id, ["status"], prev_info, prev_serial)
        if r is None:  # pre-2.10 queues answered null on timeout
            continue
        if r.get("log_entries"):
            prev_serial = max(entry[0] for entry in r["log_entries"])
        prev_info = r["job_info"]
        if prev_info is None or prev_info[0] in FINAL:
            break
    return cl.GetJobStatus(job_id)


def load_create(serialized):
    from ganeti import opcodes

    state = dict(serialized)
    state.setdefault("OP_ID", "OP_INSTANCE_CREATE")
    return opcodes.OpCode.LoadOpCode(state)


# opcodes whose result Ganeti describes as a list of tuples, which JSON can only carry as lists
LIST_OF_TUPLES = {
    "OP_CLUSTER_REPAIR_DISK_SIZES", "OP_GROUP_SET_PARAMS", "OP_INSTANCE_ACTIVATE_DISKS",
    "OP_INSTANCE_SET_PARAMS", "OP_NODE_SET_PARAMS", "OP_RESTRICTED_COMMAND", "OP_TAGS_SEARCH",
}  # fmt: skip


def as_sent(op_id, result):
    """A result as the master built it, before JSON turned its tuples into lists."""
    if op_id in LIST_OF_TUPLES and isinstance(result, list):
        return [tuple(item) if isinstance(item, list) else item for item in result]
    return result


def verify_job(job):
    """Checks every opcode of a job and the result of every successful opcode against Ganeti's definitions."""
    problems = []
    for index, op in enumerate(job.get("ops") or []):
        params = dict(op)
        op_id = params.pop("OP_ID", None)
        if op_id == "OP_INSTANCE_MULTI_ALLOC" and isinstance(params.get("instances"), list):
            # the opcode holds OpInstanceCreate objects, serialized as dicts
            params["instances"] = [load_create(i) for i in params["instances"]]
        try:
            testutils.VerifyOpInput(op_id, params)
        except Exception as err:  # VerificationError, or anything a malformed opcode provokes
            problems.append(f"op {index} {op_id} input: {err}")
        statuses = job.get("opstatus") or []
        results = job.get("opresult") or []
        checked = index < len(statuses) and statuses[index] == "success" and index < len(results)
        # a dry run stops before the logical unit computes its result, which is then null
        if checked and not (op.get("dry_run") and results[index] is None):
            try:
                testutils.VerifyOpResult(op_id, as_sent(op_id, results[index]))
            except Exception as err:
                problems.append(f"op {index} {op_id} result: {err}")
    return problems


def validate_console(data):
    from ganeti import objects

    try:
        objects.InstanceConsole.FromDict(data).Validate()
    except Exception as err:
        return f"{type(err).__name__}: {err}"
    return True


def child_job_ids(job):
    ids = []
    for result in job.get("opresult") or []:
        if isinstance(result, dict):
            for entry in result.get("jobs", []):
                if entry[0]:
                    ids.append(entry[1])
    return ids


def substitute(value, results):
    if isinstance(value, str) and value.startswith("$") and value[1:2].isdigit():
        ref, _, key = value[1:].partition(".")
        got = results[int(ref)]
        for part in key.split(".") if key else []:
            got = got[int(part)] if isinstance(got, list) else got[part]
        return got
    if isinstance(value, list):
        return [substitute(v, results) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, results) for k, v in value.items()}
    return value


def run_step(cl, step, results):
    call = step["call"]
    args = substitute(step.get("args", []), results)
    kwargs = substitute(step.get("kwargs", {}), results)
    report = {"call": call}
    started = time.monotonic()
    try:
        if call == "WaitJob":
            result = args[0]
            wait = True
        elif call == "VerifyJobs":
            ids = sorted(int(j) for j in cl.GetJobs())[-int(args[0]) :]
            result = {str(i): verify_job(cl.GetJobStatus(i)) for i in ids}
            wait = False
        elif call == "Raw":
            method, path, query, body = [*args, None, None][:4]
            result = cl._SendRequest(method, path, [tuple(q) for q in query or []], body)
            wait = step.get("wait", False)
        else:
            result = getattr(cl, call)(*args, **kwargs)
            wait = step.get("wait", False)
        report["ok"] = True
        report["result"] = result
        if step.get("validate_console"):
            report["console_valid"] = validate_console(result)
        if wait:
            job = wait_job(cl, result)
            report["job"] = job
            report["verify"] = verify_job(job)
            if step.get("children"):
                report["children"] = []
                for child in child_job_ids(job):
                    child_job = wait_job(cl, child)
                    report["children"].append(child_job)
                    report["verify"] += [f"child {child}: {p}" for p in verify_job(child_job)]
    except rapi.GanetiApiError as err:
        report.update(ok=False, code=err.code, error=str(err))
        result = None
    except Exception as err:  # a reply the client cannot digest: report it, keep going
        report.update(ok=False, code=None, error=f"{type(err).__name__}: {err}")
        result = None
    report["seconds"] = round(time.monotonic() - started, 3)
    return result, report


def run_batch(opts, steps):
    cl = make_client(opts.url, opts.user, opts.password)
    results, reports = [], []
    for step in steps:
        result, report = run_step(cl, step, results)
        results.append(result)
        reports.append(report)
        if not report["ok"] and step.get("stop_on_error"):
            break
    json.dump(reports, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--serve", action="store_true", help="one batch per line of stdin, until its end")
    opts = parser.parse_args()
    if not opts.serve:
        run_batch(opts, json.load(sys.stdin))
        return
    for line in sys.stdin:
        if line.strip():
            run_batch(opts, json.loads(line))


if __name__ == "__main__":
    main()

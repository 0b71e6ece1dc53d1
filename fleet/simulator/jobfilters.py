"""The choice of jobs to start, as Ganeti 3.0's scheduler (`JQScheduler.hs`) makes it.

Each round: queued jobs matched by a REJECT rule are canceled; the jobs whose dependencies are all finished
are sorted by priority (then id); the reason-trail rate limit (`rate-limit:N:<label>` in a reason message: at
most N running jobs per bucket, the bucket being `N:<label>`) drops what does not fit; then the filter rules:
the rule that applies to a job is the first, in (priority, watermark, uuid) order, whose predicates all match
and whose action is not CONTINUE. ACCEPT and CONTINUE let the job run, PAUSE keeps it queued, REJECT cancels
it, `["RATE_LIMIT", n]` lets at most n jobs that the rule applies to run at once.

Predicates: `["jobid", F]` with comparisons on the field `id` (the string "watermark" stands for the rule's
watermark); `["opcode", F]`, any filter over an opcode's fields (dotted names reach into nested values), true
when one opcode matches; `["reason", F]`, comparisons on `source`, `reason` and `timestamp`, true when one
reason entry of any opcode matches. In `jobid` and `reason` predicates only comparisons count: any other
operator makes the predicate false, as in Ganeti.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

Job = dict[str, Any]
Rule = dict[str, Any]
_MISSING = object()
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class _Invalid(Exception):
    """A filter that cannot be evaluated (a non-comparison where only comparisons count, a missing field)."""


def _evaluate(f: Any, leaf: Callable[[str, Any, Any], bool]) -> bool:
    """Evaluate the logic operators of a filter; `leaf(op, field, value)` evaluates the rest."""
    if not isinstance(f, list) or not f:
        raise _Invalid
    op, args = f[0], f[1:]
    if op == "&":
        return all([_evaluate(a, leaf) for a in args])
    if op == "|":
        return any([_evaluate(a, leaf) for a in args])
    if op == "!" and len(args) == 1:
        return not _evaluate(args[0], leaf)
    if op == "!=" and len(args) == 2:
        return not leaf("==", args[0], args[1])
    if op == "?" and len(args) == 1:
        return leaf("?", args[0], None)
    if len(args) != 2:
        raise _Invalid
    return leaf(op, args[0], args[1])


def _comparison(op: str, a: Any, b: Any) -> bool:
    fn = _COMPARE.get(op)
    if fn is None:
        raise _Invalid
    try:
        return bool(fn(a, b))
    except TypeError:
        raise _Invalid from None


def _matches(f: Any, leaf: Callable[[str, Any, Any], bool]) -> bool:
    try:
        return _evaluate(f, leaf)
    except _Invalid:
        return False


def _jobid(job: Job, watermark: int, f: Any) -> bool:
    def leaf(op: str, field: Any, value: Any) -> bool:
        if field != "id":
            raise _Invalid
        if value == "watermark":
            value = watermark
        elif not isinstance(value, int | float) or isinstance(value, bool):
            raise _Invalid
        return _comparison(op, job["id"], value)

    return _matches(f, leaf)


def _field(opcode: dict[str, Any], dotted: Any) -> Any:
    if not isinstance(dotted, str):
        raise _Invalid
    value: Any = opcode
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise _Invalid
        value = value[part]
    return value


def _opcode(opcode: dict[str, Any], f: Any) -> bool:
    def leaf(op: str, field: Any, value: Any) -> bool:
        actual = _field(opcode, field)
        if op == "?":
            return bool(actual)
        if op == "=~":
            return isinstance(actual, str) and isinstance(value, str) and re.search(value, actual) is not None
        if op == "=[]":
            return isinstance(actual, list) and value in actual
        return _comparison(op, actual, value)

    return _matches(f, leaf)


def _reason(entry: list[Any], f: Any) -> bool:
    source, text, stamp = [*entry, None, None, None][:3]
    fields = {"source": source, "reason": text, "timestamp": stamp}

    def leaf(op: str, field: Any, value: Any) -> bool:
        if field not in fields:
            raise _Invalid
        return _comparison(op, fields[field], value)

    return _matches(f, leaf)


def _predicate(job: Job, watermark: int, predicate: Any) -> bool:
    if not isinstance(predicate, list) or len(predicate) != 2:
        return False
    kind, f = predicate
    if kind == "jobid":
        return _jobid(job, watermark, f)
    if kind == "opcode":
        return any(_opcode(op, f) for op in job["ops"])
    if kind == "reason":
        return any(_reason(entry, f) for op in job["ops"] for entry in op.get("reason") or [])
    return False


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Rules in the order the scheduler tries them: priority, watermark, uuid."""
    return sorted(rules, key=lambda r: (r["priority"], r["watermark"], r["uuid"]))


def applying(rules: list[Rule], job: Job) -> Rule | None:
    """The rule that applies to a job: the first, not CONTINUE, whose predicates all match."""
    for rule in rules:
        if rule["action"] != "CONTINUE" and all(
            _predicate(job, rule["watermark"], p) for p in rule["predicates"]
        ):
            return rule
    return None


def _rate_buckets(job: Job) -> set[tuple[str, int]]:
    buckets = set()
    for op in job["ops"]:
        for entry in op.get("reason") or []:
            text = entry[1] if len(entry) > 1 else None
            if not isinstance(text, str):
                continue
            parts = text.split(":")
            if len(parts) >= 2 and parts[0] == "rate-limit" and parts[1].isdigit() and int(parts[1]) > 0:
                buckets.add((":".join(parts[1:]), int(parts[1])))
    return buckets


def reason_rate_limit(running: list[Job], candidates: list[Job]) -> list[Job]:
    """The candidates that fit in their reason-trail rate-limit buckets, given the running jobs."""
    used: dict[tuple[str, int], int] = {}
    for job in running:
        for bucket in _rate_buckets(job):
            used[bucket] = used.get(bucket, 0) + 1
    chosen = []
    for job in candidates:
        buckets = _rate_buckets(job)
        if all(used.get(b, 0) < b[1] for b in buckets):
            for b in buckets:
                used[b] = used.get(b, 0) + 1
            chosen.append(job)
    return chosen


def filter_jobs(rules: Iterable[Rule], running: list[Job], candidates: list[Job]) -> list[Job]:
    """The candidates the filter rules let run now, in order."""
    order = ordered(rules)
    if not order:
        return candidates
    slots: dict[str, int] = {}
    for job in running:
        rule = applying(order, job)
        if rule is not None and isinstance(rule["action"], list):
            slots[rule["uuid"]] = slots.get(rule["uuid"], 0) + 1
    chosen = []
    for job in candidates:
        rule = applying(order, job)
        action = rule["action"] if rule is not None else "ACCEPT"
        if action in ("ACCEPT", "CONTINUE"):
            chosen.append(job)
        elif isinstance(action, list):
            assert rule is not None
            if slots.get(rule["uuid"], 0) < int(action[1]):
                slots[rule["uuid"]] = slots.get(rule["uuid"], 0) + 1
                chosen.append(job)
    return chosen


def rejected(rules: Iterable[Rule], queued: list[Job]) -> list[Job]:
    """The queued jobs a REJECT rule applies to."""
    order = ordered(rules)
    out = []
    for job in queued:
        rule = applying(order, job)
        if rule is not None and rule["action"] == "REJECT":
            out.append(job)
    return out

"""Opcode building as RAPI does it: body plus static parameters, checked against Ganeti's opcode definitions.

Unknown parameters, wrong JSON types and missing required parameters give Ganeti's 400
`Invalid body parameters: ...`; every other problem is found later, when the job runs.
"""

from __future__ import annotations

import copy
from typing import Any

from fleet.simulator.opcodes import OPCODES

_FINAL = ("success", "error", "canceled")
# Ganeti's TNonNegative(TInt) and TNonEmptyString parameters: a negative timeout or an empty new name is a 400
NON_NEGATIVE = frozenset({"timeout", "shutdown_timeout", "source_shutdown_timeout", "amount", "debug_level"})
NON_EMPTY = frozenset({("OP_INSTANCE_RENAME", "new_name"), ("OP_GROUP_RENAME", "new_name")})
_TYPE_OF = {type(None): "n", bool: "b", int: "i", float: "f", str: "s", list: "l", dict: "d"}


class BadParams(Exception):
    """The opcode cannot be built; the message is the 400's."""


def class_name(op_id: str) -> str:
    """Ganeti's opcode class name, e.g. OpInstanceStartup for OP_INSTANCE_STARTUP."""
    return "Op" + "".join(part.capitalize() for part in op_id[3:].split("_"))


def _accepts(value: Any, types: str, choices: tuple[str, ...]) -> bool:
    if choices and value in choices:
        return True
    kind = _TYPE_OF.get(type(value), "?")
    if kind in types:
        return True
    return kind == "i" and "f" in types


def build(
    op_id: str,
    body: dict[str, Any],
    static: dict[str, Any] | None = None,
    renames: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The opcode dict for a request: static params over the body, renamed legacy names, defaults filled."""
    params = dict(body)
    for old, new in (renames or {}).items():
        if old in params and new in params:
            raise BadParams(f"Parameter '{old}' was renamed to '{new}', but both are specified")
        if old in params:
            params[new] = params.pop(old)
    if static:
        overwritten = set(params) & set(static)
        if overwritten:
            raise BadParams(f"Can't overwrite static parameters {overwritten!r}")
        params.update(static)
    return check(op_id, params)


def check(op_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate parameters as opcode construction does, and fill the defaults."""
    _dsc, defs = OPCODES[op_id]
    known = {d[0] for d in defs}
    for key in params:
        if key not in known:
            raise BadParams(
                f"Invalid body parameters: Object {class_name(op_id)} doesn't support the parameter '{key}'"
            )
    op: dict[str, Any] = {}
    for name, default, types, choices in defs:
        value = params[name] if name in params else copy.deepcopy(default)
        if name == "priority":
            ok = isinstance(value, int) and not isinstance(value, bool) and -20 <= value <= 19
        elif name == "depends":
            ok = value is None or _valid_depends(value)
        elif not types and not choices:
            ok = True
        else:
            ok = _accepts(value, types, choices) and _refined(op_id, name, value)
        if not ok:
            reason = (f"Parameter '{op_id}.{name}' fails validation", "wrong_input")
            raise BadParams(f"Invalid body parameters: {reason!r}")
        op[name] = value
    op["OP_ID"] = op_id
    return op


def _refined(op_id: str, name: str, value: Any) -> bool:
    """The checks Ganeti's types make beyond the JSON type: non-negative integers, non-empty strings."""
    if name in NON_NEGATIVE and isinstance(value, int) and value < 0:
        return False
    return not ((op_id, name) in NON_EMPTY and value == "")


def _valid_depends(value: Any) -> bool:
    """Ganeti's TJobDependency list: [[job id (int, negative if relative, or digits), [final statuses]]]."""
    if not isinstance(value, list):
        return False
    for dep in value:
        if not (isinstance(dep, list) and len(dep) == 2):
            return False
        job_id, statuses = dep
        numeric = isinstance(job_id, str) and job_id.isdigit()
        if not numeric and (not isinstance(job_id, int) or isinstance(job_id, bool)):
            return False
        if not isinstance(statuses, list) or not all(s in _FINAL for s in statuses):
            return False
    return True


def complete(op: dict[str, Any]) -> dict[str, Any]:
    """Fill the defaults of an internally made opcode (child jobs), without the 400 path."""
    _dsc, defs = OPCODES[op["OP_ID"]]
    full = {name: copy.deepcopy(default) for name, default, _t, _c in defs}
    full.update(op)
    return full

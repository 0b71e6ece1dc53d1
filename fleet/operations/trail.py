"""The mark an operation leaves in Ganeti's reason trail, and finding it again in a job's opcodes.

Fleet sends every job with ``?reason=...``; Ganeti puts that text into each opcode's reason trail as
``["gnt:user", TEXT, ns]``, where anyone reading the queue sees it (``gnt-job info`` too). The text ends with
the operation's uuid, so that a job whose id Fleet never read (the connection dropped after Ganeti had taken
it, or the worker died in between) is still tied to the operation that asked for it, and to who asked.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MARK = "fleet-operation"
_MARKED = re.compile(MARK + r" ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
MAX_REASON = (
    1000  # characters of the requester's reason sent along; the whole text stays well under RAPI's limits
)


def reason_text(operation_uuid: uuid.UUID, requester: str, reason: str) -> str:
    """The ``reason`` argument of the job's RAPI request: the requester's words, who, and the mark."""
    said = " ".join(reason.split())[:MAX_REASON]
    tail = f"[{MARK} {operation_uuid} by {requester}]"
    return f"{said} {tail}" if said else tail


def operation_uuids(ops: Iterable[Mapping[str, Any]]) -> set[uuid.UUID]:
    """The operations named in the reason trails of a job's opcodes (none for a job started elsewhere)."""
    found: set[uuid.UUID] = set()
    for op in ops:
        for entry in _entries(op.get("reason")):
            for match in _MARKED.finditer(entry):
                found.add(uuid.UUID(match.group(1)))
    return found


def _entries(trail: Any) -> list[str]:
    """The texts of a reason trail ``[[source, text, ns], ...]``; anything malformed is skipped."""
    if not isinstance(trail, Sequence) or isinstance(trail, str):
        return []
    return [
        entry[1]
        for entry in trail
        if isinstance(entry, Sequence)
        and not isinstance(entry, str)
        and len(entry) > 1
        and isinstance(entry[1], str)
    ]

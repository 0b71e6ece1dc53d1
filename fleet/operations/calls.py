"""What each kind of operation sends to Ganeti: the RAPI call that submits its job, reason trail included.

Each action module registers the builder of its kind next to the function that records it (:func:`builds`),
so that what is checked and what is sent sit side by side. Building a call does no I/O: the worker sends it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleet.operations import trail
from fleet.operations.models import Operation, OperationKind
from fleet.rapi import Call

__all__ = ["builds", "call_for"]

Builder = Callable[[Operation, str], Call[Any]]
"""From an operation and the reason text to send, the call that submits its job (a job id), or for an
action Ganeti answers at once (a cancel), the call whose answer is the outcome."""

_BUILDERS: dict[str, Builder] = {}


def builds(kind: OperationKind) -> Callable[[Builder], Builder]:
    """Register the builder of ``kind``'s call."""

    def register(builder: Builder) -> Builder:
        _BUILDERS[kind] = builder
        return builder

    return register


def call_for(operation: Operation) -> Call[Any]:
    """The call that submits ``operation``'s job, its reason trail carrying the operation's mark."""
    reason = trail.reason_text(operation.uuid, operation.requester_name, operation.reason)
    return _BUILDERS[operation.kind](operation, reason)

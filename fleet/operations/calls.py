"""What each kind of operation sends to Ganeti: the RAPI calls that submit its jobs, reason trail included.

Each action module registers the builder of its kind next to the function that records it (:func:`builds`),
so that what is checked and what is sent sit side by side. Most operations are one job; an operation of
several (clear the OS parameters, then reinstall; change the configuration, then mark the instance as needing
a reboot) registers its plan instead (:func:`plans`): the builders of its jobs in order, each submitted once
the job before it succeeded. The plan depends on the operation's parameters only, so that it is the same
whenever it is read. Building a call does no I/O: the worker sends it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fleet.operations import trail
from fleet.operations.models import Operation, OperationKind
from fleet.rapi import Call

__all__ = ["builds", "call_for", "plans", "step_count", "unmarked", "unmarked_kinds", "unmarked_match"]

Builder = Callable[[Operation, str], Call[Any]]
"""From an operation and the reason text to send, the call that submits a job (a job id), or for an
action Ganeti answers at once (a cancel), the call whose answer is the outcome."""

Plan = Callable[[Operation], Sequence[Builder]]
"""From an operation, the builders of its jobs, in the order they run."""

Matcher = Callable[[Operation, Sequence[Mapping[str, Any]]], bool]
"""Whether a job's opcodes are the operation's current job, for jobs Ganeti builds without a reason trail
(a reinstall's): found by what they do when the submit's answer was lost, since they carry no mark."""

_PLANS: dict[str, Plan] = {}
_MATCHERS: dict[str, Matcher] = {}


def plans(kind: OperationKind) -> Callable[[Plan], Plan]:
    """Register the plan of ``kind``: the builders of its jobs, in order."""

    def register(plan: Plan) -> Plan:
        _PLANS[kind] = plan
        return plan

    return register


def builds(kind: OperationKind) -> Callable[[Builder], Builder]:
    """Register the builder of ``kind``'s one job."""

    def register(builder: Builder) -> Builder:
        _PLANS[kind] = lambda operation: (builder,)
        return builder

    return register


def unmarked(kind: OperationKind) -> Callable[[Matcher], Matcher]:
    """Register how to recognize ``kind``'s jobs that carry no mark."""

    def register(matcher: Matcher) -> Matcher:
        _MATCHERS[kind] = matcher
        return matcher

    return register


def unmarked_kinds() -> list[str]:
    return sorted(_MATCHERS)


def unmarked_match(operation: Operation, ops: Sequence[Mapping[str, Any]]) -> bool:
    matcher = _MATCHERS.get(operation.kind)
    return matcher is not None and matcher(operation, ops)


def step_count(operation: Operation) -> int:
    """How many jobs ``operation`` runs."""
    return len(_PLANS[operation.kind](operation))


def call_for(operation: Operation) -> Call[Any]:
    """The call that submits ``operation``'s current job (its ``step``), its reason trail carrying the
    operation's mark."""
    reason = trail.reason_text(operation.uuid, operation.requester_name, operation.reason)
    return _PLANS[operation.kind](operation)[operation.step](operation, reason)

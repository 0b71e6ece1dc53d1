"""The end hooks of fleet.operations: called when an operation of their kind ends, in the transaction that
records the end; one that raises is undone alone and never stops the end being recorded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone

from fleet.operations import hooks, lifecycle
from fleet.operations.models import Operation, OperationKind, OperationStatus
from tests.inventory.scenario import Scenario
from tests.inventory.scenario_fixtures import scenario

__all__ = ["scenario"]  # a fixture, used by name


@pytest.fixture
def registered() -> Iterator[list[tuple[int, str]]]:
    seen: list[tuple[int, str]] = []

    def breaks(operation: Operation) -> None:
        Operation.objects.filter(pk=operation.pk).update(reason="written, then undone")
        raise RuntimeError("a hook's bug")

    def notes(operation: Operation) -> None:
        seen.append((operation.pk, operation.status))

    saved = dict(hooks._HOOKS)
    hooks.on_end(OperationKind.CREATE, breaks)
    hooks.on_end(OperationKind.CREATE, notes)
    hooks.on_end(OperationKind.CREATE, notes)  # once only
    try:
        yield seen
    finally:
        hooks._HOOKS.clear()
        hooks._HOOKS.update(saved)


def test_a_hook_hears_of_the_end_and_a_broken_one_stops_nothing(
    scenario: Scenario, registered: list[tuple[int, str]]
) -> None:
    def pending(kind: OperationKind, name: str) -> Operation:
        return Operation.objects.create(
            kind=kind, cluster=scenario.alpha, cluster_name=scenario.alpha.name, instance_name=name,
            requester_name="root", reason="asked",
        )  # fmt: skip

    create, reboot = pending(OperationKind.CREATE, "new.example.org"), pending(OperationKind.REBOOT, "x")
    for operation in (create, reboot):
        lifecycle.not_submitted(operation.pk, "the cluster refused it", timezone.now())
    assert registered == [(create.pk, OperationStatus.FAILED)]  # its kind's hooks only, each once
    create.refresh_from_db()
    assert (create.status, create.error, create.reason) == (
        "failed",
        "Not submitted: the cluster refused it",
        "asked",  # the broken hook's write was undone with it
    )

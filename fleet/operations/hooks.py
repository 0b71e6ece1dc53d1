"""What other apps do when an operation of a kind ends: hooks they register from their ``AppConfig.ready()``.

``fleet.operations`` knows none of the apps that build on it (an approved application becomes a create here,
and ``fleet.requests`` closes the application when the create ends): an app registers a hook for a kind, and
:func:`ended` calls it in the transaction that records the operation's end (succeeded, failed, or never
submitted), so that the end and what follows from it are written together. A hook that raises is logged and
undone alone: it never stops the worker from recording the end of the operation or of its job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

from fleet.operations.models import Operation, OperationKind

__all__ = ["Hook", "ended", "on_end"]

log = logging.getLogger(__name__)

Hook = Callable[[Operation], None]
"""Called with the operation that just ended (its status, error and params set)."""

_HOOKS: dict[str, list[Hook]] = {}


def on_end(kind: OperationKind, hook: Hook) -> None:
    """Call ``hook`` whenever an operation of ``kind`` ends; registering the same hook twice adds it once."""
    hooks = _HOOKS.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def ended(operation: Operation) -> None:
    """Run the hooks of ``operation``'s kind, each in a savepoint of the caller's transaction."""
    for hook in _HOOKS.get(operation.kind, ()):
        try:
            with transaction.atomic():
                hook(operation)
        except Exception:
            log.exception(
                "the end hook %s of operation %s failed", getattr(hook, "__name__", hook), operation.pk
            )

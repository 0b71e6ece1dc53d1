"""The one write path: every change Fleet makes to a cluster is an action here, from every face.

Each action validates its parameters, asks the policy, and records an Operation (``fleet.operations.core``);
the worker submits it as a Ganeti job whose reason trail names the operation, follows the job to its end and
closes the operation (``fleet.operations.lifecycle``). Pages, the API and the CLI call these functions and
nothing else: ``from fleet import operations; operations.reboot(instance, by=caller, kind="hard")``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what __getattr__ gives, for type checkers
    from fleet.operations.cancel import cancel_job
    from fleet.operations.configuration import modify
    from fleet.operations.core import Caller, Invalid, KeyReused, Refused
    from fleet.operations.creation import create
    from fleet.operations.isolation import change_allow_from, deisolate, isolate
    from fleet.operations.lifecycle_actions import destroy, reinstall, rename
    from fleet.operations.power import failover, migrate, reboot, shutdown, start
    from fleet.operations.tagging import add_owner, lock, remove_owner, unlock

# Imported on first use: Django imports this package to find the app before its models may be loaded.
_EXPORTS = {
    "Caller": "core",
    "Invalid": "core",
    "KeyReused": "core",
    "Refused": "core",
    "start": "power",
    "shutdown": "power",
    "reboot": "power",
    "migrate": "power",
    "failover": "power",
    "lock": "tagging",
    "unlock": "tagging",
    "add_owner": "tagging",
    "remove_owner": "tagging",
    "cancel_job": "cancel",
    "modify": "configuration",
    "isolate": "isolation",
    "deisolate": "isolation",
    "change_allow_from": "isolation",
    "reinstall": "lifecycle_actions",
    "rename": "lifecycle_actions",
    "destroy": "lifecycle_actions",
    "create": "creation",
}

__all__ = [
    "Caller",
    "Invalid",
    "KeyReused",
    "Refused",
    "add_owner",
    "cancel_job",
    "change_allow_from",
    "create",
    "deisolate",
    "destroy",
    "failover",
    "isolate",
    "lock",
    "migrate",
    "modify",
    "reboot",
    "reinstall",
    "remove_owner",
    "rename",
    "shutdown",
    "start",
    "unlock",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)

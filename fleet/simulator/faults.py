"""Injectable faults of one simulated cluster, set at start or at runtime through the control endpoint.

- `latency`: seconds added before every reply;
- `error_rate` with `error_status`: the share of requests answered with that 5xx status;
- `blackhole`: connections are accepted, then never answered;
- `reset_rate`: the share of connections reset without a reply;
- `fail_jobs`: the share of opcodes that fail with OpExecError;
- `stuck_jobs`: new opcodes stay `running` until the fault is cleared;
- `archive_early`: jobs are archived as soon as they finish;
- `drop_after_write`: a write that makes a job (any method but GET, queries aside) is done, its job made,
  then the connection is reset without a reply, as when a network drops between Ganeti's answer and the
  client. Queries still answer, so that the client can look for the job in the queue.
Master failover is an action, not a state: the server moves the cluster's RAPI to another address.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ERROR_STATUSES = (500, 502, 503, 504)


class FaultError(ValueError):
    """A fault setting that is unknown or out of range."""


@dataclass
class Faults:
    """The current faults of one cluster."""

    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    blackhole: bool = False
    reset_rate: float = 0.0
    fail_jobs: float = 0.0
    stuck_jobs: bool = False
    archive_early: bool = False
    drop_after_write: bool = False
    changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False, compare=False)

    def update(self, settings: dict[str, Any]) -> None:
        """Apply settings such as {"latency": 0.5, "blackhole": true}; FaultError on a bad one."""
        types = {f.name: f.type for f in fields(self) if f.name != "changed"}
        for key, value in settings.items():
            if key not in types:
                raise FaultError(f"unknown fault {key!r} (known: {', '.join(types)})")
            kind = types[key]
            if kind == "bool":
                value = _as_bool(value)
            elif kind == "int":
                value = int(value)
                if value not in ERROR_STATUSES:
                    raise FaultError(f"error_status must be one of {ERROR_STATUSES}")
            else:
                value = float(value)
                if value < 0 or ((key.endswith("rate") or key == "fail_jobs") and value > 1):
                    raise FaultError(f"{key} must be between 0 and 1" if key != "latency" else "latency >= 0")
            setattr(self, key, value)
        self.changed.set()
        self.changed = asyncio.Event()

    def clear(self) -> None:
        """Remove every fault."""
        self.update({k: v for k, v in asdict(Faults()).items() if k != "changed"})

    def as_dict(self) -> dict[str, Any]:
        """The settings, as JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "changed"}


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off"):
        return False
    raise FaultError(f"not a boolean: {value!r}")


def parse_assignment(text: str) -> tuple[str, dict[str, Any]]:
    """Parse `CLUSTER:key=value[,key=value]` (the --fault option) into the cluster and its settings."""
    cluster, sep, rest = text.partition(":")
    if not sep or not rest:
        raise FaultError(f"expected CLUSTER:key=value[,key=value], got {text!r}")
    settings: dict[str, Any] = {}
    for item in rest.split(","):
        key, eq, value = item.partition("=")
        settings[key.strip().replace("-", "_")] = value.strip() if eq else True
    return cluster, settings

"""Every check by name: what `fleet check NAME` and the docs list."""

from __future__ import annotations

from fleet.checks import balance, cluster, freemem, ippool, joblist, nodes, queue, watcher
from fleet.checks.plugin import CheckModule

CHECKS: dict[str, CheckModule] = {
    m.NAME: m  # type: ignore[misc]
    for m in (cluster, balance, freemem, ippool, joblist, nodes, queue, watcher)
}

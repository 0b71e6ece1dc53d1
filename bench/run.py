"""Run every benchmark: `make bench` or `python -m bench.run [NAME ...]`."""

from __future__ import annotations

import sys

from bench import (
    access,
    checks,
    conformance,
    console,
    inventory,
    mail,
    metrics,
    operations,
    placement,
    queue,
    simulator,
    tokens,
)

BENCHES = {
    "simulator": simulator.main,
    "inventory": inventory.main,
    "queue": lambda: queue.main(tuple(queue.SCALES)),
    "access": access.main,
    "mail": mail.main,
    "conformance": lambda: conformance.main([]),
    "tokens": tokens.main,
    "operations": operations.main,
    "checks": checks.main,
    "metrics": metrics.main,
    "console": console.main,
    "placement": placement.main,
}


def main() -> None:
    for name in sys.argv[1:] or list(BENCHES):
        BENCHES[name]()


if __name__ == "__main__":
    main()

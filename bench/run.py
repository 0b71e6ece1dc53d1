"""Run every benchmark: `make bench` or `python -m bench.run [NAME ...]`."""

from __future__ import annotations

import sys

from bench import access, conformance, inventory, mail, operations, placement, queue, simulator, tokens

BENCHES = {
    "simulator": simulator.main,
    "inventory": inventory.main,
    "queue": lambda: queue.main(tuple(queue.SCALES)),
    "access": access.main,
    "mail": mail.main,
    "conformance": lambda: conformance.main([]),
    "tokens": tokens.main,
    "operations": operations.main,
    "placement": placement.main,
}


def main() -> None:
    for name in sys.argv[1:] or list(BENCHES):
        BENCHES[name]()


if __name__ == "__main__":
    main()

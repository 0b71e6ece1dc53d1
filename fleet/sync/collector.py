"""Python's cyclic garbage collector, paused while the worker builds rows by the ten thousand.

Parsing a cluster's answers and writing its snapshot allocate a few million dicts, lists and strings, all
alive until the pass ends: the collector would walk every live object again each time allocations pile up,
which costs as much as the rest of the pass. These objects hold no cycles (JSON values, row values), so
reference counting frees them anyway.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator

__all__ = ["PAUSE_AT_MOST", "gc_paused"]

_gc_lock = threading.Lock()
_gc_pausers = 0  # threads inside gc_paused()
_gc_was_enabled = False
_gc_paused_since = 0.0
PAUSE_AT_MOST = 60.0
"""Seconds the collector stays off while blocks overlap: past that, the end of a block collects anyway,
so that blocks of several threads that keep overlapping never keep it off for good."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the collector for the block, in whichever threads run one at the time; it resumes when the
    last block ends (and was enabled before the first)."""
    global _gc_pausers, _gc_was_enabled, _gc_paused_since
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            _gc_paused_since = time.monotonic()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        collect = False
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()
            elif _gc_was_enabled and time.monotonic() - _gc_paused_since >= PAUSE_AT_MOST:
                collect, _gc_paused_since = True, time.monotonic()
        if collect:
            gc.collect()

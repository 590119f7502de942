"""Python's cycle collector paused while a run starts and simulates (``scslab run``).

A small run is mostly its start: the imports, Numba's cached kernels and the build make
~1.3·10^5 long-lived objects (Numba's typing tables, the kernels' LLVM wrappers, the
modules' classes), and every full collection walks them all to free nothing — ~0.1 s of
the 1.2 s of ``scslab run rongcheng --people 1000 --days 365 --burn-in 0 --quiet``
(``benchmarks/hotspots.md``, thirteenth round). A run's days make no cyclic garbage that
holds an array (tested, ``tests/test_collector.py``: every module on), so pausing the
collector over them holds no memory a collection would have given back; the ~30 small
cycles each kernel load leaves are collected when the collector is back on.

Owns: the collector's on/off state for the duration of a ``with`` block (as it was
after). Reads and reports nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off inside the block, then as it was (on, unless the caller
    had turned it off)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()

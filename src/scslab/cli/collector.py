"""Python's cycle collector paused while a run starts and simulates (``scslab run``).

A small run is mostly its start: the imports, Numba's cached kernels and the build make
~1.3·10^5 long-lived objects (Numba's typing tables, the kernels' LLVM wrappers, the
modules' classes), and every full collection walks them all to free nothing — ~0.1 s of
the 1.2 s of ``scslab run rongcheng --people 1000 --days 365 --burn-in 0 --quiet``
(``benchmarks/hotspots.md``, thirteenth round). A run's days make no cyclic garbage that
holds an array (tested, ``tests/test_collector.py``: every module on), so pausing the
collector over them holds no memory a collection would have given back.

What the block made is frozen as it ends (``gc.freeze``), before the collector is back
on: otherwise its next young collection walks all of it at once — 23 and 11 ms after the
load and after the days of that small run (fourteenth round), to free ~900 small
objects (the ~30 cycles each kernel load leaves), which now stay until the process ends,
as the ``scslab`` command freezes everything before it exits anyway.

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
    had turned it off); turned back on, it leaves what the block made frozen."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.freeze()
            gc.enable()

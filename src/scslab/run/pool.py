"""Worker processes for replicates, studies and comparisons: started fresh (``spawn``),
never forked. The behaviour kernel runs on Numba's thread pool (GNU OpenMP where it is
installed), and a child forked from a process that has used it aborts ("fork() called
from a process already using GNU OpenMP"); a fresh process also inherits no state a
previous run left behind. Results do not depend on it: every draw is keyed."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def spawn_pool(workers: int, initializer: Callable[..., Any] | None = None,
               initargs: tuple = ()) -> ProcessPoolExecutor:
    """A process pool of ``workers`` fresh interpreters."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=initializer, initargs=initargs)

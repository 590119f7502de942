"""Worker processes for replicates, studies and comparisons: started fresh (``spawn``),
never forked. The behaviour kernel runs on Numba's thread pool (GNU OpenMP where it is
installed), and a child forked from a process that has used it aborts ("fork() called
from a process already using GNU OpenMP"); a fresh process also inherits no state a
previous run left behind. Results do not depend on it: every draw is keyed.

A worker ends when the process that started it does, however that ends: killed by a
signal (a scheduler's SIGTERM, the OS's SIGKILL), a parent cannot stop its pool, and a
worker waits on a queue it holds both ends of, so it would otherwise idle forever."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def spawn_pool(workers: int, initializer: Callable[..., Any] | None = None,
               initargs: tuple = ()) -> ProcessPoolExecutor:
    """A process pool of ``workers`` fresh interpreters, each ending with this process."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(initializer, initargs))


def _start_worker(initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    """In a new worker: watch the parent, then the pool's own initializer."""
    exit_with_parent()
    if initializer is not None:
        initializer(*initargs)


def exit_with_parent() -> None:
    """End this process (exit code 1) as soon as the process that started it ends: a
    daemon thread waits on the parent's sentinel. Nothing to do in a main process."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_for_parent() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=wait_for_parent, name="exit-with-parent", daemon=True).start()

"""Numba's start without its BLAS probe (120 ms of every run's fixed cost).

The first kernel a process loads from Numba's cache makes Numba import
``numba.np.arraymath``, which probes for a BLAS at import by importing ``scipy.linalg``
(scipy's array-API layer and numpy's f2py come with it: ~120 ms of a 1.4 s run). The
probe decides one thing: whether ``np.correlate`` and ``np.convolve`` are compiled on the
BLAS or on a plain loop. No scslab kernel calls them (``tests/test_numba_start.py``
checks), and ``np.dot`` and ``np.linalg`` probe again for themselves when a kernel using
them is compiled. :func:`start_numba_without_blas_probe` imports ``numba.np.arraymath``
with the probe answering "no BLAS", then puts the probe back; nothing else changes.
"""

from __future__ import annotations

import sys


def start_numba_without_blas_probe() -> None:
    """Import ``numba.np.arraymath`` without importing ``scipy.linalg`` (see the module
    docstring); nothing to do if either is imported already. Call it before the first
    kernel is loaded (``Sim`` does)."""
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    import numba.np.linalg as linalg

    probe = getattr(linalg, "ensure_blas", None)
    if probe is None:  # a Numba whose internals differ: keep its own start
        return

    def no_blas() -> None:
        raise ImportError("BLAS probe skipped at start (scslab.numerics.numba_start)")

    linalg.ensure_blas = no_blas
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        linalg.ensure_blas = probe

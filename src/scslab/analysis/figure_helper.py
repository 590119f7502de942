"""A run's figures drawn on two cores (``scslab run --out``).

Drawing a run's figures took longer than simulating a small run: at 1,000 people × 365
days, 1.8 s against 1.3 s (matplotlib's import 0.28 s, the time series 0.8 s, the
others 0.6 s; ``benchmarks/hotspots.md``). A helper process, started fresh while the
run simulates so that its imports cost no wall time, draws the time series — the
largest figure — while this process draws the others. The PNG bytes are those this
process would draw (tested). The helper is a fresh interpreter (``spawn``), never a
fork: a process that has used Numba's OpenMP threads cannot fork (``run/pool.py``).
If the helper cannot start, dies or fails, this process draws its share too, so a
failure is reported from here, as it would have been without a helper.

Owns: the helper process. Reads: a run's :class:`~scslab.run.results.Results`.
Reports: each figure's PNG bytes by name, in the order of ``RUN_FIGURES``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

from scslab.analysis.figures import RUN_FIGURES, render_figures, run_figures
from scslab.run.pool import spawn_pool

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from scslab.run.results import Results

#: what the helper draws: the time series is most of the drawing's time
HELPER_FIGURES = ("timeseries",)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _warm() -> None:
    """In the helper, while the run simulates: import what drawing needs."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    import scslab.analysis.tables  # noqa: F401


def _draw(results: Results, names: Sequence[str]) -> dict[str, bytes]:
    """In the helper: build and draw ``names`` of the run's figures."""
    return render_figures(run_figures(results, only=names))


class FigureHelper:
    """A helper process for a run's figures; start it before the run simulates
    (:meth:`start`), then :meth:`draw` once the results exist. A context manager: leaving
    it stops the helper."""

    def __init__(self, pool: ProcessPoolExecutor) -> None:
        self._pool = pool
        self._warm: Future = pool.submit(_warm)
        #: the figures the helper drew at the last :meth:`draw` (none if it failed)
        self.drawn_there: list[str] = []

    @classmethod
    def start(cls) -> FigureHelper | None:
        """A helper warming up, or ``None`` where a second CPU or a new process is not
        to be had (the figures are then drawn here alone)."""
        if usable_cpus() < 2:
            return None
        try:
            return cls(spawn_pool(1))
        except OSError:
            return None

    def draw(self, results: Results) -> dict[str, bytes]:
        """Every figure of the run as PNG bytes: the helper's share there, the rest here
        at the same time."""
        try:
            theirs: Future | None = self._pool.submit(_draw, results, HELPER_FIGURES)
        except RuntimeError:  # the pool broke while warming up (BrokenProcessPool)
            theirs = None
        pngs = render_figures(run_figures(
            results, only=[n for n in RUN_FIGURES if n not in HELPER_FIGURES]))
        try:
            there = theirs.result() if theirs is not None else {}
        except Exception:  # its share drawn here: a real error is raised from here
            theirs = None
        else:
            pngs.update(there)
            self.drawn_there = list(there)
        if theirs is None:
            pngs.update(render_figures(run_figures(results, only=HELPER_FIGURES)))
        return {name: pngs[name] for name in RUN_FIGURES if name in pngs}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> FigureHelper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def draw_run_figures(results: Results, helper: FigureHelper | None) -> dict[str, bytes]:
    """A run's figures as PNG bytes, with the helper when there is one."""
    if helper is None:
        return render_figures(run_figures(results))
    return helper.draw(results)

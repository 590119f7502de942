"""A run's figures drawn on two cores (``scslab run --out``).

Drawing a run's figures took longer than simulating a small run: at 1,000 people × 365
days, 1.8 s against 1.3 s (matplotlib's import 0.28 s, the time series 0.8 s, the
others 0.6 s; ``benchmarks/hotspots.md``). A helper process, started fresh while the
run simulates so that its imports cost no wall time, draws the time series — the
largest figure — while this process draws the others: 3.24 against 3.79 s for that run
with ``--out``, 23.7 against 24.3 s at 10^6 people, for ~1 s more CPU (its own imports),
so it is started only where a CPU is idle and memory to spare. The PNG bytes are those
this process would draw (tested).

The helper is ``python -m scslab.analysis.figure_helper`` on two pipes of its own: a
fresh interpreter, never a fork (a process that has used Numba's OpenMP threads cannot
fork, ``run/pool.py``), and not a ``multiprocessing`` child, which would import the
caller's main script again and may not be started from a pool's worker. It ignores
Ctrl-C (the run handles it) and ends when its input closes: when the run has sent it
nothing more, or has ended however it ended. If the helper cannot start, dies or fails,
this process draws its share too, so a failure is reported from here, as it would have
been without a helper.

Owns: the helper process. Reads: a run's :class:`~scslab.run.results.Results`.
Reports: each figure's PNG bytes by name, in the order of ``RUN_FIGURES``.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any, BinaryIO

from scslab.analysis.figures import RUN_FIGURES, render_figures, run_figures

if TYPE_CHECKING:
    from scslab.run.results import Results

#: what the helper draws: the time series is most of the drawing's time
HELPER_FIGURES = ("timeseries",)
#: the helper's resident memory at its peak (243 MiB measured: Python, matplotlib, pandas
#: and pyarrow, a year's series and the drawn figure); a run that would not fit in memory
#: beside it gets no helper
HELPER_BYTES = 256 * 2**20
#: a run whose daily series are larger is drawn here alone: copying them to the helper
#: would cost more time and memory than the second core saves (many replicates over a
#: long horizon; the memory check counts one copy of the series, not two)
MAX_SENT_BYTES = 64 << 20


def measured_series_bytes(results: Results) -> int:
    """Bytes of a run's daily series, every replicate's."""
    return sum(a.nbytes for r in results.replicates for a in r.series.values())


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def load_average() -> float:
    """The system's load over the last minute (0 where it cannot be read)."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return 0.0


def _warm() -> None:
    """In the helper, while the run simulates: import what drawing needs."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    import scslab.analysis.tables  # noqa: F401


def serve(inbox: BinaryIO, outbox: BinaryIO) -> None:
    """The helper's life: import, wait for a run's results and the figures to draw, draw
    them, send their PNG bytes (or the error), end at once (no teardown for the run to
    wait on). Its input closing first ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _warm()
    try:
        results, names = pickle.load(inbox)
    except (EOFError, OSError, pickle.UnpicklingError):  # the run ended without figures
        os._exit(0)
    try:
        reply: tuple[str, Any] = ("drawn", render_figures(run_figures(results, only=names)))
    except Exception as exc:  # the run draws these itself, and raises the error there
        reply = ("failed", f"{type(exc).__name__}: {exc}")
    try:
        pickle.dump(reply, outbox, protocol=pickle.HIGHEST_PROTOCOL)
        outbox.flush()
    finally:
        os._exit(0)


class FigureHelper:
    """A helper process for a run's figures; start it before the run simulates
    (:meth:`start`), then :meth:`draw` once the results exist. A context manager: leaving
    it ends the helper."""

    def __init__(self) -> None:
        their_in, self._to = os.pipe()
        self._from, their_out = os.pipe()
        try:
            #: the helper process
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scslab.analysis.figure_helper", str(their_in),
                 str(their_out)], stdin=subprocess.DEVNULL, pass_fds=(their_in, their_out))
        except BaseException:
            for fd in (self._to, self._from):
                os.close(fd)
            raise
        finally:
            os.close(their_in)
            os.close(their_out)
        self._inbox = os.fdopen(self._from, "rb")
        self._outbox = os.fdopen(self._to, "wb")
        #: the figures the helper drew at the last :meth:`draw` (none if it failed)
        self.drawn_there: list[str] = []
        self._asked = False  # whether it was sent results to draw (it then ends itself)

    @classmethod
    def start(cls) -> FigureHelper | None:
        """A helper warming up, or ``None`` where a second CPU or a new process is not
        to be had (the figures are then drawn here alone): on one CPU, or when the load
        already fills every CPU (runs started side by side; the helper's own imports
        cost ~1 s of CPU, which only an idle CPU gives for free), or without POSIX pipes
        to hand it."""
        cpus = usable_cpus()
        if cpus < 2 or load_average() >= cpus or os.name != "posix":
            return None
        try:
            return cls()
        except OSError:
            return None

    def draw(self, results: Results) -> dict[str, bytes]:
        """Every figure of the run as PNG bytes: the helper's share there, the rest here
        at the same time. Its share is drawn here if it cannot draw it."""
        names = tuple(HELPER_FIGURES)
        sent: list[bool] = []  # the results are sent from a thread, so that a helper
        sender = None          # still importing does not hold this process up
        try:
            data = (pickle.dumps((results, names), protocol=pickle.HIGHEST_PROTOCOL)
                    if measured_series_bytes(results) <= MAX_SENT_BYTES else None)
        except Exception:  # results that do not pickle are drawn here
            data = None
        if data is not None:
            sender = threading.Thread(target=self._send, args=(data, sent), daemon=True)
            sender.start()
        pngs = render_figures(run_figures(
            results, only=[n for n in RUN_FIGURES if n not in names]))
        there: dict[str, bytes] | None = None
        if sender is not None:
            sender.join()
            if sent:
                self._asked = True
                try:
                    status, payload = pickle.load(self._inbox)
                except (EOFError, OSError, pickle.UnpicklingError):  # it died drawing
                    status, payload = "died", None
                if status == "drawn":
                    there = payload
        self.drawn_there = list(there or {})
        pngs.update(there if there is not None else render_figures(run_figures(results,
                                                                               only=names)))
        return {name: pngs[name] for name in RUN_FIGURES if name in pngs}

    def _send(self, data: bytes, sent: list[bool]) -> None:
        try:
            self._outbox.write(data)
            self._outbox.flush()
        except OSError:  # the helper has ended
            return
        sent.append(True)

    def close(self) -> None:
        """End the helper: after drawing it ends by itself; else it is stopped."""
        for pipe in (self._outbox, self._inbox):
            try:
                pipe.close()
            except OSError:  # a write the helper never read (it had ended)
                pass
        if not self._asked:
            self.process.terminate()
        try:
            self.process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> FigureHelper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def draw_run_figures(results: Results, helper: FigureHelper | None) -> dict[str, bytes]:
    """A run's figures as PNG bytes, with the helper when there is one."""
    if helper is None:
        return render_figures(run_figures(results))
    return helper.draw(results)


if __name__ == "__main__":
    serve(os.fdopen(int(sys.argv[1]), "rb"), os.fdopen(int(sys.argv[2]), "wb"))

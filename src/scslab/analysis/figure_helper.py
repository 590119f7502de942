"""A run's figures drawn on two cores while the run waits (``scslab run --out``).

Drawing a run's figures took longer than simulating a small run: at 1,000 people × 365
days, 1.8 s against 1.3 s (matplotlib's import 0.28 s, the time series 0.8 s, the
others 0.6 s; ``benchmarks/hotspots.md``). A helper process is started fresh while the
run simulates. It imports what drawing needs and draws a small figure (a process's first
figure costs ~0.1 s more than its next), all on the CPU the run leaves idle. Given the
results it forks: the fork draws the time series while the helper draws the others, on
both cores. The run itself never imports matplotlib or pandas. At 1,000 people × 365
days with ``--out``: 1.94 against 2.49 s when the run drew its share itself, and 3.2
against 3.8 s of CPU (thirteenth round of ``hotspots.md``). It is started only where a
CPU is idle and memory is to spare. The PNG bytes are those this process would draw
(tested).

The helper is ``python -m scslab.analysis.figure_helper`` on two pipes of its own: a
fresh interpreter, never a fork of the run (a process that has used Numba's OpenMP
threads cannot fork, ``run/pool.py``), and not a ``multiprocessing`` child, which would
import the caller's main script again and may not be started from a pool's worker. The
helper itself has run no Numba kernel and started no Python thread when it forks (the
native threads NumPy's and pyarrow's libraries start: ``_fork_drawing``); it forks on
Linux only (elsewhere, system libraries such as macOS's Accelerate are not safe to use
in a fork) and draws everything itself where it cannot. It ignores Ctrl-C (the run
handles it) and ends when its input closes: when the run has sent it nothing more, or
has ended however it ended (a helper already drawing ends when it replies: the closed
pipe refuses the reply). Its fork dies with it. If the helper cannot start, dies or
fails, this process draws every figure itself, so a failure is reported from here, as
it would have been without a helper; if the fork dies, the helper draws its share.

Owns: the helper process and its fork. Reads: a run's
:class:`~scslab.run.results.Results`. Reports: each figure's PNG bytes by name, in the
order of ``RUN_FIGURES``.
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from scslab.analysis.figures import RUN_FIGURES, render_figures, run_figures

if TYPE_CHECKING:
    from scslab.run.results import Results

#: what the helper's fork draws while the helper draws the others: the time series is
#: half of the drawing's time
FORKED_FIGURES = ("timeseries",)
#: prctl's option for the signal a process gets when its parent ends (linux/prctl.h)
PR_SET_PDEATHSIG = 1
#: the helper's resident memory at its peak with its fork's own pages (227 + 49 MiB
#: measured: Python, matplotlib, pandas, pyarrow and the modules' declarations, a year's
#: series and the drawn figures); a run that would not fit in memory beside it gets no
#: helper
HELPER_BYTES = 288 * 2**20
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
    """In the helper, while the run simulates: import what drawing needs, and draw once."""
    import matplotlib.backends.backend_agg  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    from scslab.analysis.figures import warm_up_drawing
    from scslab.analysis.tables import metric_declarations

    metric_declarations()  # the axes' units: every module's declarations, numba and all
    warm_up_drawing()


def serve(inbox: BinaryIO, outbox: BinaryIO) -> None:
    """The helper's life: import, wait for a run's results and the figures to draw, draw
    them (in two processes, :func:`draw_in_two`), send their PNG bytes (or the error), end
    at once (no teardown for the run to wait on). Its input closing first ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _warm()
    try:
        results, names = pickle.load(inbox)
    except (EOFError, OSError, pickle.UnpicklingError):  # the run ended without figures
        os._exit(0)
    try:
        reply: tuple[str, Any] = ("drawn", draw_in_two(
            results, names, run_pipes=(inbox.fileno(), outbox.fileno())))
    except Exception as exc:  # the run draws these itself, and raises the error there
        reply = ("failed", f"{type(exc).__name__}: {exc}")
    try:
        pickle.dump(reply, outbox, protocol=pickle.HIGHEST_PROTOCOL)
        outbox.flush()
    finally:
        os._exit(0)


def draw_in_two(results: Results, names: Sequence[str],
                run_pipes: Sequence[int] = ()) -> dict[str, bytes]:
    """The figures ``names`` as PNG bytes: those of ``FORKED_FIGURES`` drawn by a fork of
    this process while it draws the others, both cores busy while the run waits. Where it
    cannot fork (not on Linux, other Python threads running) or the fork fails, all are
    drawn here; if the fork dies, its share is drawn here; an error is raised from here,
    as it would be drawing alone (the fork is then stopped). ``run_pipes``: this
    process's pipes to the run, which the fork closes, so that the run sees them close
    when this process ends."""
    forked = [n for n in names if n in FORKED_FIGURES]
    here = [n for n in names if n not in forked]
    child = _fork_drawing(results, forked, run_pipes) if forked and here else None
    if child is None:
        return render_figures(run_figures(results, only=names))
    pid, reader = child
    try:
        pngs = render_figures(run_figures(results, only=here))
        try:
            there = pickle.load(reader)
        except (EOFError, OSError, pickle.UnpicklingError):  # it died or failed drawing
            there = None
    except BaseException:  # this share failed: the fork's is not wanted
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        reader.close()
        os.waitpid(pid, 0)
    pngs.update(there if there is not None else render_figures(
        run_figures(results, only=forked)))
    return pngs


def _fork_drawing(results: Results, names: Sequence[str],
                  run_pipes: Sequence[int]) -> tuple[int, BinaryIO] | None:
    """A fork of this process drawing ``names``: its pid and the pipe its PNG bytes come
    on (nothing if it fails); ``None`` where this process cannot fork safely.

    The helper forks having imported and drawn one small figure: it has started no
    Python thread and run no Numba kernel (so no OpenMP pool, which cannot live through
    a fork). Two native threads exist, OpenBLAS's idle pool (from NumPy's import) and
    jemalloc's background thread (from pyarrow's); both libraries restore their state in
    a fork by their own fork handlers (as in any forked NumPy worker). The fork dies with
    the helper (``PR_SET_PDEATHSIG``), so a helper stopped by the run leaves nothing
    behind; what the helper holds is frozen first (``gc.freeze``), so that the fork's
    collections do not copy its pages."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return None
    read_end, write_end = os.pipe()
    parent = os.getpid()
    gc.freeze()
    try:
        with warnings.catch_warnings():  # 3.12+ warns of the native threads above
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the fork: draw, send, end without running the parent's exit code
        try:
            _die_with(parent)
            for fd in (read_end, *run_pipes):
                os.close(fd)
            data = pickle.dumps(render_figures(run_figures(results, only=names)),
                                protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write_end, "wb") as writer:
                writer.write(data)
        finally:
            os._exit(0)
    os.close(write_end)
    return pid, os.fdopen(read_end, "rb")


def _die_with(parent: int) -> None:
    """In a fork: be killed when ``parent`` ends (Linux's ``PR_SET_PDEATHSIG``), and end
    now if it already has."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
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

    def draw(self, results: Results, names: Sequence[str] = RUN_FIGURES) -> dict[str, bytes]:
        """The figures ``names`` (by default every figure of the run) as PNG bytes, drawn
        by the helper, so that this process never imports matplotlib. They are drawn here
        if the helper cannot draw them (results too large to send or that do not pickle,
        a helper that has ended, died or failed: its error is then raised from here)."""
        try:
            data = (pickle.dumps((results, tuple(names)), protocol=pickle.HIGHEST_PROTOCOL)
                    if measured_series_bytes(results) <= MAX_SENT_BYTES else None)
        except Exception:  # results that do not pickle are drawn here
            data = None
        there: dict[str, bytes] | None = None
        if data is not None:
            try:  # waits, if need be, for a helper still importing: nothing else to do
                self._outbox.write(data)
                self._outbox.flush()
                self._asked = True
            except OSError:  # the helper has ended
                pass
        if self._asked:
            try:
                status, payload = pickle.load(self._inbox)
            except (EOFError, OSError, pickle.UnpicklingError):  # it died drawing
                status, payload = "died", None
            if status == "drawn":
                there = payload
        self.drawn_there = [name for name in RUN_FIGURES if name in (there or {})]
        pngs = there if there is not None else render_figures(run_figures(results,
                                                                          only=names))
        return {name: pngs[name] for name in RUN_FIGURES if name in pngs}

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

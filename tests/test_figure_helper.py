"""A run's figures drawn with a helper process: the same PNG bytes as drawn here alone,
and drawn here when the helper cannot help."""

from __future__ import annotations

import sys

import pytest

from helpers import child_outlives_killed_parent
from scslab.analysis import figure_helper
from scslab.analysis.figure_helper import FigureHelper, draw_run_figures
from scslab.analysis.figures import RUN_FIGURES, run_figures
from scslab.run.runner import run_scenario
from scslab.scenario import load_scenario


@pytest.fixture(scope="module")
def results():
    # two replicates: the time series has its interval band; 40 days: a weekly mean
    return run_scenario(load_scenario("rongcheng", people=1000, days=40, burn_in=5), 2)


@pytest.fixture(scope="module")
def alone(results):
    return draw_run_figures(results, None)


def test_a_run_has_its_figures_drawn_here(alone):
    assert list(alone) == ["timeseries", "groups", "harm"]  # no exposure without sensors
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in alone.values())


def test_the_helper_draws_the_same_bytes(results, alone, monkeypatch):
    monkeypatch.setattr(figure_helper, "usable_cpus", lambda: 2)
    monkeypatch.setattr(figure_helper, "load_average", lambda: 1.9)
    helper = FigureHelper.start()
    assert helper is not None
    with helper:
        drawn = helper.draw(results)
        assert helper.drawn_there == list(alone)  # all there: none drawn here
    assert list(drawn) == list(alone)
    assert drawn == alone
    assert helper.process.returncode == 0  # it ended by itself once it had drawn


IN_A_FRESH_HELPER = """
import os, pickle, sys
from scslab.analysis import figure_helper
from scslab.analysis.figures import RUN_FIGURES
source, mode, target = sys.argv[1:]
here = os.getpid()
real_render, real_run = figure_helper.render_figures, figure_helper.run_figures

def render(figs):  # each PNG with the pid that drew it
    return {name: (png, os.getpid()) for name, png in real_render(figs).items()}

def dies_in_the_fork(*args, **kwargs):
    if os.getpid() != here:
        open(target + ".fork-died", "w").close()  # it forked, and its fork died
        os._exit(3)
    return real_run(*args, **kwargs)

figure_helper.render_figures = render
if mode == "fork-dies":
    figure_helper.run_figures = dies_in_the_fork
with open(source, "rb") as f:
    results = pickle.load(f)
drawn = figure_helper.draw_in_two(results, RUN_FIGURES)
with open(target, "wb") as f:
    pickle.dump((here, drawn), f)
"""


def _draw_in_a_fresh_helper(results, mode, tmp_path):
    """``draw_in_two`` in a fresh interpreter, as in the helper (a test worker has
    threads of its own, where the helper does not fork): its pid and, per figure, the
    PNG bytes and the pid that drew them."""
    import pickle
    import subprocess

    source, target = tmp_path / "results.pickle", tmp_path / "drawn.pickle"
    source.write_bytes(pickle.dumps(results))
    subprocess.run([sys.executable, "-c", IN_A_FRESH_HELPER, str(source), mode, str(target)],
                   check=True, timeout=300)
    helper_pid, drawn = pickle.loads(target.read_bytes())
    return (helper_pid, {name: png for name, (png, _) in drawn.items()},
            {name: pid for name, (_, pid) in drawn.items()})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_the_helper_draws_in_two_processes(results, alone, tmp_path):
    helper_pid, pngs, pids = _draw_in_a_fresh_helper(results, "", tmp_path)
    assert pngs == alone
    assert pids.pop("timeseries") != helper_pid  # the fork's
    assert set(pids.values()) == {helper_pid}  # the rest drawn by the helper


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_a_dead_fork_has_its_share_drawn_by_the_helper(results, alone, tmp_path):
    helper_pid, pngs, pids = _draw_in_a_fresh_helper(results, "fork-dies", tmp_path)
    assert (tmp_path / "drawn.pickle.fork-died").exists()
    assert pngs == alone
    assert set(pids.values()) == {helper_pid}


def test_the_helper_draws_alone_where_it_cannot_fork(results, alone, monkeypatch):
    import os

    real = figure_helper.render_figures
    pids = set()

    def render(figs):
        pids.add(os.getpid())
        return real(figs)

    def no_fork():
        raise AssertionError("forked with another thread running")

    monkeypatch.setattr(figure_helper, "render_figures", render)
    monkeypatch.setattr(figure_helper.threading, "active_count", lambda: 2)
    monkeypatch.setattr(figure_helper.os, "fork", no_fork)
    assert figure_helper.draw_in_two(results, RUN_FIGURES) == alone
    assert pids == {os.getpid()}


def test_a_dead_helper_has_its_share_drawn_here(results, alone):
    with FigureHelper() as helper:
        helper.process.kill()
        helper.process.wait()
        drawn = helper.draw(results)
        assert helper.drawn_there == []
    assert drawn == alone


def test_results_that_do_not_pickle_are_drawn_here(results, alone):
    import copy

    unpicklable = copy.copy(results)
    unpicklable.manifest = {"callback": lambda: None}
    with FigureHelper() as helper:
        drawn = helper.draw(unpicklable)
        assert helper.drawn_there == []
    assert drawn == alone


def test_large_results_are_drawn_here(results, alone, monkeypatch):
    monkeypatch.setattr(figure_helper, "MAX_SENT_BYTES", figure_helper.measured_series_bytes(results) - 1)
    with FigureHelper() as helper:
        drawn = helper.draw(results)
        assert helper.drawn_there == []
    assert drawn == alone
    assert helper.process.returncode is not None  # stopped, not left running


def test_an_error_drawing_there_is_raised_here(results):
    """What the helper cannot draw is drawn again here, so its error is raised here."""
    with FigureHelper() as helper, pytest.raises(ValueError, match="no run figure named maps"):
        helper.draw(results, names=("maps",))
    assert helper.process.returncode == 0  # it reported the error, then ended


def test_a_helper_not_asked_to_draw_is_stopped():
    helper = FigureHelper()
    helper.close()
    assert helper.process.returncode is not None


@pytest.mark.parametrize(("cpus", "load"), [(1, 0.0), (2, 2.0), (4, 5.5)])
def test_no_helper_without_an_idle_cpu(monkeypatch, cpus, load):
    monkeypatch.setattr(figure_helper, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(figure_helper, "load_average", lambda: load)
    assert FigureHelper.start() is None


def test_run_figures_builds_the_ones_asked(results):
    assert list(run_figures(results, only=["harm", "groups"])) == ["groups", "harm"]
    assert list(run_figures(results, only=[])) == []
    assert set(run_figures(results)) <= set(RUN_FIGURES)
    with pytest.raises(ValueError, match="no run figure named maps"):
        run_figures(results, only=["maps"])


def test_no_helper_where_the_run_would_not_fit_beside_it(monkeypatch):
    from scslab import cli
    from scslab.run import memory
    from scslab.run.memory import estimate_bytes

    monkeypatch.delenv("SCSLAB_NO_MEMORY_CHECK", raising=False)
    monkeypatch.setattr(figure_helper, "usable_cpus", lambda: 2)
    monkeypatch.setattr(figure_helper, "load_average", lambda: 0.0)
    sc = load_scenario("rongcheng", people=1000, days=10, burn_in=0)
    need = estimate_bytes(sc)["need"]
    monkeypatch.setattr(memory, "available_bytes", lambda: need + figure_helper.HELPER_BYTES - 1)
    assert cli._figure_helper(True, sc) is None
    monkeypatch.setattr(memory, "available_bytes", lambda: need + figure_helper.HELPER_BYTES)
    helper = cli._figure_helper(True, sc)
    assert helper is not None
    helper.close()
    assert cli._figure_helper(False, sc) is None


def _start_in_a_daemon(queue) -> None:
    figure_helper.usable_cpus = lambda: 2  # an idle machine
    figure_helper.load_average = lambda: 0.0
    try:
        with FigureHelper.start() as helper:
            queue.put(helper.process.pid)
    except Exception as exc:
        queue.put(repr(exc))


def test_a_helper_starts_in_a_daemonic_process():
    """A pool's worker (daemonic) may not start multiprocessing children; the helper is
    a plain subprocess, so a worker calling the CLI still has one."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    worker = ctx.Process(target=_start_in_a_daemon, args=(queue,), daemon=True)
    worker.start()
    assert isinstance(queue.get(timeout=120), int)
    worker.join()


KILLED_RUN = """
import os, signal
from scslab.analysis.figure_helper import FigureHelper
helper = FigureHelper()
print(helper.process.pid, flush=True)
os.kill(os.getpid(), signal.{signal})
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signal", ["SIGKILL", "SIGTERM"])
def test_the_helper_ends_when_the_run_is_killed(signal, tmp_path):
    # it notices once its imports are done
    assert not child_outlives_killed_parent(KILLED_RUN.format(signal=signal), tmp_path,
                                            wait=30)


RUN_WITH_A_HELPER = """
import sys
from scslab.analysis import figure_helper
figure_helper.usable_cpus = lambda: 2  # an idle machine, whatever the suite's load
figure_helper.load_average = lambda: 0.0
from scslab.cli import main
status = main(["run", "rongcheng", "--people", "300", "--days", "20", "--burn-in", "0",
               "--quiet", "--out", sys.argv[1]])
print(status, "matplotlib" in sys.modules)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the helper needs POSIX pipes")
def test_a_run_with_a_helper_never_imports_matplotlib(tmp_path):
    """The helper draws every figure, so the run spends no time or memory on matplotlib."""
    import os
    import subprocess

    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-c", RUN_WITH_A_HELPER, str(out)],
                          capture_output=True, text=True, timeout=300, check=True,
                          env={**os.environ, "SCSLAB_NO_MEMORY_CHECK": "1"})
    assert done.stdout.split() == ["0", "False"]
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "groups.png", "harm.png", "timeseries.png"]


FORK_OF_A_KILLED_HELPER = """
import os, pickle, signal, time
from scslab.analysis import figure_helper
from scslab.analysis.figures import RUN_FIGURES
here = os.getpid()

def run_figures(*args, **kwargs):
    if os.getpid() != here:  # the fork: say who it is, then draw for ever
        print(os.getpid(), flush=True)
        time.sleep(120)
    time.sleep(1.0)  # the helper, once its fork is drawing: killed
    os.kill(here, signal.SIGKILL)

figure_helper.run_figures = run_figures
with open({source!r}, "rb") as f:
    results = pickle.load(f)
figure_helper.draw_in_two(results, RUN_FIGURES)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_the_fork_ends_with_the_helper(results, tmp_path):
    """A helper stopped by the run (or killed) while its fork draws leaves no fork
    behind."""
    import pickle

    source = tmp_path / "results.pickle"
    source.write_bytes(pickle.dumps(results))
    script = FORK_OF_A_KILLED_HELPER.format(source=str(source))
    assert not child_outlives_killed_parent(script, tmp_path, wait=10)


FAILING_SHARE = """
import os, pickle, sys, time
from scslab.analysis import figure_helper
from scslab.analysis.figures import RUN_FIGURES
here = os.getpid()

def run_figures(*args, **kwargs):
    if os.getpid() != here:  # the fork: draws for ever
        time.sleep(120)
    raise ValueError("this share cannot be drawn")

figure_helper.run_figures = run_figures
with open(sys.argv[1], "rb") as f:
    results = pickle.load(f)
t0 = time.monotonic()
try:
    figure_helper.draw_in_two(results, RUN_FIGURES)
except ValueError as exc:
    print(exc, round(time.monotonic() - t0), sep="|")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_an_error_in_the_helpers_share_stops_the_fork(results, tmp_path):
    """The error is raised at once: the fork's share is not waited for."""
    import pickle
    import subprocess

    source = tmp_path / "results.pickle"
    source.write_bytes(pickle.dumps(results))
    done = subprocess.run([sys.executable, "-c", FAILING_SHARE, str(source)],
                          capture_output=True, text=True, timeout=100, check=True)
    message, seconds = done.stdout.strip().split("|")
    assert message == "this share cannot be drawn"
    assert int(seconds) < 30

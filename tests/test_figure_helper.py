"""A run's figures drawn with a helper process: the same PNG bytes as drawn here alone,
and drawn here when the helper cannot help."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pytest

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
    helper = FigureHelper.start()
    assert helper is not None
    with helper:
        drawn = helper.draw(results)
    assert helper.drawn_there == ["timeseries"]  # not drawn here after a failure
    assert list(drawn) == list(alone)
    assert drawn == alone


class _Broken:
    """A pool whose process died (``raises``: at submit, else in the future)."""

    def __init__(self, raises: bool) -> None:
        self.raises = raises
        self.submitted: list = []

    def submit(self, fn, *args):
        self.submitted.append(fn.__name__)
        if self.raises and fn.__name__ == "_draw":
            raise BrokenProcessPool("the helper died")
        future: Future = Future()
        future.set_exception(BrokenProcessPool("the helper died"))
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


@pytest.mark.parametrize("raises", [False, True], ids=["dies drawing", "dead at submit"])
def test_a_dead_helper_has_its_share_drawn_here(results, alone, raises):
    pool = _Broken(raises)
    helper = FigureHelper(pool)
    drawn = helper.draw(results)
    assert pool.submitted == ["_warm", "_draw"]
    assert helper.drawn_there == []
    assert drawn == alone


def test_an_error_drawing_is_raised_here(results, monkeypatch):
    """The helper's share is drawn again here, so an error in it is raised from here."""
    def broken(*args, **kwargs):
        raise ZeroDivisionError("a figure that cannot be drawn")

    monkeypatch.setattr(figure_helper, "render_figures", broken)
    with pytest.raises(ZeroDivisionError, match="cannot be drawn"):
        FigureHelper(_Broken(False)).draw(results)


def test_one_cpu_starts_no_helper(monkeypatch):
    monkeypatch.setattr(figure_helper, "usable_cpus", lambda: 1)
    assert FigureHelper.start() is None


def test_run_figures_builds_the_ones_asked(results):
    assert list(run_figures(results, only=["harm", "groups"])) == ["groups", "harm"]
    assert list(run_figures(results, only=[])) == []
    assert set(run_figures(results)) <= set(RUN_FIGURES)
    with pytest.raises(ValueError, match="no run figure named maps"):
        run_figures(results, only=["maps"])

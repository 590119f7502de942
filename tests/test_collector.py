"""The cycle collector paused over a run's start and days (``cli/collector.py``): it is
back as it was after, and pausing it holds no memory — a run's days leave no cyclic
garbage that holds an array (only the small cycles of Numba's kernel loads)."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from scslab.cli.collector import collector_paused
from scslab.run.engine import Sim
from scslab.scenario import load_scenario

EVERY_MODULE = Path(__file__).resolve().parents[1] / "benchmarks" / "every-module.yaml"


@pytest.mark.parametrize("was_on", [True, False])
def test_the_collector_is_paused_then_as_it_was(was_on):
    (gc.enable if was_on else gc.disable)()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is was_on
        with pytest.raises(RuntimeError), collector_paused():
            raise RuntimeError("a run that fails")
        assert gc.isenabled() is was_on
    finally:
        gc.enable()


def test_what_the_block_made_is_frozen_as_the_collector_comes_back():
    """Else the collector's next young collection would walk all of it at once (a small
    run's start: ~10^5 objects, 23 ms); a caller's own pause is left alone."""
    gc.enable()
    frozen = gc.get_freeze_count()
    with collector_paused():
        made = [[i] for i in range(20_000)]  # tracked objects, all alive
    assert gc.get_count()[0] < 1000  # the young generation: not the 20,000
    assert gc.get_freeze_count() >= frozen + len(made)
    gc.disable()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            more = [[i] for i in range(20_000)]
        assert gc.get_freeze_count() == frozen and gc.get_count()[0] >= len(more)
    finally:
        gc.enable()


def test_a_run_leaves_no_cyclic_garbage_holding_an_array():
    sc = load_scenario(str(EVERY_MODULE), people=2000, days=120, burn_in=30)
    gc.collect()  # what earlier tests left
    flags = gc.get_debug()
    try:
        with collector_paused():
            sim = Sim(sc)
            sim.run()
            gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection would free, kept to look at
            gc.collect()
        # arrays are not tracked by the collector: those its garbage holds are found
        # among what the garbage refers to
        arrays = [o for o in gc.get_referents(*gc.garbage) if isinstance(o, np.ndarray)]
        assert sum(o.nbytes for o in arrays) == 0, [o.shape for o in arrays]
        assert len(gc.garbage) < 5000  # the kernel loads' LLVM wrappers (~30 each)
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
    assert sim.day == sc.time.burn_in + sc.time.days


def test_a_replicate_is_freed_without_the_collector(monkeypatch):
    """Replicates run one after another in this process: each one's World is freed as
    its result is taken, with the collector paused, so they are not held side by side."""
    import weakref

    from scslab.run import engine
    from scslab.run.runner import run_replicate

    worlds = []
    build = engine.Sim.__init__

    def remembered(self, *args, **kwargs):
        build(self, *args, **kwargs)
        worlds.append(weakref.ref(self.world))

    monkeypatch.setattr(engine.Sim, "__init__", remembered)
    sc = load_scenario(str(EVERY_MODULE), people=2000, days=20, burn_in=0)
    with collector_paused():
        run_replicate(sc, 0)
        assert worlds and worlds[0]() is None

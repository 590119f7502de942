"""The partition-exchange benchmark's counting (issue #21): nothing crosses with one
partition, and the market's cross-partition pulls match an independent count."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import partition_exchange as pe  # noqa: E402

import scslab.modules.economy.market as market_module  # noqa: E402
from scslab.run.engine import Sim  # noqa: E402
from scslab.scenario import load_scenario  # noqa: E402


def _run(parts: int, buyers_seen: dict | None = None) -> tuple[pe.Tally, Sim, np.ndarray]:
    sim = Sim(load_scenario("rongcheng", people=2000, days=10, burn_in=0))
    w = sim.world
    part = pe.partition_of(w.arrays["people.region"], w.n_regions, parts)
    tally = pe.Tally(10, parts)
    with pe.counting(sim, part, tally):
        if buyers_seen is not None:  # outermost wrapper: record each day's buyers
            inner = market_module._screen

            def record(*args):
                buyers_seen[int(args[2])] = np.array(args[3])
                return inner(*args)

            market_module._screen = record
            try:
                sim.run()
            finally:
                market_module._screen = inner
        else:
            sim.run()
    return tally, sim, part


def test_one_partition_exchanges_nothing():
    tally, _, _ = _run(1)
    assert tally.msgs.sum() == 0 and tally.nbytes.sum() == 0


def test_two_partitions_market_pulls_match_an_independent_count():
    buyers: dict = {}
    tally, sim, part = _run(2, buyers)
    assert tally.msgs[:, 0].sum() > 0  # the market does read across the cut
    off = sim.world.arrays["people.net_offsets"]
    nb = sim.world.arrays["links.neighbour"]
    day = 7
    want = sum(int(np.sum(part[nb[off[b]:off[b + 1]]] != part[b])) for b in buyers[day])
    assert tally.msgs[day, 0] == want
    assert tally.useful.sum() == 0  # local markets: no remote memory can match a candidate
    assert (tally.msgs[:, 1] <= tally.msgs[:, 0]).all()


def test_could_match_counter_sees_reads_within_a_region():
    """A cut through the regions (by uid parity) makes same-region memories cross, so the
    counter of remote entries that could match a candidate must see some (it is 0 above
    only because regions are not cut)."""
    sim = Sim(load_scenario("rongcheng", people=2000, days=10, burn_in=0))
    part = (np.arange(2000) % 2).astype(np.int64)
    tally = pe.Tally(10, 2)
    with pe.counting(sim, part, tally):
        sim.run()
    assert tally.useful.sum() > 0

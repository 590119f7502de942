"""Memory per person (issue #21): the every-module scenario, the network's build peak,
the shared population indexes and the face rates recomputed instead of stored."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from scslab.core.population import synthesise
from scslab.modules.registry import module_classes
from scslab.modules.sensing.face_recognition import lookalike_multiplier, person_rates
from scslab.numerics.csr import csr_from_sorted_pairs, group_index
from scslab.run.engine import Sim
from scslab.scenario import load_scenario

EVERY = Path(__file__).resolve().parents[1] / "benchmarks" / "every-module.yaml"


def test_every_module_scenario_switches_every_registered_module_on():
    sim = Sim(load_scenario(str(EVERY), people=2000, days=2, burn_in=0))
    assert {c.name for c in sim.module_classes} == set(module_classes())


def test_csr_from_sorted_pairs_matches_unique_and_bincount():
    rng = np.random.default_rng(7)
    n = 500
    a, b = rng.integers(0, n, 6000), rng.integers(0, n, 6000)  # many duplicate pairs
    pair = np.sort(a * n + b)
    offsets, cols = csr_from_sorted_pairs(pair, n, np.int32, np.int32)
    u = np.unique(pair)
    want = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(u // n, minlength=n), out=want[1:])
    assert offsets.dtype == np.int32 and cols.dtype == np.int32
    assert np.array_equal(offsets, want) and np.array_equal(cols, u % n)


def test_network_build_peak_is_the_link_codes_not_a_multiple_of_them():
    """The peak of synthesis: one int64 code per directed link (80 B per person at degree
    10) plus the CSR, the traits and one link offset's temporaries — 147 B per person
    measured; over 500 B with the per-offset lists, concatenations and bincount
    temporaries it replaced. Bound 170 B."""
    sc = load_scenario("baseline", people=100_000)
    synthesise(load_scenario("baseline", people=500).population, 1, 0)  # load the kernels
    tracemalloc.start()
    try:
        synthesise(sc.population, sc.seed, 0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / 100_000 < 170


def test_shared_index_is_flatnonzero_per_value_int32_read_only_and_built_once():
    sim = Sim(load_scenario(str(EVERY), people=3000, days=2, burn_in=0))
    w = sim.world
    region = w.arrays["people.region"]
    household = w.arrays["people.household"]
    off, members = w.indexes["people.region"][1]
    assert off.dtype == np.int32 and members.dtype == np.int32
    assert not members.flags.writeable and not off.flags.writeable
    for r in range(w.n_regions):
        assert np.array_equal(members[off[r]:off[r + 1]], np.flatnonzero(region == r))
    hoff, hmem = w.indexes["people.household"][1]
    ref_off, ref_mem = group_index(household)
    assert np.array_equal(hoff, ref_off) and np.array_equal(hmem, ref_mem)
    # the modules hold the one shared index, not copies
    held = [m.hh_members for m in sim.modules if hasattr(m, "hh_members")]
    assert len(held) >= 4 and all(h is hmem for h in held)


def test_group_index_refuses_a_dtype_too_small_for_the_positions():
    with pytest.raises(OverflowError):
        group_index(np.zeros(200, dtype=np.int64), np.int8)


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_face_rates_of_a_subset_equal_the_whole_populations_bit_for_bit(sigma):
    sc = load_scenario("checkpoint-region", [f"modules.surveillance.face.lookalike_sigma={sigma}"],
                       people=3000, days=2, burn_in=0)
    sim = Sim(sc)
    sv = next(m for m in sim.modules if m.name == "surveillance")
    view = next(v for m, v in zip(sim.modules, sim.views, strict=True) if m is sv)
    w = sim.world
    n = w.counts["people"]
    from scslab.modules.sensing.surveillance import P_LOOKALIKE, SETUP_LAYOUT

    look = lookalike_multiplier(w.streams["surveillance.setup"],
                                SETUP_LAYOUT.pack(purpose=P_LOOKALIKE),
                                np.arange(n, dtype=np.int64), sigma)
    fmr, fnmr = person_rates(sv.face, sv.group_names, w.arrays["people.group"],
                             w.arrays["people.sex"], look)
    some = np.random.default_rng(3).choice(n, 400)  # repeats and any order
    sub_fmr, sub_fnmr = sv.face_rates(view, some)
    assert np.array_equal(sub_fmr, fmr[some]) and np.array_equal(sub_fnmr, fnmr[some])


def test_counting_a_large_batch_in_slices_gives_the_same_counts(monkeypatch):
    """``add_cells`` counts an unweighted batch above ``COUNT_CHUNK`` a slice at a time (so
    a count of everyone does not widen everyone's cell to int64 at once): same totals,
    added to what the day already holds."""
    from scslab.core import metrics
    from scslab.core.declarations import CounterSpec

    cells = np.random.default_rng(3).integers(0, 7, 10_001).astype(np.uint16)
    got = []
    for chunk in (1 << 16, 1000):
        monkeypatch.setattr(metrics, "COUNT_CHUNK", chunk)
        c = metrics.Counters(n_groups=1, n_regions=7, n_days=1)
        c.register(CounterSpec("x", ""))
        c.add_vector("x", np.full(7, 0.5))
        c.add_cells("x", cells)
        c.close_day(0)
        got.append(c.history[0, 0].copy())
    want = np.bincount(cells, minlength=7) + 0.5
    assert np.array_equal(got[0], want) and np.array_equal(got[1], want)


def test_harm_releases_its_shadow_books_after_the_last_day_and_not_before():
    """The shadow books are dropped once the last day is counted (the end-of-run metrics
    would otherwise stack on them: the run's memory peak); a run stopped before its end
    keeps them, and continuing it gives the same figures as one run."""
    sc = load_scenario("rongcheng", people=3000, days=12, burn_in=0, seed=2)
    part = Sim(sc).run(until=6)
    assert {"E", "L"} <= set(part.world.state["harm"])
    part.run()
    whole = Sim(sc).run()
    for sim in (part, whole):
        assert not {"E", "L"} & set(sim.world.state["harm"])
        assert sim.final_metrics["score_gini"] is not None
    assert part.final_metrics == whole.final_metrics
    assert np.array_equal(part.world.counters.history, whole.world.counters.history)


def test_sigmoid_in_place_is_sigmoid_bit_for_bit():
    """The build's in-place logistic (attitudes at setup) must not move a bit."""
    from scslab.numerics.logistic import sigmoid, sigmoid_in_place

    z = np.random.default_rng(5).normal(0, 4, 100_003)
    want = sigmoid(z)
    got = sigmoid_in_place(z.copy())
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))


def test_a_list_code_is_a_label_rows_start_at_the_lowest(tmp_path):
    """Per-list arrays keep rows from the lowest list code (rongcheng's lists are codes
    1–3: no row for code 0). Moving the court's debtor list from code 0 to code 5 keeps
    one row and changes no output: listings, the debtors' cost of staying listed (read
    from that row) and every counter are the same."""
    moved = tmp_path / "court-list-5.yaml"
    moved.write_text("extends: national-blacklist\nname: court-list-5\nmodules:\n  lists:\n"
                     "    lists:\n      court_debtors:\n        code: 5\n")
    runs = [Sim(load_scenario(name, people=8000, days=200, burn_in=0, seed=3)).run()
            for name in ("national-blacklist", str(moved))]
    for sim in runs:
        assert sim.world.arrays["people.list_until"].shape == (1, 8000)
    w0, w5 = (sim.world for sim in runs)
    assert set(np.unique(w5.arrays["people.listed"])) <= {0, 1 << 5}
    listed = w0.counters.index["listed_days"]
    assert w0.counters.history[:, listed].sum() > 0
    assert np.array_equal(w0.counters.history, w5.counters.history)
    assert np.array_equal(w0.arrays["people.list_until"], w5.arrays["people.list_until"])
    assert np.array_equal(w0.arrays["people.listed"].astype(bool),
                          w5.arrays["people.listed"].astype(bool))
    rong = Sim(load_scenario("rongcheng", people=500, days=2, burn_in=0))
    assert rong.world.arrays["people.list_until"].shape == (3, 500)


def test_memory_peaks_names_the_build_phases_and_the_steps(capsys):
    """``benchmarks.memory_peaks`` (which step is the peak) runs and reports every set-up
    and the highest steps, each with two figures."""
    from benchmarks.memory_peaks import main

    main(["rongcheng", "--people", "3000", "--days", "3", "--top", "4"])
    out = capsys.readouterr().out.splitlines()
    assert any(line.split()[:2] == ["setup", "harm"] for line in out)
    steps = [line for line in out if line.split()[:1] == ["day"]]
    assert len(steps) == 4 and all(len(line.split()) >= 5 for line in steps)

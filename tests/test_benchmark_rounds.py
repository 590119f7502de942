"""The benchmark's rounds: ratios pair rates measured in the same round (back to back),
and a rate cell is the round with the median rate — so a slow spell of the machine that
hits one round moves neither side of a ratio alone."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.run_benchmarks import combine, paired_ratios  # noqa: E402


def _row(impl, threads, n, rnd, rate):
    return {"impl": impl, "threads": threads, "n": n, "round": rnd, "agent_days_per_s": rate,
            "run_s": n * 200 / rate}


def test_ratios_pair_rounds_and_cells_take_the_median_round():
    # round 1 ran on a machine half as fast: both sides slow down, the ratio stays 10
    rows = [_row("scslab", 1, 10, 0, 100.0), _row("scslab", 2, 10, 0, 150.0),
            _row("starsim", None, 10, 0, 15.0),
            _row("scslab", 1, 10, 1, 50.0), _row("scslab", 2, 10, 1, 75.0),
            _row("starsim", None, 10, 1, 7.5),
            _row("scslab", 1, 10, 2, 90.0), _row("scslab", 2, 10, 2, 140.0),
            _row("starsim", None, 10, 2, 14.0)]
    assert paired_ratios(rows, ("scslab", "best", 10), ("starsim", None, 10)) == [10.0, 10.0, 10.0]
    assert paired_ratios(rows, ("scslab", 1, 10), ("starsim", None, 10)) == [
        100 / 15, 50 / 7.5, 90 / 14]
    # unpaired: the slow round's scslab against the fast round's Starsim would say 5
    by = {(r["impl"], r["threads"]): r for r in combine(rows)}
    assert by[("scslab", 2)]["agent_days_per_s"] == 140.0  # median of 75, 140, 150
    assert by[("starsim", None)]["agent_days_per_s"] == 14.0
    assert sorted(by[("scslab", 2)]["rates"]) == [75.0, 140.0, 150.0]


def test_a_round_missing_one_side_is_left_out_and_errors_survive_combining():
    rows = [_row("scslab", 1, 10, 0, 100.0), _row("starsim", None, 10, 0, 10.0),
            _row("scslab", 1, 10, 1, 80.0),
            {"impl": "starsim", "threads": None, "n": 10, "round": 1, "error": "timed out"},
            {"impl": "mesa", "threads": None, "n": 10, "round": 0, "error": "skipped"}]
    assert paired_ratios(rows, ("scslab", 1, 10), ("starsim", None, 10)) == [10.0]
    assert paired_ratios(rows, ("scslab", 1, 10), ("mesa", None, 10)) == []
    by = {(r["impl"], r["threads"]): r for r in combine(rows)}
    assert by[("mesa", None)]["error"] == "skipped"
    assert by[("starsim", None)]["agent_days_per_s"] == 10.0

"""Attitudes: approval and trust as outputs that move with experience and information.
Attitudes feed nothing back (yet), so a run with a shift set to 0 is the exact twin of
the same people without that experience's effect."""

from __future__ import annotations

import numpy as np
import pytest

from scslab.modules.people.attitudes import BALANCED, STATE, WRONG
from scslab.run.engine import Sim
from scslab.scenario import load_scenario

#: a court list that misnames some debtors, so some are sanctioned wrongly
WRONGLY = ["sources.enforcement.misattribution=0.05", "modules.debts.initial_debtor_share=0.3"]


def _run(name, sets=(), people=5000, days=300):
    return Sim(load_scenario(name, list(sets), people=people, days=days, burn_in=0)).run()


def test_day_zero_approval_is_the_survey_figure_and_rises_with_income():
    """Calibrated input: mean approval 0.80 at day 0 (Kostka 2019); higher among the
    wealthier (the direction Kostka reports)."""
    sim = _run("baseline", people=20_000, days=1)
    a = sim.world.arrays["people.approval"]
    assert a.mean() == pytest.approx(0.80, abs=0.01)
    f = sim.final_metrics
    assert f["approval[income_quintile=5]"] > f["approval[income_quintile=1]"] + 0.05


def test_wrongly_sanctioned_lose_approval_against_their_untouched_twins():
    on = _run("national-blacklist", WRONGLY)
    twin = _run("national-blacklist", [*WRONGLY, "modules.attitudes.wrong_sanction_shift=0",
                                       "modules.attitudes.wrong_trust_shift=0"])
    events = on.world.arrays["people.attitude_events"]
    wrong = (events & WRONG) != 0
    assert wrong.sum() > 10
    np.testing.assert_array_equal(events, twin.world.arrays["people.attitude_events"])
    a, a_twin = on.world.arrays["people.approval"], twin.world.arrays["people.approval"]
    t, t_twin = (on.world.arrays["people.institutional_trust"],
                 twin.world.arrays["people.institutional_trust"])
    assert (a[wrong] < a_twin[wrong]).all() and (t[wrong] < t_twin[wrong]).all()
    assert np.array_equal(a[~wrong], a_twin[~wrong])  # nobody else moves
    # and, in the run itself, the wrongly sanctioned approve less than the untouched
    f = on.final_metrics
    assert f["approval[sanctioned=wrongly]"] < f["approval[untouched]"] - 0.2


def test_framing_moves_approval_in_the_documented_direction():
    """A campaign reaching half the uninformed: pros and cons lower their approval,
    the state's framing raises it (MERICS 2020: 53 % → 29 % when pros and cons were
    explained). Measured on the people it told, against the unframed campaign."""
    base = ["modules.learning.campaigns.c.day=50", "modules.learning.campaigns.c.reach=0.5"]
    runs = {f: _run("baseline", [*base, f"modules.learning.campaigns.c.framing={f}"],
                    days=100)
            for f in ("none", "state", "balanced")}
    told_state = (runs["state"].world.arrays["people.attitude_events"] & STATE) != 0
    told_bal = (runs["balanced"].world.arrays["people.attitude_events"] & BALANCED) != 0
    np.testing.assert_array_equal(told_state, told_bal)  # the same people: one reach draw
    assert 0.4 < told_state.mean() < 0.5  # half of the 89 % uninformed
    a = {f: r.world.arrays["people.approval"][told_state] for f, r in runs.items()}
    assert a["balanced"].mean() < a["none"].mean() - 0.1 < a["state"].mean() - 0.15
    s = {f: r.results().summary["approval"] for f, r in runs.items()}
    assert s["balanced"] < s["none"] < s["state"]


def test_approval_tallies_equal_the_arrays():
    """The daily approval counter is kept by tallies as people change (no daily pass):
    on the last day it equals the sum over people."""
    sim = _run("national-blacklist", WRONGLY, days=200)
    c = sim.world.counters
    last = slice(199, 200)
    assert c.totals("approval_sum", last).sum() == pytest.approx(
        float(sim.world.arrays["people.approval"].astype(np.float64).sum()), rel=1e-9)
    assert c.totals("trust_sum", last).sum() == pytest.approx(
        float(sim.world.arrays["people.institutional_trust"].astype(np.float64).sum()),
        rel=1e-9)


def test_attitudes_change_no_other_output():
    """Outputs only, for now: switching the module off changes no violation."""
    on = _run("rongcheng", days=200)
    off = _run("rongcheng", ["modules.attitudes.enabled=false"], days=200)
    for name in ("violations", "records"):
        assert (on.world.counters.totals(name, slice(None)).sum()
                == off.world.counters.totals(name, slice(None)).sum())
    assert "approval" not in off.results().summary


def test_merics_framing_reproduced():
    """Calibrated input (MERICS 2020): a public whose mean approval is 0.53, told the pros
    and cons, approves at 0.29 — measured on the people a campaign told, against the same
    people told by an unframed campaign (paired runs; ±0.02)."""
    sets = ["modules.attitudes.approval_median=0.5455",  # day-0 mean approval 0.53
            "modules.learning.campaigns.c.day=0", "modules.learning.campaigns.c.reach=1.0"]
    runs = {f: _run("baseline", [*sets, f"modules.learning.campaigns.c.framing={f}"],
                    people=10_000, days=2)
            for f in ("none", "balanced")}
    told = (runs["balanced"].world.arrays["people.attitude_events"] & BALANCED) != 0
    assert told.mean() > 0.8
    a = {f: r.world.arrays["people.approval"][told].astype(np.float64).mean()
         for f, r in runs.items()}
    assert a["none"] == pytest.approx(0.53, abs=0.02)
    assert a["balanced"] == pytest.approx(0.29, abs=0.02)


def test_a_saturated_attitude_stays_put_without_a_warning():
    """Approval 0 or 1 in float32 has logit ∓∞: a shift leaves it exactly there and says
    nothing (it warned 'divide by zero' in every compare of the builtin scenarios)."""
    import warnings

    from scslab.modules.people.attitudes import _shift

    p = np.array([0.0, 1.0, 0.5], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _shift(p, np.array([0.7, -0.7, 0.3]))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[:2], [0.0, 1.0])
    assert out[2] == np.float32(1.0 / (1.0 + np.exp(-0.3)))

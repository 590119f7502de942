"""Reputation games: published behaviour, determinism and config validation.

Tolerances are stated per test; all runs use fixed seeds.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from scslab.games.norms import LEADING_EIGHT, builtin_norm, canonical_norm_name, custom_norm
from scslab.games.reputation import ReputationConfig, analytic_good_private_disc, simulate
from scslab.games.validate import ns_payoff_root

SJ_ERR = dict(norm="stern_judging", execution_error=0.02, assessment_error=0.02)


# --------------------------------------------------------------------------- norms


def test_second_order_tables():
    sj = builtin_norm("stern-judging")
    # [donor, action, recipient]: C->G good, D->G bad, C->B bad, D->B good
    assert [sj.assess[1, 1, 1], sj.assess[1, 0, 1], sj.assess[1, 1, 0], sj.assess[1, 0, 0]] == [1, 0, 0, 1]
    ss = builtin_norm("simple_standing")
    assert ss.assess[0, 1, 0] == 1 and ss.assess[0, 0, 0] == 1
    sh = builtin_norm("shunning")
    assert sh.assess[1].sum() == 1
    assert canonical_norm_name("Scoring") == "image_scoring"


def test_leading_eight_tables():
    for name in LEADING_EIGHT:
        n = builtin_norm(name)
        for dr in (0, 1):
            assert n.assess[dr, 1, 1] == 1  # cooperating with a good recipient is good
            assert n.assess[dr, 0, 1] == 0  # defecting against a good recipient is bad
        assert n.assess[1, 0, 0] == 1  # justified defection by a good donor is good
        assert n.act[1, 1] == 1 and n.act[1, 0] == 0 and n.act[0, 1] == 1
    # L3 is Simple Standing and L6 Stern Judging (second order)
    assert np.array_equal(builtin_norm("L3").assess, builtin_norm("simple_standing").assess)
    assert np.array_equal(builtin_norm("L6").assess, builtin_norm("stern_judging").assess)
    assert builtin_norm("L1").act[0, 0] == 1 and builtin_norm("L6").act[0, 0] == 0


def test_custom_norm_matches_builtin():
    n = custom_norm({"CG": "G", "DG": "B", "CB": "B", "DB": "G"})
    assert np.array_equal(n.assess, builtin_norm("stern_judging").assess)
    with pytest.raises(ValueError, match="misses entry"):
        custom_norm({"CG": "G"})


# --------------------------------------------------------------------------- behaviour


def test_private_egocentric_matches_analytic():
    """All-DISC Stern Judging: E=0 gives g = 1/2, E=1 gives 0.9615 (tolerance 0.03 / 0.01)."""
    ego = simulate(population=40, strategies=["DISC"], generations=600, burn_in=100, seed=3, **SJ_ERR)
    emp = simulate(population=40, strategies=["DISC"], empathy=1.0, generations=600, burn_in=100, seed=3, **SJ_ERR)
    assert abs(ego.good - analytic_good_private_disc("stern_judging", 0.0, 0.02, 0.02)) < 0.03
    assert abs(emp.good - analytic_good_private_disc("stern_judging", 1.0, 0.02, 0.02)) < 0.01
    assert emp.cooperation > 0.9 > 0.6 > ego.cooperation


def test_stern_judging_institution_vs_private_evolution():
    """Evolving ALLC/ALLD/DISC from all-DISC: institution and E=1 keep cooperation > 0.8;
    private egocentric assessment with errors collapses to < 0.1."""
    base = dict(
        population=40, benefit=5, cost=1, initial={"DISC": 1.0}, mutation=0.01,
        mutation_mode="single", payoff="mean", generations=3000, burn_in=1500, seed=11, **SJ_ERR,
    )
    inst = simulate(assessment="institution", observers=40, strictness=0.7, **base)
    ego = simulate(assessment="private", **base)
    emp = simulate(assessment="private", empathy=1.0, **base)
    assert inst.cooperation > 0.8
    assert emp.cooperation > 0.8
    assert ego.cooperation < 0.1
    assert ego.frequencies["ALLD"] > 0.8


def test_leading_eight_recover_cooperation_publicly():
    for k in range(1, 9):
        r = simulate(population=30, norm=f"L{k}", assessment="public", strategies=["DISC"],
                     initial_image="random", generations=60, burn_in=10, seed=k)
        assert r.cooperation == pytest.approx(1.0)


def test_image_scoring_discriminators_take_over():
    """Nowak & Sigmund (1998) parameters, no errors: cooperation establishes and the
    population ends with discriminators (k <= 0) in most runs (>= 60 % of 60 runs, the
    neutral expectation is 50 %); DISC (k=0) always beats ALLD (k=6) from 50/50."""
    ns = dict(population=100, benefit=1, cost=0.1, norm="image_scoring", reputation="score",
              assessment="public", pairings=125, update="proportional", seed=1998)
    r = simulate(strategies=list(range(-5, 7)), generations=300, replicates=60, **ns)
    final = r.series["frequencies"][:, -1, :]
    disc_runs = final[:, :6].sum(axis=1) > 0.99
    coop_last = r.series["cooperation"][:, -50:].mean(axis=1)
    assert disc_runs.mean() >= 0.6
    assert np.all(coop_last[disc_runs] > 0.9)
    duel = simulate(strategies=[0, 6], initial={"k=0": 0.5, "k=6": 0.5}, generations=100,
                    replicates=10, **ns)
    assert np.all(duel.series["frequencies"][:, -1, 0] == 1.0)
    assert duel.series["cooperation"][:, -1].min() == 1.0


def test_image_scoring_q_transition():
    """Discriminators resist defectors iff q > c/b (= 0.1): the payoff-equality point lies
    within 0.05 of c/b, and evolution gives low cooperation at q = 0.03, high at q = 0.3."""
    assert abs(ns_payoff_root() - 0.1) < 0.05
    ns = dict(population=100, benefit=1, cost=0.1, norm="image_scoring", reputation="score",
              assessment="public", pairings=1000, strategies=[0, 6], initial={"k=0": 1.0},
              update="proportional", mutation=0.01, generations=400, burn_in=100,
              replicates=2, seed=5)
    assert simulate(knowledge=0.03, **ns).cooperation < 0.2
    assert simulate(knowledge=0.3, **ns).cooperation > 0.8


def test_random_pairings_and_self_interaction_run():
    r = simulate(population=30, pairings=200, generations=50, seed=1, self_interaction=True,
                 assessment="institution", observers=3, **SJ_ERR)
    assert 0.0 <= r.cooperation <= 1.0
    assert r.series["frequencies"].sum(axis=2) == pytest.approx(1.0)
    r2 = simulate(population=30, pairings=200, generations=50, seed=1, **SJ_ERR)
    assert r2.series["cooperation"].shape == (1, 50)


def test_all_c_cooperation_rate_is_exact():
    r = simulate(population=10, strategies=["ALLC"], generations=5, execution_error=0.0)
    assert np.all(r.series["cooperation"] == 1.0)
    d = simulate(population=10, strategies=["ALLD"], generations=5)
    assert np.all(d.series["cooperation"] == 0.0)


# --------------------------------------------------------------------------- determinism


def test_determinism_and_workers():
    cfg = dict(population=20, generations=200, mutation=0.05, replicates=2, **SJ_ERR)
    a = simulate(seed=42, **cfg)
    b = simulate(seed=42, **cfg)
    c = simulate(seed=43, **cfg)
    for key in ("cooperation", "good", "frequencies"):
        assert np.array_equal(a.series[key], b.series[key])
    assert not np.array_equal(a.series["cooperation"], c.series["cooperation"])
    par = simulate(seed=42, workers=2, **cfg)
    assert np.array_equal(a.series["cooperation"], par.series["cooperation"])
    df = a.to_pandas()
    assert len(df) == 400 and {"cooperation", "freq_DISC"} <= set(df.columns)


def test_generation_counter_folds_high_bits():
    """Generations beyond 2**16 keep drawing fresh numbers (epoch folded into the slot)."""
    r = simulate(population=4, strategies=["ALLC", "ALLD"], mutation=0.5, mutation_mode="single",
                 update="none", generations=70_000, seed=1)
    f = r.series["frequencies"][0, :, 0]
    assert not np.array_equal(f[:1000], f[65536:66536])


# --------------------------------------------------------------------------- validation errors


def test_unknown_norm_message():
    with pytest.raises(ValidationError, match="unknown norm 'kindness'.*stern_judging"):
        ReputationConfig(norm="kindness")


def test_bad_probability_message():
    with pytest.raises(ValidationError, match="execution_error"):
        ReputationConfig(execution_error=1.5)
    with pytest.raises(ValidationError, match="extra"):
        ReputationConfig(colour="red")
    with pytest.raises(ValidationError, match="burn_in"):
        ReputationConfig(generations=10, burn_in=10)
    with pytest.raises(ValidationError, match="unknown strategy"):
        ReputationConfig(strategies=["TFT"])
    with pytest.raises(ValidationError, match="sum to 1"):
        ReputationConfig(initial={"DISC": 0.5})


def test_norm_spellings():
    assert ReputationConfig(norm="stern-judging").norm == "stern_judging"
    assert ReputationConfig(norm="l7").norm == "L7"


def test_leading_eight_action_rule_is_the_best_response_to_the_assessment():
    """Ohtsuki & Iwasa derive the action rule from the assessment rule: cooperate iff
    cooperation is judged good and defection bad."""
    from scslab.games.norms import LEADING_EIGHT, B, C, D, G, _leading

    for name, entries in LEADING_EIGHT.items():
        norm = _leading(name, *entries)
        for donor in (G, B):
            for recipient in (G, B):
                c_good = norm.assess[donor, C, recipient] == G
                d_good = norm.assess[donor, D, recipient] == G
                expected = C if (c_good and not d_good) else D
                assert norm.act[donor, recipient] == expected, (name, donor, recipient)

"""Credit access from the bureau's file: the lender grants, prices or refuses applications.

Ablations: a lender that reads the score gives people without a scorable file less
credit than people with one; a lender that ignores the score (``reads_score: false``)
gives both the same; switched off, no application is refused.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from helpers import system_output_survives_scrambled_truth
from scslab.modules.economy.lending import (
    DENIED,
    EXCLUDED,
    PRICED,
    PRIME,
    LenderParams,
    standing_offers,
)
from scslab.run.engine import Sim, default_module_classes, order_modules
from scslab.scenario import load_scenario

PEOPLE, DAYS = 6000, 365


def _run(*sets: str, people: int = PEOPLE, days: int = DAYS) -> Sim:
    sc = load_scenario("credit-bureau", list(sets), people=people, days=days, burn_in=0)
    return Sim(sc).run()


def _total(sim: Sim, counter: str) -> float:
    return float(sim.world.counters.totals(counter, slice(None)).sum())


@pytest.fixture(scope="module")
def lender_on() -> Sim:
    return _run()


def test_offers_follow_the_score_bands():
    p = LenderParams(deny_below=580, prime_from=670)
    score = np.array([-2, -1, 300, 579, 580, 669, 670, 850], dtype=np.int16)
    assert standing_offers(score, p).tolist() == [EXCLUDED, EXCLUDED, DENIED, DENIED, PRICED,
                                                  PRICED, PRIME, PRIME]
    off = LenderParams(reads_score=False)
    assert (standing_offers(score, off) == PRIME).all()


def test_the_gate_runs_between_the_applicants_and_the_debts(lender_on):
    names = [c.name for c in lender_on.module_classes]
    assert names.index("behaviour") < names.index("loan_applications") < names.index("debts")
    assert names.index("market") < names.index("loan_applications")
    assert names.index("credit_bureau") < names.index("lender")


def test_no_scorable_file_means_less_credit(lender_on):
    r = lender_on.results().summary
    apps_unscored = _total(lender_on, "credit_applications_unscored")
    assert apps_unscored > 100  # enough applicants without a file to compare
    # informal lenders take half the excluded: access ≈ 0.5 (binomial sd < 0.05)
    assert r["credit_access_rate_unscored"] == pytest.approx(0.5, abs=0.1)
    assert r["credit_access_rate_scored"] > 0.9
    assert r["credit_access_rate_scored"] - r["credit_access_rate_unscored"] > 0.3
    # exclusion falls harder on the minority, who are more often without a file
    assert r["credit_excluded_share[group=minority]"] > r["credit_excluded_share[group=majority]"]
    # every application is granted or not; informal loans are part of the granted
    assert _total(lender_on, "credit_granted") + _total(lender_on, "credit_denied") == \
        _total(lender_on, "credit_applications")
    assert r["credit_access_rate"] + r["credit_denied_rate"] == pytest.approx(1.0)
    # the informal price raises the mean APR above the prime rate
    assert r["credit_mean_apr"] > LenderParams().prime_apr


def test_a_lender_ignoring_the_score_gives_equal_access(lender_on):
    blind = _run("modules.lender.reads_score=false")
    r = blind.results().summary
    assert r["credit_access_rate_scored"] == 1.0
    assert r["credit_access_rate_unscored"] == 1.0
    assert r["credit_excluded_share"] == 0.0
    # common random numbers: the same applications, more of them become loans
    assert _total(blind, "debt_borrowed") > _total(lender_on, "debt_borrowed")
    # mainstream loans are reported: files open for the invisible who borrow
    assert _total(blind, "credit_files_opened") > 0
    assert _total(lender_on, "credit_files_opened") == 0


def test_refused_applications_open_no_loan():
    """Everyone without a file refused: no one without a file has a loan opened."""
    sc = load_scenario("credit-bureau", ["modules.lender.unscored=deny"], people=PEOPLE,
                       days=120, burn_in=0)
    sim = Sim(sc)
    w = sim.world
    no_file = ~w.arrays["people.credit_file"].copy()
    opened = np.zeros(no_file.size, dtype=bool)
    for _ in range(120):
        before = w.arrays["people.debt_stage"].copy()
        sim.step()
        opened |= (before == 0) & (w.arrays["people.debt_stage"] == 1)
    assert _total(sim, "credit_applications_unscored") > 20
    assert not (opened & no_file).any()
    assert (opened & ~no_file).sum() > 100
    assert sim.results().summary["credit_access_rate_unscored"] == 0.0


def test_switched_off_nothing_is_refused(lender_on):
    off = _run("modules.lender.enabled=false")
    names = {c.name for c in off.module_classes}
    assert "lender" not in names and "loan_applications" not in names
    assert _total(off, "debt_borrowed") > _total(lender_on, "debt_borrowed")


def test_lender_reads_no_truth():
    sc = load_scenario("credit-bureau", people=2000, days=40, burn_in=0)
    classes = default_module_classes(sc)
    assert {"lender", "loan_applications"} <= {c.name for c in order_modules(classes)}
    assert system_output_survives_scrambled_truth(sc)


def test_credit_results_identical_across_threads_and_reruns():
    code = ("import hashlib; from scslab.run.engine import Sim; "
            "from scslab.scenario import load_scenario; "
            "s = load_scenario('credit-bureau', people=3000, days=60, burn_in=0); "
            "sim = Sim(s).run(); "
            "print(hashlib.sha256(sim.world.counters.history.tobytes()).hexdigest())")
    digests = []
    for threads in ("1", "2", "2"):
        env = {**__import__("os").environ, "NUMBA_NUM_THREADS": threads}
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=300, check=True)
        digests.append(proc.stdout.strip())
    assert digests[0] == digests[1] == digests[2]


@pytest.mark.parametrize("setting,fragment", [
    ("modules.lender.deny_below=200", "modules.lender.deny_below"),
    ("modules.lender.prime_from=500", "modules.lender.prime_from"),
])
def test_bad_cut_off_is_one_line_exit_2(setting, fragment):
    proc = subprocess.run([sys.executable, "-m", "scslab", "show", "credit-bureau", "--set",
                           setting], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and fragment in err and "Traceback" not in err


NO_PRICE = ("modules.lender.prime_apr=0", "modules.lender.priced_apr=0",
            "modules.lender.informal_apr=0")


def test_the_lenders_price_enters_the_debt_and_the_accounts_balance(lender_on):
    """Interest at the loan's APR is added to what is owed; total debt changes only by
    borrowing, interest, repayment and write-off. Ablation: at APR 0 no interest accrues,
    and more decision points find the debtor able to pay (the same means against a
    smaller debt)."""
    w = lender_on.world
    interest = _total(lender_on, "debt_interest")
    assert interest > 0
    final = float(w.arrays["people.debt"].sum(dtype=np.float64))
    flows = (w.state["debts"]["initial_debt"] + _total(lender_on, "debt_borrowed") + interest
             - _total(lender_on, "debt_repaid") - _total(lender_on, "debt_written_off"))
    assert final == pytest.approx(flows, rel=1e-5)
    free = _run(*NO_PRICE)
    assert _total(free, "debt_interest") == 0.0

    def able_share(sim):
        return _total(sim, "debt_able_decisions") / _total(sim, "debt_checks")

    assert able_share(free) > able_share(lender_on)


def test_nobody_pays_more_than_they_owe_nor_more_than_their_means():
    """Day by day: each payment clears exactly the debt with its interest to date, and
    only a debtor whose means (assets + savings; no kin support here) cover it pays."""
    from scslab.modules.economy.debts import DebtParams
    from scslab.modules.economy.lending import apr_by_terms, lender_params

    sc = load_scenario("credit-bureau", people=4000, days=300, burn_in=0)
    sim = Sim(sc)
    w = sim.world
    p = DebtParams.model_validate(sc.modules.get("debts", {}))
    assert p.kin_support_days == 0
    apr = apr_by_terms(lender_params(sc))
    payers = 0
    for _ in range(300):
        day = w.day
        a = {k: w.arrays[f"people.{k}"].astype(np.float64) for k in
             ("debt", "debt_assets", "debt_opened", "debt_accrued", "income")}
        stage = w.arrays["people.debt_stage"].copy()
        terms = w.arrays["people.loan_terms"].copy()
        repaid = _total(sim, "debt_repaid")
        written = _total(sim, "debt_written_off")
        sim.step()
        cleared = (stage != 0) & (w.arrays["people.debt_stage"] == 0)
        owed = a["debt"] * (1.0 + apr[terms] * (day - a["debt_accrued"]) / 365.0)
        means = a["debt_assets"] + p.saving_rate * a["income"] * (day - a["debt_opened"])
        assert _total(sim, "debt_written_off") == written  # none before two years
        assert np.all(means[cleared] >= owed[cleared] * (1 - 1e-6))
        assert _total(sim, "debt_repaid") - repaid == pytest.approx(
            owed[cleared].sum(), rel=1e-5, abs=1e-6)
        payers += int(cleared.sum())
    assert payers > 100


def test_the_bureau_scores_in_slices_with_the_same_bits(monkeypatch):
    """The furnishers draw the files and the bureau scores them a slice of people at a
    time (their float64 temporaries were a run's memory peak): slices of 97 people give
    the same files, scores and counts as one."""
    import scslab.modules.economy.credit_bureau as bureau
    from scslab.run.engine import Sim
    from scslab.scenario import load_scenario

    sc = load_scenario("credit-bureau", people=2000, days=70, burn_in=0, seed=4)
    whole = Sim(sc).run()
    monkeypatch.setattr(bureau, "PEOPLE_PER_SLICE", 97)
    sliced = Sim(sc).run()
    score = whole.world.arrays["people.credit_score"]
    assert (score >= 300).any() and (score < 0).any()  # scored and unscorable people
    for name, a in whole.world.arrays.items():
        if name.startswith("people.credit_"):
            assert np.array_equal(sliced.world.arrays[name], a), name
    assert np.array_equal(sliced.world.counters.history, whole.world.counters.history)

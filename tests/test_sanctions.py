"""Scores, lists, joint sanctions and appeals — and the harm they do, counted exactly."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import system_output_survives_scrambled_truth
from scslab.core.acts import ActCatalogue
from scslab.core.apparatus import ScoreBook, ScoringParams
from scslab.run.engine import Sim
from scslab.scenario import load_scenario

NO_ERRORS = [
    "sources.enforcement.misattribution=0", "sources.enforcement.confusion.judgment_unable=null",
    "sources.court.misattribution=0", "sources.court.fabrication_rate=0",
    "sources.bank.misattribution=0", "sources.tax_office.misattribution=0",
]
AGENCIES = ("aviation", "railways", "banks", "civil_service", "courts", "schools")


def blacklist(sets=(), people=6000, days=365, burn_in=0):
    return load_scenario("national-blacklist", ["modules.debts.initial_debtor_share=0.3",
                                                *sets], people=people, days=days,
                         burn_in=burn_in)


@pytest.fixture(scope="module")
def listed_run():
    return Sim(blacklist()).run()


def _code(sim, act):
    cat = sim.world.catalogue
    return int(cat.code[cat.position(act)])


def test_no_sanction_without_a_record(listed_run):
    sim = listed_run
    w = sim.world
    listed = np.flatnonzero(w.arrays["people.listed"] & 1)
    assert listed.size > 20
    refusal = _code(sim, "judgment_refusal")
    for i in listed:
        refs = w.dossier.records_of(int(i))
        acts = w.dossier.fields(refs, "act")
        assert (acts == refusal).any(), i  # a live listing record in the person's own file
    # bans fall only on listed people and their households
    bans = w.arrays["people.bans"]
    hh = w.arrays["people.household"]
    listed_households = set(hh[listed].tolist())
    assert set(hh[np.flatnonzero(bans)].tolist()) <= listed_households


def test_zero_error_rates_mean_no_false_sanctions():
    s = Sim(blacklist(NO_ERRORS)).run().results().summary
    assert s["sanction_days"] > 0
    assert s["false_sanction_rate"] == 0.0
    assert s["false_sanction_days"] == 0.0
    assert s["income_lost_false"] == 0.0


def test_an_erroneous_record_lists_an_innocent_person_who_is_counted():
    sim = Sim(blacklist([*NO_ERRORS, "sources.enforcement.misattribution=0.3"])).run()
    w = sim.world
    refusal = _code(sim, "judgment_refusal")
    innocent = []
    for i in np.flatnonzero(w.arrays["people.listed"] & 1):
        refs = w.dossier.records_of(int(i))
        acts = w.dossier.fields(refs, "act")
        obs_ref = w.dossier.fields(refs, "obs_ref")[acts == refusal]
        actor, _ = w.truth.lookup(obs_ref)
        if not (actor == i).any():
            innocent.append(int(i))
    assert innocent, "a misattributed refusal should list someone who never refused"
    from scslab.modules.observers.harm import EVER_FALSE

    # a housemate's correct listing sanctions them too (household measures): not false
    hh = w.arrays["people.household"]
    listed_hh = np.bincount(hh[np.flatnonzero(w.arrays["people.listed"] & 1)],
                            minlength=hh.max() + 1)
    innocent = [i for i in innocent if listed_hh[hh[i]] == 1]
    assert innocent

    assert np.all(w.state["harm"]["flags"][innocent] & EVER_FALSE)
    assert sim.results().summary["false_sanction_rate"] > 0


def test_opaque_dossier_means_no_appeals():
    s = Sim(blacklist(["modules.dossier.visibility=opaque"])).run().results().summary
    assert s["appeals_filed"] == 0 and s["appeals_won"] == 0


def test_removing_appeal_capacity_raises_false_sanction_days():
    errors = ["sources.enforcement.misattribution=0.2"]
    with_board = Sim(blacklist([*errors, "modules.appeals.capacity_per_100k=500",
                                "modules.appeals.decision_days=5"])).run().results().summary
    without = Sim(blacklist([*errors, "modules.appeals.capacity_per_100k=0"])).run().results(
    ).summary
    assert with_board["appeals_won"] > 0 and without["appeals_won"] == 0
    assert without["false_sanction_days"] > with_board["false_sanction_days"]


def test_restoration_brings_a_clean_score_back_to_base():
    sc = load_scenario("rongcheng", people=10)
    params = ScoringParams.model_validate({**sc.modules["scoring"], "restoration_days": 30})
    book = ScoreBook.new(params, ActCatalogue.from_scenario(sc), 3)
    traffic = sc.acts["traffic"].code
    book.apply(10, np.array([0, 0, 1]), np.array([traffic] * 3), np.zeros(3, np.uint8))
    assert list(book.score) == [990, 995, 1000]
    for day in range(11, 40):
        assert book.restore(day).size == 0
    assert sorted(book.restore(40).tolist()) == [0, 1]
    assert list(book.score) == [1000, 1000, 1000]


def test_household_spillover_reaches_household_members_and_no_one_else(listed_run):
    w = listed_run.world
    school = 1 << 5
    listed = np.flatnonzero(w.arrays["people.listed"] & 1)
    hh = w.arrays["people.household"]
    expected = set()
    for i in listed:
        mates = np.flatnonzero(hh == hh[i])
        expected.update(int(m) for m in mates if m != i)
    got = set(np.flatnonzero(w.arrays["people.bans"] & school).tolist())
    assert got == expected and got


def test_empty_matrix_no_joint_sanctions_full_matrix_every_agency_acts():
    empty = Sim(blacklist([f"modules.sanctions.matrix.{a}=null" for a in AGENCIES])).run()
    assert not empty.world.arrays["people.bans"].any()
    assert empty.results().summary["sanction_days"] == 0
    measures = ["flight_ban", "rail_ban", "loan_denial", "civil_service_ban", "public_naming"]
    full = [f"modules.sanctions.matrix.{a}.{m}=[court_debtors]" for a in AGENCIES
            for m in measures]
    sim = Sim(blacklist(full)).run()
    w = sim.world
    listed = np.flatnonzero(w.arrays["people.listed"] & 1)
    own = sum(1 << b for b in range(5))
    assert listed.size and np.all((w.arrays["people.bans"][listed] & own) == own)


def test_bans_block_trips():
    s = Sim(blacklist(["acts.flight.rate=0.05", "acts.rail_trip.rate=0.05"])).run().results(
    ).summary
    assert s["blocked_trips"] > 0


def test_truth_firewall_covers_the_apparatus():
    for name in ("national-blacklist", "rongcheng"):
        sc = load_scenario(name, ["sources.enforcement.misattribution=0.1",
                                  "modules.debts.initial_debtor_share=0.3"],
                           people=3000, days=120, burn_in=0)
        assert system_output_survives_scrambled_truth(sc)


def test_rongcheng_scores_grades_and_rewards():
    sim = Sim(load_scenario("rongcheng", people=5000, days=400, burn_in=0)).run()
    s = sim.results().summary
    score = sim.world.arrays["people.score"]
    assert score.min() < 1000 < score.max()
    assert s["score_gini"] is not None and 0 < s["score_gini"] < 0.2
    assert s["sanction_days"] > 0


@pytest.mark.slow
def test_national_blacklist_compliance_order_of_magnitude():
    """Five years from a listed stock: the share of listed debtors' judgments repaid
    within a year, against the published 3.22 M of about 12 M entries (≈ 0.27): same
    order of magnitude."""
    sim = Sim(load_scenario("national-blacklist", people=20_000, days=1825, burn_in=365)).run()
    s = sim.results().summary
    assert 0.27 / 3 <= s["listed_debtor_repaid_365"] <= 0.27 * 3
    assert s["listed_unable_to_pay_share"] > 0


def test_log_ratios_handle_zero_counts():
    from scslab.core.metrics import Counters, MetricDef, log_ratios

    c = Counters(2, 1, 1)
    m = MetricDef("x", "n", "d", "")
    den = np.array([900.0, 100.0])
    assert log_ratios(c, m, np.array([0.0, 0.0]), den, ["a", "b"], "a") == {
        "x[log_ratio:group=b]": None}
    v = log_ratios(c, m, np.array([9.0, 1.0]), den, ["a", "b"], "a")["x[log_ratio:group=b]"]
    assert v == pytest.approx(np.log(1.5 / 100) - np.log(9.5 / 900))
    v0 = log_ratios(c, m, np.array([9.0, 0.0]), den, ["a", "b"], "a")["x[log_ratio:group=b]"]
    assert np.isfinite(v0) and v0 < 0


def test_a_point_system_without_errors_has_no_false_sanctions():
    """The shadow apparatus must replay the real one exactly when nothing is erroneous
    (same order of points, restoration and lists)."""
    sources = ("court", "enforcement", "tax_office", "bank", "ticketing", "traffic_police",
               "city_management", "civil_affairs")
    sets = [f"sources.{s}.misattribution=0" for s in sources]
    sets += ["sources.court.fabrication_rate=0", "sources.enforcement.confusion.judgment_unable=null",
             "modules.scoring.restoration_days=5", "acts.traffic.rate=0.2",
             "sources.traffic_police.coverage=1", "modules.scoring.rules.traffic.points=-200"]
    sim = Sim(load_scenario("rongcheng", sets, people=4000, days=200, burn_in=0)).run()
    s = sim.results().summary
    assert s["sanction_days"] > 0
    assert s["false_sanction_days"] == 0 and s["false_sanction_rate"] == 0

"""Perception that learns, and the point score's own channel (ablations on common random
numbers: the same society and seeds, one mechanism switched)."""

from __future__ import annotations

import numpy as np
import pytest

from scslab.core.engine import Sim
from scslab.scenario import load_scenario

SIZE = dict(people=10_000, days=400, burn_in=0)
NO_SCORE = ["modules.scoring.enabled=false"]
#: nobody knows the system, and nobody learns of it or of its sanctions
NO_PERCEPTION = ["population.traits.awareness=0", "modules.learning.sanction_rate=0",
                 "modules.learning.listed_awareness=0",
                 "modules.learning.sanction_network_rate=0",
                 "modules.learning.neighbour_awareness=0"]


def _run(name, sets=(), **size):
    return Sim(load_scenario(name, list(sets), **(size or SIZE))).run()


def _violations(sim) -> float:
    return float(sim.world.counters.totals("violations", slice(None)).sum())


def test_rongcheng_score_deters_with_the_police_sources_held_fixed():
    """The score's own effect: rongcheng against rongcheng without scoring — same
    sources, lists and measures. Sign: negative (docs/scenarios/rongcheng.md), through
    the point losses the informed perceive and the sanctions people learn of. Measured
    at 2·10^4 × 730 days, 3 seeds: −1.2 % (SE 0.03 %); here one seed, 10^4 × 400."""
    on, off = _run("rongcheng"), _run("rongcheng", NO_SCORE)
    assert _violations(on) < _violations(off) * 0.997


def test_the_score_changes_no_decision_when_nobody_perceives_it():
    """Ablation of the channel: if nobody knows the system and nobody learns of its
    sanctions, scoring cannot change a single violation (the grade lists block no act).
    Two other channels of the score are shut here: officials sell the dropping of records
    that carry points (corruption changes which records people learn from), and buyers
    avoid sellers publicly named at grade D (fewer sales, fewer frauds)."""
    quiet = [*NO_PERCEPTION, "modules.officials.enabled=false",
             "modules.market.named_avoidance=0"]
    on = _run("rongcheng", quiet)
    off = _run("rongcheng", [*quiet, *NO_SCORE])
    assert _violations(on) == _violations(off)


@pytest.fixture(scope="module")
def blacklist_runs():
    sets = ["modules.debts.initial_debtor_share=0.3", "population.traits.awareness=0"]
    named = _run("national-blacklist", sets, people=6000, days=365, burn_in=0)
    unnamed = _run("national-blacklist",
                   [*sets, "modules.sanctions.measures.public_naming.avoided_by_counterparties=false"],
                   people=6000, days=365, burn_in=0)
    return named, unnamed


def test_being_listed_informs_and_teaches_the_sanction(blacklist_runs):
    named, _ = blacklist_runs
    w = named.world
    listed = np.flatnonzero(w.arrays["people.listed"] & 1)
    assert listed.size > 20
    assert w.arrays["people.informed"][listed].all()
    assert (w.arrays["people.perceived_sanction"][listed] >= 0.2 - 1e-6).all()
    c = w.counters
    assert c.totals("informed_by_listing", slice(None)).sum() >= listed.size


def test_public_naming_teaches_the_neighbours(blacklist_runs):
    """Ablation: a listing that names in public moves the neighbours' perceived
    sanction and awareness; the same listing without naming moves no one but the listed."""
    named, unnamed = blacklist_runs

    def learned_not_listed(sim):
        w = sim.world
        ever = w.arrays["people.informed"] & ((w.arrays["people.listed"] & 1) == 0)
        return int(ever.sum()), float(w.arrays["people.perceived_sanction"].sum())

    informed_named, psi_named = learned_not_listed(named)
    informed_unnamed, _ = learned_not_listed(unnamed)
    assert informed_named > 20
    assert named.world.counters.totals("informed_by_neighbour", slice(None)).sum() > 0
    assert unnamed.world.counters.totals("informed_by_neighbour", slice(None)).sum() == 0
    assert informed_unnamed < informed_named


def test_a_publicity_campaign_informs_its_reach_and_deters():
    """A campaign on day 100 reaching 40 % of the uninformed: that share is informed
    (within 4 SE), and violations after it fall against the same run without it."""
    people = 10_000
    sets = ["modules.learning.campaigns.tv.day=100", "modules.learning.campaigns.tv.reach=0.4"]
    with_c = _run("rongcheng", sets, people=people, days=300, burn_in=0)
    without = _run("rongcheng", people=people, days=300, burn_in=0)
    told = with_c.world.counters.totals("informed_by_campaign", slice(None)).sum()
    uninformed = people - without.world.counters.totals("informed_by_listing",
                                                        slice(0, 100)).sum()
    n0 = uninformed * (1 - 0.11)
    assert abs(told - 0.4 * n0) < 4 * np.sqrt(n0 * 0.4 * 0.6) + 0.02 * n0
    c1, c0 = with_c.world.counters, without.world.counters
    before = (c1.totals("violations", slice(0, 100)).sum(),
              c0.totals("violations", slice(0, 100)).sum())
    assert before[0] == before[1]  # common random numbers: identical until the campaign
    assert (c1.totals("violations", slice(100, 300)).sum()
            < c0.totals("violations", slice(100, 300)).sum())


def test_a_campaign_after_the_run_is_refused():
    from scslab.scenario import ScenarioError

    with pytest.raises(ScenarioError, match="campaigns.late.day"):
        load_scenario("rongcheng", ["modules.learning.campaigns.late.day=500",
                                    "modules.learning.campaigns.late.reach=0.5"],
                      people=1000, days=100, burn_in=0)


def _taken_by_act(sets, **size) -> dict[str, int]:
    """Violations taken per act over a run (behaviour's decisions, before any record)."""
    sim = Sim(load_scenario("baseline", list(sets), **(size or SIZE)))
    behaviour = next(m for m in sim.modules if m.name == "behaviour")
    cat = behaviour.catalogue
    tally = np.zeros(256, dtype=np.int64)
    decide = behaviour.step

    def step(world, day):
        decide(world, day)
        np.add.at(tally, world.events("acts")["act"].astype(np.int64), 1)

    behaviour.step = step
    sim.run()
    return {name: int(tally[cat.code[k]]) for k, name in enumerate(cat.names)
            if cat.act_class[k] == 0}


def test_surveillance_in_one_venue_deters_that_venue_through_perception():
    """Perceived detection is per venue: raising the recording of the market's violation
    (fraud: the court's coverage 0.3 → 0.9) lowers fraud, and leaves the violations of
    every other venue exactly as they were (the informed perceive the market's published
    signal; the uninformed learn only the market's π from their and their neighbours'
    records there). With perception switched off (detection_perception_scale = 0) the
    same surveillance changes no decision."""
    watched = ["sources.court.coverage=0.9"]
    base, more = _taken_by_act([]), _taken_by_act(watched)
    others = [a for a in base if a != "fraud"]
    assert base["fraud"] > 200
    assert more["fraud"] < 0.9 * base["fraud"]
    assert all(more[a] == base[a] for a in others)
    off = ["modules.behaviour.detection_perception_scale=0"]
    assert _taken_by_act(off) == _taken_by_act([*off, *watched])

"""Perception that learns, and the point score's own channel (ablations on common random
numbers: the same society and seeds, one mechanism switched)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from scslab.run.engine import Sim
from scslab.scenario import load_scenario

SIZE = dict(people=10_000, days=400, burn_in=0)
NO_SCORE = ["modules.scoring.enabled=false"]
#: nobody knows the system, and nobody learns of it or of its sanctions
NO_PERCEPTION = ["population.traits.awareness=0", "modules.learning.sanction_rate=0",
                 "modules.learning.listed_awareness=0",
                 "modules.learning.sanction_network_rate=0",
                 "modules.learning.sanction_neighbour_rate=0",
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


BLACKLIST = ["modules.debts.initial_debtor_share=0.3", "population.traits.awareness=0"]
UNNAMED = ["modules.sanctions.measures.public_naming.avoided_by_counterparties=false"]


def _blacklist(*sets):
    return _run("national-blacklist", [*BLACKLIST, *sets], people=6000, days=365, burn_in=0)


@pytest.fixture(scope="module")
def blacklist_runs():
    return _blacklist(), _blacklist(*UNNAMED)


def _psi(sim) -> tuple[np.ndarray, np.ndarray]:
    """ψ of the informed and of the others. Nobody knows the system at day 0 (ψ = 0) and
    a sanctioning listing informs, so with ``neighbour_awareness = 0`` (a listed
    neighbour, named or not, informs nobody) the informed are exactly the ever listed."""
    w = sim.world
    informed = w.arrays["people.informed"]
    psi = w.arrays["people.perceived_sanction"]
    return psi[informed], psi[~informed]


def test_being_listed_informs_and_teaches_the_sanction(blacklist_runs):
    named, _ = blacklist_runs
    w = named.world
    listed = np.flatnonzero(w.arrays["people.listed"] & 1)
    assert listed.size > 20
    assert w.arrays["people.informed"][listed].all()
    assert (w.arrays["people.perceived_sanction"][listed] >= 0.2 - 1e-6).all()
    c = w.counters
    assert c.totals("informed_by_listing", slice(None)).sum() >= listed.size


def test_own_sanctions_teach_the_sanction_only_through_sanction_rate():
    """Ablation of the own channel: with the neighbours' channels shut, the listed learn
    ψ ≥ η_s = 0.2 from their own listing, and nothing at all with η_s = 0."""
    quiet = [*UNNAMED, "modules.learning.sanction_neighbour_rate=0",
             "modules.learning.neighbour_awareness=0"]
    on, off = _psi(_blacklist(*quiet)), _psi(_blacklist(*quiet, "modules.learning.sanction_rate=0"))
    assert on[0].size > 20 and (on[0] >= 0.2 - 1e-6).all()
    assert (on[1] == 0).all()  # the others learned nothing: no neighbours' channel
    assert (off[0] == 0).all() and (off[1] == 0).all()


def test_neighbours_sanctions_teach_the_sanction_named_or_not(blacklist_runs):
    """Ablation of the seen channel, without public naming: neighbours of the listed
    learn ψ > 0 from their sanctions (η_sb = 0.02 per listed neighbour); with η_sb = 0
    no one who is not listed moves."""
    _, unnamed = blacklist_runs
    others = _psi(unnamed)[1]
    assert (others > 0).sum() > 100
    assert others.max() >= 0.02 - 1e-6
    shut = _psi(_blacklist(*UNNAMED, "modules.learning.sanction_neighbour_rate=0"))[1]
    assert (shut == 0).all()


def _count(sim, counter: str) -> int:
    return int(sim.world.counters.totals(counter, slice(None)).sum())


def test_a_listed_neighbour_informs_named_or_not(blacklist_runs):
    """Ablation of the listed-neighbour channel with public naming switched off: a
    neighbour put on the (unnamed) list informs with probability ``neighbour_awareness``
    (0.1 per listing), so people never listed learn the system exists; with
    ``neighbour_awareness = 0`` nobody is informed but by their own listing. Direction:
    the channel adds informed people (measured at 6000 × 365: 338 informed by a listed
    neighbour, 688 informed in all; 0 and 360 with the channel off). Naming adds no
    awareness draw of its own: with it on, the neighbours are told at the same rate per
    listing (measured: the same 338 for the same 350 listings)."""
    named, unnamed = blacklist_runs
    shut = _blacklist(*UNNAMED, "modules.learning.neighbour_awareness=0")

    def informed(sim):
        return int(sim.world.arrays["people.informed"].sum())

    # nobody knows the system at day 0 and there is no campaign: the channels add up
    for sim in (named, unnamed, shut):
        assert informed(sim) == (_count(sim, "informed_by_listing")
                                 + _count(sim, "informed_by_neighbour"))
    told = _count(unnamed, "informed_by_neighbour")
    assert told > 50
    assert _count(shut, "informed_by_neighbour") == 0
    assert informed(unnamed) > informed(shut) + 50
    # per listing, naming or not, about the same share of neighbours is told
    per_listing = [_count(s, "informed_by_neighbour") / _count(s, "informed_by_listing")
                   for s in (named, unnamed)]
    assert 0.7 < per_listing[0] / per_listing[1] < 1.4


def test_public_naming_teaches_the_neighbours(blacklist_runs):
    """Ablation: a listing that names in public moves the neighbours' perceived
    sanction by its own step (η_sn on top of η_sb); the same listing without naming
    moves ψ only by what the sanction itself teaches. (Awareness spreads from a listed
    neighbour, named or not: ``test_a_listed_neighbour_informs_named_or_not``.)"""
    named, unnamed = blacklist_runs
    # ψ of the uninformed: naming adds its own step (measured: mean 0.037 against 0.012)
    psi_named, psi_unnamed = _psi(named)[1].mean(), _psi(unnamed)[1].mean()
    assert psi_named > 2 * psi_unnamed > 0
    # naming alone (the seen channel shut) still teaches the neighbours
    alone = _psi(_blacklist("modules.learning.sanction_neighbour_rate=0"))[1]
    assert (alone > 0).sum() > 100


def test_learned_perception_is_identical_across_threads_and_reruns():
    """Lists, public naming, the three ψ channels and spreading awareness: the counters
    and every person's π and ψ are bit-identical with one and two Numba threads and on a
    rerun."""
    code = ("import hashlib; from scslab.run.engine import Sim; "
            "from scslab.scenario import load_scenario; "
            "s = load_scenario('national-blacklist', ['modules.debts.initial_debtor_share=0.3',"
            " 'population.traits.awareness=0'], people=2000, days=250, burn_in=0); "
            "w = Sim(s).run().world; h = hashlib.sha256(w.counters.history.tobytes()); "
            "h.update(w.arrays['people.perceived_detection'].tobytes()); "
            "h.update(w.arrays['people.perceived_sanction'].tobytes()); "
            "print(int(w.counters.totals('sanction_learning_events', slice(None)).sum()), "
            "h.hexdigest())")
    out = []
    for threads in ("1", "2", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=300, check=True)
        out.append(proc.stdout.split())
    assert int(out[0][0]) > 100  # the sanction channels did act
    assert out[0] == out[1] == out[2]


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


def test_network_learning_is_the_same_for_any_number_of_uid_ranges(monkeypatch):
    """Neighbour learning runs one uid range per thread; each person's steps keep the
    actors' order, so the perceptions and counts are the same bits for 1, 2 or 7 ranges."""
    import scslab.modules.people.learning as learning

    seen: list[tuple] = []
    inner = learning._apply_network

    def capture(*args):
        seen.append(tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        return inner(*args)

    monkeypatch.setattr(learning, "_apply_network", capture)
    Sim(load_scenario("rongcheng", people=3000, days=40, burn_in=0)).run()
    args = next(a for a in reversed(seen) if a[1].size > 50)  # a day with many actors
    results = []
    for pieces in (1, 2, 7):
        a = [x.copy() if isinstance(x, np.ndarray) else x for x in args]
        inner(*a[:-1], pieces)
        results.append((a[7], a[8], a[13]))  # perceptions, their days, event counts
    for pd, day, events in results[1:]:
        assert np.array_equal(pd, results[0][0]) and np.array_equal(day, results[0][1])
        assert np.array_equal(events, results[0][2])
    assert not np.array_equal(results[0][0], args[7])  # the kernel did change perceptions

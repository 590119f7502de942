"""Surveillance: sensors, face recognition, watchlists and checkpoints, the landlord's
camera, chilling. Fixed seeds; tolerances stated in each test."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import NO_INSTITUTIONS
from scslab.modules.sensing.face_recognition import false_alarm_probability
from scslab.run.engine import Sim
from scslab.scenario import load_scenario
from scslab.scenario.loader import ScenarioError

TRIPS = [
    "venues.checkpoint={code: 17}",
    "acts.local_trip={code: 62, class: movement, venue: checkpoint, rate: 0.2, "
    "lawful_ref: true}",
    "modules.learning.own_rate=0.0", "modules.learning.network_rate=0.0",
    "modules.learning.public_rate=0.0",
]


def _face_checkpoint(fmr_minority=10.0, sigma=0.0, on_alarm="block", people=6000, days=80):
    # the lean society: with baseline's market, a detained minority seller changes majority
    # buyers' trades (a channel through the market, like approval through the network)
    sets = [*NO_INSTITUTIONS, *TRIPS,
            "modules.surveillance.enabled=true",
            "modules.surveillance.face={algorithm: a, base_fmr: 1.0e-5, base_fnmr: 0.0, "
            f"female_fmr_multiplier: 1.0, lookalike_sigma: {sigma}, "
            f"origins: {{a: {{fmr: {{majority: 1.0, minority: {fmr_minority}}}}}}}}}",
            "modules.surveillance.checkpoints.cp={code: 20, acts: [local_trip], coverage: 1.0, "
            f"identification: face, gallery: 1000, on_alarm: {on_alarm}, detention_days: 2}}"]
    return load_scenario("baseline", sets, people=people, days=days, burn_in=0)


def _totals(sim, counter):
    c = sim.world.counters
    return c.by_group(c.totals(counter, slice(None)))


def test_false_alarms_per_screening_match_the_formula():
    """No look-alikes, no learning: per group, false alarms / screenings is within 3 SE
    of 1 − (1 − FMR_g)^G."""
    sim = Sim(_face_checkpoint()).run()
    alarms = _totals(sim, "false_alarms")
    screened = _totals(sim, "screenings_unlisted")
    for g, mult in enumerate([1.0, 10.0]):
        p = float(false_alarm_probability(1e-5 * mult, 1000))
        n = screened[g]
        se = np.sqrt(p * (1 - p) / n)
        assert n > 5000
        assert abs(alarms[g] / n - p) < 3 * se, (g, alarms[g] / n, p, se)


def test_lookalikes_concentrate_false_alarms_at_the_same_mean():
    """With a persistent look-alike multiplier (σ = 1.5, mean 1) the most-stopped 1 % of the
    majority take more than 1.5× the share of false alarms they take without it, while the
    majority's false alarm rate stays within 5 % of the formula (pG = 0.01, so the
    concavity of 1 − (1 − p)^G moves the mean by under 1 %)."""
    plain = Sim(_face_checkpoint()).run().results().summary
    look = Sim(_face_checkpoint(sigma=1.5)).run().results().summary
    key = "false_alarm_rate[group=majority]"
    p = float(false_alarm_probability(1e-5, 1000))
    assert abs(plain[key] / p - 1) < 0.05
    assert abs(look[key] / p - 1) < 0.05
    conc = "repeat_stop_concentration[group=majority]"
    assert look[conc] > 1.5 * plain[conc]
    assert look["repeat_stop_concentration"] > plain["repeat_stop_concentration"]


def test_common_random_numbers_one_groups_fmr_leaves_the_other_bit_identical():
    """Raising the minority's FMR changes the minority's false alarms (and detentions) and
    leaves every majority counter bit-identical: draws are keyed by person and slot. (Not
    the attitudes': a detained minority neighbour moves a majority person's approval —
    that travels through the network, not through the draws.)"""
    a = Sim(_face_checkpoint(on_alarm="detain")).run()
    b = Sim(_face_checkpoint(fmr_minority=30.0, on_alarm="detain")).run()
    R = a.world.n_regions
    ha, hb = a.world.counters.history, b.world.counters.history
    idx = a.world.counters.index
    draws = [idx[k] for k in idx if k not in ("approval_sum", "trust_sum")]
    assert np.array_equal(ha[:, draws, :R], hb[:, draws, :R])  # cells of group 0 (majority)
    i = idx["approval_sum"]
    assert not np.array_equal(ha[:, i, :R], hb[:, i, :R])  # the neighbours of the detained
    i = a.world.counters.index["false_alarms"]
    assert hb[:, i, R:].sum() > 1.5 * ha[:, i, R:].sum()


def _observations_by_day(sim):
    """Run day by day, yielding (acts, observations, their truth) of each day."""
    while sim.day < sim.total_days:
        sim.step()
        ev = sim.world.events
        yield ev["acts"], ev["observations"], ev["observation_truth"]


def test_sensors_see_only_covered_venues_and_coverage_zero_sees_nothing():
    """Sensor 1 (coverage 0) files nothing; sensor 2 records only acts whose venue column
    is one it watches — including displaced violations, which it misses."""
    sc = load_scenario("baseline", [
        "population.traits.awareness=1.0",
        "acts.traffic.displaced_venue=street",
        "modules.behaviour.displacement=1.0",
        "modules.surveillance.enabled=true",
        "modules.surveillance.sensors.off={code: 1, venues: [religious_site], coverage: 0.0}",
        "modules.surveillance.sensors.road={code: 2, venues: [road, online], coverage: 0.9}",
    ], people=3000, days=40, burn_in=0)
    sim = Sim(sc)
    road, online = sc.venues["road"].code, sc.venues["online"].code
    seen = 0
    for acts, obs, truth in _observations_by_day(sim):
        s = obs["sensor"]
        assert not np.any(s == 1)
        rows = (truth["act_ref"][s == 2] & 0xFFFFFFFF).astype(np.int64)
        assert np.isin(acts["venue"][rows], [road, online]).all()
        seen += rows.size
    assert seen > 100
    assert sim.results().summary["chilled_expression"] > 0


def _chilling(awareness, extra=()):
    sc = load_scenario("baseline", [
        f"population.traits.awareness={awareness}",
        "population.groups.minority.awareness=null",
        "modules.behaviour.expression_penalty_prior=0.0",
        "modules.surveillance.enabled=true",
        "modules.surveillance.sensors.cams={code: 1, venues: [religious_site, online], "
        "coverage: 0.8}", *extra], people=3000, days=60, burn_in=0)
    return Sim(sc).run().results().summary["chilled_expression"]


def test_unaware_people_do_not_chill_aware_people_chill_without_penalty():
    assert _chilling(0.0) == 0.0
    assert _chilling(1.0) > 0.1  # watched, no penalty, no prior: the a_w term alone
    twin = ["modules.surveillance.expression_venues_watched=false"]
    assert _chilling(1.0, twin) == 0.0


def test_twin_transform_is_registered():
    from scslab.analysis.compare import twin_overrides

    sc = load_scenario("checkpoint-region", people=1000, days=10, burn_in=0)
    assert twin_overrides(sc) == ["modules.surveillance.expression_venues_watched=false"]
    assert twin_overrides(load_scenario("baseline", people=1000, days=10, burn_in=0)) == []


def test_watchlist_by_design_detains_on_lawful_basis_with_every_error_rate_zero():
    sc = load_scenario("baseline", [
        *TRIPS,
        "sources.court.misattribution=0.0", "sources.court.fabrication_rate=0.0",
        "sources.enforcement.misattribution=0.0", "sources.enforcement.confusion={}",
        "sources.tax_office.misattribution=0.0", "sources.bank.misattribution=0.0",
        "modules.surveillance.enabled=true",
        "modules.surveillance.face={base_fmr: 0.0, base_fnmr: 0.0}",
        "modules.surveillance.sensors.mosque={code: 1, venues: [religious_site], "
        "coverage: 0.8, identification: face}",
        "modules.surveillance.checkpoints.cp={code: 20, acts: [local_trip], coverage: 1.0}",
        "modules.watchlist={enabled: true, acts: [religious_practice]}",
    ], people=3000, days=60, burn_in=0)
    s = Sim(sc).run().results().summary
    assert s["detentions_lawful_basis"] > 50
    assert s["detentions_false_match"] == 0
    assert s["detentions_unlawful_basis"] == 0
    assert s["detentions_erroneous_basis"] == 0
    assert s["false_alarms"] == 0


LANDLORD = [
    "venues.building_entrance={code: 18, sensitivity: 2.0}",
    "acts.home_entry={code: 63, class: movement, venue: building_entrance, rate: 0.2, "
    "lawful_ref: true}",
    "acts.house_rule_breach={code: 6, class: violation, venue: building_entrance, "
    "rate: 0.02, gain: 0.05, lawful_ref: true}",
    "modules.surveillance.enabled=true",
    "modules.surveillance.face={base_fmr: 1.0e-4}",
]


def _landlord(threshold):
    sc = load_scenario("baseline", [
        *LANDLORD,
        f"modules.surveillance.landlord={{enabled: true, venues: [building_entrance], "
        f"tenant_share: 0.3, entry_acts: [home_entry], sanctioned_acts: [house_rule_breach], "
        f"join_rate: 0.01, threshold: {threshold}, regulator_days: 5}}",
    ], people=3000, days=150, burn_in=0)
    return Sim(sc).run()


def test_tenants_complaint_removes_the_landlords_camera_past_the_threshold():
    sim = _landlord(0.3)
    removed = sim.final_metrics["landlord_removed_day"]
    assert removed is not None
    c = sim.world.counters
    watched = c.history[:, c.index["tenant_days_watched"], :].sum(axis=1)
    sanctions = c.history[:, c.index["private_sanctions"], :].sum(axis=1)
    r = int(removed)
    assert watched[: r + 1].min() > 0 and watched[r + 1:].sum() == 0
    assert sanctions[: r + 1].sum() > 0 and sanctions[r + 1:].sum() == 0
    never = _landlord(1.0)  # nobody reaches full participation in 150 days
    assert never.final_metrics["landlord_removed_day"] is None
    assert never.final_metrics["complaint_participation"] < 1.0


def test_the_landlords_captures_become_records_only_when_the_police_receive_them():
    """With ``receives: [police]`` a named tenant's capture is an observation and a record
    (its truth: the act captured, and who did it — another tenant when the face was
    misidentified); without, the landlord keeps its captures."""
    def house_rule_records(receives):
        sc = load_scenario("western-fragmented", [
            f"modules.surveillance.landlord.receives={receives}",
            "modules.surveillance.landlord.tenant_share=0.3",
            "modules.surveillance.face.base_fmr=1e-4"], people=5000, days=30, burn_in=0)
        sim = Sim(sc).run()
        w = sim.world
        code = w.catalogue.code[w.catalogue.position("house_rule_breach")]
        subject, actor = [], []
        for day in range(30):
            chunk, live = w.dossier.day_records(day)
            hit = live & (chunk["act"] == code)
            if hit.any():
                subject.append(chunk["subject"][hit])
                actor.append(w.truth.lookup(w.dossier.obs_refs(day, chunk)[hit])[0])
        if not subject:
            return 0, 0
        subject, actor = np.concatenate(subject), np.concatenate(actor)
        return subject.size, int((subject != actor).sum())

    assert house_rule_records("[vendor]") == (0, 0)
    filed, wrong = house_rule_records("[police]")
    assert filed > 50 and 0 < wrong < filed // 2


def test_unknown_venue_is_a_one_line_error_naming_the_field():
    with pytest.raises(ScenarioError, match=r"modules\.surveillance\.sensors\.x\.venues: "
                                            r"unknown venue 'nowhere'"):
        load_scenario("baseline", ["modules.surveillance.enabled=true",
                                   "modules.surveillance.sensors.x={code: 1, "
                                   "venues: [nowhere], coverage: 0.5}"])


def test_eu_regime_refuses_real_time_face_identification_in_public():
    load_scenario("eu-ai-act", people=1000, days=10, burn_in=0)
    with pytest.raises(ScenarioError, match=r"Art\. 5\(1\)\(h\)"):
        load_scenario("eu-ai-act", ["modules.surveillance.sensors.police_cctv.real_time=true"])
    with pytest.raises(ScenarioError, match=r"Art\. 5\(1\)\(g\)"):
        load_scenario("eu-ai-act", ["modules.watchlist={enabled: true, "
                                    "groups: {minority: 0.1}}"])


@pytest.mark.parametrize("name", ["checkpoint-region", "western-fragmented", "eu-ai-act",
                                  "export"])
def test_builtin_surveillance_scenarios_run(name):
    s = Sim(load_scenario(name, people=2000, days=40, burn_in=10)).run().results().summary
    assert s["exposure"] > 0 and 0 < s["share_of_acts_recorded"] < 1


def test_truth_firewall_checkpoint_region():
    """Scrambling truth around every system step (the watchlist included) leaves the
    dossier bit-identical (the pattern of test_engine)."""
    from test_engine import _system_output_survives_scrambled_truth

    sc = load_scenario("checkpoint-region", people=3000, days=50, burn_in=10)
    assert _system_output_survives_scrambled_truth(sc)

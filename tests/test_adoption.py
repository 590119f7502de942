"""Legitimacy links and societies adopting components (docs/adoption.md).

Feedback links: switched off (the default) they change nothing; switched on they move the
outcome in the documented direction. Worlds: a legal ban prevents adoption, timelines are
reproducible bit for bit, bad world files are one line and exit 2 through `scslab`.
"""

from __future__ import annotations

import subprocess
import textwrap

import numpy as np
import pandas as pd
import pytest

from scslab.adoption import WorldError, load_world, run_world
from scslab.core.acts import CLASS_CODE
from scslab.run.engine import Sim
from scslab.scenario import load_scenario
from test_exit_codes import scslab_exe


def _violations_by_person(sets, people=3000, days=60):
    sim = Sim(load_scenario("baseline", list(sets), people=people, days=days, burn_in=0))
    cat = sim.world.catalogue
    violation = np.zeros(256, dtype=bool)
    violation[cat.code[cat.act_class == CLASS_CODE["violation"]]] = True
    counts = np.zeros(people, dtype=np.int64)
    for _ in range(days):
        sim.step()
        acts = sim.world.events["acts"]
        if len(acts):
            actor = acts["actor"][violation[acts["act"]]].astype(np.int64)
            np.add.at(counts, actor, 1)
    return counts, sim.world.arrays["people.institutional_trust"].copy()


def test_legitimacy_link_off_changes_nothing_on_deters_the_trusting():
    """behaviour.legitimacy_weight λ (Tyler 2006): at 0 the acts are the default run's;
    at λ = 2 people who trust institutions more than the average violate less and those
    who trust them less violate more."""
    default, trust = _violations_by_person([])
    off, _ = _violations_by_person(["modules.behaviour.legitimacy_weight=0"])
    on, _ = _violations_by_person(["modules.behaviour.legitimacy_weight=2"])
    np.testing.assert_array_equal(default, off)
    high = trust > 0.6  # the trust mean (attitudes.trust_mean)
    assert on[high].sum() < 0.8 * default[high].sum()
    assert on[~high].sum() > 1.1 * default[~high].sum()


def test_approval_link_to_the_landlord_complaint():
    """landlord.approval_weight w: at 0 the tenants' join days are the default's; at w > 0
    those who approve of the system more than the average join later, the others sooner."""
    def join_days(w):
        sets = ["population.people=4000"] + (
            [f"modules.surveillance.landlord.approval_weight={w}"] if w is not None else [])
        sim = Sim(load_scenario("western-fragmented", sets, days=1, burn_in=0)).run()
        a = sim.world.arrays
        return (a["people.complaint_day"].astype(np.int64), a["people.tenant"],
                a["people.approval"].astype(np.float64))

    d_default, tenant, approval = join_days(None)
    d_off, _, _ = join_days(0.0)
    d_on, _, _ = join_days(2.0)
    np.testing.assert_array_equal(d_default, d_off)
    la = np.log(approval / (1 - approval))
    hi = tenant & (la > la.mean())
    lo = tenant & (la < la.mean())
    assert hi.sum() > 20 and lo.sum() > 20
    assert (d_on[hi] >= d_default[hi]).all() and (d_on[lo] <= d_default[lo]).all()
    assert (d_on[hi] > d_default[hi]).mean() > 0.5


#: informants in every region of checkpoint-region; regions differ in income, so (through
#: income_slope) in approval — region 3 also has cameras, regions 0–2 only informants
INFORMANTS = ["population.region_income=[0.3,1.0,3.0,10.0]", "modules.attitudes.income_slope=1.0",
              "modules.surveillance.sensors.informants.regions=all",
              "modules.surveillance.sensors.informants.coverage=0.2"]


def test_approval_link_to_informants_reporting():
    """sensors.X.approval_weight w (legitimacy → reporting, Tyler 2006): at 0 the records
    are the default run's; at w = 2 informants report more where the region approves more
    of the system — fewer than at w = 0 where approval is below the reference (0.8), more
    above it, and the ratio rises with the region's approval."""
    def records(extra):
        sim = Sim(load_scenario("checkpoint-region", INFORMANTS + extra, people=3000,
                                days=60, burn_in=0)).run()
        c = sim.world.counters
        return (c.by_region(c.totals("sensor_records", slice(None))),
                sim.world.arrays["regions.approval"].astype(np.float64))

    w = "modules.surveillance.sensors.informants.approval_weight="
    default, approval = records([])
    off, _ = records([w + "0"])
    on, _ = records([w + "2"])
    np.testing.assert_array_equal(default, off)
    informants_only = [0, 1, 2]
    ratio = on[informants_only] / default[informants_only]
    a = approval[informants_only]
    assert default[informants_only].min() > 100
    assert np.all(np.diff(ratio[np.argsort(a)]) > 0)
    assert (ratio[a < 0.75] < 0.8).all() and (ratio[a > 0.81] > 1.05).all()
    assert (a < 0.75).any() and (a > 0.81).any()


def test_informants_approval_weight_needs_attitudes():
    bad = ["modules.attitudes.enabled=false",
           "modules.surveillance.sensors.informants.approval_weight=1"]
    with pytest.raises(Exception, match="approval_weight"):
        load_scenario("checkpoint-region", bad, people=500, days=5, burn_in=0)


WORLD = """
name: tiny
periods: 2
period_days: 30
people: 300
societies:
  eu:
    scenario: baseline
    legal: {legal}
    government: {{control_taste: 8.0}}
"""


def _world(tmp_path, text, name="w.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_legal_ban_prevents_adoption_of_the_banned_component(tmp_path):
    """A government that wants everything (taste 8) adopts every component unless its
    regime bans it: under the EU AI Act never the point score, joint lists or face
    checkpoints (no exception listed), but the private entrance (with consent)."""
    free = run_world(_world(tmp_path, WORLD.format(legal="none"), "free.yaml"), replicates=1)
    eu = run_world(_world(tmp_path, WORLD.format(legal="eu_ai_act"), "eu.yaml"), replicates=1)
    last = {name: r.timelines[r.timelines.period == 1].set_index("component").in_force
            for name, r in (("free", free), ("eu", eu))}
    assert last["free"].all()
    assert not last["eu"][["point_scores", "joint_lists", "face_checkpoints"]].any()
    assert last["eu"]["private_biometric_access"]


def test_adoption_timelines_are_reproducible_bit_for_bit(tmp_path):
    text = WORLD.format(legal="none").replace("control_taste: 8.0", "control_taste: 0.0")
    path = _world(tmp_path, text)
    a = run_world(path, replicates=2, periods=3)
    b = run_world(path, replicates=2, periods=3)
    pd.testing.assert_frame_equal(a.timelines, b.timelines)
    pd.testing.assert_frame_equal(a.observations, b.observations)
    # and the draws are not degenerate: a government at taste 0 does not decide the same
    # way for every component and period
    assert 0 < a.timelines.in_force.mean() < 1


CARRY = """
name: carry
periods: 3
period_days: 365
people: 2000
carry: {carry}
societies:
  court:
    scenario: national-blacklist
    set: ["sources.enforcement.misattribution=0.5", "modules.debts.initial_debtor_share=0.3",
          "modules.attitudes.wrong_trust_shift=-2.0"]
"""


@pytest.mark.slow
def test_adoption_timelines_are_bit_identical_with_workers(tmp_path):
    """Replicates in worker processes give the serial run's tables (a replicate is one
    process's work). Slow: the worker pool loads the compiled kernels afresh."""
    path = _world(tmp_path, WORLD.format(legal="none").replace("control_taste: 8.0",
                                                               "control_taste: 0.0"))
    serial = run_world(path, replicates=2, periods=3)
    pooled = run_world(path, replicates=2, periods=3, workers=2)
    pd.testing.assert_frame_equal(serial.timelines, pooled.timelines)
    pd.testing.assert_frame_equal(serial.observations, pooled.observations)


def test_trust_is_carried_across_periods(tmp_path):
    """Wrong sanctions lower trust within a period; carried (the default), the next period
    starts where the last ended (in aggregate) — below the carry-less start — so trust
    keeps falling; without carry every period starts afresh. Bit-reproducible."""
    def obs(carry, name):
        r = run_world(_world(tmp_path, CARRY.format(carry=carry), name), replicates=1)
        return r.observations.set_index("period")

    on = obs("[approval, trust]", "on.yaml")
    again = obs("[approval, trust]", "again.yaml")
    off = obs("[approval]", "off.yaml")
    pd.testing.assert_frame_equal(on, again)
    assert on.loc[0, "trust_end"] < on.loc[0, "trust_start"] - 0.005  # trust fell
    assert on.loc[0, "trust_start"] == off.loc[0, "trust_start"]
    # carry-less: every period starts at the same trust (same population, same draws)
    assert off.loc[1, "trust_start"] == off.loc[0, "trust_start"]
    # carried: period 1 starts where period 0 ended (the logit shift of the mean; within
    # 0.003 of it) and period 2 lower still
    assert on.loc[1, "trust_start"] == pytest.approx(on.loc[0, "trust_end"], abs=0.003)
    assert on.loc[2, "trust_start"] < on.loc[1, "trust_start"] < off.loc[1, "trust_start"]
    assert on.loc[2, "institutional_trust"] < off.loc[2, "institutional_trust"]


def test_builtin_worlds_load():
    for name in ("will-the-west-adopt-it", "framing"):
        spec, _, _ = load_world(name)
        assert spec.societies
    spec, _, _ = load_world("will-the-west-adopt-it")
    assert spec.societies["eu"].legal == "eu_ai_act"
    assert any(s.exporter for s in spec.societies.values())


BAD = {
    "unknown key": ("name: x\nsocieties: {a: {scenario: baseline, colour: red}}\n",
                    "societies.a.colour"),
    "unknown component": ("name: x\nsocieties: {a: {adopted: [drones]}}\n",
                          "societies.a.adopted"),
    "banned at the start": ("name: x\nsocieties: {a: {legal: eu_ai_act, "
                            "adopted: [point_scores]}}\n", "societies.a.adopted"),
    "bad number": ("name: x\nperiods: many\nsocieties: {a: {}}\n", "periods"),
    "no scenario": ("name: x\nsocieties: {a: {scenario: nowhere.yaml}}\n",
                    "societies.a.scenario"),
    "not a mapping": ("- a\n- b\n", None),
    "bad override": ("name: x\nsocieties: {a: {set: [modules.behaviour.colour=1]}}\n",
                     "societies.a"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_world_files_are_one_line_and_exit_2(tmp_path, case):
    text, field = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(WorldError):
        run_world(path, replicates=1)
    out = tmp_path / "out"
    proc = subprocess.run([*scslab_exe(), "world", "run", str(path),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("scslab: error:"), proc.stderr
    assert str(path) in lines[0]
    if field is not None:
        assert field in lines[0]
    assert not out.exists()


FRAMED = """
name: framed
periods: 2
period_days: 40
people: 400
societies:
  not_told:
    set: ["modules.learning.campaigns.c={{day: 5, reach: 0.9, framing: none}}"]
    government: {{control_taste: {taste}, approval_weight: 3.0}}
  told:
    set: ["modules.learning.campaigns.c={{day: 5, reach: 0.9, framing: balanced}}"]
    government: {{control_taste: {taste}, approval_weight: 3.0}}
"""


@pytest.mark.parametrize("taste", [-2.0])
def test_a_public_told_pros_and_cons_approves_less_and_its_government_adopts_no_more(
        tmp_path, taste):
    """Approval → adoption: the told public approves less (balanced framing, MERICS
    2020); with the same draws (common random numbers across societies) its government,
    alike in all else, never has a component the other lacks after the first decision."""
    r = run_world(_world(tmp_path, FRAMED.format(taste=taste)), replicates=1)
    obs = r.observations.set_index(["period", "society"])
    assert obs.loc[(0, "told"), "approval"] < obs.loc[(0, "not_told"), "approval"] - 0.05
    t = r.timelines[r.timelines.period == 1].pivot(index="component", columns="society",
                                                   values="in_force")
    assert (t["told"] <= t["not_told"]).all()


def test_period_days_replaces_the_files_within_its_bounds(tmp_path):
    """``period_days`` (``--period-days``) shortens a world's periods for a smoke run; a
    value outside the file field's bounds is the file field's one-line error, exit 2."""
    path = _world(tmp_path, FRAMED.format(taste=-2.0))
    short = run_world(path, replicates=1, periods=1, period_days=30)
    full = run_world(path, replicates=1, periods=1)
    assert (short.spec.period_days, short.manifest["period_days"]) == (30, 30)
    assert full.manifest["period_days"] == 40
    assert not short.observations.equals(full.observations)
    with pytest.raises(WorldError, match="period_days"):
        run_world(path, replicates=1, period_days=10)
    out = tmp_path / "out"
    proc = subprocess.run([*scslab_exe(), "world", "run", str(path), "--out", str(out),
                           "--period-days", "10"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "period_days" in lines[0], lines
    assert not out.exists()

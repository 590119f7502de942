"""Feedback deployment: the budget (population-weighted coverage) is conserved by
water-filling; a sensor may start with different coverage in different regions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from scslab.modules.sensing.surveillance import water_fill
from scslab.run.engine import Sim
from scslab.scenario import load_scenario

SENSOR = ("modules.surveillance.sensors.cams={code: 9, venues: [street, market, road], "
          "coverage: 0.05, coverage_by_region: {0: 0.6, 3: 0.1}}")


def _scenario(*sets: str, days: int = 120):
    return load_scenario("baseline", ["modules.surveillance.enabled=true", SENSOR, *sets],
                         people=5000, days=days, burn_in=0)


def test_water_fill_conserves_the_budget_and_caps_at_one():
    gen = np.random.default_rng(3)  # test inputs, not model draws
    for _ in range(200):
        n = int(gen.integers(1, 12))
        w = gen.uniform(0.0, 5.0, n)
        x = gen.uniform(0.0, 2.5, n) * (gen.uniform(size=n) < 0.8)
        budget = float((w * x).sum())
        out, lost = water_fill(x, w, budget)
        assert out.max() <= 1.0 + 1e-12 and out.min() >= 0.0
        if budget < w.sum():
            assert lost == 0.0
            assert (w * out).sum() == pytest.approx(budget, rel=1e-9, abs=1e-12)
            below = (out < 1.0) & (x > 0)  # uncapped cells keep their proportions
            if below.sum() > 1:
                ratio = out[below] / x[below]
                assert ratio.max() == pytest.approx(ratio.min(), rel=1e-9)
        else:  # every cell full: the rest of the budget is lost, and said so
            assert (out == 1.0).all() and lost == pytest.approx(budget - w.sum())
    # an analytic case: one cell over the cap hands its excess to the other
    out, lost = water_fill(np.array([1.5, 0.25]), np.array([1.0, 1.0]), 1.75)
    assert out.tolist() == [1.0, 0.75] and lost == 0.0


def test_redeployment_conserves_the_budget_in_a_run():
    """Feedback at full rate pulls coverage to where records are made, beyond 1 in the
    heavily watched region: the population-weighted total stays the same to 1e-9."""
    sc = _scenario("modules.surveillance.deployment={mode: feedback, period_days: 10, "
                   "rate: 1.0}")
    sim = Sim(sc)
    mod = next(m for m in sim.modules if m.name == "surveillance")
    st = sim.world.state["surveillance"]
    pop = mod.region_sizes

    def budget():
        return float((st["cov"][9] * pop[None, :]).sum())

    start = budget()
    moved = 0
    for day in range(sc.time.days):
        before = st["cov"][9].copy()
        sim.step()
        if (day + 1) % 10 == 0:
            moved += not np.array_equal(before, st["cov"][9])
            assert budget() == pytest.approx(start, rel=1e-9)
            assert st["cov"][9].max() <= 1.0
    assert moved >= 5
    assert sim.final_metrics["deployment_budget_lost"] == 0.0


def test_a_sensor_full_everywhere_stays_full():
    """Every allowed cell at 1: nothing can move, nothing is lost (the budget of a
    sensor never exceeds its room, since coverage starts at most 1)."""
    sc = _scenario("modules.surveillance.sensors.cams.coverage_by_region=[1.0, 1.0, 1.0, 1.0]",
                   "modules.surveillance.deployment={mode: feedback, period_days: 10, "
                   "rate: 1.0}", days=40)
    sim = Sim(sc).run()
    assert sim.final_metrics["deployment_budget_lost"] == 0.0
    cov = sim.world.state["surveillance"]["cov"][9]
    allowed = cov > 0
    assert (cov[allowed] == 1.0).all() and allowed.sum() == 3 * 4


def test_per_region_start_coverage_holds_at_day_0():
    sim = Sim(_scenario())
    cov = sim.world.state["surveillance"]["cov"][9]
    street = sim.scenario.venues["street"].code
    assert cov[street].tolist() == [0.6, 0.05, 0.05, 0.1]
    # aware people perceive it too: more detection where the cameras are
    det = sim.world.consequences.detection_by_region
    littering = sim.world.catalogue.position("littering")
    assert det[0, littering] > det[1, littering]
    sim.run(until=1)
    c = sim.world.counters
    by_region = c.by_region(c.totals("coverage_person_days", slice(0, 1)))
    assert by_region[0] > by_region[3] > by_region[1]


@pytest.mark.parametrize("value,fragment", [
    ("{7: 0.5}", "region 7 out of range (0..3)"),
    ("[0.1, 0.2]", "2 values for 4 regions"),
])
def test_region_out_of_range_is_one_line_exit_2(value, fragment):
    proc = subprocess.run(
        [sys.executable, "-m", "scslab", "show", "baseline", "--set",
         "modules.surveillance.enabled=true", "--set", SENSOR, "--set",
         f"modules.surveillance.sensors.cams.coverage_by_region={value}"],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "modules.surveillance.sensors.cams.coverage_by_region" in err and fragment in err


def test_perceived_watching_follows_the_redeployed_sensors():
    """What the informed perceive moves with the cameras: after each redeployment the
    behaviour module's detection by region equals 1 − (1 − d₀)·f, with f the sensors'
    chance of missing an act now over that at day 0, recomputed here from the coverage.
    Ablation: with a fixed deployment the factor stays 1 and perception stays at day 0."""
    sc = _scenario("modules.surveillance.deployment={mode: feedback, period_days: 10, "
                   "rate: 1.0}", days=60)
    sim = Sim(sc)
    beh = next(m for m in sim.modules if m.name == "behaviour")
    surv = next(m for m in sim.modules if m.name == "surveillance")
    d0 = beh.nominal_detection.copy()
    st = sim.world.state["surveillance"]
    cov0 = {k: v.copy() for k, v in st["cov"].items()}
    for _ in range(50):  # the last redeployment at the end of day 49
        sim.step()
    factor = sim.world.arrays["regions.watch_factor"].copy()
    assert not (factor == 1.0).all()
    start, now = surv._sensor_miss(cov0), surv._sensor_miss(st["cov"])
    expected = np.where(start > 0, now / np.where(start > 0, start, 1.0), 1.0)
    assert np.allclose(factor, expected, rtol=0, atol=1e-12)
    sim.step()  # day 50: behaviour reads yesterday's factor
    assert np.allclose(beh.detection, 1.0 - (1.0 - d0) * factor, rtol=0, atol=1e-12)
    # where the cameras went, the informed perceive more watching, and less where they left
    # (per venue: the cams follow the records from the road to the street)
    cat = sim.world.catalogue
    a = [cat.position("littering"), cat.position("traffic")]  # street, road: both watched
    assert (beh.detection[:, a] > d0[:, a]).any() and (beh.detection[:, a] < d0[:, a]).any()
    fixed = Sim(_scenario(days=60)).run()
    assert (fixed.world.arrays["regions.watch_factor"] == 1.0).all()

"""Attribution by ablation: components, the exact decomposition, refusals, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from scslab.analysis.attribution import RESIDUAL, TOTAL, Component, attribute, components
from scslab.analysis.compare import CompareError
from scslab.scenario import load_scenario

SMALL = dict(people=2000, days=60, burn_in=0, replicates=2)
NOOP = Component("noop", "module", "a switch-off that changes nothing",
                 ("sources.ticketing.misattribution=0.0",))
LISTS_OFF = Component("lists-module", "module", "the whole lists module off",
                      ("modules.lists.enabled=false",))


@pytest.fixture(scope="module")
def rongcheng():
    return attribute("rongcheng", "baseline", ["violation_rate", "records_per_person_day"],
                     only=["source:traffic_police", "source:city_management", "score",
                           "appeals", "noop", "lists-module"],
                     extra=[NOOP, LISTS_OFF], **SMALL)


def test_components_of_rongcheng_are_what_it_adds_to_the_reference():
    sc, base = load_scenario("rongcheng"), load_scenario("baseline")
    names = [c.name for c in components(sc, base)]
    for n in ("source:traffic_police", "source:city_management", "source:civil_affairs",
              "score", "list:grade_d", "measure:public_naming", "appeals"):
        assert n in names
    # shared with the reference, or absent from the scenario: not a component
    for n in ("source:court", "surveillance", "list:court_debtors", "credit_bureau"):
        assert n not in names
    assert components(base, base) == []
    changed = load_scenario("baseline", ["sources.court.coverage=0.6"])
    (court,) = components(changed, base)
    assert court.overrides == ("sources.court.coverage=0.3",)


def test_system_settings_of_behaviour_modules_are_components():
    """corporate vs baseline: same market, firms and officials, with the system's settings
    (seller screening, the firms' blacklist and score, the reward on reported compliance)."""
    sc, base = load_scenario("corporate"), load_scenario("baseline")
    settings = {c.name: c.overrides for c in components(sc, base) if c.kind == "setting"}
    assert settings == {
        "setting:market.screening": ('modules.market.screening="private"',),
        "setting:firms.black_threshold": ("modules.firms.black_threshold=-1000000000.0",),
        "setting:firms.score_weight": ("modules.firms.score_weight=0.0",),
        "setting:officials.reward_weight": ("modules.officials.reward_weight=0.0",)}
    # a setting both share is no component
    assert "setting:officials.audit_probability" not in settings


def test_removing_the_public_seller_score_raises_fraud():
    """Ablation of the setting component: switched back to word of mouth, fraud rises."""
    att = attribute("corporate", "baseline", ["fraud_rate"],
                    only=["setting:market.screening"], people=2000, days=60, burn_in=0,
                    replicates=2)
    s = att.summaries
    fraud = s[s.metric == "fraud_rate"].groupby("scenario")["value"].mean()
    assert fraud["setting:market.screening"] > fraud["full"]


def test_surveillance_is_broken_down_into_sensors_checkpoints_and_settings():
    names = [c.name for c in components(load_scenario("checkpoint-region"),
                                        load_scenario("baseline"))]
    assert {"sensor:public_cameras", "sensor:informants", "checkpoint:region_checkpoints",
            "list:court_debtors", "watchlist"} <= set(names)
    assert "surveillance" not in names
    (settings,) = components(load_scenario("eu-ai-act"), load_scenario("western-fragmented"))
    assert settings.name == "surveillance:settings"
    assert 'modules.surveillance.regime="none"' in settings.overrides


def test_a_component_absent_from_the_scenario_cannot_be_switched_off():
    with pytest.raises(CompareError, match="surveillance: not a component of rongcheng"):
        attribute("rongcheng", "baseline", only=["surveillance"], **SMALL)


def test_effects_and_residual_add_up_to_the_total_exactly(rongcheng):
    t = rongcheng.table()
    for m in rongcheng.metrics:
        sub = t[(t["metric"] == m)]
        total = sub[sub["component"] == TOTAL]["effect"].iloc[0]
        parts = sub[~sub["component"].isin([TOTAL]) & sub["status"].isin(["removed", ""])]
        assert parts["effect"].sum() == pytest.approx(total, rel=1e-9, abs=1e-15)
        if total != 0:
            assert parts["share"].sum() == pytest.approx(1.0, rel=1e-9)
        assert RESIDUAL in set(sub["component"])


def test_a_component_with_no_effect_gets_an_interval_containing_zero(rongcheng):
    t = rongcheng.table()
    noop = t[t["component"] == "noop"]
    assert (noop["effect"] == 0).all()
    assert ((noop["effect_low"] <= 0) & (noop["effect_high"] >= 0)).all()


def test_the_added_police_sources_produce_records(rongcheng):
    """Ablation: without the traffic police the records it made vanish. (Since perceived
    detection is per venue the informed see the road's coverage and drive more lawfully,
    so the police make fewer records: at 2000 × 60 days the mean effect is positive but
    two replicates' t-interval (t₁ = 12.7) reaches below zero; the mean is asserted.)"""
    t = rongcheng.table()
    row = t[(t["metric"] == "records_per_person_day") & (t["component"] == "source:traffic_police")]
    assert row["effect"].iloc[0] > 0


def test_a_switch_off_the_engine_refuses_is_reported_not_raised(rongcheng):
    assert "lists-module" in rongcheng.refused
    assert "cannot be removed alone: needed by sanctions" in rongcheng.refused["lists-module"]
    row = rongcheng.table().query("component == 'lists-module'")
    assert np.isnan(row["effect"]).all()


def test_save_writes_tables_figure_and_manifest(rongcheng, tmp_path):
    out = rongcheng.save(tmp_path / "att")
    for f in ("attribution.parquet", "attribution.csv", "attribution.json",
              "replicates.parquet", "figures/attribution.png", "manifest.json"):
        assert (out / f).exists(), f
    data = json.loads((out / "attribution.json").read_text())
    assert data["reference"] == "baseline" and data["rows"]
    # written whole, like every --out folder: checksums in the manifest, never merged
    from scslab.analysis.compare import CompareError
    from scslab.run.outfolder import verify_folder

    manifest = json.loads((out / "manifest.json").read_text())
    assert "attribution.parquet" in manifest["files"]
    verify_folder(out)
    with pytest.raises(CompareError, match="not empty|--force"):
        rongcheng.save(out)
    rongcheng.save(out, force=True)
    verify_folder(out)


def _scslab(args, cwd):
    return subprocess.run([sys.executable, "-m", "scslab", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600, env={**os.environ, "COLUMNS": "160"})


def test_cli_attribute_exit_0_and_bad_metric_exit_2(tmp_path):
    base = ["attribute", "rongcheng", "--against", "baseline", "--people", "2000", "--days",
            "30", "--burn-in", "0", "--replicates", "2", "--components", "score,appeals"]
    proc = _scslab([*base, "--metric", "no_such_metric"], tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown metric 'no_such_metric'" in lines[0], proc.stderr
    proc = _scslab([*base, "--out", "att"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "interaction residual" in proc.stdout and "score" in proc.stdout
    assert (tmp_path / "att" / "attribution.csv").exists()

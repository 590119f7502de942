"""Confound audit: compare lists the society paths in which the scenarios differ."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scslab.analysis.compare import CompareError, compare
from scslab.analysis.confounds import ABSENT, SOCIETY, SYSTEM, confounds, diff_paths, part_of
from scslab.calibrate import load_targets
from scslab.scenario import load_scenario

TINY = dict(people=1000, days=20, burn_in=0)


def test_partition_of_paths():
    assert part_of("population.people") == SOCIETY
    assert part_of("acts.fraud.rate") == SOCIETY
    assert part_of("modules.debts.initial_debtor_share") == SOCIETY  # behaviour module
    assert part_of("modules.learning.own_rate") == SOCIETY
    assert part_of("sources.court.coverage") == SYSTEM
    assert part_of("modules.scoring.rules") == SYSTEM  # system module
    assert part_of("modules.surveillance.face") == SYSTEM  # sensing module
    assert part_of("modules.market.screening") == SYSTEM  # a system path in a behaviour module
    assert part_of("modules.market.buy_rate") == SOCIETY


def test_diff_paths_reports_leaves_and_whole_missing_entries():
    a = {"x": {"y": 1, "z": [1, 2]}, "w": {"k": 1}}
    b = {"x": {"y": 2, "z": [1, 2]}, "w": {"k": 1, "new": {"deep": 3}}}
    assert diff_paths([a, b]) == {"x.y": [1, 2], "w.new": [ABSENT, {"deep": 3}]}
    assert diff_paths([a, a]) == {}


def test_scenarios_that_differ_only_in_the_system_have_no_confound():
    base = load_scenario("baseline")
    system_only = load_scenario("baseline", [
        "sources.court.coverage=0.6",
        "sources.cams={code: 9, sees: [traffic], coverage: 0.5}",
        "modules.scoring.enabled=true", "modules.appeals.enabled=true"])
    assert confounds([base, system_only]) == []
    assert confounds([base, load_scenario("rongcheng")]) == []


@pytest.mark.parametrize("name", ["rongcheng", "national-blacklist"])
def test_the_seed_systems_share_the_baselines_society(name):
    """Builtins that compare a system with baseline run on baseline's society (population,
    debts, acts); those that differ on purpose (a checkpoint region, a market, a landlord's
    building, a fitted parameter) say so in their docs and `scslab compare` warns."""
    assert confounds([load_scenario("baseline"), load_scenario(name)]) == []


def test_calibrated_differs_from_its_system_only_in_fitted_society_parameters():
    """`calibrated` is national-blacklist at the fitted values: the only society paths it
    changes are parameters the builtin target file fits (the debtors' sanction weight), so
    a comparison with it warns of exactly those."""
    fitted = set(load_targets().parameters)
    found = confounds([load_scenario("national-blacklist"), load_scenario("calibrated")])
    assert found and {c.path for c in found} <= fitted


def test_a_changed_society_path_is_reported_with_both_values():
    base = load_scenario("baseline")
    other = load_scenario("baseline", ["modules.debts.initial_debtor_share=0.2",
                                       "population.traits.honesty_mean=0.7",
                                       "sources.court.coverage=0.6"])
    found = {c.path: c.values for c in confounds([base, other], ["A", "B"])}
    assert found == {"modules.debts.initial_debtor_share": {"A": 0.05, "B": 0.2},
                     "population.traits.honesty_mean": {"A": 0.8, "B": 0.7}}


def test_compare_records_confounds_and_strict_refuses_before_running(tmp_path):
    c = compare(["baseline", "baseline:population.traits.honesty_mean=0.7"], replicates=2,
                metrics=["violation_rate"], **TINY)
    assert c.confounds == [{"path": "population.traits.honesty_mean",
                            "values": {"baseline": 0.8,
                                       "baseline:population.traits.honesty_mean=0.7": 0.7}}]
    c.save(tmp_path / "cmp", figures=False)
    manifest = json.loads((tmp_path / "cmp" / "manifest.json").read_text())
    assert manifest["confounds"] == c.confounds
    assert "confounds" in (tmp_path / "cmp" / "report.html").read_text()
    with pytest.raises(CompareError, match="population.traits.honesty_mean"):
        compare(["baseline", "baseline:population.traits.honesty_mean=0.7"], replicates=2,
                strict=True, **TINY)


def _scslab(args, cwd):
    return subprocess.run([sys.executable, "-m", "scslab", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600, env={**os.environ, "COLUMNS": "160"})


def test_cli_warns_of_confounds_and_strict_exits_2(tmp_path):
    # a blacklist whose society also differs (as national-blacklist's once did)
    (tmp_path / "indebted.yaml").write_text(
        "extends: national-blacklist\nname: indebted\n"
        "modules:\n  debts: {initial_debtor_share: 0.1}\n")
    args = ["compare", "baseline", "indebted.yaml", "--replicates", "2", "--people",
            "1000", "--days", "10", "--burn-in", "0", "--metrics", "violation_rate"]
    proc = _scslab([*args, "--strict"], tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "modules.debts.initial_debtor_share" in lines[0], proc.stderr
    proc = _scslab(args, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "warning: confounds" in proc.stderr
    assert "modules.debts.initial_debtor_share" in proc.stderr
    assert "0.05" in proc.stderr and "0.1" in proc.stderr
    for system in ("rongcheng", "national-blacklist"):  # systems on the baseline's society
        proc = _scslab(["compare", "baseline", system, "--replicates", "2", "--people",
                        "1000", "--days", "10", "--burn-in", "0", "--metrics",
                        "violation_rate", "--strict", "--quiet"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "confounds" not in proc.stderr

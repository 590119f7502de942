"""End-of-run (final) metrics are declared by their modules (``Module.final_metric_defs``), listed
before running by ``compare.metric_names(..., final=True)``, enforced by the engine, and
can be calibration targets."""

from __future__ import annotations

import pytest

from helpers import tiny_targets
from scslab.analysis.compare import metric_names
from scslab.calibrate import CalibrationError
from scslab.calibrate.evaluate import check_targets
from scslab.calibrate.targets import parse_targets
from scslab.modules.people.attitudes import Attitudes
from scslab.run.engine import EngineError
from scslab.run.runner import run_replicate
from scslab.scenario import load_scenario

SIZE = {"people": 400, "days": 3, "burn_in": 0, "seed": 5}


def test_declared_final_metrics_are_the_ones_a_run_reports():
    sc = load_scenario("baseline", **SIZE)
    declared = set(metric_names(sc, final=True)) - set(metric_names(sc))
    assert "approval_informed" in declared
    summary = run_replicate(sc, 0).summary
    # attitudes reports every final metric it declares (score_gini, also declared, is
    # left out while scoring is off); the engine refuses a name not declared (next test),
    # so the declaration is the one list
    assert set(Attitudes.final_metric_names(sc)) <= set(summary)
    assert "score_gini" in declared and "score_gini" not in summary
    assert summary["approval_informed"] is not None


def test_engine_refuses_an_undeclared_final_metric(monkeypatch):
    original = Attitudes.final_metrics

    def extra(self, world):
        return {**original(self, world), "approval_secret": 0.5}

    monkeypatch.setattr(Attitudes, "final_metrics", extra)
    with pytest.raises(EngineError, match="approval_secret"):
        run_replicate(load_scenario("baseline", **SIZE), 0)




def test_a_final_metric_is_a_valid_target_and_an_unknown_one_is_not():
    check_targets(parse_targets(tiny_targets("approval_informed"), "t.yaml"), "t.yaml")
    with pytest.raises(CalibrationError, match=r"targets\[0\]\.metric.*approval_nowhere"):
        check_targets(parse_targets(tiny_targets("approval_nowhere"), "t.yaml"), "t.yaml")

"""Every metric is declared with its theme and unit on its definition (issue 17): the
analysis layer reads them from the modules, it keeps no table of its own."""

from __future__ import annotations

from scslab.analysis.tables import metric_declarations, theme_of, unit_of
from scslab.core.metrics import THEMES
from scslab.modules.registry import module_classes


def test_every_declared_metric_has_a_theme_and_a_unit() -> None:
    missing = []
    for cls in module_classes().values():
        for m in (*cls.metrics, *cls.final_metric_defs):
            # "other" is where comparisons put a name no module declares, never a choice
            if m.theme not in THEMES or m.theme == "other" or not m.unit.strip():
                missing.append((cls.name, m.name, m.theme, m.unit))
    assert missing == []
    assert len(metric_declarations()) > 90


def test_a_module_that_reports_final_metrics_declares_them() -> None:
    for cls in module_classes().values():
        if callable(getattr(cls, "final_metrics", None)):
            assert cls.final_metric_defs, f"{cls.name} reports final metrics undeclared"


def test_theme_and_unit_come_from_the_declaration() -> None:
    assert theme_of("violation_rate[group=minority]") == "compliance"
    assert unit_of("violation_rate") == "violations per person-day"
    assert theme_of("score_gini[region=1]") == "fairness"  # a final metric
    assert theme_of("approval[income_quintile=2]") == "acceptance"
    assert theme_of("no_such_metric") == "other"
    assert theme_of("no_such_metric") == "other"
    assert unit_of("no_such_metric").startswith("value")

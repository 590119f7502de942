"""The input register (scslab.core.calibration): complete against the parameter register,
every output a calibrated input makes given is declared so, and reports mark it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scslab.analysis.compare import metric_names
from scslab.analysis.report import assumed_rows, mark_given
from scslab.core.calibration import CALIBRATED, calibrated_inputs, given_outputs, undeclared_given
from scslab.scenario import builtin_names, load_scenario, resolved_dict

DOCS = Path(__file__).resolve().parent.parent / "docs"


def declared_given() -> dict[str, set[str]]:
    """docs/calibration.md, table "Given outputs": scenario → metrics declared given."""
    text = (DOCS / "calibration.md").read_text(encoding="utf-8")
    section = text.split("## Given outputs", 1)[1].split("\n## ", 1)[0]
    out: dict[str, set[str]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`"):
            out[cells[0].strip("`")] = set(re.findall(r"`([^`]+)`", cells[1]))
    return out


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenario_declares_every_given_output(name):
    sc = load_scenario(name)
    missing = undeclared_given(resolved_dict(sc), metric_names(sc),
                               declared_given().get(name, set()))
    assert not missing, (f"{name} reports {missing}, the target(s) of calibrated inputs it "
                         "uses: declare them in docs/calibration.md ('Given outputs')")


def test_an_undeclared_given_output_is_refused():
    resolved = {"name": "national-blacklist",
                "modules": {"debts": {"sanction_weight": 0.07}}}
    reported = ["listed_debtor_repaid_365", "listed_debtor_repaid_365[group=minority]",
                "violation_rate"]
    assert undeclared_given(resolved, reported, []) == ["listed_debtor_repaid_365"]
    assert undeclared_given(resolved, reported, ["listed_debtor_repaid_365"]) == []
    # a scenario that changes the calibrated input reports a result, not a given
    changed = {"name": "national-blacklist", "modules": {"debts": {"sanction_weight": 0.3}}}
    assert undeclared_given(changed, reported, []) == []
    # and one where the figure was not fitted (another list) reports a result too
    other = {"name": "rongcheng", "modules": {"debts": {"sanction_weight": 0.07}}}
    assert undeclared_given(other, reported, []) == []


def test_register_is_complete_against_the_parameter_register():
    """Every parameter docs/parameters.md calls calibrated is registered, and every
    registered input is in docs/parameters.md as calibrated."""
    text = (DOCS / "parameters.md").read_text(encoding="utf-8")
    rows = [ln for ln in text.splitlines() if ln.startswith("|") and "calibrated" in ln]
    documented = set()
    for ln in rows:
        first = ln.strip("|").split("|")[0]
        documented |= {n.split(".")[-1] for n in re.findall(r"`([^`]+)`", first)}
    registered = {c.path.split(".")[-1] if "group_offset" not in c.path
                  else "group_offset" for c in calibrated_inputs()}
    assert documented - registered == set(), "documented as calibrated, not registered"
    assert registered - documented == set(), "registered, not in docs/parameters.md"


def test_every_entry_has_a_source_a_figure_and_a_method():
    for c in calibrated_inputs():
        assert c.figure and c.citation and c.tag in "VSU", c
        if c.method == "fitted":
            assert c.fitted is not None and c.fit_command and c.target, c
        if c.target is not None:
            assert c.target_value is not None, c


def test_what_is_assumed_lists_the_whole_register_and_marks_given():
    sc = resolved_dict(load_scenario("national-blacklist"))
    header, rows = assumed_rows({"nb": sc})
    assert [r[0] for r in rows] == list(CALIBRATED)
    assert header[3] == "given output" and header[-1] == "nb"
    kappa = next(r for r in rows if r[0] == "modules.debts.sanction_weight")
    assert "listed_debtor_repaid_365" in kappa[3] and kappa[-1] == "0.07"
    marked = mark_given([["debts", "listed_debtor_repaid_365", "0.27"],
                         ["people", "violation_rate", "0.01"]], {"nb": sc})
    assert marked[0][1] == "listed_debtor_repaid_365 (given)"
    assert marked[1][1] == "violation_rate"
    assert set(given_outputs(sc, ["listed_debtor_repaid_365"])) == {"listed_debtor_repaid_365"}


def test_registered_values_are_the_defaults_the_scenarios_use():
    sc = resolved_dict(load_scenario("credit-bureau"))
    from scslab.core.calibration import scenario_value

    for c in calibrated_inputs():
        assert scenario_value(sc, c.path) == c.value, c.path


def test_refusal_intercept_docs_match_the_code():
    """The behavioural intercept of debtors (α_d) was −2.0 in one place of the docs and
    0.0 in another and in the code; the docs now say 0.0 everywhere, as the code does."""
    from scslab.modules.economy.debts import DebtParams

    text = (DOCS / "parameters.md").read_text(encoding="utf-8")
    row = next(ln for ln in text.splitlines() if ln.startswith("| `refusal_intercept`"))
    assert row.split("|")[2].strip().startswith(f"{DebtParams().refusal_intercept:.1f}")
    assert "α_d = 0" in (DOCS / "model.md").read_text(encoding="utf-8")
    assert "−2.0" not in row

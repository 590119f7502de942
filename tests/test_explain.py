"""scslab explain: a constructed disparity is attributed to its one known cause."""

from __future__ import annotations

import pandas as pd
import pytest

from scslab.analysis.compare import CompareError
from scslab.analysis.explain import (
    ALL_RUN,
    BASE_RUN,
    CAUSES,
    Cause,
    Explanation,
    explain,
    register_cause,
)
from scslab.scenario import load_scenario
from test_compare import run_cli

# The minority is less honest (0.6 vs 0.8) and nothing else about its violations differs;
# shares 0.3 / 0.7 give the minority enough people to measure its rate.
CONSTRUCTED = "baseline:population.groups.minority.honesty_mean=0.6"
SETS = ["population.groups.minority.share=0.3", "population.groups.majority.share=0.7"]


@pytest.fixture(scope="module")
def constructed() -> Explanation:
    return explain(CONSTRUCTED, "violation_rate", "minority", "majority", replicates=6,
                   people=3000, days=60, burn_in=0, sets=SETS)


def test_known_cause_gets_nearly_all_of_the_disparity(constructed):
    e = constructed
    assert e.measure == "log ratio"
    t = e.table().set_index("run")
    assert t.loc[BASE_RUN, "disparity_low"] > 0.3  # minority violates clearly more
    assert t.loc["behaviour", "share"] >= 0.9
    assert abs(t.loc["income", "share"]) < 0.05
    assert abs(t.loc["exposure", "share"]) < 0.05
    assert t.loc[ALL_RUN, "share"] >= 0.9
    assert t.loc["behaviour", "share_low"] <= t.loc["behaviour", "share"] <= \
        t.loc["behaviour", "share_high"]
    assert "residual" in t.index
    assert not e.unstable()


def test_equalised_runs_share_the_populations_and_numbers(constructed):
    """Replicate r of every run draws the same people: the majority, whose parameters no
    cause touches, keeps (nearly) its rate in every run."""
    v = constructed.values()
    base_b = v[v.run == BASE_RUN].set_index("replicate")["value_b"]
    income_b = v[v.run == "income"].set_index("replicate")["value_b"]
    pd.testing.assert_series_equal(base_b, income_b)


def test_cause_overrides_give_group_a_group_bs_value():
    sc = load_scenario("baseline", ["population.groups.minority.honesty_mean=0.6"])
    assert CAUSES["income"].equalise(sc, "minority", "majority") == [
        "population.groups.minority.income_multiplier=1.0"]
    assert CAUSES["behaviour"].equalise(sc, "minority", "majority") == [
        "population.groups.minority.honesty_mean=0.8"]  # majority uses traits.honesty_mean
    assert CAUSES["exposure"].equalise(sc, "minority", "majority") == [
        "population.groups.minority.region_weights=[1.0, 1.0, 1.0, 1.0]"]
    assert CAUSES["exposure"].equalise(sc, "majority", "minority") == [
        "population.groups.majority.region_weights=[0.1, 0.1, 0.2, 0.6]"]


def test_difference_is_used_when_a_value_is_zero():
    rows = []
    for run in (BASE_RUN, "income", ALL_RUN):
        for r in range(3):
            rows.append((run, r, "m[group=a]", 0.0 if run == "income" else 2.0 + r))
            rows.append((run, r, "m[group=b]", 1.0))
    s = pd.DataFrame(rows, columns=["scenario", "replicate", "metric", "value"])
    e = Explanation(label="x", metric="m", group_a="a", group_b="b",
                    runs={BASE_RUN: [], "income": ["k=v"], ALL_RUN: ["k=v"]},
                    descriptions={}, summaries=s)
    assert e.measure == "difference"
    t = e.table().set_index("run")
    assert t.loc[BASE_RUN, "disparity"] == pytest.approx(2.0)  # mean of 1, 2, 3
    # income removes (D − (−1)) / D per replicate: (1+1)/1, (2+1)/2, (3+1)/3
    assert t.loc["income", "share"] == pytest.approx((2 + 1.5 + 4 / 3) / 3)
    assert t.loc["residual", "share"] == pytest.approx(1 - (2 + 1.5 + 4 / 3) / 3)


def test_reserved_cause_names_and_registration(monkeypatch):
    with pytest.raises(ValueError):
        register_cause(Cause(BASE_RUN, "x", lambda sc, a, b: []))
    monkeypatch.setattr("scslab.analysis.explain.CAUSES", dict(CAUSES))
    import scslab.analysis.explain as ex

    ex.register_cause(Cause("noop", "changes nothing", lambda sc, a, b: []))
    assert "noop" in ex.CAUSES


def test_api_bad_input():
    kw = dict(replicates=2, people=500, days=5, burn_in=0)
    with pytest.raises(CompareError, match="unknown group 'nobody'"):
        explain("baseline", "violation_rate", "nobody", "majority", **kw)
    with pytest.raises(CompareError, match="unknown metric"):
        explain("baseline", "nosuch", "minority", "majority", **kw)
    with pytest.raises(CompareError, match="unknown cause"):
        explain("baseline", "violation_rate", "minority", "majority", causes=["nosuch"], **kw)
    with pytest.raises(CompareError, match="two different groups"):
        explain("baseline", "violation_rate", "minority", "minority", **kw)


@pytest.mark.parametrize("args, message", [
    (["explain", "baseline", "--metric", "violation_rate", "--between", "nobody", "majority"],
     "unknown group 'nobody'"),
    (["explain", "baseline", "--metric", "nosuch", "--between", "minority", "majority"],
     "unknown metric 'nosuch'"),
    (["explain", "baseline", "--metric", "violation_rate", "--between", "minority", "majority",
      "--replicates", "1"], "--replicates must be at least 2"),
    (["explain", "nosuchscenario", "--metric", "violation_rate", "--between", "minority",
      "majority"], "no such scenario file or builtin"),
])
def test_cli_explain_bad_input_is_one_line_and_exit_2(capsys, args, message):
    code, out, err = run_cli([*args, "--people", "500", "--days", "5", "--burn-in", "0"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]


def test_cli_explain_runs(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run_cli(["explain", CONSTRUCTED, "--metric", "violation_rate", "--between",
                              "minority", "majority", "--replicates", "2", "--people", "1000",
                              "--days", "20", "--burn-in", "0", "--causes", "behaviour"], capsys)
    assert code == 0, err
    assert "behaviour" in out and "residual" in out and "log ratio" in out

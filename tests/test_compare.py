"""scslab compare: specs, common random numbers, paired differences, twins, CLI errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import NO_INSTITUTIONS
from scslab import cli
from scslab.analysis.compare import (
    TWIN_TRANSFORMS,
    CompareError,
    compare,
    parse_spec,
    select_metrics,
    theme_of,
    twin_overrides,
)
from scslab.cli.compare import compare_command, explain_command, report_command

SMALL = dict(people=3000, days=60, burn_in=0)
TINY = dict(people=1000, days=20, burn_in=0)
VARIANT = "baseline:sources.court.coverage=0.6"


def register_commands() -> None:
    """Mount the commands on scslab's app as the lead will (idempotent)."""
    have = {c.name for c in cli.app.registered_commands}
    for name, fn in (("compare", compare_command), ("explain", explain_command),
                     ("report", report_command)):
        if name not in have:
            cli.app.command(name=name)(fn)


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    register_commands()
    code = cli.main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def paired_variance(c, metric: str) -> float:
    w = c.summaries.pivot_table(index=["scenario", "metric"], columns="replicate", values="value")
    d = w.loc[(c.labels[1], metric)].to_numpy() - w.loc[(c.labels[0], metric)].to_numpy()
    return float(d.var(ddof=1))


# --------------------------------------------------------------------------- specs


def test_parse_spec_plain_variant_and_list_values():
    assert parse_spec("baseline") == ("baseline", [])
    assert parse_spec("dir/my.yaml") == ("dir/my.yaml", [])
    assert parse_spec(VARIANT) == ("baseline", ["sources.court.coverage=0.6"])
    assert parse_spec("baseline:a.b=1, c.d=[x, y],e=2") == (
        "baseline", ["a.b=1", "c.d=[x, y]", "e=2"])
    with pytest.raises(CompareError):
        parse_spec(":a=1")
    with pytest.raises(CompareError):
        parse_spec("baseline:oops,a=1")


def test_themes_cover_known_metrics_and_unknown_goes_to_other():
    assert theme_of("violation_rate") == "compliance"
    assert theme_of("detection_rate[group=minority]") == "compliance"
    assert theme_of("false_sanction_rate") == "harm"
    assert theme_of("listed_share[region=2]") == "governance"
    assert theme_of("income_lost_true") == "economy"
    assert theme_of("exposure") == "privacy"
    assert theme_of("something_new") == "other"


def test_select_metrics_defaults_groups_and_unknown():
    avail = ["a", "a[group=x]", "a[group=y]", "a[region=0]", "b", "b[group=x]"]
    assert select_metrics(avail, None) == ["a", "b"]
    assert select_metrics(avail, None, groups=True) == ["a", "a[group=x]", "a[group=y]", "b",
                                                        "b[group=x]"]
    assert select_metrics(avail, ["b,a[region=0]"]) == ["b", "a[region=0]"]
    with pytest.raises(CompareError, match="unknown metric 'c'"):
        select_metrics(avail, ["c"])


# --------------------------------------------------------------------------- CRN


def test_common_random_numbers_shrink_the_variance_of_paired_differences():
    """Baseline vs court coverage 0.6, 8 replicates of 3 000 people × 60 days. With one seed
    (CRN) the per-replicate difference in records per person-day varies far less than with
    a seed per scenario (independent): measured ratio ≈ 170 (detection_rate ≈ 2.7, since
    court-seen frauds are a small part of all violations)."""
    kw = dict(replicates=8, sets=list(NO_INSTITUTIONS), **SMALL)  # the lean society
    crn = compare(["baseline", VARIANT], crn=True, **kw)
    ind = compare(["baseline", VARIANT], crn=False, **kw)
    assert crn.manifest["seeds"][VARIANT] == crn.manifest["seeds"]["baseline"]
    assert ind.manifest["seeds"][VARIANT] != ind.manifest["seeds"]["baseline"]
    ratio = (paired_variance(ind, "records_per_person_day")
             / paired_variance(crn, "records_per_person_day"))
    assert ratio > 20, ratio
    assert paired_variance(ind, "detection_rate") > paired_variance(crn, "detection_rate")
    # the paired interval is correspondingly tighter than the independent one
    t_crn = crn.table(["records_per_person_day"]).iloc[1]
    t_ind = ind.table(["records_per_person_day"]).iloc[1]
    assert (t_crn.diff_high - t_crn.diff_low) < (t_ind.diff_high - t_ind.diff_low) / 4
    assert t_crn.diff_low > 0  # more court coverage, more records: resolved under CRN


def test_same_numbers_for_every_scenario_so_a_renamed_copy_differs_by_exactly_zero():
    c = compare(["baseline", "baseline:name=copy"], replicates=2, **TINY)
    t = c.table()
    other = t[t.scenario == "baseline:name=copy"]
    finite = other["diff"].dropna()
    assert len(finite) > 0 and (finite == 0).all()
    pd.testing.assert_frame_equal(
        c.summaries[c.summaries.scenario == "baseline"].drop(columns="scenario")
        .reset_index(drop=True),
        c.summaries[c.summaries.scenario == "baseline:name=copy"].drop(columns="scenario")
        .reset_index(drop=True))


def test_table_shape_and_reference_row():
    c = compare(["baseline", VARIANT], replicates=3, metrics=["detection_rate"], groups=True,
                **TINY)
    t = c.table()
    assert list(t.columns) == ["theme", "metric", "scenario", "mean", "low", "high", "diff",
                               "diff_low", "diff_high"]
    assert set(t.metric) == {"detection_rate", "detection_rate[group=majority]",
                             "detection_rate[group=minority]"}
    assert t[t.scenario == "baseline"]["diff"].isna().all()
    row = t[(t.scenario == VARIANT) & (t.metric == "detection_rate")].iloc[0]
    assert row.low <= row["mean"] <= row.high
    series = c.to_pandas()
    assert list(series.columns) == ["scenario", "replicate", "day", "metric", "value"]
    assert series.day.max() == TINY["days"] - 1


def test_parallel_workers_give_the_same_results_as_one_process():
    serial = compare(["baseline", VARIANT], replicates=2, workers=1, **TINY)
    parallel = compare(["baseline", VARIANT], replicates=2, workers=2, **TINY)
    pd.testing.assert_frame_equal(serial.summaries, parallel.summaries)
    pd.testing.assert_frame_equal(serial.table(), parallel.table())


# --------------------------------------------------------------------------- twin


def test_twin_without_a_registered_transformation_has_zero_total_chilling(monkeypatch):
    monkeypatch.setattr("scslab.analysis.compare.TWIN_TRANSFORMS", {})
    assert twin_overrides(cli._load("baseline", [])) == []
    c = compare(["baseline"], replicates=2, twin=True, **TINY)
    ch = c.chilling()
    assert ch.loc[0, "total"] == 0.0
    assert ch.loc[0, "twin_overrides"] == "none registered"


def test_twin_applies_registered_transformations(monkeypatch):
    monkeypatch.setitem(TWIN_TRANSFORMS, "test-unwatch",
                        lambda sc: ["acts.online_criticism.rate=0.03"])
    c = compare(["baseline"], replicates=2, twin=True, **TINY)
    ch = c.chilling()
    assert ch.loc[0, "total"] > 0  # the twin expresses more
    assert "acts.online_criticism.rate=0.03" in ch.loc[0, "twin_overrides"]
    tt = c.twin_table(["expression_rate"])
    assert tt.loc[0, "effect"] < 0


# --------------------------------------------------------------------------- figures


def test_comparison_figures_skip_what_the_runs_do_not_produce(tmp_path):
    c = compare(["baseline", VARIANT], replicates=2, **TINY)
    figs = c.plot(tmp_path)
    assert {"timeseries", "groups"} <= set(figs)
    have = set(c.summaries.metric)
    if "false_sanction_rate" not in have and "income_lost_true" not in have:
        assert "harm" not in figs
    if "exposure" not in have:
        assert "exposure" not in figs
    for name in figs:
        assert (tmp_path / f"{name}.png").read_bytes()[:4] == b"\x89PNG"


def test_run_figures_for_a_single_run(tmp_path):
    from scslab.analysis.figures import run_figures
    from scslab.run.runner import run_scenario

    res = run_scenario(cli._load("baseline", [], **TINY), replicates=2)
    figs = run_figures(res, tmp_path)
    assert "timeseries" in figs
    assert (tmp_path / "timeseries.png").exists()


# --------------------------------------------------------------------------- CLI


def test_cli_compare_prints_a_side_by_side_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    code, out, err = run_cli(["compare", "baseline", VARIANT, "--replicates", "2", "--people",
                              "1000", "--days", "20", "--burn-in", "0", "--metrics",
                              "detection_rate", "--groups", "--quiet"], capsys)
    assert code == 0, err
    code, out, err = run_cli(["compare", "baseline", VARIANT, "--replicates", "2", "--people",
                              "1000", "--days", "20", "--burn-in", "0", "--metrics",
                              "detection_rate", "--groups"], capsys)
    assert code == 0, err
    assert "compliance" in out and "detection_rate[group=minority]" in out
    assert "Δ" in out


@pytest.mark.parametrize("args, message", [
    (["compare", "nosuchscenario"], "no such scenario file or builtin"),
    (["compare", "baseline", "--metrics", "nosuchmetric"], "unknown metric 'nosuchmetric'"),
    (["compare", "baseline", "--replicates", "1"], "--replicates must be at least 2"),
    (["compare", "baseline", "baseline:oops,a=1"], "expected key=value"),
    (["compare", "baseline:nosuch.key=1"], "unknown key"),
    (["compare", "baseline", "baseline"], "given twice"),
])
def test_cli_compare_bad_input_is_one_line_and_exit_2(capsys, args, message):
    code, out, err = run_cli([*args, "--people", "500", "--days", "5", "--burn-in", "0"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert message in lines[0]
    assert "Traceback" not in err


def test_numbers_do_not_depend_on_the_selection_of_metrics():
    a = compare(["baseline", VARIANT], replicates=2, metrics=["violation_rate"], **TINY)
    b = compare(["baseline", VARIANT], replicates=2, **TINY)
    ta = a.table()
    tb = b.table()
    tb = tb[tb.metric == "violation_rate"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ta, tb)
    assert np.isfinite(ta["mean"]).all()


def test_scslab_compare_is_callable_even_as_the_submodule():
    import scslab.analysis.compare

    c = scslab.analysis.compare(["baseline"], replicates=2, people=500, days=5, burn_in=0)
    assert c.labels == ["baseline"]


def test_series_frames_are_the_series_row_by_row_in_order():
    """One tidy row per (scenario, replicate, metric, day), in the order given, days
    counted from 0 within each series; the same frame (and Parquet bytes) whether built
    for several scenarios at once or one by one and concatenated."""
    import io

    from scslab.analysis.tables import series_frame, series_frames
    from scslab.run.results import ReplicateResult

    rng = np.random.default_rng(3)
    a = [ReplicateResult(r, {"b[group=x]": rng.random(4), "a": rng.random(4)}, {})
         for r in (0, 1)]
    b = [ReplicateResult(5, {"a": rng.random(3), "none": np.zeros(0)}, {})]
    both = series_frames([("rongcheng", a), ("baseline [twin]", b)])
    assert list(both.columns) == ["scenario", "replicate", "day", "metric", "value"]
    assert len(both) == 2 * 2 * 4 + 3
    first = both.iloc[:4]
    assert list(first.day) == [0, 1, 2, 3] and set(first.metric) == {"b[group=x]"}
    np.testing.assert_array_equal(first.value, a[0].series["b[group=x]"])
    last = both.iloc[-3:]
    assert list(last.scenario) == ["baseline [twin]"] * 3 and list(last.replicate) == [5] * 3
    np.testing.assert_array_equal(last.value, b[0].series["a"])
    one_by_one = pd.concat([series_frame("rongcheng", a), series_frame("baseline [twin]", b)],
                           ignore_index=True)
    pd.testing.assert_frame_equal(both, one_by_one)
    x, y = io.BytesIO(), io.BytesIO()
    both.to_parquet(x)
    one_by_one.to_parquet(y)
    assert x.getvalue() == y.getvalue()
    assert series_frame("none", []).empty

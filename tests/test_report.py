"""Output directories and reports: `scslab report DIR` reproduces the run's tables."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from scslab.analysis.compare import Comparison
from scslab.analysis.explain import Explanation
from scslab.core.calibration import (
    CALIBRATED,
    calibrated_inputs,
    register_calibrated,
    scenario_value,
)
from test_compare import VARIANT, run_cli

TINY = ["--people", "1000", "--days", "20", "--burn-in", "0"]
TABLE = re.compile(r"<table.*?</table>", re.S)


def tables(html: str) -> list[str]:
    return TABLE.findall(html)


@pytest.fixture(scope="module")
def compare_dir(tmp_path_factory):
    from scslab import cli
    from test_compare import register_commands

    register_commands()
    out = tmp_path_factory.mktemp("cmp") / "out"
    code = cli.main(["compare", "baseline", VARIANT, "--replicates", "3", *TINY, "--twin",
                     "--out", str(out), "--quiet"])
    assert code == 0
    return out


def test_compare_directory_layout(compare_dir):
    out = compare_dir
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "compare"
    assert manifest["labels"] == ["baseline", VARIANT]
    assert manifest["replicates"] == 3 and manifest["crn"] is True
    reps = pd.read_parquet(out / "replicates.parquet")
    assert list(reps.columns) == ["scenario", "replicate", "metric", "value"]
    assert set(reps.scenario) == {"baseline", VARIANT, "baseline [twin]", VARIANT + " [twin]"}
    series = pd.read_parquet(out / "series.parquet")
    assert list(series.columns) == ["scenario", "replicate", "day", "metric", "value"]
    assert len(list((out / "scenarios").glob("*.yaml"))) == 4
    assert (out / "figures" / "timeseries.png").exists()
    html = (out / "report.html").read_text()
    assert "What is assumed" in html and "population.traits.awareness" in html
    assert "data:image/png;base64," in html
    assert "<details>" in html and "scslab_version" in html
    assert not re.search(r"(src|href)=\"https?:", html)  # self-contained


def test_report_rebuild_reproduces_the_tables(compare_dir, capsys):
    out = compare_dir
    original_html = (out / "report.html").read_text()
    original_table = pd.read_parquet(out / "comparison.parquet")
    (out / "report.html").unlink()
    code, _, err = run_cli(["report", str(out)], capsys)
    assert code == 0, err
    rebuilt_html = (out / "report.html").read_text()
    assert tables(rebuilt_html) == tables(original_html)
    assert len(tables(original_html)) >= 3  # outcomes, chilling, assumed
    pd.testing.assert_frame_equal(Comparison.load(out).table(), original_table)


def test_each_figure_is_drawn_once_for_files_and_report(compare_dir, tmp_path, monkeypatch):
    """The figures' files and the report embed the same PNG, drawn once per figure."""
    import base64

    import scslab.analysis.figures as figures
    from scslab.analysis.report import write_comparison_files

    drawn = []
    draw = figures.figure_png
    monkeypatch.setattr(figures, "figure_png", lambda fig: drawn.append(fig) or draw(fig))
    out = write_comparison_files(Comparison.load(compare_dir), tmp_path / "again")
    pngs = sorted((out / "figures").glob("*.png"))
    assert len(drawn) == len(pngs) >= 2
    embedded = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)",
                          (out / "report.html").read_text())
    assert sorted(base64.b64decode(e) for e in embedded) == sorted(p.read_bytes() for p in pngs)


def test_explain_directory_and_rebuild(tmp_path, capsys):
    out = tmp_path / "exp"
    code, _, err = run_cli(["explain", "baseline:population.groups.minority.honesty_mean=0.6",
                            "--metric", "violation_rate", "--between", "minority", "majority",
                            "--replicates", "2", *TINY, "--out", str(out), "--quiet"], capsys)
    assert code == 0, err
    assert json.loads((out / "manifest.json").read_text())["kind"] == "explain"
    assert (out / "figures" / "decomposition.png").exists()
    original = (out / "report.html").read_text()
    stored = pd.read_parquet(out / "explanation.parquet")
    code, _, err = run_cli(["report", str(out)], capsys)
    assert code == 0, err
    assert tables((out / "report.html").read_text()) == tables(original)
    pd.testing.assert_frame_equal(Explanation.load(out).table(), stored)


def test_report_on_a_run_directory_or_nothing_is_one_line_exit_2(tmp_path, capsys):
    code, _, err = run_cli(["report", str(tmp_path / "missing")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "manifest.json").write_text(json.dumps({"scenario": {}, "replicates": 1}))
    code, _, err = run_cli(["report", str(tmp_path / "run")], capsys)
    assert code == 2 and "rebuilds compare and explain" in err


def test_calibration_registry():
    entry = CALIBRATED["population.traits.awareness"]
    assert entry.value == 0.11 and entry.tag == "V"
    assert scenario_value({"population": {"traits": {"awareness": 0.2}}},
                          "population.traits.awareness") == 0.2
    try:
        register_calibrated("modules.x.y", 0.5, "half of y", "Someone 2020", tag="S")
        assert calibrated_inputs()[-1].path == "modules.x.y"
        with pytest.raises(ValueError):
            register_calibrated("a..b", 1, "f", "c")
        with pytest.raises(ValueError):
            register_calibrated("a.b", 1, "f", "c", tag="X")
    finally:
        CALIBRATED.pop("modules.x.y", None)


def test_the_time_series_figure_shows_what_varies_and_names_what_does_not():
    """Which metrics get a panel: those with some finite nonzero value; the flat ones
    (zero or undefined throughout) are named in the title; rows without a metric name
    and metrics the series lacks are ignored."""
    import numpy as np

    from scslab.analysis.figures import timeseries_figure

    days = np.arange(30)
    rows = []
    for metric, values in (("varies", np.sin(days) + 2.0), ("zero", np.zeros(30)),
                           ("undefined", np.full(30, np.nan)), (None, np.ones(30))):
        for rep in (0, 1):
            rows += [{"scenario": "s", "replicate": rep, "day": int(d), "metric": metric,
                      "value": float(v)} for d, v in zip(days, values, strict=True)]
    series = pd.DataFrame(rows).astype({"metric": "string[pyarrow]", "scenario": "string[pyarrow]"})
    fig = timeseries_figure(series, ["s"], ["varies", "zero", "undefined", "absent"], 0, "note")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles == ["varies"]
    assert "not shown: zero, undefined" in fig.get_suptitle()
    assert timeseries_figure(series, ["s"], ["zero", "absent"], 0, "note") is None


@pytest.mark.parametrize("command", [
    ["compare", "baseline", VARIANT, "--replicates", "2"],
    ["explain", "baseline:population.groups.minority.honesty_mean=0.6", "--metric",
     "violation_rate", "--between", "minority", "majority", "--replicates", "2",
     "--causes", "income"],
], ids=["compare", "explain"])
def test_no_figures_writes_the_data_and_a_report_without_them(tmp_path, capsys, command):
    out = tmp_path / "out"
    code, _, err = run_cli([*command, *TINY, "--out", str(out), "--quiet", "--no-figures"],
                           capsys)
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] and not any(f.startswith("figures") for f in manifest["files"])
    assert not (out / "figures").exists()
    html = (out / "report.html").read_text()
    assert "<table" in html and "data:image/png;base64," not in html

"""The dashboard's parts without a browser: safe upload loading, forms from the schema, the
parameter register, job folders, and runs in pieces (see test_dashboard_browser.py for the
page itself)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scslab.scenario import ScenarioError, load_scenario, load_scenario_text

BAD = "extends: baseline\npopulation:\n  people: -5\n"


def test_upload_error_is_the_cli_line(tmp_path):
    (tmp_path / "bad.yaml").write_text(BAD)
    cli = subprocess.run([sys.executable, "-m", "scslab", "show", "bad.yaml"], cwd=tmp_path,
                         capture_output=True, text=True, check=False)
    assert cli.returncode == 2
    with pytest.raises(ScenarioError) as exc:
        load_scenario_text(BAD, "bad.yaml")
    assert cli.stderr.strip() == f"scslab: error: {exc.value}"
    assert "population.people" in str(exc.value) and "\n" not in str(exc.value)


def test_upload_may_extend_builtins_only(tmp_path):
    secret = tmp_path / "other.yaml"
    secret.write_text("name: other\n")
    for parent in (str(secret), "../other.yaml", "/etc/hostname"):
        with pytest.raises(ScenarioError, match="extend only a builtin"):
            load_scenario_text(f"extends: {parent}\n", "up.yaml")
    sc = load_scenario_text("extends: rongcheng\nname: mine\n", "up.yaml",
                            ["population.people=1000"])
    ref = load_scenario("rongcheng", ["population.people=1000", "name=mine"])
    assert sc.model_dump() == ref.model_dump()


def test_upload_yaml_is_safe():
    with pytest.raises(ScenarioError, match="YAML"):
        load_scenario_text("!!python/object/apply:os.system ['echo hi']\n", "evil.yaml")


def test_register_gives_source_and_calibration():
    from scslab.dashboard.register import lookup

    aw = lookup("population.traits.awareness")
    assert aw is not None and "calibrated input" in aw.source and aw.default == "0.11"
    assert lookup("population.traits.honesty_sd").default.startswith("0.8 / 1.0")
    assert lookup("acts.traffic.rate").default == "0.01"
    assert lookup("sources.court.coverage").default == "0.3"
    assert lookup("modules.behaviour.deterrence_weight").source.startswith("calibrated input")
    assert lookup("population.groups.minority.honesty_mean") is not None  # wildcard row
    assert lookup("no.such.parameter") is None


def test_form_fields_follow_the_schema_and_round_trip():
    from scslab.analysis.compare import with_overrides
    from scslab.dashboard.forms import overrides, scenario_sections

    sc = load_scenario("rongcheng")
    sections = scenario_sections(sc)
    fields = {f.path: f for s in sections for f in s.fields}
    people = fields["population.people"]
    assert (people.kind, people.value, people.low, people.high) == ("int", 100_000, 0,
                                                                    100_000_000)
    assert fields["population.traits.awareness"].high == 1.0
    assert fields["modules.scoring.enabled"].value is True
    assert fields["modules.surveillance.enabled"].value is False
    assert "calibrated" in fields["population.traits.awareness"].meaning
    values = {p: f.value for p, f in fields.items()}
    assert overrides(sections, values) == []
    values.update({"population.people": 1234, "modules.surveillance.enabled": True,
                   "acts.traffic.rate": 0.02})
    ovs = overrides(sections, values)
    assert sorted(ovs) == ["acts.traffic.rate=0.02", "modules.surveillance.enabled=true",
                           "population.people=1234"]
    edited = with_overrides(sc, ovs, "form")
    assert edited.population.people == 1234 and edited.acts["traffic"].rate == 0.02
    with pytest.raises(ScenarioError, match="population.people"):
        with_overrides(sc, ["population.people=0"], "form")


def test_result_folders_stay_inside(tmp_path):
    from scslab.dashboard.jobs import JobRunner

    runner = JobRunner(tmp_path / "res")
    (tmp_path / "res" / "run-x").mkdir()
    (tmp_path / "outside").mkdir()
    assert runner.folder("run-x") == (tmp_path / "res" / "run-x").resolve()
    for bad in ("../outside", "..", "", ".running-x", "/etc", "run-x/../../outside"):
        assert runner.folder(bad) is None


def test_run_in_pieces_in_a_worker_equals_one_run(tmp_path):
    """The live series a page draws are the run's own series: a worker running in pieces
    gives exactly the series of one uninterrupted run, and stores them."""
    import time

    from scslab.dashboard.jobs import JobRunner, live_names
    from scslab.run.engine import Sim
    from scslab.run.results import replicate_result
    from scslab.scenario import resolved_dict

    sc = load_scenario("rongcheng", people=1500, days=25, burn_in=5)
    runner = JobRunner(tmp_path)
    job = runner.start("run", {"scenario": resolved_dict(sc)})
    deadline = time.monotonic() + 240
    while job.status == "running" and time.monotonic() < deadline:
        job.poll()
        time.sleep(0.1)
    assert job.status == "done", job.error
    ref = replicate_result(Sim(sc).run())
    names = live_names(list(ref.series))
    assert {"violation_rate", "detection_rate", "listed_share"} <= set(names)
    assert set(job.series) == set(names)
    for n in names:
        np.testing.assert_array_equal(np.array(job.series[n], dtype=float), ref.series[n])
    assert job.result["summary"]["violation_rate"] == pytest.approx(
        ref.summary["violation_rate"], rel=1e-12)
    folder = runner.folder(job.result["folder"])
    assert folder is not None and (folder / "manifest.json").is_file()
    assert [p.name for p in Path(tmp_path).iterdir() if p.name.startswith(".")] == []


def test_cancel_ends_the_worker_and_leaves_no_folder(tmp_path):
    from scslab.dashboard.jobs import JobRunner
    from scslab.scenario import resolved_dict

    sc = load_scenario("baseline", people=20_000, days=2000, burn_in=0)
    runner = JobRunner(tmp_path)
    job = runner.start("run", {"scenario": resolved_dict(sc)})
    job.cancel()
    assert job.status == "cancelled" and not job.process.is_alive()
    assert list(Path(tmp_path).iterdir()) == []


def test_cli_results_must_be_a_folder(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    r = subprocess.run([sys.executable, "-m", "scslab", "dashboard", "--results", str(f)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2
    assert r.stderr.strip() == f"scslab: error: {f}: --results must be a directory, and this is a file"


def test_other_commands_do_not_import_the_dashboard():
    code = ("import sys; import scslab.cli; "
            "print(any(m == 'panel' or m.startswith(('panel.', 'bokeh')) for m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "False"


def test_live_series_are_the_named_ones_with_detentions_by_group():
    from scslab.dashboard.jobs import live_names

    names = ["expression_rate", "detentions[region=0]", "detentions[group=b]", "detentions",
             "violation_rate", "detections", "violation_rate[group=b]", "detentions[group=a]"]
    assert live_names(names) == ["violation_rate", "detentions", "detentions[group=b]",
                                 "detentions[group=a]"]

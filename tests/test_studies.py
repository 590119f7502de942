"""Studies: validation, store (resume after kill -9, refusal to mix), bit-identical
results on 1 worker, local processes and Dask, and analyses that recover known answers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from scslab.analysis.studies import Study, StudyError, open_study
from scslab.analysis.studies.analysis import mixture_interval, robustness_table, sensitivity_table
from scslab.analysis.studies.design import design_matrix
from scslab.analysis.studies.execution import plan
from scslab.analysis.studies.spec import parse_study
from scslab.analysis.studies.store import StudyStore
from scslab.cli import main

SMALL = {
    "name": "small",
    "scenarios": ["baseline", "national-blacklist"],
    "people": 2000, "days": 60, "burn_in": 0, "replicates": 2,
    "design": {"method": "morris", "trajectories": 2, "levels": 4, "seed": 1},
    "factors": {"population.traits.awareness": {"low": 0.02, "high": 0.5},
                "acts.fraud.rate": {"low": 0.001, "high": 0.004}},
    "outputs": ["violation_rate", "refusal_rate"],
    "contrasts": ["national-blacklist - baseline"],
}
SMALL_RUNS = 2 * 3 * 2 * 2  # trajectories × (factors + 1) × scenarios × replicates


def _scslab() -> list[str]:
    exe = Path(sys.executable).with_name("scslab")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "scslab"]


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _with(**changes) -> dict:
    data = yaml.safe_load(yaml.safe_dump(SMALL, sort_keys=False))
    for dotted, value in changes.items():
        node = data
        *head, last = dotted.split("__")
        for part in head:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return data


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The small study on one worker in this process: the reference tables."""
    out = tmp_path_factory.mktemp("study") / "ref"
    Study.from_dict(SMALL, "small.yaml").run(out, workers=1)
    return out


# --------------------------------------------------------------------------- validation

BAD = [
    ("unknown path", {"factors": {"population.traits.awarenes": {"low": 0.1, "high": 0.2}}},
     ["factors.population.traits.awarenes", "unknown path"]),
    ("low above high", {"factors": {"population.traits.awareness": {"low": 0.5, "high": 0.1}}},
     ["factors.population.traits.awareness", "low (0.5) must be below high (0.1)"]),
    ("out of the schema's range",
     {"factors": {"population.traits.awareness": {"low": 0.1, "high": 1.5}}},
     ["factors.population.traits.awareness.high", "less than or equal to 1"]),
    ("not a number", {"factors": {"acts.fraud.venue": {"low": 0, "high": 1}}},
     ["factors.acts.fraud.venue", "not a number"]),
    ("unknown method", {"design": {"method": "morriss", "trajectories": 4}},
     ["design.method", "'morris'"]),
    ("morris without trajectories", {"design": {"method": "morris"}},
     ["design.trajectories", "morris needs"]),
    ("unknown output", {"outputs": ["violation_rat"]},
     ["outputs[0]", "unknown output 'violation_rat'"]),
    ("unknown contrast scenario", {"contrasts": ["national-blacklist - basline"]},
     ["contrasts[0]", "unknown scenario 'basline'"]),
    ("contrast without spaces", {"contrasts": ["national-blacklist-baseline"]},
     ["contrasts[0]", "expected 'SCENARIO - SCENARIO'"]),
    ("unknown key", {"replicate": 3}, ["replicate", "unknown key"]),
    ("unknown scenario", {"scenarios": ["baseline", "nope"]}, ["scenarios", "nope"]),
]


@pytest.mark.parametrize("case,change,fragments", BAD, ids=[c[0] for c in BAD])
def test_bad_study_is_one_line_exit_2(tmp_path, capsys, case, change, fragments):
    path = _write(tmp_path / "bad.yaml", {**SMALL, **change})
    code = main(["study", "run", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("scslab: error: "), err
    assert "Traceback" not in err
    for f in [str(path), *fragments]:
        assert f in err, (f, err)
    assert not (tmp_path / "out").exists()  # nothing created before the study is valid


@pytest.mark.parametrize("change,fragment", [
    ({"design": {"method": "latin", "samples": 4}}, "design.method"),
    ({"factors": {"population.trait.awareness": {"low": 0.1, "high": 0.2}}}, "unknown path"),
])
def test_bad_study_through_the_entry_point(tmp_path, change, fragment):
    path = _write(tmp_path / "bad.yaml", {**SMALL, **change})
    proc = subprocess.run([*_scslab(), "study", "run", str(path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and fragment in proc.stderr, proc.stderr
    assert str(path) in proc.stderr


def test_integer_factors_are_rounded(tmp_path):
    data = _with(factors={"population.officials_per_region": {"low": 2, "high": 9}})
    study = parse_study(data, "s.yaml")
    assert study.integer_factors == ["population.officials_per_region"]
    x = design_matrix(study)
    jobs = plan(study, x)
    for job in jobs:
        design_value = x[job["sample"], 0]
        applied = job["values"]["population.officials_per_region"]
        assert isinstance(applied, int) and applied == round(design_value)
    assert any(not float(v).is_integer() for v in x[:, 0])  # the test rounds something


# --------------------------------------------------------------------------- store


def test_run_writes_one_row_per_run_and_tables(reference):
    result = open_study(reference)
    runs = result.runs
    assert len(runs) == SMALL_RUNS and (runs["status"] == "ok").all()
    assert not runs.duplicated(["sample", "scenario", "replicate"]).any()
    for col in ("seed", "code_revision", "duration_s", "population.traits.awareness",
                "acts.fraud.rate"):
        assert col in runs
    assert runs["seed"].nunique() == 1  # common random numbers: one seed everywhere
    metrics = pd.read_parquet(reference / "metrics.parquet")
    assert set(metrics.columns) == {"sample", "scenario", "replicate", "metric", "value"}
    assert len(metrics.groupby(["sample", "scenario", "replicate"])) == SMALL_RUNS
    status = result.status()
    assert (status.total, status.finished, status.failed) == (SMALL_RUNS, SMALL_RUNS, 0)


def test_rerun_skips_finished_runs(reference, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "parts").iterdir()}
    res = Study.from_dict(SMALL, "small.yaml").run(out)
    assert (res.execution.skipped, res.execution.ran) == (SMALL_RUNS, 0)
    assert before == {p.name: p.stat().st_mtime_ns for p in (out / "parts").iterdir()}


def test_store_refuses_another_study_or_revision(reference, tmp_path, capsys):
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    changed = _write(tmp_path / "changed.yaml", _with(replicates=3))
    code = main(["study", "run", str(changed), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "different study definition" in err, err
    # outputs and contrasts only change the analysis: the runs are reused
    Study.from_dict(_with(outputs=["violation_rate"]), "s.yaml").run(out)
    with pytest.raises(StudyError, match="code revision"):
        StudyStore.open_for(out, parse_study(SMALL, "s.yaml"), revision="another")
    # --fresh moves the old store aside (nothing deleted) and starts anew
    store = StudyStore.open_for(out, parse_study(_with(replicates=3), "s.yaml"), fresh=True)
    assert store.finished() == set()
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("copy.stale-")]
    assert len(aside) == 1 and len(list((aside[0] / "parts").iterdir())) == SMALL_RUNS


def test_a_worker_on_another_revision_refuses():
    from scslab.analysis.studies.execution import run_job

    study = parse_study(SMALL, "s.yaml")
    job = plan(study, design_matrix(study)[:1])[0]
    result = run_job(job, "some-other-revision")
    assert result["row"]["status"] == "failed" and not result["metrics"]
    assert "some-other-revision" in result["row"]["error"]


def test_kill_9_mid_study_then_resume_loses_nothing(reference, tmp_path):
    path = _write(tmp_path / "small.yaml", SMALL)
    out = tmp_path / "out"
    proc = subprocess.Popen([*_scslab(), "study", "run", str(path), "--out", str(out),
                             "--workers", "2", "--quiet"], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    parts = out / "parts"
    while time.monotonic() < deadline and proc.poll() is None:
        if parts.is_dir() and len(list(parts.glob("*.parquet"))) >= 4:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the study ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the whole process group: parent and workers
    proc.wait(timeout=30)
    survivors = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns)
                 for p in parts.glob("*.parquet")}
    assert 4 <= len(survivors) < SMALL_RUNS
    code = main(["study", "run", str(path), "--out", str(out), "--quiet"])
    assert code == 0
    for name, ident in survivors.items():  # a finished run is never redone or lost
        p = parts / name
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == ident
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == SMALL_RUNS and (runs["status"] == "ok").all()
    assert not runs.duplicated(["sample", "scenario", "replicate"]).any()
    assert not list(out.rglob(".*.tmp"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "metrics.parquet"),
                                  pd.read_parquet(reference / "metrics.parquet"))


# --------------------------------------------------------------------------- execution


def test_dask_gives_bit_identical_tables(reference, tmp_path):
    """(The local pool's identity is checked by the kill test, which runs 2 processes.)"""
    ref = pd.read_parquet(reference / "metrics.parquet")
    Study.from_dict(SMALL, "small.yaml").run(tmp_path / "dask", dask="local:2")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "metrics.parquet"), ref)
    workers = set(pd.read_parquet(tmp_path / "dask" / "runs.parquet")["worker"])
    assert len(workers) == 2  # both Dask workers ran something


# --------------------------------------------------------------------------- analysis


def test_analyze_writes_indices_robustness_figures_and_report(reference, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(reference, out)
    code = main(["study", "analyze", str(out), "--quiet"])
    assert code == 0
    sens = pd.read_parquet(out / "analysis" / "sensitivity.parquet")
    mu = sens[sens["index"] == "mu_star"]
    viol = mu[mu["target"] == "violation_rate @ baseline"].set_index("factor")["value"]
    # awareness changes who offends; the fraud rate adds violations: both move it
    assert (viol > 0).all()
    rob = pd.read_parquet(out / "analysis" / "robustness.parquet")
    assert set(rob["output"]) == {"violation_rate", "refusal_rate"}
    row = rob[rob["output"] == "violation_rate"].iloc[0]
    # at 60 days the list does not change violations: exactly zero in every sample
    assert row["mean"] == 0 and row["share_same_sign"] == 1 and row["share_excludes_zero"] == 0
    for name in ("morris.png", "contrasts.png"):
        assert (out / "figures" / name).stat().st_size > 1000
    html = (out / "report.html").read_text()
    assert "Sign-robustness" in html and "data:image/png;base64," in html


def test_analyze_a_partial_study(reference, tmp_path):
    """Robustness over the samples done; no indices while a sample is missing."""
    out = tmp_path / "partial"
    shutil.copytree(reference, out)
    for part in (out / "parts").glob("s000000-*.parquet"):
        part.unlink()
    analysis = open_study(out).analyze(figures=False)
    assert analysis.sensitivity.empty
    assert any("not yet run in 1 of 6 samples" in n for n in analysis.notes)
    assert set(analysis.robustness["samples"]) == {5}
    assert open_study(out).status().remaining == 4


def test_morris_recovers_a_known_ranking():
    """y = 10·u₀ + 3·u₁² + 0.2·u₂ (u = factor scaled to [0, 1]): mu* ranks u₀, u₁, u₂."""
    data = _with(scenarios=["baseline"], contrasts=[],
                 design={"method": "morris", "trajectories": 20, "levels": 4, "seed": 3},
                 factors={"population.traits.awareness": {"low": 0.0, "high": 1.0},
                          "acts.fraud.rate": {"low": 0.0, "high": 0.01},
                          "population.traits.privacy_concern_mean": {"low": 0.1, "high": 0.9}})
    study = parse_study(data, "toy.yaml")
    x = design_matrix(study)
    lows = np.array([0.0, 0.0, 0.1])
    highs = np.array([1.0, 0.01, 0.9])
    u = (x - lows) / (highs - lows)
    y = 10 * u[:, 0] + 3 * u[:, 1] ** 2 + 0.2 * u[:, 2]
    outputs = pd.DataFrame({"sample": np.arange(len(y)), "scenario": "baseline",
                            "output": "violation_rate", "mean": y})
    outputs = pd.concat([outputs, outputs.assign(output="refusal_rate")])
    effects = pd.DataFrame(columns=["contrast", "output", "sample", "mean"])
    sens = sensitivity_table(study, x, outputs, effects, [])
    mu = sens[(sens["index"] == "mu_star") & (sens["target"] == "violation_rate @ baseline")]
    ranking = list(mu.sort_values("value", ascending=False)["factor"])
    assert ranking == ["population.traits.awareness", "acts.fraud.rate",
                       "population.traits.privacy_concern_mean"]
    # elementary effects of a linear factor are constant: mu* = 10 (per unit range), sigma 0
    lin = mu.set_index("factor").loc["population.traits.awareness"]
    assert lin["value"] == pytest.approx(10.0, rel=1e-9)


def test_sobol_recovers_known_indices():
    """y = u₀ + 0.5·u₁ with independent uniform u: S1 = ST = 1/1.25 and 0.25/1.25."""
    data = _with(scenarios=["baseline"], contrasts=[],
                 design={"method": "sobol", "samples": 1024, "seed": 5},
                 factors={"population.traits.awareness": {"low": 0.0, "high": 1.0},
                          "population.traits.privacy_concern_mean": {"low": 0.1, "high": 0.9}})
    study = parse_study(data, "toy.yaml")
    x = design_matrix(study)
    assert x.shape == (1024 * 4, 2)
    u = (x - [0.0, 0.1]) / [1.0, 0.8]
    y = u[:, 0] + 0.5 * u[:, 1]
    outputs = pd.DataFrame({"sample": np.arange(len(y)), "scenario": "baseline",
                            "output": "violation_rate", "mean": y})
    outputs = pd.concat([outputs, outputs.assign(output="refusal_rate")])
    sens = sensitivity_table(study, x, outputs, pd.DataFrame(
        columns=["contrast", "output", "sample", "mean"]), [])
    got = sens[sens["target"] == "violation_rate @ baseline"].set_index(["factor", "index"])
    for f, share in (("population.traits.awareness", 0.8),
                     ("population.traits.privacy_concern_mean", 0.2)):
        for idx in ("S1", "ST"):
            row = got.loc[(f, idx)]
            assert row["value"] == pytest.approx(share, abs=0.05)
            assert row["low"] <= share <= row["high"]


def _toy_outputs(y):
    outputs = pd.DataFrame({"sample": np.arange(len(y)), "scenario": "baseline",
                            "output": "violation_rate", "mean": y})
    return pd.concat([outputs, outputs.assign(output="refusal_rate")])


_NO_EFFECTS = pd.DataFrame(columns=["contrast", "output", "sample", "mean"])


def test_latin_hypercube_gets_rbd_fast_first_order_indices():
    """y = u₀ + 0.5·u₁ on 500 LHS samples: S1 ≈ 0.8 and 0.2 (RBD-FAST is biased low for
    weak factors at this size: tolerance ±0.1 on the strong one, the order, and a
    positive index for the weak one); a small design carries a note that it is rough."""
    factors = {"population.traits.awareness": {"low": 0.0, "high": 1.0},
               "population.traits.privacy_concern_mean": {"low": 0.1, "high": 0.9}}
    study = parse_study(_with(scenarios=["baseline"], contrasts=[], factors=factors,
                              design={"method": "lhs", "samples": 500, "seed": 5}), "t.yaml")
    x = design_matrix(study)
    u = (x - [0.0, 0.1]) / [1.0, 0.8]
    notes: list[str] = []
    sens = sensitivity_table(study, x, _toy_outputs(u[:, 0] + 0.5 * u[:, 1]), _NO_EFFECTS,
                             notes)
    got = sens[sens["target"] == "violation_rate @ baseline"].set_index("factor")
    assert set(got["index"]) == {"S1"}
    strong = got.loc["population.traits.awareness"]
    weak = got.loc["population.traits.privacy_concern_mean"]
    assert strong["value"] == pytest.approx(0.8, abs=0.1)
    assert strong["low"] <= 0.8 <= strong["high"]
    assert 0.03 < weak["value"] < strong["value"]
    assert not notes
    small = parse_study(_with(scenarios=["baseline"], contrasts=[], factors=factors,
                              design={"method": "lhs", "samples": 30, "seed": 5}), "t.yaml")
    xs = design_matrix(small)
    us = (xs - [0.0, 0.1]) / [1.0, 0.8]
    sensitivity_table(small, xs, _toy_outputs(us[:, 0] + 0.5 * us[:, 1]), _NO_EFFECTS, notes)
    assert any("rough" in n for n in notes)


def test_sobol_second_order_finds_an_interaction():
    """y = u₀·u₁ + u₂ has an interaction between factors 0 and 1 only: S2(0, 1) is
    clearly positive and the pairs with factor 2 are near zero."""
    factors = {"population.traits.awareness": {"low": 0.0, "high": 1.0},
               "acts.fraud.rate": {"low": 0.0, "high": 1.0},
               "population.traits.privacy_concern_mean": {"low": 0.01, "high": 0.99}}
    study = parse_study(_with(scenarios=["baseline"], contrasts=[], factors=factors,
                              design={"method": "sobol", "samples": 1024, "seed": 5,
                                      "second_order": True}), "t.yaml")
    x = design_matrix(study)
    y = (x[:, 0] - 0.5) * (x[:, 1] - 0.5) * 12 + x[:, 2]
    sens = sensitivity_table(study, x, _toy_outputs(y), _NO_EFFECTS, [])
    s2 = sens[(sens["index"] == "S2") & (sens["target"] == "violation_rate @ baseline")]
    s2 = s2.set_index("factor")["value"]
    assert len(s2) == 3
    assert s2["population.traits.awareness × acts.fraud.rate"] > 0.3
    others = s2.drop("population.traits.awareness × acts.fraud.rate")
    assert (others.abs() < 0.1).all()


@pytest.mark.parametrize("design,rows", [
    ({"method": "lhs", "samples": 7}, 7),
    ({"method": "grid", "levels": 3}, 9),
    ({"method": "morris", "trajectories": 5, "levels": 6}, 15),
    ({"method": "sobol", "samples": 8, "second_order": True}, 8 * 6),
])
def test_design_sizes(design, rows):
    x = design_matrix(parse_study(_with(design=design), "s.yaml"))
    assert x.shape == (rows, 2)
    assert (x[:, 0] >= 0.02).all() and (x[:, 0] <= 0.5).all()


def test_robustness_shares_and_combined_interval():
    # 10 samples: 8 positive (6 with an interval above zero), 2 negative
    means = np.array([1.0, 2, 3, 4, 5, 6, 0.1, 0.2, -0.5, -1])
    se = np.array([0.1] * 6 + [0.5, 0.5, 0.1, 0.1])
    eff = pd.DataFrame({"contrast": "b - a", "output": "m", "sample": range(10),
                        "mean": means, "low": means - 2 * se, "high": means + 2 * se,
                        "se": se, "replicates": 5})
    row = robustness_table(eff).iloc[0]
    assert row["sign"] == 1 and row["share_same_sign"] == pytest.approx(0.8)
    assert row["share_excludes_zero"] == pytest.approx(0.6)
    assert row["share_opposite_excludes_zero"] == pytest.approx(0.2)
    # the mixture's quantiles: with no Monte Carlo error they are the samples' quantiles
    lo, hi = mixture_interval(means, np.zeros(10))
    assert (lo, hi) == (np.quantile(means, 0.025), np.quantile(means, 0.975))
    # one sample with standard error s: the normal interval mean ± 1.96 s
    lo, hi = mixture_interval(np.array([2.0]), np.array([0.5]))
    assert lo == pytest.approx(2 - 1.959964 * 0.5, abs=1e-6)
    assert hi == pytest.approx(2 + 1.959964 * 0.5, abs=1e-6)
    # adding Monte Carlo error widens the interval
    lo2, hi2 = mixture_interval(means, se)
    assert lo2 < np.quantile(means, 0.025) and hi2 > np.quantile(means, 0.975)


def test_status_through_the_cli(reference, capsys):
    assert main(["study", "status", str(reference)]) == 0
    out = capsys.readouterr().out
    assert f"{SMALL_RUNS}/{SMALL_RUNS} runs finished, 0 failed, 0 remaining" in out
    assert main(["study", "status", str(reference / "parts")]) == 2


def test_a_store_from_another_version_is_one_line(reference, tmp_path, capsys):
    import json

    out = tmp_path / "old"
    shutil.copytree(reference, out)
    data = json.loads((out / "study.json").read_text())
    del data["factor_scenarios"]
    (out / "study.json").write_text(json.dumps(data))
    assert main(["study", "analyze", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "study.json" in err and "another version" in err


def test_documented_example_validates_and_applies_factors_where_they_exist():
    from scslab.analysis.studies import load_study

    study = load_study(Path(__file__).parents[1] / "docs" / "studies" / "blacklist-screen.yaml")
    path = "modules.lists.lists.court_debtors.duration_days"
    assert study.integer_factors == [path]
    assert study.factor_scenarios[path] == ["national-blacklist"]
    jobs = plan(study, design_matrix(study)[:2])
    assert all((path in j["values"]) == (j["scenario"] == "national-blacklist") for j in jobs)


def test_bad_dask_address_fails_before_anything_is_written(tmp_path, capsys):
    path = _write(tmp_path / "s.yaml", SMALL)
    assert main(["study", "run", str(path), "--out", str(tmp_path / "o"), "--dask", "lcal:2"]) == 2
    assert "--dask" in capsys.readouterr().err and not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- worker deaths


def _wait_for_parts(out: Path, n: int, thread, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and thread.is_alive():
        if (out / "parts").is_dir() and len(list((out / "parts").glob("*.parquet"))) >= n:
            return
        time.sleep(0.05)
    raise AssertionError("the study ended (or stalled) before a worker could be killed")


def _run_in_thread(fn):
    import threading

    box: dict = {}

    def target():
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def _assert_complete_and_identical(out: Path, reference: Path) -> None:
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == SMALL_RUNS and (runs["status"] == "ok").all(), runs[["status", "error"]]
    assert not runs.duplicated(["sample", "scenario", "replicate"]).any()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "metrics.parquet"),
                                  pd.read_parquet(reference / "metrics.parquet"))


@pytest.mark.slow
def test_dask_worker_killed_mid_study_is_retried_elsewhere(reference, tmp_path):
    from distributed import Client, LocalCluster

    from scslab.analysis.studies.execution import worker_environment

    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, env=worker_environment()) as cluster, \
            Client(cluster) as client:
        pids = sorted(client.run(os.getpid).values())
        study = Study.from_dict(SMALL, "small.yaml")
        thread, box = _run_in_thread(lambda: study.run(out, dask=cluster.scheduler_address))
        _wait_for_parts(out, 3, thread)
        os.kill(pids[0], signal.SIGKILL)
        thread.join(timeout=600)
        assert not thread.is_alive() and "error" not in box, box
    _assert_complete_and_identical(out, reference)


@pytest.mark.slow
def test_local_worker_killed_mid_study_is_retried(reference, tmp_path):
    out = tmp_path / "out"
    study = Study.from_dict(SMALL, "small.yaml")
    thread, box = _run_in_thread(lambda: study.run(out, workers=2))
    _wait_for_parts(out, 3, thread)
    me = str(os.getpid())
    victims = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if fields[1] == me and b"spawn_main" in cmd:
            victims.append(int(stat.parent.name))
    assert victims, "no pool worker found"
    os.kill(victims[0], signal.SIGKILL)
    thread.join(timeout=600)
    assert not thread.is_alive() and "error" not in box, box
    _assert_complete_and_identical(out, reference)
    # the broken pool was replaced: runs finished in processes started after the kill
    assert pd.read_parquet(out / "runs.parquet")["worker"].nunique() > 2

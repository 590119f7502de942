"""Results files, summary semantics, replicates, rerun, thread independence."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from scslab.cli import main
from scslab.modules.registry import module_classes
from scslab.run.engine import Sim
from scslab.run.results import Results, mean_interval, t_quantile_975

RUN = ["run", "--people", "2000", "--days", "40", "--burn-in", "5", "--quiet"]


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_run_writes_files_and_rerun_reproduces_bit_for_bit(tmp_path):
    out = tmp_path / "a"
    assert main([*RUN, "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["figures", "manifest.json",
                                                      "series.parquet", "summary.json"]
    assert (out / "figures" / "timeseries.png").stat().st_size > 10_000
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 20261127 and manifest["replicates"] == 1
    assert manifest["scenario"]["population"]["people"] == 2000
    assert manifest["scslab_version"] and manifest["wall_seconds"] >= 0
    assert "code_revision" in manifest
    summary = json.loads((out / "summary.json").read_text())
    assert all(v is None or isinstance(v, (int, float)) for v in summary.values())
    assert all(v is None or math.isfinite(v) for v in summary.values())
    again = tmp_path / "b"
    assert main(["rerun", str(out / "manifest.json"), "--out", str(again), "--quiet"]) == 0
    assert _digest(out / "series.parquet") == _digest(again / "series.parquet")
    assert (out / "summary.json").read_text() == (again / "summary.json").read_text()
    other = tmp_path / "c"
    assert main([*RUN, "--seed", "5", "--out", str(other)]) == 0
    assert _digest(out / "series.parquet") != _digest(other / "series.parquet")
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    mask = os.umask(0)
    os.umask(mask)
    for name in ("manifest.json", "series.parquet", "summary.json"):  # not private 0600
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~mask


def test_series_is_tidy_and_has_group_and_region_breakdowns(tmp_path):
    out = tmp_path / "a"
    assert main([*RUN, "--out", str(out)]) == 0
    df = pq.read_table(out / "series.parquet").to_pandas()
    assert list(df.columns) == ["replicate", "day", "metric", "value"]
    metrics = set(df["metric"].astype(str))
    assert {"violation_rate", "violation_rate[group=minority]", "violation_rate[region=3]"} <= metrics
    assert df["day"].max() == 44
    loaded = Results.load(out)
    assert loaded.summary == json.loads((out / "summary.json").read_text())


def test_undefined_metrics_are_null_not_nan(tmp_path):
    out = tmp_path / "a"
    assert main([*RUN, "--set", "modules.dossier.visibility=opaque", "--out", str(out)]) == 0
    text = (out / "summary.json").read_text()
    assert "NaN" not in text
    assert json.loads(text)["own_learning_shift"] is None  # opaque: no learning events, 0/0


def test_replicates_write_intervals_and_each_replicate(tmp_path):
    out = tmp_path / "r"
    assert main([*RUN, "--replicates", "3", "--out", str(out)]) == 0
    intervals = json.loads((out / "intervals.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    reps = pq.read_table(out / "replicates.parquet").to_pandas()
    assert sorted(reps["replicate"].unique()) == [0, 1, 2]
    v = reps[reps.metric == "violation_rate"]["value"].to_numpy()
    assert summary["violation_rate"] == pytest.approx(v.mean())
    lo, hi = intervals["violation_rate"]
    assert lo < summary["violation_rate"] < hi
    assert len(set(v)) == 3  # a new population per replicate


def test_parallel_replicates_equal_sequential(tmp_path):
    a, b = tmp_path / "seq", tmp_path / "par"
    assert main([*RUN, "--replicates", "2", "--out", str(a)]) == 0
    assert main([*RUN, "--replicates", "2", "--workers", "2", "--out", str(b)]) == 0
    assert _digest(a / "series.parquet") == _digest(b / "series.parquet")


def test_t_interval():
    assert t_quantile_975(1) == 12.706 and abs(t_quantile_975(1000) - 1.9623) < 1e-3
    m, iv = mean_interval(np.array([1.0, 2.0, 3.0, np.nan]))
    assert m == 2.0 and iv[0] == pytest.approx(2 - 4.303 / math.sqrt(3))
    assert mean_interval(np.array([np.nan])) == (None, None)


@pytest.mark.parametrize("scenario, every", [("baseline", False), ("rongcheng", True),
                                             ("corporate", True)])
def test_results_identical_with_one_and_two_numba_threads(scenario, every):
    """Summary and series bit for bit with 1 and 2 Numba threads (the parallel kernels
    write per-person outputs from keyed draws and reduce per chunk in a fixed order);
    rongcheng and corporate with every module switched on."""
    code = ("import sys, hashlib, json; import numpy as np; "
            "from scslab.run.engine import Sim; from scslab.run.results import "
            "replicate_result; from scslab.scenario import load_scenario; "
            "from scslab.modules.registry import module_classes; "
            f"sets = [f'modules.{{m}}.enabled=true' for m in module_classes()] if {every} "
            "else []; "
            f"s = load_scenario({scenario!r}, sets, people=2000, days=20, burn_in=0); "
            "rep = replicate_result(Sim(s).run()); h = hashlib.sha256(); "
            "h.update(json.dumps({k: repr(v) for k, v in sorted(rep.summary.items())}).encode()); "
            "[h.update(k.encode() + np.ascontiguousarray(rep.series[k], "
            "dtype=np.float64).tobytes()) for k in sorted(rep.series)]; "
            "print(len(Sim(s).module_classes), h.hexdigest())")
    digests = []
    for threads in ("1", "2"):
        env = dict(os.environ, NUMBA_NUM_THREADS=threads)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, timeout=300, check=True)
        digests.append(proc.stdout.strip())
    assert digests[0] == digests[1]
    if every:
        assert int(digests[0].split()[0]) == len(module_classes())


def test_default_run_prints_a_readable_summary(capsys):
    assert main(["run", "--people", "2000", "--days", "20", "--burn-in", "0"]) == 0
    out = capsys.readouterr().out
    assert "baseline" in out and "violation_rate" in out and "group=minority" in out
    assert "modules switched on" in out


def test_results_to_pandas():
    from helpers import small

    r = Sim(small(people=1000, days=10, burn_in=0)).run().results()
    df = r.to_pandas()
    assert set(df.columns) == {"replicate", "day", "metric", "value"}
    assert (df["metric"] == "violation_rate").sum() == 10


def test_run_lists_the_modules_that_run(capsys):
    """The header names the modules the engine runs, not every block of the scenario: in
    baseline with its firms switched off the corporate credit modules follow the firms'
    switch (off), so they do not run and are not listed."""
    from scslab.cli import main

    assert main(["run", "--people", "1000", "--days", "2", "--burn-in", "0",
                 "--set", "modules.firms.enabled=false"]) == 0
    out = capsys.readouterr().out
    line = out[out.index("modules switched on:"):out.index("Summary")]
    assert "debts" in line and "attitudes" in line
    assert "corporate_credit" not in line and "firm_inspection" not in line


def test_tables_from_buffers_equal_what_pa_array_makes():
    """The files' Arrow columns are made from their buffers (no pandas import); they are
    the arrays ``pa.array`` makes, nulls and NaN included, so the Parquet bytes are too."""
    import pyarrow as pa

    from scslab.run.results import arrow_floats, arrow_numbers, arrow_strings

    def parquet(column) -> bytes:
        import io

        buf = io.BytesIO()
        pq.write_table(pa.table({"x": column}), buf)
        return buf.getvalue()

    floats = [0.5, None, math.nan, -2.0, None, 1e300, 0.0, None, 3.0]
    mine, theirs = arrow_floats(floats), pa.array(floats, type=pa.float64())
    assert mine.to_pylist()[:2] == [0.5, None] and mine.null_count == 3
    assert parquet(mine) == parquet(theirs)  # (equals() holds NaN unequal to itself)
    assert arrow_floats([1.0, 2.0]).equals(pa.array([1.0, 2.0]))
    assert arrow_floats([]).equals(pa.array([], type=pa.float64()))
    names = ["rate", "", "share[group=α]", "rate"]
    assert arrow_strings(names).equals(pa.array(names, type=pa.string()))
    for values in (np.arange(7, dtype=np.int32), np.linspace(0, 1, 5), np.arange(9)[::2]):
        assert arrow_numbers(values).equals(pa.array(values))


def test_series_table_is_the_table_pa_array_made():
    """The series table made from buffers writes the bytes the former ``pa.array`` table
    wrote (strings dictionary-encoded by first appearance), a metric with no days too."""
    import io

    import pyarrow as pa

    from scslab.run.results import ReplicateResult

    reps = [ReplicateResult(r, {"b": np.array([1.0, np.nan, 3.0]), "empty": np.empty(0),
                                "a": np.arange(3.0) * r}, {"b": 1.0}) for r in (1, 0)]
    table = Results({"name": "t"}, reps).series_table()
    rows = [(r.replicate, d, name, float(v)) for r in sorted(reps, key=lambda r: r.replicate)
            for name, a in r.series.items() for d, v in enumerate(a)]
    former = pa.table({
        "replicate": pa.array(np.array([x[0] for x in rows], dtype=np.int32)),
        "day": pa.array(np.array([x[1] for x in rows], dtype=np.int32)),
        "metric": pa.array([x[2] for x in rows], type=pa.string()).dictionary_encode(),
        "value": pa.array(np.array([x[3] for x in rows])),
    })

    def parquet(t) -> bytes:
        buf = io.BytesIO()
        pq.write_table(t, buf)
        return buf.getvalue()

    assert parquet(table) == parquet(former)


def test_files_without_figures_do_not_import_pandas(tmp_path):
    code = ("import sys; from scslab.cli import main; "
            f"code = main([*{RUN!r}, '--replicates', '2', '--out', {str(tmp_path / 'a')!r}, "
            "'--no-figures']); print(code, 'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.stdout.split() == ["0", "False"], done.stderr
    table = pq.read_table(tmp_path / "a" / "replicates.parquet")
    assert table.column("value").null_count > 0  # undefined metrics: the null path ran


def test_the_manifest_is_made_when_first_read(monkeypatch):
    """A run's manifest (its provenance asks git and hashes the source) is made when read
    — by a run writing its folder — and once; results with it pending still pickle (the
    figure helper is sent them)."""
    import pickle

    from scslab.run import provenance
    from scslab.run.runner import run_scenario
    from scslab.scenario import load_scenario

    made = []
    real = provenance.provenance
    monkeypatch.setattr(provenance, "provenance", lambda: made.append(1) or real())
    res = run_scenario(load_scenario("baseline", people=500, days=5, burn_in=0),
                       command=["scslab", "run"])
    assert made == []
    again = pickle.loads(pickle.dumps(res))
    assert made == []
    m = res.manifest
    assert made == [1] and res.manifest is m
    assert m["kind"] == "run" and m["replicates"] == 1 and m["command"] == ["scslab", "run"]
    assert m["source_sha256"] and m["timing"]["run_seconds"]
    assert again.manifest["scenario"] == m["scenario"] and made == [1, 1]

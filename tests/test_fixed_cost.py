"""What a small run costs besides the simulation: nothing it does not use is imported, and
``run --out --no-figures`` writes the same data files and a valid manifest without figures."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq

from scslab.cli import main
from scslab.run.outfolder import verify_folder

RUN = ["run", "rongcheng", "--people", "1000", "--days", "20", "--burn-in", "0", "--quiet"]


def test_a_quiet_run_imports_neither_scipy_stats_nor_plotting_nor_pandas():
    # a fresh interpreter: the CLI's own path from arguments to summary, no --out
    code = ("import sys; from scslab.cli import main; "
            f"rc = main({RUN!r}); "
            "heavy = [m for m in ('scipy.stats', 'matplotlib', 'pandas', 'rich.progress') "
            "if m in sys.modules]; print(rc, *heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, check=True)
    assert proc.stdout.split() == ["0"], proc.stdout


def test_no_figures_writes_the_same_data_and_a_valid_manifest(tmp_path):
    with_figs, without = tmp_path / "a", tmp_path / "b"
    assert main([*RUN, "--out", str(with_figs)]) == 0
    assert main([*RUN, "--out", str(without), "--no-figures"]) == 0
    assert (with_figs / "figures" / "timeseries.png").exists()
    assert not (without / "figures").exists()
    assert verify_folder(without)["replicates"] == 1
    a, b = pq.read_table(with_figs / "series.parquet"), pq.read_table(without / "series.parquet")
    assert a.to_pandas().equals(b.to_pandas())  # NaN where a ratio is undefined, both
    assert (with_figs / "summary.json").read_text() == (without / "summary.json").read_text()

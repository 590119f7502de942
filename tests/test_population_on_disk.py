"""``--population-on-disk``: the population's arrays mapped from files give the same run,
leave nothing on disk, and are checked and counted before anything is built (issue #21:
10^8 people of rongcheng on a 24 GiB machine)."""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np
import pytest

from scslab.cli import main
from scslab.core.population import OWNER
from scslab.run.engine import Sim
from scslab.run.mapped import MappedFileError, map_from_file
from scslab.run.memory import estimate_bytes, memory_problem
from scslab.run.results import replicate_result
from scslab.scenario import load_scenario
from test_exit_codes import one_line_error, run


def file_backed(a: np.ndarray) -> bool:
    while a is not None:
        if isinstance(a, mmap.mmap):
            return True
        a = a.base if isinstance(a, np.ndarray) else getattr(a, "obj", None)
    return False


@pytest.mark.parametrize("values", [
    np.arange(10_001, dtype=np.int32),
    np.linspace(0, 1, 7, dtype=np.float32),
    np.array([True, False, True]),
    np.arange(24, dtype=np.uint16).reshape(4, 6),
    np.arange(12, dtype=np.int64).reshape(3, 4)[:, 1],  # not contiguous
    np.zeros(0, dtype=np.uint8),
    np.array(5, dtype=np.int32),  # 0-d
])
def test_a_mapped_array_has_the_same_values_and_leaves_no_file(values, tmp_path):
    mapped = map_from_file(values, tmp_path)
    assert mapped.dtype == values.dtype and mapped.shape == values.shape
    assert np.array_equal(mapped, values)
    assert list(tmp_path.iterdir()) == []
    if values.size:
        assert file_backed(mapped) and mapped.flags.writeable and mapped.flags.c_contiguous
        mapped[...] = 0  # private: a write lands in the process, not in a file


def test_a_run_with_the_population_on_disk_is_the_same_run(tmp_path):
    sc = load_scenario("rongcheng", people=3000, days=40, burn_in=10, seed=3)
    in_memory = replicate_result(Sim(sc).run())
    sim = Sim(sc, population_on_disk=tmp_path)
    mapped = [n for n, owner in sim.world.owner.items() if owner == OWNER]
    assert "links.neighbour" in mapped and "people.honesty" in mapped
    assert all(file_backed(sim.world.arrays[n]) for n in mapped)
    assert not any(file_backed(sim.world.arrays[n])
                   for n, owner in sim.world.owner.items() if owner != OWNER)
    assert list(tmp_path.iterdir()) == []
    on_disk = replicate_result(sim.run())
    assert on_disk.summary == in_memory.summary
    assert in_memory.series.keys() == on_disk.series.keys()
    for key, values in in_memory.series.items():
        assert np.array_equal(values, on_disk.series[key], equal_nan=True), key


def test_the_estimate_leaves_the_mapped_population_out():
    sc = load_scenario("rongcheng", people=1_000_000, days=30, burn_in=0)
    full, mapped = estimate_bytes(sc), estimate_bytes(sc, population_on_disk=True)
    assert mapped["population"] == full["population"]
    # rongcheng reads 10 links of 4 bytes, their offsets (4) and 21 B of traits a person
    assert 60 <= full["population"] / 1e6 <= 70
    assert full["running"] - mapped["running"] == full["population"]


def test_a_refusal_says_when_the_population_on_disk_would_fit(monkeypatch):
    import scslab.run.memory as mem

    sc = load_scenario("rongcheng", people=100_000_000, days=30, burn_in=0)
    full, mapped = estimate_bytes(sc)["need"], estimate_bytes(sc, population_on_disk=True)["need"]
    monkeypatch.setattr(mem, "available_bytes", lambda: (full + mapped) // 2)
    offered = memory_problem(sc, offer_population_on_disk=True)
    assert offered is not None and "--population-on-disk DIR (about" in offered
    assert "--population-on-disk" not in memory_problem(sc)  # a command without the option
    assert memory_problem(sc, population_on_disk=True) is None
    monkeypatch.setattr(mem, "available_bytes", lambda: mapped // 2)  # fits neither way
    assert "--population-on-disk" not in memory_problem(sc, offer_population_on_disk=True)


@pytest.mark.parametrize("where, fragment", [
    ("missing", "missing: does not exist"),
    ("a-file", "a-file: not a directory"),
])
def test_a_bad_directory_is_one_line_before_anything_runs(tmp_path, where, fragment):
    (tmp_path / "a-file").write_text("x")
    proc = run(["run", "--people", "2000", "--days", "3", "--population-on-disk",
                str(tmp_path / where)], timeout=120)
    assert proc.returncode == 2 and one_line_error(proc), proc.stderr
    assert "--population-on-disk: " in proc.stderr and fragment in proc.stderr


def test_a_directory_without_room_is_refused(tmp_path, monkeypatch, capsys):
    import shutil
    from types import SimpleNamespace

    monkeypatch.setattr(shutil, "disk_usage", lambda _: SimpleNamespace(total=1, used=0, free=1))
    assert main(["run", "--people", "2000", "--days", "3", "--quiet",
                 "--population-on-disk", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "free on its disk" in err, err


def test_a_directory_in_memory_is_refused(tmp_path, monkeypatch):
    """On tmpfs the file's pages are memory the OS cannot drop: the option would save
    nothing the estimate counts on."""
    import scslab.run.mapped as mapped

    assert mapped.filesystem_type(tmp_path) is not None  # /proc/self/mounts is read
    monkeypatch.setattr(mapped, "filesystem_type", lambda _: "tmpfs")
    problem = mapped.directory_problem(tmp_path, 10)
    assert problem is not None and "tmpfs" in problem and "memory" in problem
    if Path("/dev/shm").is_dir():
        monkeypatch.undo()
        kind = mapped.filesystem_type(Path("/dev/shm"))
        assert (mapped.directory_problem(Path("/dev/shm"), 10) is None) == (
            kind not in mapped.IN_MEMORY)


def test_a_failure_while_mapping_is_one_line_and_reaches_the_run(tmp_path, monkeypatch, capsys):
    """The option reaches the Sim from the command: a directory that passed the check
    and is gone by the time the arrays are written is a one-line error, exit 2."""
    import scslab.run.mapped as mapped

    monkeypatch.setattr(mapped, "directory_problem", lambda *_: None)
    assert main(["run", "--people", "2000", "--days", "3", "--quiet",
                 "--population-on-disk", str(tmp_path / "gone")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("scslab: error: --population-on-disk: ") and "gone" in err, err


def test_worker_processes_map_the_population_too(tmp_path):
    """The option reaches replicates run in worker processes (a directory they cannot
    use fails there, and the error comes back whole)."""
    from scslab.run.runner import run_scenario

    sc = load_scenario("baseline", people=2000, days=3, burn_in=0)
    with pytest.raises(MappedFileError, match="gone"):
        run_scenario(sc, replicates=2, workers=2, population_on_disk=tmp_path / "gone")


def test_the_command_runs_with_the_population_on_disk(tmp_path):
    proc = run(["run", "rongcheng", "--people", "2000", "--days", "5", "--burn-in", "0",
                "--quiet", "--population-on-disk", str(tmp_path)], timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_estimate_with_the_population_on_disk_follows_the_10e8_run():
    """Measured (docs/scaling.md, benchmarks/results-scale.md, 2026-12-07): rongcheng at
    10^8 × 30 days with the population on disk peaked at 18.6 GB of anonymous memory,
    ~185 B per person above the interpreter's; the estimate may over-state it a little
    (it is what refuses a run), not under-state it."""
    est = estimate_bytes(load_scenario("rongcheng", people=10**8, days=30, burn_in=0),
                         population_on_disk=True)
    ratio = est["running"] / 10**8 / 185
    assert 0.95 <= ratio <= 1.25, ratio


def test_the_scale_benchmark_reports_the_anonymous_peak_with_the_option(tmp_path):
    """``benchmarks.scale --population-on-disk`` (how the 10^8 row was measured) runs a
    size in a child process and writes its row with the peak anonymous memory."""
    import subprocess
    import sys

    out = tmp_path / "scale.md"
    proc = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--days", "2", "baseline",
                           "3000", "--population-on-disk", str(tmp_path), "--out", str(out)],
                          capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert "--population-on-disk" in text and "peak anonymous / person" in text
    row = next(line for line in text.splitlines() if line.startswith("| 3,000 |"))
    anonymous = int(row.split("|")[8].split()[0])
    assert 0 < anonymous <= int(row.split("|")[7].split()[0])  # within the whole RSS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scale.md"]


def test_a_snapshot_keeps_the_population_on_disk_and_forks_identically(tmp_path):
    """The population's arrays never change, so a snapshot shares them: restored, the
    World still maps them from disk, and the fork runs as the original did."""
    sc = load_scenario("rongcheng", people=2000, days=30, burn_in=0, seed=5)
    sim = Sim(sc, population_on_disk=tmp_path)
    sim.run(until=10)
    snap = sim.snapshot()
    first = replicate_result(sim.run())
    sim.restore(snap)
    mapped = [n for n, owner in sim.world.owner.items() if owner == OWNER]
    assert all(file_backed(sim.world.arrays[n]) for n in mapped)
    assert sim.world.arrays["people.market_flags"] is not snap["arrays"]["people.market_flags"]
    second = replicate_result(sim.run())
    assert first.summary == second.summary
    for key, values in first.series.items():
        assert np.array_equal(values, second.series[key], equal_nan=True), key


@pytest.mark.parametrize("command", [
    ["compare", "baseline", "baseline:sources.court.coverage=0.6", "--replicates", "2"],
    ["explain", "baseline", "--metric", "detection_rate", "--between", "minority", "majority",
     "--replicates", "2", "--causes", "income"],
])
def test_compare_and_explain_take_the_option_to_their_runs(command, tmp_path, monkeypatch,
                                                          capsys):
    """The option reaches each run's Sim: a directory gone by then is a one-line error."""
    import scslab.run.mapped as mapped

    monkeypatch.setattr(mapped, "directory_problem", lambda *_: None)
    assert main([*command, "--people", "1500", "--days", "3", "--burn-in", "0", "--quiet",
                 "--population-on-disk", str(tmp_path / "gone")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("scslab: error: --population-on-disk: ") and "gone" in err, err


def test_a_comparison_with_the_population_on_disk_is_the_same(tmp_path):
    from scslab.analysis.compare import compare, run_jobs

    args = dict(replicates=2, people=1500, days=20, burn_in=0)
    specs = ["baseline", "baseline:sources.court.coverage=0.6"]
    in_memory = compare(specs, **args).table()
    on_disk = compare(specs, population_on_disk=tmp_path, **args).table()
    assert in_memory.equals(on_disk)
    assert list(tmp_path.iterdir()) == []
    sc = load_scenario("baseline", people=1500, days=3, burn_in=0)
    with pytest.raises(MappedFileError, match="gone"):  # worker processes get it too
        run_jobs([sc], 2, workers=2, population_on_disk=tmp_path / "gone")

"""Result folders are written whole and read back only when complete and unaltered;
reruns are verified against the manifest's checksums and provenance."""

from __future__ import annotations

import json
import shutil

import pytest

from scslab.cli import main
from scslab.run.outfolder import OutFolder, OutFolderError, manifest_digest, verify_folder
from scslab.run.results import Results
from test_exit_codes import one_line_error, run

RUN = ["run", "--people", "1500", "--days", "20", "--burn-in", "2", "--quiet"]


def err_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def rewrite_manifest(folder, change) -> None:
    """Edit a manifest the way a forger would: change it and recompute its digest."""
    path = folder / "manifest.json"
    m = json.loads(path.read_text())
    change(m)
    m["manifest_sha256"] = manifest_digest(m)
    path.write_text(json.dumps(m, indent=2))


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "a"
    assert main([*RUN, "--replicates", "2", "--out", str(out)]) == 0
    return out


def copy(done, tmp_path, name="c"):
    dst = tmp_path / name
    shutil.copytree(done, dst)
    return dst


def test_manifest_lists_every_file_with_its_checksum(done):
    m = json.loads((done / "manifest.json").read_text())
    assert set(m["files"]) >= {"series.parquet", "summary.json", "intervals.json",
                               "replicates.parquet", "figures/timeseries.png"}
    assert m["manifest_sha256"] == manifest_digest(m)
    assert m["source_sha256"] and m["environment"]["pyarrow"] and m["environment"]["numba"]
    assert verify_folder(done)["replicates"] == 2
    assert not [p for p in done.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_non_empty_out_is_refused_and_force_replaces_it_whole(done, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("my own work")
    assert main([*RUN, "--out", str(out)]) == 2
    assert "not empty" in err_line(capsys) and (out / "thesis.tex").exists()
    # 2 replicates, then 1 with another seed over it: nothing of the first is left
    reused = copy(done, tmp_path)
    assert main([*RUN, "--seed", "7", "--out", str(reused), "--force"]) == 0
    assert not (reused / "intervals.json").exists()
    assert not (reused / "replicates.parquet").exists()
    loaded = Results.load(reused)
    assert len(loaded.replicates) == 1 and loaded.manifest["seed"] == 7
    assert main([*RUN, "--out", str(tmp_path / "empty-is-fine")]) == 0


def test_a_second_writer_is_refused_before_simulating(tmp_path, capsys):
    out = tmp_path / "busy"
    holder = OutFolder(out).open()
    try:
        assert main([*RUN, "--people", "2000000", "--days", "3000", "--out", str(out)]) == 2
        assert "another scslab process" in err_line(capsys)
    finally:
        holder.abort()
    assert not list(tmp_path.iterdir())  # no lock, no staging left behind


def test_unwritable_out_fails_before_simulating(tmp_path):
    (tmp_path / "file").write_text("x")
    proc = run([*RUN, "--people", "2000000", "--days", "3000",
                "--out", str(tmp_path / "file" / "sub")], timeout=60)
    assert proc.returncode == 2 and one_line_error(proc) and "is a file" in proc.stderr
    proc = run([*RUN, "--out", str(tmp_path / "file")], timeout=60)
    assert proc.returncode == 2 and one_line_error(proc)


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "manifest.json").unlink(), "incomplete"),
    (lambda d: (d / "series.parquet").unlink(), "series.parquet is missing"),
    (lambda d: (d / "summary.json").write_text("{}"), "summary.json was changed"),
    (lambda d: (d / "notes.txt").write_text("x"), "notes.txt is not part"),
    (lambda d: (d / "series.parquet").write_bytes(b"PAR1 garbage"), "series.parquet was changed"),
    (lambda d: (d / "manifest.json").write_text(
        (d / "manifest.json").read_text().replace('"seed": 20261127', '"seed": 1')),
     "changed after it was written"),
])
def test_load_refuses_an_incomplete_or_altered_folder(done, tmp_path, damage, message):
    d = copy(done, tmp_path)
    damage(d)
    with pytest.raises(OutFolderError, match=message) as info:
        Results.load(d)
    assert "\n" not in str(info.value)


def test_rerun_is_verified_identical(done, tmp_path, capsys):
    assert main(["rerun", str(done / "manifest.json"), "--out", str(tmp_path / "b"),
                 "--quiet"]) == 0
    assert "identical" in capsys.readouterr().out


def test_rerun_with_the_population_on_disk_is_verified_identical(done, tmp_path, capsys):
    """A run too big for memory is re-run as it was run (--population-on-disk)."""
    (tmp_path / "disk").mkdir()
    assert main(["rerun", str(done / "manifest.json"), "--out", str(tmp_path / "b"),
                 "--quiet", "--population-on-disk", str(tmp_path / "disk")]) == 0
    assert "identical" in capsys.readouterr().out
    assert list((tmp_path / "disk").iterdir()) == []
    assert main(["rerun", str(done / "manifest.json"), "--out", str(tmp_path / "c"),
                 "--quiet", "--population-on-disk", str(tmp_path / "none")]) == 2
    assert "--population-on-disk: " in capsys.readouterr().err


def test_rerun_refuses_other_code_and_reports_differences(done, tmp_path, capsys):
    other = copy(done, tmp_path)
    rewrite_manifest(other, lambda m: m.update(source_sha256="0" * 64))
    assert main(["rerun", str(other / "manifest.json"), "--out", str(tmp_path / "x")]) == 2
    assert "other code" in err_line(capsys)
    rewrite_manifest(other, lambda m: m["environment"].update(numpy="0.0"))
    assert main(["rerun", str(other / "manifest.json"), "--out", str(tmp_path / "x")]) == 2
    assert "numpy: 0.0" in err_line(capsys)
    # allowed: runs, warns, and here the data still match
    assert main(["rerun", str(other / "manifest.json"), "--out", str(tmp_path / "y"),
                 "--allow-different-code", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "identical" in captured.out
    # a stored checksum that the rerun does not reproduce: exit 1, naming the file
    rewrite_manifest(other, lambda m: m["files"].update({"summary.json": "0" * 64}))
    assert main(["rerun", str(other / "manifest.json"), "--out", str(tmp_path / "z"),
                 "--allow-different-code", "--quiet"]) == 1
    assert "DIFFERS" in capsys.readouterr().out


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.update(replicates="x"), "replicates"),
    (lambda m: m.update(replicates=0), "replicates"),
    (lambda m: m.update(scenario=[1]), "scenario"),
    (lambda m: m.update(kind="compare"), "compare manifest"),
])
def test_rerun_of_a_bad_manifest_is_one_line(done, tmp_path, capsys, edit, message):
    other = copy(done, tmp_path)
    rewrite_manifest(other, edit)
    assert main(["rerun", str(other / "manifest.json"), "--out", str(tmp_path / "x")]) == 2
    assert message in err_line(capsys)


def test_rerun_of_an_edited_manifest_is_refused(done, tmp_path):
    other = copy(done, tmp_path)
    text = (other / "manifest.json").read_text()
    (other / "manifest.json").write_text(text.replace('"people": 1500', '"people": 1600'))
    proc = run(["rerun", str(other / "manifest.json"), "--out", str(tmp_path / "x")])
    assert proc.returncode == 2 and one_line_error(proc) and "changed" in proc.stderr
    (other / "manifest.json").write_text("{not json")
    proc = run(["rerun", str(other / "manifest.json"), "--out", str(tmp_path / "x")])
    assert proc.returncode == 2 and one_line_error(proc)


def test_compare_out_is_never_merged_and_report_checks_its_inputs(tmp_path, capsys):
    out = tmp_path / "cmp"
    tiny = ["--replicates", "2", "--people", "1000", "--days", "10", "--burn-in", "0",
            "--quiet", "--out", str(out)]
    assert main(["compare", "baseline", "baseline:acts.traffic.rate=0.02", "rongcheng",
                 *tiny]) == 0
    assert len(list((out / "scenarios").glob("*.yaml"))) == 3
    assert "confounds" in capsys.readouterr().err  # the traffic-rate variant's society
    assert main(["compare", "baseline", "rongcheng", *tiny]) == 2
    assert "not empty" in err_line(capsys)
    assert main(["compare", "baseline", "rongcheng", *tiny, "--force"]) == 0
    assert len(list((out / "scenarios").glob("*.yaml"))) == 2  # no stale scenario file
    assert main(["report", str(out), "--no-figures"]) == 0
    capsys.readouterr()
    (out / "replicates.parquet").write_bytes(b"PAR1 not parquet PAR1")
    assert main(["report", str(out)]) == 2
    assert "replicates.parquet was changed" in err_line(capsys)

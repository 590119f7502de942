"""kill -9 while a run writes over an earlier result: afterwards the folder is the old
complete result or the new complete result, never a mix — and the next writer cleans up
what the killed one left."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from scslab.run.outfolder import OutFolder, verify_folder
from scslab.run.results import Results
from test_exit_codes import scslab_exe

RUN = ["run", "--people", "1000", "--days", "8", "--burn-in", "0", "--quiet"]


def seed_of(folder) -> int:
    """The folder must verify (complete, unaltered); its manifest's seed says which run."""
    manifest = verify_folder(folder)
    loaded = Results.load(folder)
    assert loaded.manifest["seed"] == manifest["seed"]
    return int(manifest["seed"])


def leftovers(parent, name) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name != name)


@pytest.mark.slow
def test_kill_9_at_random_points_of_a_run_over_an_earlier_result(tmp_path):
    out = tmp_path / "res"
    subprocess.run([*scslab_exe(), *RUN, "--seed", "1", "--out", str(out)], check=True,
                   timeout=300)
    t0 = time.perf_counter()
    subprocess.run([*scslab_exe(), *RUN, "--seed", "2", "--out", str(tmp_path / "timing")],
                   check=True, timeout=300)
    full = time.perf_counter() - t0
    seen = set()
    for frac in (0.2, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1.0):
        seed = 3 + len(seen)
        proc = subprocess.Popen([*scslab_exe(), *RUN, "--seed", str(seed), "--force",
                                 "--out", str(out)], stderr=subprocess.PIPE)
        time.sleep(frac * full)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        got = seed_of(out)  # old or new, complete either way
        assert got in (seed, *seen, 1)
        seen.add(got)
    # the next writer recovers: no staging folder or lock file of the killed ones is left
    subprocess.run([*scslab_exe(), *RUN, "--seed", "99", "--force", "--out", str(out)],
                   check=True, timeout=300)
    assert seed_of(out) == 99
    assert leftovers(tmp_path, "res") == ["timing"]


KILL_AT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import scslab.run.outfolder as of

    target, point = Path(sys.argv[1]), sys.argv[2]
    real_exchange, real_rename = of._exchange, of.os.rename

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "no-exchange":          # a file system without RENAME_EXCHANGE,
        of._exchange = lambda a, b: False  # killed between its two renames
        calls = []
        def rename(a, b):
            real_rename(a, b)
            calls.append(b)
            if len(calls) == 1:
                die()
        of.os.rename = rename
    folder = of.OutFolder(target, force=True).open()
    (folder.path("") / "series.parquet").write_bytes(b"new")
    if point == "before-manifest":
        die()
    if point == "before-swap":
        of._fsync_tree = lambda root: die()
    folder.commit({"seed": 2, "kind": "test"})
""")


@pytest.mark.parametrize("point", ["before-manifest", "before-swap", "no-exchange"])
def test_kill_9_inside_the_commit(tmp_path, point):
    out = tmp_path / "res"
    with OutFolder(out) as folder:
        (folder.path("") / "series.parquet").write_bytes(b"old")
        folder.commit({"seed": 1, "kind": "test"})
    proc = subprocess.run([sys.executable, "-c", KILL_AT, str(out), point], timeout=120)
    assert proc.returncode == -signal.SIGKILL
    if point == "no-exchange":
        # between the renames the old result sits beside the target; the next writer
        # (holding the lock) puts it back before anything else
        with OutFolder(out, replace=True):
            pass
    assert json.loads((out / "manifest.json").read_text())["seed"] == 1
    assert verify_folder(out)["seed"] == 1 and (out / "series.parquet").read_bytes() == b"old"
    with OutFolder(out, force=True) as folder:  # recovery on open: staging and old removed
        assert leftovers(tmp_path, "res") == [f".res{'.scslab-lock'}",
                                              folder.staging.name]
        (folder.path("") / "series.parquet").write_bytes(b"new")
        folder.commit({"seed": 2, "kind": "test"})
    assert verify_folder(out)["seed"] == 2 and leftovers(tmp_path, "res") == []

"""Calibration wall time for a stated budget: the builtin target file, fitted on 2 cores.

Writes ``benchmarks/calibration.md`` (atomically) with the machine, its load, the budget,
the wall time and the fit. Run from the repository root:

    python -m benchmarks.calibration                       # 2000 people, 12 trials, 2 workers
    python -m benchmarks.calibration --people 10000 --trials 24

The calibration folder is ``out/bench-calibration`` (a rerun continues it: delete it,
or pass --fresh-folder, to time a cold fit).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "calibration.md"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--trials", type=int, default=12)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--profile-points", type=int, default=5)
    ap.add_argument("--polish", type=int, default=3)
    ap.add_argument("--folder", default="out/bench-calibration")
    ap.add_argument("--fresh-folder", action="store_true")
    a = ap.parse_args()

    from scslab.calibrate import calibrate, load_targets
    from scslab.calibrate.output import markdown, write_result
    from scslab.calibrate.store import RESULT
    from scslab.run.results import atomic_write_bytes

    folder = Path(a.folder)
    if a.fresh_folder and folder.exists():
        shutil.rmtree(folder)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    cal = calibrate(None, folder, trials=a.trials, batch=a.batch, workers=a.workers,
                    people=a.people, profile_points=a.profile_points, polish=a.polish)
    wall = time.perf_counter() - t0
    write_result(cal, folder / RESULT)
    load_after = os.getloadavg()
    tf = load_targets()
    runs = sum(1 for _ in folder.glob("state/*/parts/*.parquet"))
    text = "\n".join([
        "# Calibration wall time",
        "",
        f"Machine: {platform.node()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        f"Load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.1f}' for x in load_after)} — other developers' jobs "
        "shared the 2 cores, so this is an upper bound for an idle machine.",
        "",
        f"Budget: builtin target file, {a.people} people (file: {tf.people}), {tf.days} "
        f"days + burn-in {tf.burn_in}, {tf.replicates} replicates, {a.trials} trials in "
        f"batches of {a.batch}, {a.profile_points} profile points per parameter, "
        f"at most {a.polish} polish rounds ({cal.polish_rounds} used; "
        f"{'converged' if cal.converged else 'NOT converged'}), "
        f"{a.workers} local worker processes.",
        "",
        f"**Wall time: {wall:.0f} s** ({wall / 60:.1f} min); the folder holds {runs} runs "
        "(fit, profiles, held out; a rerun of a finished fit skips them all).",
        "",
        "Command: `python -m benchmarks.calibration --fresh-folder "
        f"--people {a.people} --trials {a.trials} --workers {a.workers} "
        f"--polish {a.polish}`",
        "",
        "## The fit",
        "",
        markdown(cal).split("\n", 2)[2],
    ])
    atomic_write_bytes(OUT, (text.rstrip() + "\n").encode())
    print(text)


if __name__ == "__main__":
    main()

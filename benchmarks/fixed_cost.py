"""Fixed cost of a small run: whole-process time of the ``scslab`` command at 1000 people.

Each command runs as a fresh process, ``--repeats`` times after one warm-up (which also
fills Numba's cache); for each run the wall time (``time.perf_counter`` around the child)
and its CPU time (user + sys from ``os.wait4``'s rusage) are recorded; the table gives the
median and the range. The machine is shared, so CPU time is the steadier figure; the
1-minute load average before and after the measurement is printed with the results.

Rows: the interpreter and import floors (``python -c pass``, NumPy, Numba, Numba plus its
first cached-kernel load), then ``scslab run rongcheng --people 1000 --days D --burn-in 0
--quiet`` at 30 and 365 days (their difference / 335 is the per-day cost), and with
``--out`` (figures on, and ``--no-figures``).

By default the children run with bytecode caching allowed (``PYTHONDONTWRITEBYTECODE``
removed from their environment), as in an ordinary install; ``--no-bytecode`` keeps the
variable (every ``scslab`` module is then compiled from source on each start).

    python -m benchmarks.fixed_cost                 # writes benchmarks/results-fixed-cost.md
    python -m benchmarks.fixed_cost --repeats 9 --no-bytecode
    python -m benchmarks.fixed_cost --baseline /path/to/other/checkout/src

With ``--baseline SRC`` every ``scslab`` row is also run with ``PYTHONPATH=SRC`` (another
checkout's source, e.g. main before these changes), alternating with this one run by run,
and the table gives both medians and the median of the per-run ratios.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).with_name("results-fixed-cost.md")
RUN = ["-m", "scslab", "run", "rongcheng", "--people", "1000", "--burn-in", "0", "--quiet"]


def _commands(tmp: Path) -> list[tuple[str, list[str], Path | None]]:
    py = sys.executable
    first_kernel = ("import numpy as np; from scslab.numerics.sets import priority_order; "
                    "priority_order(np.arange(3, dtype=np.uint64))")
    out = tmp / "out"
    return [
        ("python -c pass", [py, "-c", "pass"], None),
        ("import numpy", [py, "-c", "import numpy"], None),
        ("import numba", [py, "-c", "import numba"], None),
        ("import numba + one cached kernel", [py, "-c", first_kernel], None),
        ("run, 30 days, --quiet", [py, *RUN, "--days", "30"], None),
        ("run, 365 days, --quiet", [py, *RUN, "--days", "365"], None),
        ("run, 365 days, --out --no-figures", [py, *RUN, "--days", "365", "--out", str(out),
                                               "--no-figures"], out),
        ("run, 365 days, --out (figures)", [py, *RUN, "--days", "365", "--out", str(out)], out),
    ]


def _once(cmd: list[str], env: dict, clean: Path | None) -> tuple[float, float]:
    if clean is not None:
        shutil.rmtree(clean, ignore_errors=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}: {proc.stderr.read().decode()[-400:]}")
    return wall, ru.ru_utime + ru.ru_stime


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-bytecode", action="store_true",
                    help="keep PYTHONDONTWRITEBYTECODE (compile scslab from source each run)")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--baseline", type=Path, default=None,
                    help="another checkout's src/ to compare the scslab rows with")
    args = ap.parse_args(argv)
    env = dict(os.environ)
    if not args.no_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    load0 = os.getloadavg()
    rows = []
    base_env = None
    if args.baseline is not None:
        base_env = dict(env, PYTHONPATH=str(args.baseline.resolve()))
    with tempfile.TemporaryDirectory() as tmp:
        for label, cmd, clean in _commands(Path(tmp)):
            envs = [env] + ([base_env] if base_env and "-m" in cmd else [])  # scslab rows
            for e in envs:
                _once(cmd, e, clean)  # warm-up: page cache, Numba cache, bytecode
            walls, cpus, bwalls, bcpus = [], [], [], []
            for _ in range(args.repeats):
                w, c = _once(cmd, env, clean)
                walls.append(w)
                cpus.append(c)
                if len(envs) > 1:
                    w, c = _once(cmd, base_env, clean)
                    bwalls.append(w)
                    bcpus.append(c)
            rows.append((label, cpus, walls, bcpus, bwalls))
            extra = f"  baseline cpu {_fmt(bcpus)}" if bcpus else ""
            print(f"{label:40s} cpu {_fmt(cpus)}  wall {_fmt(walls)}{extra}", flush=True)
    load1 = os.getloadavg()
    med = {r[0]: statistics.median(r[1]) for r in rows}
    per_day = (med["run, 365 days, --quiet"] - med["run, 30 days, --quiet"]) / 335

    def row(label, c, w, bc, bw) -> str:
        if not bc:
            return f"| {label} | {_fmt(c)} | {_fmt(w)} | | | | |"
        ratio = statistics.median([a / b for a, b in zip(c, bc, strict=True)])
        wall_ratio = statistics.median([a / b for a, b in zip(w, bw, strict=True)])
        return (f"| {label} | {_fmt(c)} | {_fmt(w)} | {_fmt(bc)} | {_fmt(bw)} | {ratio:.2f} "
                f"| {wall_ratio:.2f} |")

    walls = {r[0]: statistics.median(r[2]) for r in rows}
    quiet, with_out = walls["run, 365 days, --quiet"], walls["run, 365 days, --out (figures)"]

    lines = [
        "# Fixed cost of a small run (whole process)",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"load average (1 min) {load0[0]:.2f} before, {load1[0]:.2f} after — the machine "
        "is shared, so CPU time (user + sys of the child) is the figure to quote; wall "
        "time grows with the other processes' load.",
        f"Median of {args.repeats} runs after one warm-up (range in brackets); bytecode "
        f"caching {'off (PYTHONDONTWRITEBYTECODE=1)' if args.no_bytecode else 'on'}"
        + (f"; baseline = `PYTHONPATH={args.baseline}`" if args.baseline else "") + ".",
        "Reproduce: `python -m benchmarks.fixed_cost"
        f"{' --no-bytecode' if args.no_bytecode else ''} --repeats {args.repeats}"
        + (" --baseline SRC" if args.baseline else "") + "`.",
        "",
        "| command | CPU s (user+sys) | wall s | baseline CPU s | baseline wall s | "
        "CPU ratio (this / baseline) | wall ratio |",
        "|---|---|---|---|---|---|---|",
        *[row(*r) for r in rows],
        "",
        f"Issue 21's targets, whole process: the 365-day run ≤ 1.0 s ({quiet:.2f} s: "
        f"{'met' if quiet <= 1.0 else 'not met'}); with `--out` ≤ 2.0 s ({with_out:.2f} s: "
        f"{'met' if with_out <= 2.0 else 'not met'}).",
        "",
        f"Per simulated day at 1000 people (365-day minus 30-day run, CPU): "
        f"{per_day * 1e3:.2f} ms.",
        "",
    ]
    from scslab.run.results import atomic_write_bytes

    atomic_write_bytes(args.out, "\n".join(lines).encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

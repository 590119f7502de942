"""One Numba thread against two: a whole ``scslab run`` process (issue #21, "both cores").

Runs ``scslab run SCENARIO --people N --days D --burn-in 0 --quiet --out TMP --no-figures``
with ``NUMBA_NUM_THREADS=1`` and ``=2``, alternately, ``--repeats`` times each, and records
wall and CPU (user + sys of the child, ``os.wait4``) with the load average around each
run. Only the kernels written with ``prange`` use the second thread (see
``benchmarks/hotspots.md``); their outputs are bit-identical for any thread count
(``tests/test_results.py``).

On a shared, loaded machine the 2-thread wall time is not meaningful (a second core is
free only when the load is below 1); CPU time then shows the parallel overhead only.

Writes ``benchmarks/results-threads.md`` (atomically) with machine, date and load.

    python -m benchmarks.threads --people 1000000 --days 365 --repeats 2 rongcheng
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.fixed_cost import _once

OUT = Path(__file__).with_name("results-threads.md")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="rongcheng")
    ap.add_argument("--people", type=float, default=1e6)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    results: dict[str, list[tuple[float, float, float, float]]] = {"1": [], "2": []}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "scslab", "run", args.scenario, "--people",
               str(int(args.people)), "--days", str(args.days), "--burn-in", "0", "--quiet",
               "--out", str(out), "--no-figures"]
        for _ in range(args.repeats):
            for threads in ("1", "2"):
                before = os.getloadavg()[0]
                wall, cpu = _once(cmd, dict(os.environ, NUMBA_NUM_THREADS=threads), out)
                results[threads].append((wall, cpu, before, os.getloadavg()[0]))
                print(threads, f"wall {wall:.1f} s, CPU {cpu:.1f} s, load {before:.1f}",
                      flush=True)
    lines = [
        f"# One Numba thread against two: {args.scenario}, {int(args.people):,} people × "
        f"{args.days} days, whole process with outputs (no figures)",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}.",
        f"Reproduce: `python -m benchmarks.threads --people {int(args.people)} --days "
        f"{args.days} --repeats {args.repeats} {args.scenario}`.",
        "",
        "| NUMBA_NUM_THREADS | wall s (median, runs) | CPU s (median, runs) | load average "
        "(1 min) before each run |",
        "|---|---|---|---|",
    ]
    for threads, rows in results.items():
        lines.append(
            f"| {threads} | {statistics.median(r[0] for r in rows):.1f} "
            f"({', '.join(format(r[0], '.1f') for r in rows)}) | "
            f"{statistics.median(r[1] for r in rows):.1f} "
            f"({', '.join(format(r[1], '.1f') for r in rows)}) | "
            f"{', '.join(format(r[2], '.1f') for r in rows)} |")
    loads = [r[2] for rows in results.values() for r in rows]
    lines += ["", ("The load was above 2 throughout: both cores were busy with other work, "
                   "so the 2-thread wall time does not show what a second free core gives."
                   if min(loads) > 2 else "The load was below 2 for some runs.")
              if loads else "", ""]
    from scslab.run.results import atomic_write_bytes

    atomic_write_bytes(args.out, "\n".join(lines).encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Time per module per day for builtin scenarios (where the hot spots are).

``python -m benchmarks.profile_modules [scenario ...] --people 100000 --start 1200 --days 100``
prints, per scenario, ms per day for each module (and the engine's own share), measured
over ``--days`` days from day ``--start`` of the scenario's default horizon (costs grow
as dossiers fill, so the middle of a run is more telling than its first days). Single
process, with Numba's threads (every core unless ``NUMBA_NUM_THREADS`` says otherwise).

``--threads 1 2`` profiles each scenario once per thread count (each a fresh run of the
same days) and prints a table: each module's ms per day at each count and, from the
first and last, the part that did not shrink with more threads —
``S = (k·T_k − T_1) / (k − 1)`` for ``T = S + P/k`` — which more cores cannot take off
(``benchmarks/hotspots.md``, "Tenth round").
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import numba

from scslab.run.engine import Sim
from scslab.run.results import atomic_write_bytes
from scslab.scenario import load_scenario
from scslab.scenario.loader import builtin_names


def profile(name: str, people: int, start: int, days: int) -> tuple[dict[str, float], float, float]:
    """ms per day for each module, ms per day in all, and build seconds."""
    sc = load_scenario(name, people=people)
    skip = min(start, sc.time.burn_in + sc.time.days - days)
    t0 = time.perf_counter()
    sim = Sim(sc)
    build = time.perf_counter() - t0
    spent: dict[str, float] = defaultdict(float)
    for module in sim.modules:
        step = module.step

        def timed(view, day, _step=step, _name=module.name):
            t = time.perf_counter()
            _step(view, day)
            if day >= skip:
                spent[_name] += time.perf_counter() - t

        module.step = timed  # type: ignore[method-assign]
    sim.run(until=skip)
    t0 = time.perf_counter()
    sim.run(until=skip + days)
    total = time.perf_counter() - t0
    n = days
    per = {k: 1e3 * v / n for k, v in spent.items()}
    return per, 1e3 * total / n, build


def serial_part(t_first: float, t_last: float, k_first: int, k_last: int) -> float:
    """The time that did not shrink with threads, ``S`` in ``T(k) = S + P/k``, from two
    thread counts."""
    if k_last == k_first:
        return t_first
    p = (t_first - t_last) / (1 / k_first - 1 / k_last)
    return t_first - p / k_first


def thread_table(name: str, people: int, start: int, days: int, threads: list[int]) -> str:
    """A Markdown table: ms per day by module at each thread count, and the serial part."""
    per, totals = [], []
    for k in threads:
        numba.set_num_threads(k)
        p, total, _ = profile(name, people, start, days)
        p["(engine)"] = total - sum(p.values())
        per.append(p)
        totals.append(total)
    modules = sorted(per[0], key=lambda m: -per[0][m])
    head = " | ".join(f"{k} thread{'s' if k > 1 else ''}" for k in threads)
    lines = [f"{name}, {people:,} people, days {start}-{start + days - 1} (ms per day)", "",
             f"| module | {head} | serial part |", "|---|" + "---:|" * (len(threads) + 1)]
    for m in ["(day)", *modules]:
        row = totals if m == "(day)" else [q.get(m, 0.0) for q in per]
        s = serial_part(row[0], row[-1], threads[0], threads[-1])
        cells = " | ".join(f"{v:.2f}" for v in row)
        lines.append(f"| {m} | {cells} | {s:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--people", type=float, default=1e5)
    ap.add_argument("--start", type=int, default=1200)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--threads", type=int, nargs="+", default=None,
                    help="profile at each of these Numba thread counts and print a table")
    ap.add_argument("--out", type=Path, default=None,
                    help="with --threads: also write the tables to this Markdown file")
    a = ap.parse_args(argv)
    if a.out is not None and not a.threads:
        ap.error("--out: only with --threads")
    if a.out is not None and not os.access(a.out.parent if str(a.out.parent) else ".",
                                           os.W_OK):
        ap.error(f"--out: cannot write in {a.out.parent} (checked before profiling)")
    if a.threads:
        if min(a.threads) < 1 or max(a.threads) > numba.config.NUMBA_NUM_THREADS:
            ap.error(f"--threads: each between 1 and {numba.config.NUMBA_NUM_THREADS} "
                     "(NUMBA_NUM_THREADS)")
        tables = []
        for name in a.scenarios or builtin_names():
            tables.append(thread_table(name, int(a.people), a.start, a.days, a.threads))
            print(tables[-1], flush=True)
        if a.out is not None:  # whole or not at all, as the other benchmarks write
            atomic_write_bytes(a.out, "\n".join([
                "# Time per module per day by Numba thread count", "",
                f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
                f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical "
                f"CPUs, Python {platform.python_version()}; load average (1 min) "
                f"{os.getloadavg()[0]:.1f} at the end. Each thread count is a fresh run of "
                "the same days, one after the other; the serial part is "
                "S = (k·T_k − T_1)/(k − 1), an estimate as noisy as the two times it "
                "comes from.",
                "Reproduce: `python -m benchmarks.profile_modules "
                + " ".join(sys.argv[1:] if argv is None else argv) + "`.", "",
                "\n\n".join(tables), ""]).encode())
        return 0
    for name in a.scenarios or builtin_names():
        per, total, build = profile(name, int(a.people), a.start, a.days)
        engine = total - sum(per.values())
        top = sorted(per.items(), key=lambda kv: -kv[1])[: a.top]
        parts = ", ".join(f"{k} {v:.2f}" for k, v in top)
        print(f"{name:22s} {total:6.2f} ms/day (build {build:.1f} s; engine {engine:.2f}): "
              f"{parts}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Time per agent-day from 10^5 to as many people as this machine holds (issue #21).

For each size (one fresh process each): the up-front memory estimate
(``run.memory.estimate_bytes``) against MemAvailable, then — if it fits, or with
``--force`` — the run itself: ``Sim`` build and ``Sim.run`` timed separately (CPU =
process time, and wall), peak RSS of the process (``ru_maxrss``), and the run phase's
CPU nanoseconds per agent-day, with its ratio to the smallest size's.

Writes ``benchmarks/results-scale.md`` (atomically) with machine, date and load.

    python -m benchmarks.scale --days 30 rongcheng 1e5 1e6 1e7 5e7 1e8
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.memory import resident

OUT = Path(__file__).with_name("results-scale.md")
BASE_RSS = 180 * 2**20  # the interpreter with its kernels loaded (benchmarks/memory.py)


def child(scenario: str, people: int, days: int, on_disk: Path | None) -> dict:
    import threading

    from scslab.run.engine import Sim
    from scslab.run.memory import available_bytes, estimate_bytes
    from scslab.scenario import load_scenario

    sc = load_scenario(scenario, people=people, days=days, burn_in=0)
    est = estimate_bytes(sc, population_on_disk=on_disk is not None)["need"]
    peak_anon, stop = [0], threading.Event()

    def sample() -> None:
        # RssAnon has no high-water mark: sampled twice a second, when compiled code lets
        # go of the interpreter, and once at the end — a lower bound of the peak
        while not stop.wait(0.5):
            peak_anon[0] = max(peak_anon[0], resident()["RssAnon"])

    threading.Thread(target=sample, daemon=True).start()
    t0, w0 = time.process_time(), time.perf_counter()
    sim = Sim(sc, population_on_disk=on_disk)
    build_cpu, build_wall = time.process_time() - t0, time.perf_counter() - w0
    t0, w0 = time.process_time(), time.perf_counter()
    sim.run()
    run_cpu, run_wall = time.process_time() - t0, time.perf_counter() - w0
    stop.set()
    peak_anon[0] = max(peak_anon[0], resident()["RssAnon"])
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"people": people, "days": days, "estimate": est, "available": available_bytes(),
            "build_cpu": build_cpu, "build_wall": build_wall, "run_cpu": run_cpu,
            "run_wall": run_wall, "peak_rss": rss, "peak_anon": peak_anon[0],
            "ns_per_agent_day": run_cpu / (people * days) * 1e9,
            "state": sim.bytes_per_person()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario")
    ap.add_argument("sizes", nargs="+", type=float)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--force", action="store_true", help="run even if the estimate says no")
    ap.add_argument("--threads", type=int, default=1, help="NUMBA_NUM_THREADS of the runs")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--population-on-disk", type=Path, metavar="DIR",
                    help="map the population's arrays from files in DIR (as `scslab run "
                         "--population-on-disk`): how 10^8 people fit in 24 GiB")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.scenario, int(args.sizes[0]), args.days,
                               args.population_on_disk)))
        return 0
    from scslab.run.memory import available_bytes, estimate_bytes, gigabytes
    from scslab.scenario import load_scenario

    rows, notes = [], []
    loads = [os.getloadavg()[0]]
    on_disk = args.population_on_disk
    on_disk_args = [] if on_disk is None else ["--population-on-disk", str(on_disk)]
    for size in args.sizes:
        n = int(size)
        need = estimate_bytes(load_scenario(args.scenario, people=n, days=args.days,
                                            burn_in=0),
                              population_on_disk=on_disk is not None)["need"]
        avail = available_bytes() or 0
        if need > avail and not args.force:
            notes.append(f"- {n:,} people: not run — the up-front estimate needs "
                         f"{gigabytes(need)}, {gigabytes(avail)} was available.")
            print(notes[-1], flush=True)
            continue
        if rows and not args.force:  # the measured peak per person of the largest size so far
            last = rows[-1]
            # mapped pages can be dropped by the OS: only the anonymous part must fit
            held = last["peak_anon"] if on_disk is not None else last["peak_rss"]
            per = (held - BASE_RSS) / last["people"]
            guess = BASE_RSS + per * n
            if guess > 0.9 * avail:
                notes.append(
                    f"- {n:,} people: not run — the peak RSS measured at {last['people']:,} "
                    f"({per:.0f} B per person above ~{BASE_RSS / 2**20:.0f} MiB of "
                    f"interpreter) extrapolates to {gigabytes(guess)}, more than 90 % of the "
                    f"{gigabytes(avail)} available (no swap: the OS would kill it; the "
                    f"up-front estimate said {gigabytes(need)}).")
                print(notes[-1], flush=True)
                continue
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--child",
                               args.scenario, str(n), "--days", str(args.days),
                               *on_disk_args],
                              capture_output=True, text=True,
                              env=dict(os.environ, NUMBA_NUM_THREADS=str(args.threads)))
        if proc.returncode != 0:
            notes.append(f"- {n:,} people: failed (exit {proc.returncode}): "
                         f"{proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ''}")
            print(notes[-1], flush=True)
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["process_wall"] = time.perf_counter() - t0
        loads.append(os.getloadavg()[0])
        r["load"] = loads[-1]
        rows.append(r)
        print(r, flush=True)
    base = rows[0]["ns_per_agent_day"] if rows else 1.0
    lines = [
        f"# Scale: {args.scenario}, {args.days} days, time per agent-day by size",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}; load average (1 min) "
        f"{', '.join(format(x, '.1f') for x in loads)} (before, then after each size). The "
        "machine is shared: CPU (process time) is the figure to trust, wall is shown for "
        f"reference. NUMBA_NUM_THREADS={args.threads}.",
        f"Reproduce: `python -m benchmarks.scale --days {args.days} --threads {args.threads} "
        f"{args.scenario} "
        f"{' '.join(format(s, 'g') for s in args.sizes)}"
        f"{'' if on_disk is None else ' --population-on-disk ' + str(on_disk)}`.",
        "Peak RSS counts the pages of mapped files the process has touched (the OS may drop "
        "them); peak anonymous (RssAnon, sampled twice a second and at the end: a lower bound) "
        "is what must fit in memory.",
        "",
        "| people | build CPU s (wall) | run CPU s (wall) | run CPU ns / agent-day | ratio to "
        "smallest | peak RSS | peak RSS / person | peak anonymous / person | up-front "
        "estimate | load after |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['people']:,} | {r['build_cpu']:.1f} ({r['build_wall']:.1f}) | "
            f"{r['run_cpu']:.1f} ({r['run_wall']:.1f}) | {r['ns_per_agent_day']:.0f} | "
            f"{r['ns_per_agent_day'] / base:.2f} | {gigabytes(r['peak_rss'])} | "
            f"{r['peak_rss'] / r['people']:.0f} B | {r['peak_anon'] / r['people']:.0f} B | "
            f"{gigabytes(r['estimate'])} | "
            f"{r['load']:.1f} |")
    lines += ["", *notes, ""]
    from scslab.run.results import atomic_write_bytes

    atomic_write_bytes(args.out, "\n".join(lines).encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

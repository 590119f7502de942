"""Facts for partitioning one simulation by region (docs/scaling.md): what would cross.

For a builtin scenario at N people, builds the world and runs D days, then reports:

* bytes per person of the state (``Sim.bytes_per_person``), in total and by owning module;
* the regions and the share of network links whose ends live in different regions (each
  such link is a read across partitions for the learning and market kernels);
* the people per region (the balance of a partition by region);
* CPU seconds per simulated day (``time.process_time``), one process.

Writes ``benchmarks/results-partition.md`` (atomically) with machine, date and load.

    python -m benchmarks.partition_facts --people 100000 --days 30 rongcheng corporate
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("results-partition.md")


def facts(name: str, people: int, days: int) -> list[str]:
    from scslab.run.engine import Sim
    from scslab.scenario import load_scenario

    sc = load_scenario(name, people=people, days=days, burn_in=0)
    t0 = time.process_time()
    sim = Sim(sc)
    build = time.process_time() - t0
    w = sim.world
    region = w.arrays["people.region"].astype(np.int64)
    lines = [f"## {name}: {people:,} people, {days} days", ""]
    if "people.net_offsets" in w.arrays:
        off = w.arrays["people.net_offsets"].astype(np.int64)
        nb = w.arrays["links.neighbour"].astype(np.int64)
        owner = np.repeat(np.arange(off.size - 1), np.diff(off))
        cross = float(np.mean(region[owner] != region[nb])) if nb.size else 0.0
        lines.append(f"- network: {nb.size:,} directed links ({nb.size / people:.1f} per "
                     f"person); {cross:.1%} join people of different regions")
    counts = np.bincount(region)
    lines.append(f"- regions: {counts.size}; people per region {counts.min():,}–"
                 f"{counts.max():,}")
    t0 = time.process_time()
    sim.run()
    run = time.process_time() - t0
    lines.append(f"- CPU: build {build:.2f} s, {run / days * 1e3:.1f} ms per simulated day")
    total = sim.bytes_per_person()
    owners = sorted({w.owner[n] for n in w.arrays})
    by = sorted(((sim.bytes_per_person(o), o) for o in owners), reverse=True)
    lines.append(f"- state: {total:.1f} bytes per person; by owner: "
                 + ", ".join(f"{o} {b:.1f}" for b, o in by if b >= 1.0))
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenarios", nargs="*", default=["rongcheng"])
    ap.add_argument("--people", type=float, default=1e5)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    load0 = os.getloadavg()[0]
    body = []
    for name in args.scenarios:
        body += facts(name, int(args.people), args.days)
        print("\n".join(body[-6:]), flush=True)
    head = [
        "# Partitioning by region: measured facts",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}; load average (1 min) {load0:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after (CPU time, not wall, is quoted).",
        f"Reproduce: `python -m benchmarks.partition_facts --people {int(args.people)} "
        f"--days {args.days} {' '.join(args.scenarios)}`.",
        "",
    ]
    from scslab.run.results import atomic_write_bytes

    atomic_write_bytes(args.out, "\n".join(head + body).encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Memory per person, measured two ways (docs/scaling.md, "Memory per person").

For each scenario at N people (one fresh process each, so peaks do not mix):

* **state** — the World's arrays per person (``Sim.bytes_per_person``: arrays of the
  ``people`` and ``links`` entities), in total and by owning module;
* **held** — resident memory the simulation holds after the run, above the interpreter with
  its kernels loaded (a warm-up run of 2,000 people comes first), divided by N: the state
  plus every module's private indexes, the dossier and the counters;
* **peak build** and **peak run** — the high-water mark of resident memory
  (``VmHWM``, reset through ``/proc/self/clear_refs`` between phases) above that same
  baseline, divided by N: building (population synthesis, network, module set-up) and
  running the days.

With ``--sites`` the allocation sites holding memory after the run are listed too
(``tracemalloc``, NumPy reports its buffers to it), in bytes per person.

Writes ``benchmarks/results-memory.md`` (atomically) with machine, date and load.

    python -m benchmarks.memory --people 1000000 --days 30 rongcheng benchmarks/every-module.yaml
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).with_name("results-memory.md")


def resident() -> dict[str, int]:
    out = {}
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) * 1024
    return out


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
        fh.write("5")


def measure(scenario: str, people: int, days: int, sites: bool, burn_in: int = 0) -> dict:
    """Run in the child process: the figures for one scenario, as a dict."""
    import gc
    import time

    from scslab.run.engine import Sim
    from scslab.run.memory import estimate_bytes
    from scslab.scenario import load_scenario

    Sim(load_scenario(scenario, people=2000, days=2, burn_in=0)).run()  # load the kernels
    sc = load_scenario(scenario, people=people, days=days, burn_in=burn_in)
    estimate = estimate_bytes(sc)
    gc.collect()
    base = resident()["VmRSS"]
    if sites:
        import tracemalloc

        tracemalloc.start(10)
    reset_peak()
    t0 = time.process_time()
    sim = Sim(sc)
    build_cpu = time.process_time() - t0
    peak_build = resident()["VmHWM"]
    reset_peak()
    t0 = time.process_time()
    sim.run()
    run_cpu = time.process_time() - t0
    st = resident()
    w = sim.world
    owners = sorted({w.owner[name] for name in w.arrays})
    by_owner = {o: sim.bytes_per_person(o) for o in owners}
    truth_bytes = sum(a.nbytes for chunk in w.truth.chunks.values() for a in chunk.values())
    out = {
        "scenario": scenario, "people": people, "days": days, "burn_in": burn_in,
        "estimate_build": estimate["synthesis"] / people,
        "estimate_run": estimate["running"] / people,
        "records": (w.dossier.nbytes() + truth_bytes) / people,
        "records_per_person_day": w.dossier.total_records() / people / (days + burn_in),
        "modules": len(sim.module_classes),
        "state": sim.bytes_per_person(), "by_owner": by_owner,
        "held": (st["VmRSS"] - base) / people,
        "peak_build": (peak_build - base) / people,
        "peak_run": (st["VmHWM"] - base) / people,
        "base_mb": base / 2**20, "build_cpu": build_cpu, "run_cpu": run_cpu,
    }
    if sites:
        import collections
        import tracemalloc

        agg: collections.Counter = collections.Counter()
        for stat in tracemalloc.take_snapshot().statistics("traceback"):
            frames = [f for f in stat.traceback if "/scslab/" in f.filename]
            key = (f"{frames[-1].filename.split('scslab/')[-1]}:{frames[-1].lineno}"
                   if frames else "(outside scslab)")
            agg[key] += stat.size
        out["sites"] = [(k, v / people) for k, v in agg.most_common() if v / people >= 0.5]
    return out


def _row(r: dict) -> str:
    days = r["days"] + r.get("burn_in", 0)
    return (f"| {r['scenario']} | {r['modules']} | {r['people']:,} × {days} | "
            f"{r['state']:.1f} | {r['held']:.1f} | {r['peak_build']:.1f} | "
            f"{r['peak_run']:.1f} | {r['build_cpu']:.1f} / {r['run_cpu']:.1f} |")


def _estimate_row(r: dict) -> str:
    """The up-front estimate (``scslab.run.memory``) against what was measured."""
    days = r["days"] + r.get("burn_in", 0)
    return (f"| {r['scenario']} | {r['people']:,} × {days} | {r['estimate_build']:.1f} | "
            f"{r['peak_build']:.1f} | {r['estimate_run']:.1f} | {r['peak_run']:.1f} | "
            f"{r['records']:.1f} ({r['records_per_person_day']:.4f} records per person-day) |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenarios", nargs="*", default=["rongcheng", "benchmarks/every-module.yaml"])
    ap.add_argument("--people", type=float, default=1e6)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--burn-in", type=int, default=0, help="burn-in days before --days")
    ap.add_argument("--sites", action="store_true", help="list the allocation sites held")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, int(args.people), args.days, args.sites,
                                 args.burn_in)))
        return 0
    load0 = os.getloadavg()[0]
    rows = []
    for name in args.scenarios:
        cmd = [sys.executable, "-m", "benchmarks.memory", "--child", name,
               "--people", str(int(args.people)), "--days", str(args.days),
               "--burn-in", str(args.burn_in)]
        if args.sites:
            cmd.append("--sites")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(_row(rows[-1]), flush=True)
    lines = [
        "# Memory per person: measured",
        "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}; load average (1 min) {load0:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after. Bytes are not affected by the load; CPU seconds "
        "are process time.",
        f"Reproduce: `python -m benchmarks.memory --people {int(args.people)} --days "
        f"{args.days}{f' --burn-in {args.burn_in}' if args.burn_in else ''}"
        f"{' --sites' if args.sites else ''} {' '.join(args.scenarios)}`.",
        "Definitions: docs/scaling.md, \"Memory per person\". All figures in bytes per "
        "person; RSS figures are above the interpreter with its kernels loaded "
        f"({', '.join(format(r['base_mb'], '.0f') for r in rows)} MiB).",
        "",
        "| scenario | modules on | people × days | state (World arrays) | held after run (RSS) "
        "| peak RSS, build | peak RSS, run | CPU s build / run |",
        "|---|---|---|---|---|---|---|---|",
        *[_row(r) for r in rows],
        "",
        "The up-front estimate (`scslab.run.memory.estimate_bytes`, B/person, the "
        "interpreter excluded) against the measured peaks above the interpreter; records: "
        "the dossier and truth store held at the end.",
        "",
        "| scenario | people × days | estimate, build | peak RSS, build | estimate, run "
        "| peak RSS, run | records held |",
        "|---|---|---|---|---|---|---|",
        *[_estimate_row(r) for r in rows],
        "",
    ]
    for r in rows:
        lines.append(f"**{r['scenario']}**, World arrays by owning module (B/person): "
                     + ", ".join(f"{o} {b:.1f}" for o, b in
                                 sorted(r["by_owner"].items(), key=lambda kv: -kv[1])
                                 if b >= 0.5))
        lines.append("")
        if "sites" in r:
            lines.append(f"**{r['scenario']}**, allocation sites held after the run "
                         "(tracemalloc, B/person): "
                         + ", ".join(f"`{k}` {v:.1f}" for k, v in r["sites"]))
            lines.append("")
    from scslab.run.results import atomic_write_bytes

    atomic_write_bytes(args.out, "\n".join(lines).encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

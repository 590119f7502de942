"""Full-scenario performance: rongcheng at 10^6, scaling per agent-day, memory per person.

Writes ``benchmarks/results-scenarios.md`` (atomically). Run from the repository root:

    python -m benchmarks.full_scenarios            # rongcheng 10^6 × 365, scaling to 10^6, memory
    python -m benchmarks.full_scenarios --big      # scaling to 10^7 as well (≈ 6 GB, minutes)
    python -m benchmarks.full_scenarios --ensemble # and the 10-replicate compare (≈ 30 min here)

Each measurement runs in a fresh subprocess, so compile caches are warm but no state is
shared; wall times include import, synthesis and building unless stated.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "results-scenarios.md"
BUILTINS = ["baseline", "rongcheng", "national-blacklist", "checkpoint-region",
            "western-fragmented", "eu-ai-act", "export", "corporate", "transparent-officials",
            "credit-bureau"]

SCALING = """
import json, time
from scslab.scenario import load_scenario
from scslab.run.engine import Sim
n, days = {n}, {days}
s = load_scenario("rongcheng", people=n, days=days, burn_in=0)
t = time.perf_counter(); sim = Sim(s); build = time.perf_counter() - t
sim.run(until=3)
t = time.perf_counter(); sim.run(); dt = time.perf_counter() - t
print(json.dumps({{"build": build, "ns": dt / (n * (days - 3)) * 1e9,
                   "ms_day": dt / (days - 3) * 1e3}}))
"""

MEMORY = """
import json, resource, numpy as np
from scslab.scenario import load_scenario
from scslab.run.engine import Sim
def walk(x):
    if isinstance(x, np.ndarray): return x.nbytes
    if isinstance(x, dict): return sum(walk(v) for v in x.values())
    if isinstance(x, (list, tuple)): return sum(walk(v) for v in x)
    return 0
n = 100_000
s = load_scenario("{name}", {sets!r}, people=n, days=730, burn_in=0)
sim = Sim(s); sim.run(); w = sim.world
d = w.dossier
# per-record sidecars grow with the dossier, so they are priced per record, not per
# person: the points each record applied (kept to reverse them if the record is removed)
# and the surveillance metrics' verdict on each record (correct? lawful act?)
applied = walk(w.state.get("scoring", {{}}).get("applied", {{}}))
verdicts = walk(w.state.get("surveillance_metrics", {{}}).get("verdicts"))
records = int(d.live_count.sum())
print(json.dumps({{"arrays": sum(a.nbytes for a in w.arrays.values()) / n,
                   "state": (walk(w.state) - applied - verdicts) / n,
                   "applied_per_record": applied / max(records, 1),
                   "verdicts_per_record": verdicts / max(records, 1),
                   "index": (d.head.nbytes + d.live_count.nbytes) / n,
                   "modules": len(sim.modules),
                   "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / n}}))
"""

#: Every registered module switched on (28): corporate (markets, firms, officials, the
#: court list and joint sanctions) plus the point score, surveillance with a watchlist,
#: the credit bureau and discretionary evaluations.
ALL_MODULES = ("corporate", ["modules.scoring.enabled=true", "modules.surveillance.enabled=true",
                             "modules.watchlist.enabled=true",
                             "modules.credit_bureau.enabled=true",
                             "modules.evaluations.enabled=true"])


def _python(code: str, timeout: float = 1800) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=timeout, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _timed(cmd: list[str], timeout: float = 3600) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, timeout=timeout, capture_output=True)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="scaling up to 10^7 people")
    ap.add_argument("--ensemble", action="store_true", help="time the 10-replicate compare")
    args = ap.parse_args(argv)
    scslab = [sys.executable, "-m", "scslab"]
    lines = ["# Full-scenario benchmark", "",
             "Produced by `python -m benchmarks.full_scenarios"
             + (" --big" if args.big else "") + (" --ensemble" if args.ensemble else "")
             + "`; 2-core machine, " + f"Python {platform.python_version()}.", ""]

    with tempfile.TemporaryDirectory() as tmp:  # with outputs, as issue 21's target says
        wall = _timed([*scslab, "run", "rongcheng", "--people", "1000000", "--days", "365",
                       "--burn-in", "0", "--quiet", "--out", str(Path(tmp) / "run")])
    lines += ["## rongcheng, 10^6 people × 365 days", "",
              f"`scslab run rongcheng --people 1000000 --days 365 --burn-in 0 --quiet --out "
              f"DIR`: **{wall:.1f} s** wall (import, synthesis, build, run, files and "
              f"figures; issue 21's target ≤ 10 s: {'met' if wall <= 10 else 'NOT met'}).", ""]

    sizes = [(100_000, 120), (1_000_000, 60)] + ([(10_000_000, 20)] if args.big else [])
    rows = []
    for n, days in sizes:
        r = _python(SCALING.format(n=n, days=days))
        rows.append((n, r))
    ns = [r["ns"] for _, r in rows]
    lines += ["## rongcheng: time per agent-day by size (run only, after 3 warm days)", "",
              "| people | build (s) | ms per day | ns per agent-day |", "|---|---|---|---|"]
    lines += [f"| {n:,} | {r['build']:.1f} | {r['ms_day']:.1f} | {r['ns']:.1f} |"
              for n, r in rows]
    lines += ["", f"Largest / smallest: {max(ns) / min(ns):.2f}× (issue 21's target ≤ 1.3×).", ""]

    lines += ["## Memory per person (10^5 people, after two years: 730 days)", "",
              "State that lives as long as the run: population arrays (network included), "
              "module arrays and module state. Excluded, as the target says: the dossier "
              "(its per-subject index is shown; records are priced below) and temporaries "
              "(peak RSS of the process is shown, per person).", "",
              "| scenario | modules | arrays | module state | total | within 200 B | "
              "dossier index | peak RSS |", "|---|---|---|---|---|---|---|---|"]
    applied_per_record = verdicts_per_record = 0.0
    for name, sets in [(b, []) for b in BUILTINS] + [ALL_MODULES]:
        m = _python(MEMORY.format(name=name, sets=sets))
        if name == "rongcheng":
            applied_per_record = m["applied_per_record"]
        if sets:
            verdicts_per_record = m["verdicts_per_record"]
        total = m["arrays"] + m["state"]
        label = name if not sets else "**all modules on** (corporate + " + ", ".join(
            x.split(".")[1] for x in sets) + ")"
        lines.append(f"| {label} | {m['modules']} | {m['arrays']:.0f} | {m['state']:.0f} | "
                     f"{total:.0f} | {'yes' if total <= 200 else 'no'} | {m['index']:.0f} | "
                     f"{m['peak_rss']:.0f} |")
    lines += ["", "A dossier record costs 12 bytes (subject 4, act 1, source 1, kind 1, "
              "prev 4 as a 32-bit record number, tombstone 1; the observation it saw is "
              "implicit by place, or 4 bytes as a row of the day, or an 8-byte ref) plus, for "
              "each observation, a truth row of 10 bytes kept for the observers (true actor "
              "4, lawful 1, true act 1, act 4 as a row of the day; the observation's own row "
              "implicit by position), plus, where a point score runs, the points it "
              f"applied (kept to reverse them): {applied_per_record:.1f} bytes per live "
              "record in rongcheng, plus, where surveillance runs, its metrics' verdict on "
              f"each record (1 byte, in a growing buffer): {verdicts_per_record:.2f} bytes per "
              "live record with all modules on.", ""]

    if args.ensemble:
        wall = _timed([*scslab, "compare", *BUILTINS, "--replicates", "10", "--people", "100000",
                       "--workers", "2", "--quiet"], timeout=7200)
        lines += ["## Ensemble", "", f"10-replicate `scslab compare` of the {len(BUILTINS)} "
                  f"builtin scenarios at 10^5 people, 2 workers: **{wall:.0f} s** "
                  f"(issue 21's target ≤ 480 s: {'met' if wall <= 480 else 'NOT met'}).", ""]

    sys.path.insert(0, str(HERE.parent / "src"))
    from scslab.run.results import atomic_write_bytes

    atomic_write_bytes(OUT, ("\n".join(lines) + "\n").encode())
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

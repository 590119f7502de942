"""Run the four implementations of the reduced model and check that they agree.

Each implementation uses its own random numbers, so agreement is statistical. People are
independent in this model, so the tests are z-tests with binomial / Poisson standard
errors, each implementation against the Numba reference:

* mean violation rate over all days (N·T Bernoulli trials);
* detections per violation (should be COVERAGE);
* listed share on the last day (N independent people);
* blocked trips in total (Poisson).

Tolerance: |z| < 4 for every test (with 12 tests, a false alarm has probability ≈ 1e-3).
Exit status 1 on disagreement.

    python -m benchmarks.reduced.check_agreement [--people 10000] [--days 200]
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys

import numpy as np

IMPLEMENTATIONS = ("numba_reference", "scslab_model", "mesa_model", "starsim_model")
Z_MAX = 4.0


def statistics(out: dict[str, np.ndarray], n: int) -> dict[str, tuple[float, float]]:
    """(value, standard error) of each compared quantity."""
    days = out["violation_rate"].size
    viol = out["violation_rate"].sum() * n
    v = viol / (n * days)
    det = out["detections"].sum()
    c = det / viol
    listed = out["listed_share"][-1]
    blocked = out["blocked_trips"].sum()
    return {
        "violation_rate": (v, math.sqrt(v * (1 - v) / (n * days))),
        "detections_per_violation": (c, math.sqrt(c * (1 - c) / viol)),
        "listed_share_last_day": (listed, math.sqrt(max(listed * (1 - listed), 1e-12) / n)),
        "blocked_trips_total": (blocked, math.sqrt(max(blocked, 1.0))),
    }


def run_all(n: int, days: int, names=IMPLEMENTATIONS) -> dict[str, dict[str, np.ndarray]]:
    results = {}
    for name in names:
        mod = importlib.import_module(f"benchmarks.reduced.{name}")
        out = mod.run(n, days)
        for k, arr in out.items():
            if arr.size != days:
                raise AssertionError(f"{name}: {k} has {arr.size} days, expected {days}")
        results[name] = out
    return results


def compare(results: dict[str, dict[str, np.ndarray]], n: int) -> tuple[bool, list[str]]:
    ref_name = IMPLEMENTATIONS[0]
    ref = statistics(results[ref_name], n)
    ok = True
    lines = [f"| quantity | {' | '.join(results)} | max abs z vs {ref_name} |",
             "|---|" + "---|" * (len(results) + 1)]
    for q, (rv, rse) in ref.items():
        cells, zmax = [], 0.0
        for name, out in results.items():
            val, se = statistics(out, n)[q]
            cells.append(f"{val:.5g}")
            if name != ref_name:
                z = (val - rv) / math.sqrt(se * se + rse * rse)
                zmax = max(zmax, abs(z))
        ok &= zmax < Z_MAX
        lines.append(f"| {q} | {' | '.join(cells)} | {zmax:.2f}{'' if zmax < Z_MAX else ' FAIL'} |")
    return ok, lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=200)
    args = ap.parse_args(argv)
    results = run_all(args.people, args.days)
    ok, lines = compare(results, args.people)
    print(f"{args.people} people × {args.days} days; tolerance |z| < {Z_MAX}")
    print("\n".join(lines))
    print("AGREE" if ok else "DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

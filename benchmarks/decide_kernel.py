"""Compile and run time of the behaviour kernel ``_decide`` and of a whole run.

``python -m benchmarks.decide_kernel --people 100000 --days 365`` runs ``rongcheng`` (burn-in
0) and prints one JSON line: build and run seconds, the kernel's first call (its compile,
or the load from Numba's cache) and the sum of its other calls. Point ``NUMBA_CACHE_DIR`` at
an empty folder to time the compile; run again for the warm figures.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()

    import scslab.modules.people.behaviour as behaviour
    from scslab import Sim, load_scenario

    kernel: Callable[..., Any] = behaviour._decide
    first: list[float] = []
    rest = [0.0]

    def timed(*a: Any) -> Any:
        t = time.perf_counter()
        out = kernel(*a)
        dt = time.perf_counter() - t
        if first:
            rest[0] += dt
        else:
            first.append(dt)
        return out

    behaviour._decide = timed
    scenario = load_scenario("rongcheng", people=args.people, days=args.days, burn_in=0)
    t0 = time.perf_counter()
    sim = Sim(scenario)
    t1 = time.perf_counter()
    sim.run()
    t2 = time.perf_counter()
    print(json.dumps({
        "people": args.people, "days": args.days, "build_s": round(t1 - t0, 2),
        "run_s": round(t2 - t1, 2), "decide_first_call_s": round(first[0], 3) if first else None,
        "decide_other_calls_s": round(rest[0], 3),
        "violation_rate": sim.results().summary["violation_rate"],
    }))


if __name__ == "__main__":
    main()

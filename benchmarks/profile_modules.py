"""Time per module per day for builtin scenarios (where the hot spots are).

``python -m benchmarks.profile_modules [scenario ...] --people 100000 --start 1200 --days 100``
prints, per scenario, ms per day for each module (and the engine's own share), measured
over ``--days`` days from day ``--start`` of the scenario's default horizon (costs grow
as dossiers fill, so the middle of a run is more telling than its first days). Single process, one Numba thread unless
``NUMBA_NUM_THREADS`` says otherwise.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

from scslab.run.engine import Sim
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*")
    ap.add_argument("--people", type=float, default=1e5)
    ap.add_argument("--start", type=int, default=1200)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--top", type=int, default=8)
    a = ap.parse_args(argv)
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

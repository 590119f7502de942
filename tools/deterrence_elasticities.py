"""Elasticities of violations to perceived detection and severity, by paired runs.

    python tools/deterrence_elasticities.py                    # the defaults
    python tools/deterrence_elasticities.py --delta 7 --gamma 0.25 --seeds 1 2 3 4

The measurement of ``tests/test_citizens.py::test_deterrence_elasticities_are_the_calibrated_inputs``:
baseline at 10^4 people × 200 days (no burn-in), violations summed over the seeds, at
perceived detection × 1.1 and at perceived severity × 1.1, on common random numbers.
``modules.behaviour.deterrence_weight`` δ and ``severity_exponent`` γ are calibrated
inputs re-fitted with it (docs/parameters.md); ``--market`` also prints the unscreened
market fraud rate that ``modules.market.fraud_intercept`` α_m is set to hold (~4 %).
"""

from __future__ import annotations

import argparse
import math

from scslab.run.engine import Sim
from scslab.scenario import load_scenario


def violations(sets: list[str], seed: int) -> float:
    sim = Sim(load_scenario("baseline", sets, people=10_000, days=200, burn_in=0,
                            seed=seed)).run()
    return float(sim.world.counters.totals("violations", slice(None)).sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--delta", type=float, default=None)
    ap.add_argument("--gamma", type=float, default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--market", action="store_true")
    a = ap.parse_args()
    base = [] if a.delta is None else [f"modules.behaviour.deterrence_weight={a.delta}"]
    base += [] if a.gamma is None else [f"modules.behaviour.severity_exponent={a.gamma}"]
    b = sum(violations(base, s) for s in a.seeds)
    d = sum(violations([*base, "modules.behaviour.detection_perception_scale=1.1"], s)
            for s in a.seeds)
    v = sum(violations([*base, "modules.behaviour.sanction_perception_scale=1.1"], s)
            for s in a.seeds)
    print(f"delta={a.delta} gamma={a.gamma} seeds={a.seeds}: detection "
          f"{math.log(d / b) / math.log(1.1):.3f}, severity {math.log(v / b) / math.log(1.1):.3f}")
    if a.market:
        s = load_scenario("baseline", [*base, "modules.market.enabled=true",
                                       "modules.market.screening=none"],
                          people=6000, days=200, burn_in=60)
        print(f"unscreened fraud_rate {Sim(s).run().results().summary['fraud_rate']:.4f}")


if __name__ == "__main__":
    main()

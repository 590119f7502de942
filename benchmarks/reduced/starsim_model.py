"""The reduced model as a Starsim module, written as a Starsim user would: an
``ss.Module`` with ``ss.FloatArr`` states, ``ss.bernoulli`` distributions (the violation
probability a callable of the person's ``pd``), ``filter()`` on UIDs, and ``ss.Result``
series filled in ``step``. Starsim's defaults are kept (common random numbers on); its
automatic people-level results are switched off (``people_results=False``), the option
Starsim documents for light models.
"""

from __future__ import annotations

import numpy as np
import starsim as ss
from benchmarks.reduced import spec


def _p_violate(module, sim, uids):
    return np.clip(spec.BASE * (1.0 - spec.K * module.pd[uids]), 0.0, 1.0)


class ReducedSCS(ss.Module):
    def __init__(self, pars=None, **kwargs):
        super().__init__()
        self.define_pars(
            violate=ss.bernoulli(p=_p_violate),
            detect=ss.bernoulli(p=spec.COVERAGE),
            block=ss.bernoulli(p=spec.P_BLOCK),
        )
        self.update_pars(pars, **kwargs)
        self.define_states(
            ss.FloatArr("pd", default=spec.PD0),
            ss.FloatArr("points", default=float(spec.POINTS0)),
            ss.FloatArr("listed_until", default=-1.0),  # last listed day; -1 = not listed
        )

    def init_results(self):
        super().init_results()
        self.define_results(
            ss.Result("violation_rate", dtype=float, scale=False),
            ss.Result("detections", dtype=float, scale=False),
            ss.Result("listed_share", dtype=float, scale=False),
            ss.Result("blocked_trips", dtype=float, scale=False),
        )

    def step(self):
        day = self.ti
        n = len(self.sim.people)
        until = self.listed_until
        released = (until >= 0) & (until < day)  # 1. release
        until[released] = -1.0
        self.points[released] = float(spec.POINTS0)
        violators = self.pars.violate.filter()  # 2. decide (all active people)
        detected = self.pars.detect.filter(violators)  # 3. detect
        self.points[detected] -= spec.DEDUCTION
        new = detected[(self.points[detected] < spec.THRESHOLD) & (until[detected] < 0)]
        until[new] = day + spec.LIST_DAYS - 1  # 4. list
        listed = (until >= 0).uids  # 5. travel
        blocked = self.pars.block.filter(listed)
        pd = self.pd  # 6. learn: decay everyone, then replace the detected
        before = pd[detected]
        pd[:] = pd + spec.ETA_DECAY * (spec.PD0 - pd)
        pd[detected] = before + spec.ETA * (1.0 - before)
        r = self.results
        r.violation_rate[self.ti] = len(violators) / n
        r.detections[self.ti] = len(detected)
        r.listed_share[self.ti] = len(listed) / n
        r.blocked_trips[self.ti] = len(blocked)


def build(n: int, days: int, seed: int = 1) -> ss.Sim:
    sim = ss.Sim(n_agents=n, modules=[ReducedSCS()], dt=ss.days(1), dur=ss.days(days - 1),
                 rand_seed=seed, people_results=False, verbose=0)
    sim.init()
    return sim


def outputs(sim: ss.Sim) -> dict[str, np.ndarray]:
    res = sim.results["reducedscs"]
    return {k: np.asarray(res[k].values, dtype=np.float64) for k in spec.OUTPUTS}


def warm_up() -> None:
    build(100, 3).run()


def run(n: int, days: int, seed: int = 1) -> dict[str, np.ndarray]:
    sim = build(n, days, seed)
    sim.run()
    return outputs(sim)

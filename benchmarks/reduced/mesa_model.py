"""The reduced model in idiomatic Mesa 3: one ``Agent`` per person, ``model.agents``
(an AgentSet) stepped with ``shuffle_do``, per-day outputs through a ``DataCollector``.

Random draws come from the model's ``random`` (Python's Mersenne Twister), as Mesa
agents usually draw them: one per agent-day, one more when violating, one more when
listed — the same count as every other implementation.
"""

from __future__ import annotations

import mesa
import numpy as np
from benchmarks.reduced import spec


class Person(mesa.Agent):
    def __init__(self, model: ReducedModel) -> None:
        super().__init__(model)
        self.pd = spec.PD0
        self.points = spec.POINTS0
        self.listed_until = -1  # last day on the blacklist; -1 = not listed

    def step(self) -> None:
        m = self.model
        day = m.day
        rand = self.random.random
        if self.listed_until >= 0 and day > self.listed_until:  # 1. release
            self.listed_until = -1
            self.points = spec.POINTS0
        p = min(max(spec.BASE * (1.0 - spec.K * self.pd), 0.0), 1.0)  # 2. decide
        detected = False
        if rand() < p:
            m.violations += 1
            if rand() < spec.COVERAGE:  # 3. detect
                detected = True
                m.detections += 1
                self.points -= spec.DEDUCTION
                if self.listed_until < 0 and self.points < spec.THRESHOLD:  # 4. list
                    self.listed_until = day + spec.LIST_DAYS - 1
        if self.listed_until >= 0:  # 5. travel
            m.listed += 1
            if rand() < spec.P_BLOCK:
                m.blocked_trips += 1
        if detected:  # 6. learn
            self.pd += spec.ETA * (1.0 - self.pd)
        else:
            self.pd += spec.ETA_DECAY * (spec.PD0 - self.pd)


class ReducedModel(mesa.Model):
    def __init__(self, n: int, seed: int = 1) -> None:
        super().__init__(seed=seed)
        self.n = n
        self.day = 0
        self.violations = self.detections = self.listed = self.blocked_trips = 0
        Person.create_agents(self, n)
        self.datacollector = mesa.DataCollector(model_reporters={
            "violation_rate": lambda m: m.violations / m.n,
            "detections": "detections",
            "listed_share": lambda m: m.listed / m.n,
            "blocked_trips": "blocked_trips",
        })

    def step(self) -> None:
        self.violations = self.detections = self.listed = self.blocked_trips = 0
        self.agents.shuffle_do("step")
        self.datacollector.collect(self)
        self.day += 1


def build(n: int, seed: int = 1) -> ReducedModel:
    return ReducedModel(n, seed)


def run_days(model: ReducedModel, days: int) -> None:
    for _ in range(days):
        model.step()


def outputs(model: ReducedModel) -> dict[str, np.ndarray]:
    df = model.datacollector.get_model_vars_dataframe()
    return {k: df[k].to_numpy(dtype=np.float64) for k in spec.OUTPUTS}


def warm_up() -> None:
    run_days(build(10), 2)


def run(n: int, days: int, seed: int = 1) -> dict[str, np.ndarray]:
    m = build(n, seed)
    run_days(m, days)
    return outputs(m)

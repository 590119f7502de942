"""People act: opportunities arrive and are taken or not.

The foundation's minimal behaviour: every act in the catalogue arrives as an
opportunity at its base rate (:mod:`scslab.acts`); a violation opportunity is taken
with probability ``propensity × (1 − honesty_i)`` clipped to [0, 1]
(an assumption, ``docs/model.md``), every other opportunity is taken. The decision
model of the "Citizens and their records" issue replaces the take-up rule; the
opportunity clock stays.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field

from scslab.acts import CLASS_CODE, CLOCK_LAYOUT, ActCatalogue, OpportunityClock
from scslab.module import ArraySpec, Module, Phase, Role
from scslab.rng import SlotLayout, StreamSpec
from scslab.scenario.schema import ModuleParams
from scslab.schema import ACT_LAYOUT, Table, dtype

DECIDE_LAYOUT = SlotLayout((("act", 8), ("ordinal", 8)))


class ActsBasicParams(ModuleParams):
    violation_propensity: Annotated[float, Field(ge=0.0)] = 1.0


class ActsBasic(Module):
    name = "acts"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    Params = ActsBasicParams
    doc = "Acts happen: opportunities at base rates, violations taken by dishonesty."
    owns: ClassVar = (
        ArraySpec("people.next_opportunity", "day_u16", "people×acts", True,
                  "day of each act's next opportunity (0xFFFF = never)", fill=0xFFFF),
        ArraySpec("people.next_any", "day_u16", "people", True,
                  "earliest next opportunity over acts", fill=0xFFFF),
    )
    reads = ("people.honesty",)
    appends = ("acts",)
    streams = (
        StreamSpec("clock", CLOCK_LAYOUT, "opportunity gaps (policy-independent)"),
        StreamSpec("decide", DECIDE_LAYOUT, "take-up of an opportunity"),
    )

    def __init__(self, params, scenario) -> None:
        super().__init__(params, scenario)
        self.catalogue = ActCatalogue.from_scenario(scenario)
        self.clock = OpportunityClock(self.catalogue)

    def setup(self, world) -> None:
        self.clock.init(world.stream("clock"), world.array("people.next_opportunity"),
                        world.array("people.next_any"))

    def step(self, world, day: int) -> None:
        people, pos = self.clock.due(world.stream("clock"), day,
                                     world.array("people.next_opportunity"),
                                     world.array("people.next_any"))
        if people.size == 0:
            return
        cat = self.catalogue
        is_violation = cat.act_class[pos] == CLASS_CODE["violation"]
        p = np.ones(people.size)
        honesty = world.array("people.honesty")
        p[is_violation] = np.clip(
            self.params.violation_propensity * (1.0 - honesty[people[is_violation]]), 0.0, 1.0)
        take = np.ones(people.size, dtype=bool)
        stream = world.stream("decide")
        for a in np.unique(pos[is_violation]):  # a loop over act types, not people
            sel = np.flatnonzero(is_violation & (pos == a))
            take[sel] = stream.bernoulli(day, stream.slot(act=int(cat.code[a])), people[sel], p[sel])
        people, pos = people[take], pos[take]
        world.append("acts", Table.from_columns(
            ACT_LAYOUT,
            actor=people,
            act=cat.code[pos],
            venue=cat.venue[pos],
            counterparty=np.full(people.size, -1, dtype=dtype("uid")),
            ordinal=np.zeros(people.size, dtype=dtype("code")),
        ))


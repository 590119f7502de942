"""Joint sanctions: which agency applies which measure on which list.

The matrix ``agency → measure → lists`` is compiled to bits (``apparatus.SanctionRule``).
A listed person carries the bits of every measure applied on their lists; measures
flagged ``household`` spill over to the other members of the household (and not to the
listed person, nor anyone else). ``people.bans`` holds the bits; the behaviour module
blocks the acts a measure blocks (valued at the gain forgone), and measures with an
``income_cost`` cost that share of daily income while they last (counted by the harm
observer). An empty matrix is a fragmented system; a full one is joined.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from scslab.core.apparatus import (
    ListParams,
    SanctionParams,
    SanctionRule,
    forgone_per_bit,
)
from scslab.core.housemates import (
    Housemates,
    ReachesHousemates,
    bans_where_moved,
    inside_cut_problem,
    spills,
)
from scslab.core.incentives import present_value
from scslab.core.module import ArraySpec, Module, Phase, Role


class Sanctions(ReachesHousemates, Module):
    name = "sanctions"
    role = Role.SYSTEM
    phase = Phase.SANCTION
    Params = SanctionParams
    doc = "The joint sanction matrix: measures applied on lists, with household spillover."
    owns: ClassVar = (
        ArraySpec("people.bans", "ban_bits", "people", False,
                  "measure bits in force (own listings and household spillover)"),
    )
    reads = ("people.listed", "people.household", "list_changes")
    #: draws nothing; a household measure reaches housemates a region boundary may put
    #: in another partition: their list membership is exchanged (``households``)
    partitionable = True

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        return inside_cut_problem(split, "household measures reach housemates") \
            if spills(scenario) else None

    @classmethod
    def consequences(cls, scenario, catalogue):
        """What a listing costs, as aware people value it: for each act that lists its
        author directly, the present value over the listing's duration of the income
        lost and of the gains of blocked acts forgone; plus which acts each bit blocks."""
        p = scenario.module_params("sanctions", SanctionParams)
        lists = scenario.module_params("lists", ListParams)
        rule = SanctionRule.compile(p, lists, catalogue)
        out = {"blocked_by": rule.blocked_by}
        if not (p.enabled and lists.enabled):
            return out
        forgone = forgone_per_bit(p, catalogue)
        sanction = np.zeros(len(catalogue))
        for spec in lists.lists.values():
            if spec.entry != "record" or spec.kind != "black":
                continue
            bits = int(rule.own_bits[spec.code])
            per_day = sum(rule.income_cost[b] + forgone[b] for b in range(16) if bits >> b & 1)
            value = present_value(per_day, spec.duration_days, p.discount_per_day)
            for act in spec.acts:
                sanction[catalogue.position(act)] += value
        out["sanction"] = sanction
        return out

    def setup(self, world) -> None:
        lists = world.scenario.module_params("lists", ListParams)
        self.rule = SanctionRule.compile(self.params, lists, world.catalogue)
        self.hh_offsets, self.hh_members = world.index("people.household")
        self.housemates = Housemates(world, self.hh_offsets, self.hh_members) \
            if world.partitioned and spills(world.scenario) else None

    def housemates_listed(self, world) -> tuple[np.ndarray, ...]:
        """This partition's part of the ``households`` exchange (after lists): the list
        membership of its members of households it shares with other partitions."""
        return self.housemates.members(world, world.array("people.listed"))

    def receive_housemates(self, world, parts: tuple[np.ndarray, ...]) -> None:
        """Every partition's part: today's bans take the measures spilling from
        housemates held elsewhere (at this module's step)."""
        self.housemates.receive(world, self.rule, parts)

    def step(self, world, day: int) -> None:
        changes = world.events("list_changes")
        mates = self.housemates
        if mates is not None:
            mates.require_handed(self.name, "households")
        people, bans = bans_where_moved(world, self.rule, world.array("people.listed"),
                                        self.hh_offsets, self.hh_members,
                                        changes["person"], mates)
        world.array("people.bans")[people] = bans

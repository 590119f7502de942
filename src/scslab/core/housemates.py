"""Housemates in other partitions: what a household measure needs across a region cut.

A household measure (``sanctions.measures.<m>.household``) reaches a listed person's
housemates. Households are cut from the region-ordered homophily sequence, so a few of
them — at most one per region boundary — have members in two regions, and a partition
by region holds only part of them. Each partition hands over the list membership of its
members of those households; a partition keeps, per household it cuts, the measures
spilling from the members it does not hold (``away``), and ORs them into its members'
bans (``core.apparatus.household_bans``), as the whole run's pass over every housemate.

Owns nothing in the World; reads ``people.household`` and ``people.region`` of the whole
population once (the national figure ``households.straddling``); reports nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from scslab.core.apparatus import SanctionParams, SanctionRule, household_bans
from scslab.core.population import cut_refusal
from scslab.numerics.csr import gather
from scslab.numerics.sets import unique

#: the national figure: the households whose members live in more than one region, as
#: a (2, k) int64 array of household ids (increasing) and their sizes
STRADDLING = "households.straddling"


def spills(scenario: Any) -> bool:
    """Whether sanctions are on with a measure that reaches housemates."""
    sanctions = scenario.module_params("sanctions", SanctionParams)
    return sanctions.enabled and any(m.household for m in sanctions.measures.values())


def inside_cut_problem(split: dict[str, int], needs: str) -> str | None:
    """Why a module whose measures reach housemates cannot run on a partition that cuts
    a region as well as households (``Module.partition_problem``): only the households
    a region boundary cuts are exchanged, and a cut inside a region may cut others.
    None when no region is cut (every household cut then straddles regions)."""
    if not split["people.region"]:
        return None
    return cut_refusal(split, "people.household",
                       f"{needs}, exchanged only for households cut by a region boundary",
                       "partition by whole regions")


def straddling_households(population: Any) -> dict[str, np.ndarray]:
    """The households with members in more than one region, and their sizes, over the
    whole population (``Module.national_figures``). A household's regions differ iff
    the variance of its members' regions is not 0: sums of exact small integers."""
    household = population.arrays["people.household"]
    region = population.arrays["people.region"].astype(np.float64)
    size = np.bincount(household).astype(np.float64)
    total = np.bincount(household, weights=region, minlength=size.size)
    squares = np.bincount(household, weights=region * region, minlength=size.size)
    ids = np.flatnonzero(squares * size != total * total)
    return {STRADDLING: np.stack([ids, size[ids].astype(np.int64)])}


class ReachesHousemates:
    """For a module whose measures reach housemates, whom a region boundary may put in
    another partition: on a partition it needs the households with members in more than
    one region, a national figure. Put before ``Module`` in the bases."""

    national_keys: ClassVar[tuple[str, ...]] = (STRADDLING,)

    @classmethod
    def national_figures(cls, scenario: Any, population: Any) -> dict[str, np.ndarray]:
        return straddling_households(population)


class Housemates:
    """A partition's households with members elsewhere, and the measures that spill from
    those members onto the ones it holds. Outside a partition, or where no household is
    cut, it holds nothing and changes nothing."""

    def __init__(self, world: Any, hh_offsets: np.ndarray, hh_members: np.ndarray) -> None:
        self.ids = np.zeros(0, dtype=np.int64)
        self.rows = np.zeros(0, dtype=np.int64)
        if world.partitioned:
            ids, sizes = world.national(STRADDLING)
            known = ids < hh_offsets.size - 1
            ids, sizes = ids[known], sizes[known]
            here = (hh_offsets[ids + 1] - hh_offsets[ids]).astype(np.int64)
            cut = (here > 0) & (here < sizes)
            self.ids = ids[cut]
            self.rows = gather(hh_offsets, hh_members, self.ids)[0].astype(np.int64)
        #: the OR of the spill bits of each cut household's members held elsewhere
        self.away = np.zeros(self.ids.size, dtype=np.uint16)
        #: households whose ``away`` changed since the bans were last computed
        self.moved = np.zeros(0, dtype=np.int64)
        #: whether today's exchange was handed in (:meth:`receive`; the module checks it)
        self.handed = False

    def mark_handed(self) -> None:
        """Today's exchange was handed in (by :meth:`receive`, or by a module that reads
        the cut households only: the watchlist's kin)."""
        self.handed = True

    def require_handed(self, module: str, exchange: str) -> None:
        """Stop unless the exchange was handed in since the last call, then wait for the
        next (a driver that skipped it would leave housemates elsewhere out, silently)."""
        if not self.handed:
            raise RuntimeError(f"{module} on a partition: the {exchange} exchange was not "
                               "handed in (housemates in other partitions)")
        self.handed = False

    @property
    def cut(self) -> bool:
        """Whether this partition holds part of some household."""
        return bool(self.ids.size)

    def members(self, world: Any, member: np.ndarray) -> tuple[np.ndarray, ...]:
        """This partition's part of the exchange: its members of the households it cuts
        (household, uid, list membership)."""
        household = world.array("people.household")
        return (household[self.rows].astype(np.int64), world.uid_of(self.rows),
                member[self.rows].copy())

    def receive(self, world: Any, rule: SanctionRule,
                parts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Every partition's members of cut households: those held elsewhere set ``away``;
        the households whose ``away`` changed are ``moved`` (their bans to recompute)."""
        self.mark_handed()
        if not self.cut:
            return
        household, uid, member = parts
        _, here = world.locate(uid)
        at, cut = self._find(household)
        ours = cut & ~here
        away = np.zeros(self.ids.size, dtype=np.uint16)
        np.bitwise_or.at(away, at[ours], rule.spill_table[member[ours]])
        self.moved = self.ids[away != self.away]
        self.away = away

    def with_moved(self, households: np.ndarray) -> np.ndarray:
        """``households`` and those whose ``away`` moved since (their bans to recompute:
        taken once)."""
        if self.moved.size:
            households = unique(np.concatenate([households.astype(np.int64), self.moved]))
            self.moved = np.zeros(0, dtype=np.int64)
        return households

    def away_of(self, household: np.ndarray) -> np.ndarray | None:
        """Per person of these households: the bits spilling from their housemates held
        elsewhere (None where this partition cuts no household)."""
        if not self.cut:
            return None
        at, hit = self._find(household)
        return np.where(hit, self.away[at], 0).astype(np.uint16)

    def _find(self, household: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each household's place among the cut ones (``ids``), and whether it is one."""
        at = np.minimum(np.searchsorted(self.ids, household), self.ids.size - 1)
        return at, self.ids[at] == household


def bans_where_moved(world: Any, rule: SanctionRule, member: np.ndarray,
                     hh_offsets: np.ndarray, hh_members: np.ndarray, moved: np.ndarray,
                     mates: Housemates | None) -> tuple[np.ndarray, np.ndarray]:
    """The people of the households of ``moved`` (people whose list membership
    ``member`` changed: the apparatus's, or harm's shadow's) and their bans from it; on a
    partition (``mates``, its :class:`Housemates`) also those of the households whose
    housemates elsewhere changed, with the measures spilling from them. Empty when
    nothing changed (the caller writes the bans of whoever comes back)."""
    if not moved.size and (mates is None or not mates.moved.size):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint16)
    household = world.array("people.household")
    households = unique(household[moved])
    if mates is not None:
        households = mates.with_moved(households)
    people, _ = gather(hh_offsets, hh_members, households)
    away = mates.away_of(household[people]) if mates is not None else None
    return people, household_bans(rule, member, hh_offsets, hh_members, household, people,
                                  away)

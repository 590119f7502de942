"""Evaluations: records with no act behind them, written at an official's discretion.

Officials of region r write ``K_r ~ Poisson(rate · n_r · 2 · mean discretion_r)``
negative evaluations a day (record kind 1, no observation: ``obs_ref = −1``). A share
``target_expression`` of them is aimed, by design, at people with a record of lawful
expression filed that day (visible to the apparatus); the rest fall uniformly on the
region's residents. Official discretion is public (the post), integrity is not read.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from scslab.core.layouts import RECORD_KIND_EVALUATION, code_table, dtype
from scslab.core.module import Module, Phase, Role
from scslab.core.population import cut_refusal
from scslab.core.scenario_schema import ModuleParams
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import unique

LAYOUT = SlotLayout((("purpose", 8), ("region", 8)))
P_COUNT, P_WHO, P_TARGETED, P_TARGET_WHO = 1, 2, 3, 4
EVALUATION_ACT = 0  # records of kind 1 carry act code 0: no act


class EvaluationParams(ModuleParams):
    enabled: bool = False
    rate: Annotated[float, Field(ge=0.0, le=1.0)] = 1e-5  # per person-day at discretion 0.5
    target_expression: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    source_code: Annotated[int, Field(ge=0, le=31)] = 30


class Evaluations(Module):
    name = "evaluations"
    role = Role.SYSTEM
    phase = Phase.RECORD
    Params = EvaluationParams
    doc = "Discretionary evaluations by officials: records with no act."
    reads = ("people.region", "officials.region", "officials.discretion", "dossier")
    appends = ("dossier",)
    #: its draws are keyed by region and ordinal, its subjects a region's members: on a
    #: partition of whole regions, the whole run's evaluations of its people, in order
    partitionable = True
    streams = (StreamSpec("draws", LAYOUT, "counts, subjects and targeting of evaluations"),)

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        return cut_refusal(split, "people.region",
                           "a region's evaluations are drawn among its members")

    def setup(self, world) -> None:
        r_off, r_members = world.index("people.region", world.n_regions)
        self.members = [r_members[r_off[r]:r_off[r + 1]] for r in range(world.n_regions)]
        oreg = world.array("officials.region")
        disc = world.array("officials.discretion").astype(np.float64)
        self.intensity = np.array([
            2.0 * disc[oreg == r].mean() if (oreg == r).any() else 1.0
            for r in range(world.n_regions)
        ])
        self.is_expression = code_table(world.catalogue.codes_of_class("expression"))

    def step(self, world, day: int) -> None:
        st = world.stream("draws")
        chunk, live = world.dossier.day_records(day)
        expressed = np.empty(0, dtype=np.int64)
        if len(chunk):
            mask = live & self.is_expression[chunk["act"]] & (chunk["kind"] == 0)
            expressed = unique(chunk["subject"][mask]).astype(np.int64)
        region_of_expressed = world.array("people.region")[expressed]
        subjects = []
        for r, members in enumerate(self.members):  # loop over regions
            if members.size == 0:
                continue
            lam = self.params.rate * members.size * self.intensity[r]
            k = int(st.poisson(day, LAYOUT.pack(purpose=P_COUNT, region=r),
                               np.zeros(1, np.int64), lam)[0])
            if k == 0:
                continue
            ordinal = np.arange(k, dtype=np.int64)
            w = st.words(day, LAYOUT.pack(purpose=P_WHO, region=r), ordinal)[:, 0]
            who = members[((w.astype(np.uint64) * np.uint64(members.size)) >> np.uint64(32))
                          .astype(np.int64)]
            pool = expressed[region_of_expressed == r]
            if self.params.target_expression > 0 and pool.size:
                aimed = st.bernoulli(day, LAYOUT.pack(purpose=P_TARGETED, region=r), ordinal,
                                     self.params.target_expression)
                w2 = st.words(day, LAYOUT.pack(purpose=P_TARGET_WHO, region=r), ordinal)[:, 0]
                pick = pool[((w2.astype(np.uint64) * np.uint64(pool.size)) >> np.uint64(32))
                            .astype(np.int64)]
                who = np.where(aimed, pick, who)
            subjects.append(who)
        if subjects:
            who = np.concatenate(subjects)
            world.dossier.append(
                day, subject=who,
                act=np.full(who.size, EVALUATION_ACT, dtype=dtype("code")),
                source=np.full(who.size, self.params.source_code, dtype=dtype("code")),
                kind=np.full(who.size, RECORD_KIND_EVALUATION, dtype=dtype("code")),
                obs_ref=np.full(who.size, -1, dtype=dtype("ref")),
            )

"""Appeals: people contest records they can see; a board with limited capacity decides.

* **Filing** (``appeals_filing``, behaviour): the day after a record that carries a
  sanction is filed, its subject appeals with probability ``file_if_wrong`` if the
  record is wrong (misattributed, fabricated or misclassified: the subject knows their
  own conduct and submits that as evidence) and ``file_if_right`` otherwise — only where
  the dossier is transparent: no one appeals a secret record.
* **Board** (``appeals``, system): each region hears at most ``capacity_per_100k`` appeals
  a day per 100 000 residents, served by keyed priority; a decision takes
  ``decision_days``; an appeal succeeds with probability ``win_if_wrong`` when the
  subject's evidence shows the record wrong and ``win_if_right`` otherwise; a won
  appeal removes the record (a tombstone), and scores and lists are re-applied.

The board never reads truth: it sees what the subject submits.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from scslab.core.layouts import APPEAL_LAYOUT, RECORD_KIND_OBSERVATION, Table
from scslab.core.module import CounterSpec, Module, Phase, Role
from scslab.core.population import cut_refusal
from scslab.core.scenario_schema import ModuleParams
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import first_by_priority

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
LAYOUT = SlotLayout((("purpose", 8), ("region", 8)))
P_FILE, P_SERVE, P_WIN, P_CAPACITY = 1, 2, 3, 4


class AppealParams(ModuleParams):
    enabled: bool = False
    file_if_wrong: Prob = 0.5
    file_if_right: Prob = 0.05
    capacity_per_100k: Annotated[float, Field(ge=0.0)] = 5.0  # appeals heard per region-day
    decision_days: Annotated[int, Field(ge=0)] = 30
    win_if_wrong: Prob = 0.7
    win_if_right: Prob = 0.02


def _appeal_params(scenario) -> AppealParams:
    return scenario.module_params("appeals", AppealParams)


class AppealFiling(Module):
    name = "appeals_filing"
    switched_by = "appeals"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    doc = "People appeal visible records that carry a sanction (follows appeals.enabled)."
    reads = ("dossier@prev", "truth@prev", "people.cell")  # yesterday's records
    appends = ("appeals",)
    partitionable = True  # a subject's draw is keyed by their uid
    streams = (StreamSpec("draws", LAYOUT, "whether to appeal a record"),)
    counters = (
        CounterSpec("appeals_filed", "appeals filed"),
        CounterSpec("appeals_filed_wrong", "appeals filed against wrong records"),
    )

    def setup(self, world) -> None:
        self.p = _appeal_params(world.scenario)
        self.transparent = world.scenario.modules.get("dossier", {}).get(
            "visibility", "transparent") == "transparent"
        cons = world.consequences
        cat = world.catalogue
        self.appealable = np.zeros(256, dtype=bool)
        self.appealable[cat.code[cons.system_sanction > 0]] = True

    def step(self, world, day: int) -> None:
        if not self.transparent or day == 0:
            return
        chunk, live = world.dossier.day_records(day - 1)
        if not len(chunk):
            return
        rows = np.flatnonzero(live & (chunk["kind"] == RECORD_KIND_OBSERVATION)
                              & self.appealable[chunk["act"]])
        if rows.size == 0:
            return
        subject = chunk["subject"][rows].astype(np.int64)
        refs = (np.int64(day - 1) << 32) | rows.astype(np.int64)
        true_actor, _, true_act = world.truth.lookup_all(
            world.dossier.obs_refs(day - 1, chunk)[rows])
        fabricated = true_actor < 0
        wrong = fabricated | (true_actor != subject)
        # wrong: fabricated, misattributed, or misclassified (reported ≠ the act that happened)
        wrong |= ~fabricated & (true_act != chunk["act"][rows])
        st = world.stream("draws")
        p = np.where(wrong, self.p.file_if_wrong, self.p.file_if_right)
        file = st.bernoulli(day, LAYOUT.pack(purpose=P_FILE), world.uid_of(subject), p)
        if not file.any():
            return
        cell = world.array("people.cell")
        world.counters.add_cells("appeals_filed", cell[subject[file]])
        world.counters.add_cells("appeals_filed_wrong", cell[subject[file & wrong]])
        world.append("appeals", Table.from_columns(
            APPEAL_LAYOUT, subject=subject[file], record=refs[file], evidence=wrong[file]))


class Appeals(Module):
    name = "appeals"
    role = Role.SYSTEM
    phase = Phase.APPEAL
    Params = AppealParams
    doc = "An appeals board: capacity per region by keyed priority, delay, success odds."
    reads = ("appeals", "people.region", "people.cell")
    appends = ("dossier_removals",)
    #: draws keyed by the subject's uid, or by region: each region's board (its capacity
    #: from the region's size) needs the whole region in one partition
    partitionable = True
    streams = (StreamSpec("draws", LAYOUT, "service order, capacity rounding, success"),)
    counters = (
        CounterSpec("appeals_heard", "appeals heard"),
        CounterSpec("appeals_won", "appeals won (record removed)"),
    )

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        return cut_refusal(split, "people.region", "each region's board serves the whole region")

    def setup(self, world) -> None:
        self.region_size = np.bincount(world.array("people.region"),
                                       minlength=world.n_regions)
        st = world.state
        st["queue"] = {k: np.empty(0, dtype=t) for k, t in
                       (("subject", np.int64), ("record", np.int64), ("evidence", bool),
                        ("region", np.int64))}
        st["deciding"] = {k: np.empty(0, dtype=t) for k, t in
                          (("subject", np.int64), ("record", np.int64), ("evidence", bool),
                           ("due", np.int64))}

    def step(self, world, day: int) -> None:
        st = world.state
        new = world.events("appeals")
        q = st["queue"]
        if len(new):
            subj = new["subject"].astype(np.int64)
            q = {"subject": np.concatenate([q["subject"], subj]),
                 "record": np.concatenate([q["record"], new["record"]]),
                 "evidence": np.concatenate([q["evidence"], new["evidence"]]),
                 "region": np.concatenate([q["region"],
                                           world.array("people.region")[subj].astype(np.int64)])}
        served = np.zeros(q["subject"].size, dtype=bool)
        cell = world.array("people.cell")
        draws = world.stream("draws")
        for r in range(world.n_regions):  # loop over regions
            idx = np.flatnonzero(q["region"] == r)
            if idx.size == 0:
                continue
            cap_f = self.params.capacity_per_100k * self.region_size[r] / 1e5
            cap = int(cap_f)
            extra = draws.bernoulli(day, LAYOUT.pack(purpose=P_CAPACITY, region=r),
                                    np.zeros(1, np.int64), cap_f - cap)[0]
            cap += int(extra)
            if cap <= 0:
                continue
            prio = draws.priority(day, LAYOUT.pack(purpose=P_SERVE, region=r),
                                  world.uid_of(q["subject"][idx]))
            served[idx[first_by_priority(prio, q["record"][idx], cap)]] = True
        d = st["deciding"]
        if served.any():
            d = {"subject": np.concatenate([d["subject"], q["subject"][served]]),
                 "record": np.concatenate([d["record"], q["record"][served]]),
                 "evidence": np.concatenate([d["evidence"], q["evidence"][served]]),
                 "due": np.concatenate([d["due"], np.full(int(served.sum()),
                                                          day + self.params.decision_days)])}
            world.counters.add_cells("appeals_heard", cell[q["subject"][served]])
        st["queue"] = {k: v[~served] for k, v in q.items()}
        now = d["due"] <= day
        if now.any():
            p = np.where(d["evidence"][now], self.params.win_if_wrong, self.params.win_if_right)
            won = draws.bernoulli(day, LAYOUT.pack(purpose=P_WIN),
                                  world.uid_of(d["subject"][now]), p)
            refs = d["record"][now][won]
            if refs.size:
                world.dossier.remove(refs, day)
                world.counters.add_cells("appeals_won", cell[d["subject"][now][won]])
        st["deciding"] = {k: v[~now] for k, v in d.items()}

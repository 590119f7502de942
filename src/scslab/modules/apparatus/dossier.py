"""The dossier module (Dang'an): files observations as records, and keeps the file.

The apparatus side of the truth firewall: it reads observations (never their truth) and
appends records to the :class:`~scslab.core.record_log.Dossier`. Besides filing it can

* spread records to kin: a record of a listed act is copied, with some probability, to
  every member of the subject's household (record kind 2, same act reference);
* lose files: files go missing at ``file_loss_rate`` per person-day and are rebuilt after
  a geometric time with mean ``file_restore_days``; a lost file blocks changing jobs and
  claiming a pension (the behaviour module reads ``people.file_lost``);
* drop old chunks (``retention_days``).

Visibility (transparent: the subject sees and can contest; opaque: a secret file) is read
by learning and appeals.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from scslab.core.layouts import RECORD_KIND_KIN, RECORD_KIND_OBSERVATION, code_table, dtype
from scslab.core.module import ArraySpec, Module, Phase, Role
from scslab.core.population import cut_refusal
from scslab.core.scenario_schema import ModuleParams
from scslab.numerics.csr import gather
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import unique

LAYOUT = SlotLayout((("purpose", 8), ("act", 8)))
P_KIN, P_LOSS_COUNT, P_LOSS_WHO, P_RESTORE = 1, 2, 3, 4
NEVER = 0xFFFF


class DossierParams(ModuleParams):
    visibility: Literal["transparent", "opaque"] = "transparent"
    retention_days: Annotated[int, Field(ge=1)] | None = None  # None = keep everything
    kin_spread_acts: list[str] = Field(default_factory=list)
    kin_spread_probability: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    file_loss_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0  # per person-day
    file_restore_days: Annotated[float, Field(gt=0.0)] = 365.0


class DossierModule(Module):
    name = "dossier"
    role = Role.SYSTEM
    phase = Phase.RECORD
    Params = DossierParams
    doc = "Files observations as records; kin spreading, lost files, retention."
    owns: ClassVar = (
        ArraySpec("people.file_lost", "flag", "people", False, "the person's file is lost"),
        ArraySpec("people.file_restore_day", "day_u16", "people", False,
                  "day a lost file is rebuilt", fill=NEVER),
    )
    reads = ("observations", "people.household")
    appends = ("dossier",)
    partitionable = True
    streams = (StreamSpec("draws", LAYOUT, "kin spreading, file loss and restoration"),)

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        """Records spread to kin need whole households (lost files are drawn over the
        whole population in every partition, each keeping its own people's)."""
        if params.kin_spread_acts and params.kin_spread_probability > 0:
            return cut_refusal(split, "people.household", "records spread to kin",
                               "set kin_spread_probability to 0")
        return None

    @classmethod
    def check_params(cls, params, scenario):
        for act in params.kin_spread_acts:
            if act not in scenario.acts:
                raise ValueError(f"kin_spread_acts: unknown act {act!r}")
        return params

    def setup(self, world) -> None:
        self.partitioned = world.partitioned
        self.kin_codes = np.array(
            [world.scenario.acts[a].code for a in self.params.kin_spread_acts], dtype=np.uint8)
        self.spreads_to_kin = code_table(self.kin_codes)
        self.hh_offsets, self.hh_members = world.index("people.household")
        world.state["lost_files"] = 0

    def step(self, world, day: int) -> None:
        obs = world.events("observations")
        d = world.dossier
        if self.partitioned and len(obs) and (obs["subject"] < 0).any():
            # records naming people of another partition are filed there (routed)
            obs = obs.take(np.flatnonzero(obs["subject"] >= 0))
        if len(obs):
            d.append(day, subject=obs["subject"], act=obs["act"], source=obs["source"],
                     kind=np.full(len(obs), RECORD_KIND_OBSERVATION, dtype=dtype("code")),
                     obs_ref=obs["ref"])
            if self.kin_codes.size and self.params.kin_spread_probability > 0:
                self._spread_to_kin(world, day, obs)
        if self.params.file_loss_rate > 0:
            self._files(world, day)
        keep = self.params.retention_days
        if keep is not None and day - keep >= 0:
            d.drop_before(day - keep + 1)

    def _spread_to_kin(self, world, day, obs) -> None:
        st = world.stream("draws")
        rows = np.flatnonzero(self.spreads_to_kin[obs["act"]])
        spread = np.zeros(rows.size, dtype=bool)
        for code in unique(obs["act"][rows]):  # loop over act types
            sel = np.flatnonzero(obs["act"][rows] == code)
            spread[sel] = st.bernoulli(day, LAYOUT.pack(purpose=P_KIN, act=int(code)),
                                       world.uid_of(obs["subject"][rows[sel]]),
                                       self.params.kin_spread_probability)
        rows = rows[spread]
        if rows.size == 0:
            return
        household = world.array("people.household")
        subj = obs["subject"][rows].astype(np.int64)
        members, size = gather(self.hh_offsets, self.hh_members, household[subj])
        src_row = np.repeat(rows, size)
        keep = members != np.repeat(subj, size)
        members, src_row = members[keep], src_row[keep]
        if members.size:
            world.dossier.append(day, subject=members, act=obs["act"][src_row],
                                 source=obs["source"][src_row],
                                 kind=np.full(members.size, RECORD_KIND_KIN, dtype=dtype("code")),
                                 obs_ref=obs["ref"][src_row])

    def _files(self, world, day) -> None:
        st = world.stream("draws")
        lost = world.array("people.file_lost")
        restore = world.array("people.file_restore_day")
        if world.state["lost_files"]:
            back = np.flatnonzero(restore == day)
            lost[back] = False
            restore[back] = NEVER
            world.state["lost_files"] -= int(back.size)
        # a national count over everyone's uids: every partition draws the same and
        # keeps its own people's
        n = world.scenario.population.people if world.partitioned else lost.size
        k = int(st.poisson(day, LAYOUT.pack(purpose=P_LOSS_COUNT), np.zeros(1, np.int64),
                           n * self.params.file_loss_rate)[0])
        if k == 0:
            return
        w = st.words(day, LAYOUT.pack(purpose=P_LOSS_WHO), np.arange(k, dtype=np.int64))
        who = world.rows_here(unique(((w[:, 0].astype(np.uint64) * np.uint64(n))
                                      >> np.uint64(32)).astype(np.int64)))
        who = who[~lost[who]]
        if who.size == 0:
            return
        u = st.uniform(day, LAYOUT.pack(purpose=P_RESTORE), world.uid_of(who))
        q = 1.0 / self.params.file_restore_days
        # in floats: a restore time past 2^63 days (file_restore_days ~1e18) has no int64
        gap = np.floor(np.log(u) / math.log1p(-min(q, 1 - 1e-12)))
        when = day + 1 + gap
        lost[who] = True
        restore[who] = np.where(when >= NEVER, NEVER, when).astype(np.uint16)
        world.state["lost_files"] += int(who.size)

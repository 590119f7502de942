"""Watchlists and checkpoints.

**Watchlist** (``watchlist``, system, LIST phase): who the apparatus searches for. It is
built only from what the apparatus holds — records in the dossier, household links and
group membership, all public attributes — never from truth:

* by record: a record of one of ``acts`` lists its subject. With ``acts`` naming lawful
  conduct (religious practice), the watchlist is filled *by design*, not by error;
  erroneous records (misattributed, fabricated) list people by error;
* by kin (``kin``): the other members of the household of a person listed by record;
* by group (``groups``): a share of each named group, drawn once (biometric
  categorisation by group);
* ``target_groups``: entries by record and kin only for members of these groups —
  targeting one group by design.

Entries by record and kin last ``duration_days`` (None: for good); entries by group last.
``people.watchlisted`` holds the cause bits; ``people.watchlist_record`` the dossier
record that caused an entry by record (read by the observer to classify detentions).

**Checkpoints** (``CheckpointSpec``, part of the ``surveillance`` sensing module): a
movement act of a person of a covered region is screened with probability ``coverage``;
a face search raises an alarm with probability ``1 − FNMR_i`` for a person on the
watchlist and ``1 − (1 − FMR_i)^G`` for anyone else (G the gallery: fixed, or the
watchlist's size yesterday); a document check alarms exactly for listed people. An
alarm blocks the trip and, with ``on_alarm: detain``, holds the person ``detention_days``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from scslab.core.housemates import (
    Housemates,
    ReachesHousemates,
    inside_cut_problem,
)
from scslab.core.layouts import code_table
from scslab.core.module import ArraySpec, Module, Phase, Role
from scslab.core.scenario_schema import ModuleParams, Strict
from scslab.numerics.csr import gather
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import unique

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NEVER = 0xFFFF
CAUSE_RECORD, CAUSE_KIN, CAUSE_GROUP = 1, 2, 4
WATCHLIST_LAYOUT = SlotLayout((("purpose", 8), ("group", 8)))
P_GROUP = 1


class CheckpointSpec(Strict):
    """A checkpoint network: screens movement acts of residents of some regions."""

    code: Annotated[int, Field(ge=1, le=255)]  # sensor code (shared code space with sensors)
    acts: list[str]  # the movement acts screened
    regions: list[Annotated[int, Field(ge=0)]] | Literal["all"] = "all"
    coverage: Prob
    identification: Literal["face", "document"] = "face"
    gallery: Annotated[int, Field(ge=0)] | None = None  # None: the watchlist's current size
    on_alarm: Literal["detain", "block"] = "detain"
    detention_days: Annotated[int, Field(ge=1, le=3650)] = 2
    record_screenings: bool = True  # every screening is a record (subject read off the ID)
    exception: bool = False  # a narrow law-enforcement exception (EU AI Act Art. 5(2))
    receives: list[Literal["vendor"]] = Field(default_factory=list)  # besides the apparatus

    @property
    def parties(self) -> int:
        return 1 + len(set(self.receives))


class WatchlistParams(ModuleParams):
    enabled: bool = False
    acts: list[str] = Field(default_factory=list)  # a record of these acts lists its subject
    kin: bool = False  # household members of people listed by record
    groups: dict[str, Prob] = Field(default_factory=dict)  # share of a group listed by design
    #: entries by record and kin only for members of these groups (empty: everyone)
    target_groups: list[str] = Field(default_factory=list)
    duration_days: Annotated[int, Field(ge=1)] | None = None


class Watchlist(ReachesHousemates, Module):
    name = "watchlist"
    role = Role.SYSTEM
    phase = Phase.LIST
    Params = WatchlistParams
    doc = "Watchlist: by record (lawful acts included), by kin, by group — never by truth."
    owns: ClassVar = (
        ArraySpec("people.watchlisted", "code", "people", False,
                  "watchlist cause bits: 1 record, 2 kin, 4 group"),
        ArraySpec("people.watchlist_record", "ref", "people", False,
                  "dossier record behind an entry by record (-1 none)", fill=-1),
        ArraySpec("people.watchlist_until", "day_u16", "people", False,
                  "day entries by record and kin end", fill=NEVER),
    )
    reads = ("dossier", "people.group", "people.household")
    streams = (StreamSpec("draws", WATCHLIST_LAYOUT, "who of a group is listed by design"),)
    #: draws keyed by uid; listing kin reaches housemates a region boundary may put in
    #: another partition: the day's entries in those households are exchanged (``kin``)
    partitionable = True

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        return inside_cut_problem(split, "kin are listed") if params.kin else None

    @classmethod
    def check_params(cls, params, scenario):
        for act in params.acts:
            if act not in scenario.acts:
                raise ValueError(f"acts: unknown act {act!r}")
        for g in params.groups:
            if g not in scenario.population.groups:
                raise ValueError(f"groups: unknown group {g!r}")
        for g in params.target_groups:
            if g not in scenario.population.groups:
                raise ValueError(f"target_groups: unknown group {g!r}")
        regime = scenario.modules.get("surveillance", {}).get("regime", "none")
        if regime == "eu_ai_act" and any(v > 0 for v in params.groups.values()):
            raise ValueError("groups: biometric categorisation by group is prohibited under "
                             "regime eu_ai_act (AI Act Art. 5(1)(g))")
        if regime == "eu_ai_act" and params.target_groups:
            raise ValueError("target_groups: listing by group is prohibited under regime "
                             "eu_ai_act (AI Act Art. 5(1)(g))")
        return params

    def setup(self, world) -> None:
        cat = world.catalogue
        self.entry_codes = np.array([cat.code[cat.position(a)] for a in self.params.acts],
                                    dtype=np.uint8)
        self.is_entry = code_table(self.entry_codes)
        self.hh_offsets, self.hh_members = world.index("people.household")
        #: on a partition listing kin: the households it shares with others, and today's
        #: entries by record in them (``kin_entries``)
        self.housemates = Housemates(world, self.hh_offsets, self.hh_members) \
            if world.partitioned and self.params.kin else None
        self.entered = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        listed = world.array("people.watchlisted")
        group = world.array("people.group")
        self.targeted = np.ones(len(world.group_names), dtype=bool)
        if self.params.target_groups:
            self.targeted[:] = [g in self.params.target_groups for g in world.group_names]
        st = world.stream("draws")
        for g, name in enumerate(world.group_names):  # loop over groups
            share = self.params.groups.get(name, 0.0)
            if share <= 0:
                continue
            members = np.flatnonzero(group == g)
            pick = st.bernoulli(0, WATCHLIST_LAYOUT.pack(purpose=P_GROUP, group=g),
                                world.uid_of(members), share)
            listed[members[pick]] |= np.uint8(CAUSE_GROUP)

    def kin_entries(self, world) -> tuple[np.ndarray, np.ndarray]:
        """This partition's part of the ``kin`` exchange (after this module): today's
        entries by record in households it shares with other partitions (household,
        uid)."""
        return self.entered

    def exchange_due(self) -> str | None:
        if self.housemates is not None and not self.housemates.handed:
            return "kin exchange was not handed in (Watchlist.receive_kin)"
        return None

    def receive_kin(self, world, day: int, parts: tuple[np.ndarray, np.ndarray]) -> None:
        """Every partition's part: the housemates here of people listed elsewhere today
        are listed as kin, as the whole run lists every housemate."""
        household, uid = parts
        self.housemates.mark_handed()
        away = ~world.locate(uid)[1]
        households = np.intersect1d(household[away], self.housemates.ids)
        if households.size:
            mates, _ = gather(self.hh_offsets, self.hh_members, households)
            self._list_kin(world, day, mates.astype(np.int64))

    def _list_kin(self, world, day: int, mates: np.ndarray) -> None:
        """List ``mates`` (housemates of people listed by record today) as kin."""
        mates = mates[self.targeted[world.array("people.group")[mates]]]
        if mates.size:
            self._enter(world, day, mates, CAUSE_KIN)

    def _enter(self, world, day: int, people: np.ndarray, cause: int) -> None:
        """List ``people`` for ``cause`` today: their entry ends ``duration_days`` from
        today (NEVER: for good), or later if an earlier one already runs longer."""
        listed = world.array("people.watchlisted")
        until = world.array("people.watchlist_until")
        end = NEVER if self.params.duration_days is None else min(
            day + self.params.duration_days, NEVER - 1)
        listed[people] |= np.uint8(cause)
        until[people] = end if end == NEVER else np.maximum(
            np.where(until[people] == NEVER, 0, until[people]), end)

    def step(self, world, day: int) -> None:
        if self.housemates is not None:
            if day > 0:
                self.housemates.require_handed(self.name, "kin (the previous day's)")
            self.entered = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        listed = world.array("people.watchlisted")
        until = world.array("people.watchlist_until")
        record = world.array("people.watchlist_record")
        if self.params.duration_days is not None:
            due = np.flatnonzero(until == day)
            if due.size:
                listed[due] &= np.uint8(~(CAUSE_RECORD | CAUSE_KIN) & 0xFF)
                record[due] = -1
                until[due] = NEVER
        if self.entry_codes.size == 0:
            return
        chunk, live = world.dossier.day_records(day)
        if not len(chunk):
            return
        rows = np.flatnonzero(live & (chunk["kind"] == 0) & self.is_entry[chunk["act"]])
        if rows.size == 0:
            return
        subj = chunk["subject"][rows].astype(np.int64)
        people, first = np.unique(subj, return_index=True)
        group = world.array("people.group")
        ok = self.targeted[group[people]]
        people, first = people[ok], first[ok]
        if people.size == 0:
            return
        new = (listed[people] & CAUSE_RECORD) == 0
        record[people[new]] = (np.int64(day) << 32) | rows[first[new]].astype(np.int64)
        self._enter(world, day, people, CAUSE_RECORD)
        if self.params.kin:
            household = world.array("people.household")[people]
            mates, size = gather(self.hh_offsets, self.hh_members, household)
            self._list_kin(world, day, unique(mates[mates != np.repeat(people, size)]))
            if self.housemates is not None:
                shared = np.isin(household, self.housemates.ids)
                self.entered = (household[shared].astype(np.int64),
                                world.uid_of(people[shared]))

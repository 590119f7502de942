"""Administrative sources (courts, banks, tax office, ticketing) observe acts.

Each source in the scenario's ``sources:`` catalogue sees the acts it lists; it observes
an act with probability ``coverage``, attributes it to a uniformly drawn other person
with probability ``misattribution``, and fabricates records with no act behind them at
``fabrication_rate`` per person-day (subjects uniform over the population). This module
is the boundary where truth becomes observation: it reads acts and writes the
observation truth sidecar, which only metrics can read.
"""

from __future__ import annotations

import numpy as np

from scslab.acts import ActCatalogue
from scslab.module import Module, Phase, Role
from scslab.rng import AliasTable, SlotLayout, StreamSpec
from scslab.schema import OBSERVATION_LAYOUT, OBSERVATION_TRUTH_LAYOUT, Table, dtype, pack_ref
from scslab.sets import unique

SOURCE_LAYOUT = SlotLayout((("source", 5), ("act", 8), ("ordinal", 3)))
FABRICATION_COUNT_SLOT = 0xFF  # act field value reserved for the daily fabrication count


class Sources(Module):
    name = "sources"
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "Administrative sources observe acts with coverage, misattribution, fabrication."
    reads = ("acts",)
    appends = ("observations", "observation_truth")
    streams = (
        StreamSpec("observe", SOURCE_LAYOUT, "whether a source sees an act"),
        StreamSpec("misattribute", SOURCE_LAYOUT, "whether the record names the wrong person"),
        StreamSpec("wrong_person", SOURCE_LAYOUT, "whom a misattributed record names"),
        StreamSpec("fabricate", SOURCE_LAYOUT, "count, subjects and acts of fabricated records"),
        StreamSpec("confuse", SOURCE_LAYOUT, "misclassification of an observed act"),
    )
    counters = ()

    @classmethod
    def check_params(cls, params, scenario):
        for name, src in scenario.sources.items():
            if src.code >= 32:
                raise ValueError(f"sources.{name}.code: source codes must be below 32")
        return params

    @classmethod
    def consequences(cls, scenario, catalogue):
        """Public detection: an act is recorded unless every source that sees it misses."""
        miss = np.ones(len(catalogue))
        for src in scenario.sources.values():
            for act in src.sees:
                miss[catalogue.position(act)] *= 1.0 - src.coverage
        return {"detection": 1.0 - miss}

    def __init__(self, params, scenario) -> None:
        super().__init__(params, scenario)
        self.catalogue = ActCatalogue.from_scenario(scenario)
        self.sources = sorted(scenario.sources.items(), key=lambda kv: kv[1].code)
        self.n = scenario.population.people

    def step(self, world, day: int) -> None:
        acts = world.events("acts")
        obs_parts: list[Table] = []
        truth_parts: list[Table] = []
        for _, src in self.sources:
            seen_codes = np.array(
                [self.scenario.acts[a].code for a in src.sees], dtype=dtype("code")
            )
            if seen_codes.size == 0:
                continue
            rows = np.flatnonzero(np.isin(acts["act"], seen_codes))
            if rows.size and src.coverage > 0:
                rows = self._observed(world, day, src, acts, rows)
                if rows.size:
                    self._emit_observed(world, day, src, acts, rows, obs_parts, truth_parts)
            if src.fabrication_rate > 0:
                self._fabricate(world, day, src, seen_codes, obs_parts, truth_parts)
        if obs_parts:
            world.append("observations", Table.concat(OBSERVATION_LAYOUT, obs_parts))
            world.append("observation_truth", Table.concat(OBSERVATION_TRUTH_LAYOUT, truth_parts))

    def _observed(self, world, day, src, acts, rows) -> np.ndarray:
        stream = world.stream("observe")
        keep = np.zeros(rows.size, dtype=bool)
        codes = acts["act"][rows]
        ordinals = acts["ordinal"][rows]
        for code in unique(codes):  # loop over act types, not people
            for o in unique(ordinals[codes == code]):
                sel = np.flatnonzero((codes == code) & (ordinals == o))
                slot = stream.slot(source=src.code, act=int(code), ordinal=int(o) & 7)
                keep[sel] = stream.bernoulli(day, slot, acts["actor"][rows[sel]], src.coverage)
        return rows[keep]

    def _emit_observed(self, world, day, src, acts, rows, obs_parts, truth_parts) -> None:
        actor = acts["actor"][rows].astype(np.int64)
        subject = actor.copy()
        codes = acts["act"][rows]
        if src.misattribution > 0:
            mis_s = world.stream("misattribute")
            who_s = world.stream("wrong_person")
            for code in unique(codes):
                sel = np.flatnonzero(codes == code)
                slot = mis_s.slot(source=src.code, act=int(code))
                wrong = mis_s.bernoulli(day, slot, actor[sel], src.misattribution)
                sel = sel[wrong]
                if sel.size:
                    w = who_s.words(day, slot, actor[sel])[:, 0].astype(np.uint64)
                    other = ((w * np.uint64(self.n - 1)) >> np.uint64(32)).astype(np.int64)
                    other = np.where(other >= actor[sel], other + 1, other)  # skip the actor
                    subject[sel] = other
        lawful = self.catalogue.lawful_ref[self.catalogue.position_of_code[codes]]
        reported = self._confuse(world, day, src, codes, actor)
        obs_parts.append(Table.from_columns(
            OBSERVATION_LAYOUT,
            act_ref=pack_ref(day, rows),
            subject=subject,
            act=reported,
            source=np.full(rows.size, src.code),
            sensor=np.zeros(rows.size),
        ))
        truth_parts.append(Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT,
            true_actor=actor,
            true_act=codes,
            erroneous=(subject != actor) | (reported != codes),
            lawful=lawful,
        ))

    def _confuse(self, world, day, src, codes, actor) -> np.ndarray:
        """Misclassification: an act of type X is reported as Y with probability q(X→Y),
        by inversion of one uniform over the cumulative q's (so monotone in each q)."""
        reported = codes.copy()
        if not src.confusion:
            return reported
        st = world.stream("confuse")
        for true_name, table in src.confusion.items():
            true_code = self.scenario.acts[true_name].code
            sel = np.flatnonzero(codes == true_code)
            if sel.size == 0:
                continue
            u = st.uniform(day, st.slot(source=src.code, act=true_code), actor[sel])
            edge = 0.0
            for name, q in table.items():
                hit = (u >= edge) & (u < edge + q)
                reported[sel[hit]] = self.scenario.acts[name].code
                edge += q
        return reported

    def _fabricate(self, world, day, src, seen_codes, obs_parts, truth_parts) -> None:
        stream = world.stream("fabricate")
        count_slot = stream.slot(source=src.code, act=FABRICATION_COUNT_SLOT)
        k = int(stream.poisson(day, count_slot, np.zeros(1, np.int64),
                               self.n * src.fabrication_rate)[0])
        if k == 0:
            return
        ordinal = np.arange(k, dtype=np.int64)  # the k-th fabricated record of the day
        subj_slot = stream.slot(source=src.code, act=FABRICATION_COUNT_SLOT, ordinal=1)
        w = stream.words(day, subj_slot, ordinal)
        subject = ((w[:, 0].astype(np.uint64) * np.uint64(self.n)) >> np.uint64(32)).astype(
            np.int64)
        table = AliasTable.from_weights(np.ones(seen_codes.size))
        act_slot = stream.slot(source=src.code, act=FABRICATION_COUNT_SLOT, ordinal=2)
        codes = seen_codes[stream.choice(day, act_slot, ordinal, table)]
        obs_parts.append(Table.from_columns(
            OBSERVATION_LAYOUT,
            act_ref=np.full(k, -1),
            subject=subject,
            act=codes,
            source=np.full(k, src.code),
            sensor=np.zeros(k),
        ))
        truth_parts.append(Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT,
            true_actor=np.full(k, -1),
            true_act=np.zeros(k),
            erroneous=np.ones(k, dtype=bool),
            lawful=np.zeros(k, dtype=bool),
        ))

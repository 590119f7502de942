"""Administrative sources (courts, banks, tax office, ticketing) observe acts.

Each source in the scenario's ``sources:`` catalogue sees the acts it lists; it observes
an act with probability ``coverage``, attributes it to a uniformly drawn other person
with probability ``misattribution``, and fabricates records with no act behind them at
``fabrication_rate`` per person-day (subjects uniform over the population). This module
is the boundary where truth becomes observation: it reads acts and writes the
observation truth sidecar, which only metrics can read.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from scslab.acts import ActCatalogue
from scslab.module import Module, Phase, Role
from scslab.rng import (
    AliasTable,
    SlotLayout,
    StreamSpec,
    k_bernoulli,
    k_uniform,
    k_word,
    probability_to_threshold,
)
from scslab.schema import OBSERVATION_LAYOUT, OBSERVATION_TRUTH_LAYOUT, Table, dtype, pack_ref

SOURCE_LAYOUT = SlotLayout((("source", 5), ("act", 8), ("ordinal", 3)))
FABRICATION_COUNT_SLOT = 0xFF  # act field value reserved for the daily fabrication count


# Draws whose slot differs by row (it names the act): the same numbers as one
# ``Stream`` call per slot, in one pass instead of a loop over act types.
@nb.njit(cache=True)
def uniform_per_row(k0, k1, day, slots, uids):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.float64)
    for j in range(uids.shape[0]):
        out[j] = k_uniform(k0, k1, day, slots[j], uids[j])
    return out


@nb.njit(cache=True)
def word_per_row(k0, k1, day, slots, uids):  # pragma: no cover - compiled
    """The first word of each row's Philox block (``Stream.words(...)[:, 0]``)."""
    out = np.empty(uids.shape[0], dtype=np.uint64)
    for j in range(uids.shape[0]):
        out[j] = k_word(k0, k1, day, slots[j], uids[j])
    return out


@nb.njit(cache=True)
def bernoulli_per_row(k0, k1, day, slots, uids, threshold):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.bool_)
    for j in range(uids.shape[0]):
        out[j] = k_bernoulli(k0, k1, day, slots[j], uids[j], threshold)
    return out


def source_slots(source: int, act: np.ndarray, ordinal: np.ndarray | int = 0) -> np.ndarray:
    """``SOURCE_LAYOUT.pack(source=, act=, ordinal=)`` for arrays of acts and ordinals."""
    return ((np.int64(source) << 11) | (act.astype(np.int64) << 3)
            | (np.asarray(ordinal, dtype=np.int64) & 7))


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

    def setup(self, world) -> None:
        # per source: the act codes it sees, and a table over codes (a gather, not isin)
        self.seen_codes, self.sees = [], []
        for _, src in self.sources:
            codes = np.array([self.scenario.acts[a].code for a in src.sees], dtype=dtype("code"))
            table = np.zeros(256, dtype=bool)
            table[codes] = True
            self.seen_codes.append(codes)
            self.sees.append(table)

    def step(self, world, day: int) -> None:
        acts = world.events("acts")
        obs_parts: list[Table] = []
        truth_parts: list[Table] = []
        for (_, src), seen_codes, sees in zip(self.sources, self.seen_codes, self.sees,
                                              strict=True):
            if seen_codes.size == 0:
                continue
            rows = np.flatnonzero(sees[acts["act"]])
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
        slots = source_slots(src.code, acts["act"][rows], acts["ordinal"][rows])
        keep = bernoulli_per_row(stream.k0, stream.k1, np.int64(day), slots,
                                 acts["actor"][rows].astype(np.int64),
                                 probability_to_threshold(src.coverage)[()])
        return rows[keep]

    def _emit_observed(self, world, day, src, acts, rows, obs_parts, truth_parts) -> None:
        actor = acts["actor"][rows].astype(np.int64)
        subject = actor.copy()
        codes = acts["act"][rows]
        if src.misattribution > 0:
            mis_s = world.stream("misattribute")
            who_s = world.stream("wrong_person")
            slots = source_slots(src.code, codes)
            wrong = bernoulli_per_row(mis_s.k0, mis_s.k1, np.int64(day), slots, actor,
                                      probability_to_threshold(src.misattribution)[()])
            sel = np.flatnonzero(wrong)
            if sel.size:
                w = word_per_row(who_s.k0, who_s.k1, np.int64(day), slots[sel], actor[sel])
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

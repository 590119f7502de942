"""Administrative sources (courts, banks, tax office, ticketing) observe acts.

Each source in the scenario's ``sources:`` catalogue sees the acts it lists; it observes
an act with probability ``coverage``, attributes it to a uniformly drawn other person
with probability ``misattribution``, and fabricates records with no act behind them at
``fabrication_rate`` per person-day (subjects uniform over the population). This module
is the boundary where truth becomes observation: it reads acts and writes the
observation truth sidecar, which only metrics can read.

On a partition of the population (``docs/scaling.md``) a misattributed record may name
a person who lives in another partition: it is routed there with its truth
(:meth:`Sources.receive`), and kept here only in the day's observations (for the acts
seen), with its subject :func:`~scslab.core.layouts.elsewhere`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from scslab.core.acts import ActCatalogue
from scslab.core.layouts import (
    ACT_ELSEWHERE,
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    Table,
    code_table,
    dtype,
    elsewhere,
    pack_ref,
    unfiled,
)
from scslab.core.module import Module, Phase, Role
from scslab.core.world import in_append_order
from scslab.numerics.rng import (
    AliasTable,
    SlotLayout,
    StreamSpec,
    k_bernoulli,
    k_word,
    probability_to_threshold,
)

SOURCE_LAYOUT = SlotLayout((("source", 5), ("act", 8), ("ordinal", 3)))
FABRICATION_COUNT_SLOT = 0xFF  # act field value reserved for the daily fabrication count


@nb.njit(cache=True)
def _observe(act, ordinal, actor, uids, sees, codes, cover, misattribution, others, day,
             obs_k0, obs_k1, mis_k0, mis_k1, who_k0, who_k1):  # pragma: no cover - compiled
    """Every source's observations of today's acts in one pass per source (not a dozen
    NumPy passes per source a day): source by source, act row by act row, the row
    observed and whom its record names (the actor, or a uniformly drawn other person if
    misattributed), and where each source's rows end. The same draws, with the same
    slots, as one ``Stream`` call per source; no draws for a source with zero coverage
    or misattribution (a zero threshold never fires). Draws are keyed by the actor's uid
    (``uids[row]`` on a partition; ``uids`` empty: the row); on a partition the subjects
    are uids too."""
    total = 0
    for s in range(sees.shape[0]):
        if cover[s] != 0:
            for j in range(act.shape[0]):
                if sees[s, act[j]]:
                    total += 1
    rows = np.empty(total, dtype=np.int64)
    subject = np.empty(total, dtype=np.int64)
    ends = np.zeros(sees.shape[0], dtype=np.int64)
    m = 0
    for s in range(sees.shape[0]):
        if cover[s] != 0:
            source = np.int64(codes[s]) << 11
            for j in range(act.shape[0]):
                a = act[j]
                if not sees[s, a]:
                    continue
                slot = source | (np.int64(a) << 3)
                row = np.int64(actor[j])
                uid = row if uids.shape[0] == 0 else uids[row]
                if not k_bernoulli(obs_k0, obs_k1, day, slot | (np.int64(ordinal[j]) & 7), uid,
                                   cover[s]):
                    continue
                who = uid
                if misattribution[s] != 0 and k_bernoulli(mis_k0, mis_k1, day, slot, uid,
                                                          misattribution[s]):
                    w = k_word(who_k0, who_k1, day, slot, uid)
                    other = np.int64((w * others) >> np.uint64(32))
                    who = other + 1 if other >= uid else other  # skip the actor
                rows[m] = j
                subject[m] = who
                m += 1
        ends[s] = m
    return rows[:m], subject[:m], ends


class Sources(Module):
    name = "sources"
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "Administrative sources observe acts with coverage, misattribution, fabrication."
    reads = ("acts",)
    appends = ("observations", "observation_truth")
    partitionable = True
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
        self.uids = world.uids if world.partitioned else np.empty(0, dtype=np.int64)
        #: on a partition with misattribution: records naming people elsewhere are routed
        #: (``outbox``; every partition's handed to :meth:`receive`), and the day's own
        #: observations are ``held`` until then, to be merged with those routed here
        self.routes = world.partitioned and any(src.misattribution > 0 or src.fabrication_rate > 0
                                                for _, src in self.sources)
        self.outbox: dict[str, np.ndarray] | None = None
        self.held: tuple | None = None
        # per source: the act codes it sees, and a table over codes (a gather, not isin)
        self.seen_codes, self.sees = [], []
        for _, src in self.sources:
            codes = np.array([self.scenario.acts[a].code for a in src.sees], dtype=dtype("code"))
            self.seen_codes.append(codes)
            self.sees.append(code_table(codes))
        # the sources that see something (the others do nothing), as arrays for _observe
        self.seeing = [k for k, codes in enumerate(self.seen_codes) if codes.size]
        srcs = [self.sources[k][1] for k in self.seeing]
        self.sees_table = np.array([self.sees[k] for k in self.seeing], dtype=bool).reshape(
            len(srcs), 256)
        self.source_code = np.array([src.code for src in srcs], dtype=np.int64)
        self.cover = np.array([probability_to_threshold(src.coverage) if src.coverage > 0
                               else 0 for src in srcs], dtype=np.uint32)
        self.misattribution = np.array([probability_to_threshold(src.misattribution)
                                        if src.misattribution > 0 else 0 for src in srcs],
                                       dtype=np.uint32)

    def exchange_due(self) -> str | None:
        return ("records naming people elsewhere were not exchanged (Sources.receive)"
                if self.held is not None else None)

    def step(self, world, day: int) -> None:
        self.require_exchanged()
        acts = world.events("acts")
        obs = world.stream("observe")
        mis = world.stream("misattribute")
        who = world.stream("wrong_person")
        rows, subject, ends = _observe(
            acts["act"], acts["ordinal"], acts["actor"], self.uids, self.sees_table,
            self.source_code,
            self.cover, self.misattribution, np.uint64(self.n - 1), np.int64(day),
            obs.k0, obs.k1, mis.k0, mis.k1, who.k0, who.k1)
        codes = acts["act"][rows]
        actor = acts["actor"][rows].astype(np.int64)
        reported = codes.copy()
        #: batches of sources that fabricate: (first row, end row, source code, the day's
        #: fabricated observations and truth, or None)
        fabricating = []
        start = 0
        for s, k in enumerate(self.seeing):
            src, end = self.sources[k][1], int(ends[s])
            if src.confusion and end > start:
                reported[start:end] = self._confuse(world, day, src, codes[start:end],
                                                    actor[start:end])
            if src.fabrication_rate > 0:
                fabricating.append((start, end, src.code,
                                    self._fabricated(world, day, src, self.seen_codes[k])))
            start = end
        lawful = self.catalogue.lawful_ref[self.catalogue.position_of_code[codes]]
        if self.routes:  # every day: an exchange, with or without records to route
            self._hold(world, day, acts, rows, subject, ends, reported, codes, actor, lawful,
                       {code: made for _, _, code, made in fabricating})
            return
        if rows.size == 0 and all(made is None for *_, made in fabricating):
            return
        if world.partitioned:  # no one misattributes: every subject is a local actor
            subject = world.locate(subject)[0]
        observations = Table.from_columns(
            OBSERVATION_LAYOUT,
            ref=unfiled(rows.size),
            subject=subject,
            act=reported,
            source=np.repeat(self.source_code, np.diff(ends, prepend=0)),
            sensor=np.zeros(rows.size),
        )
        truth = Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT,
            act_ref=pack_ref(day, rows),
            true_actor=actor,
            true_act=codes,
            erroneous=(subject != actor) | (reported != codes),
            lawful=lawful,
        )
        if fabricating:
            observations, truth = self._interleave(world, day, observations, truth, fabricating)
        world.append("observations", observations)
        world.append("observation_truth", truth)

    def _hold(self, world, day, acts, rows, subject, ends, reported, codes, actor, lawful,
              made: dict[int, tuple[Table, Table] | None]) -> None:
        """On a partition: the day's observations held (``subject``: uids) until the
        records exchange. Out go, with their truth and actor's uid, those naming people
        elsewhere, and every record of a fabricating source (``made``: its fabricated
        records by source code), whose place in the day depends on the whole batch.
        Each module's acts must come in uid order (checked): then the whole run's day is
        source by source, and within a source by the module that appended the act, then
        the actor's uid (before a fabricating source's shuffle)."""
        appender = world.appended_by("acts")
        first, second = world.act_order()
        if not in_append_order(appender, first, second):
            raise RuntimeError("sources on a partition: today's acts are not in order "
                               "within each module's (View.act_order), so routed records "
                               "could not be put in the whole run's order")
        appender, first, second = appender[rows], first[rows], second[rows]
        actor_uid = world.uid_of(actor)
        local, here = world.locate(subject)
        source = np.repeat(self.source_code, np.diff(ends, prepend=0))
        erroneous = (subject != actor_uid) | (reported != codes)
        observations = Table.from_columns(
            OBSERVATION_LAYOUT, ref=unfiled(rows.size),
            subject=np.where(here, local, elsewhere(subject)), act=reported, source=source,
            sensor=np.zeros(rows.size))
        truth = Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT, act_ref=pack_ref(day, rows), true_actor=actor,
            true_act=codes, erroneous=erroneous, lawful=lawful)
        batch = np.isin(source, list(made))
        out = ~here | batch
        self.outbox = {"subject": subject[out], "act": reported[out], "source": source[out],
                       "actor": actor_uid[out], "true_act": codes[out],
                       "erroneous": erroneous[out], "lawful": lawful[out], "batch": batch[out],
                       "appender": appender[out], "first": first[out], "second": second[out]}
        self.held = (observations, truth, source, (appender, first, second), made)

    def receive(self, world, day: int, routed: dict[str, np.ndarray]) -> None:
        """On a partition, after this module's step: every partition's outbox,
        concatenated in partition order. The day's observations are appended in the
        whole run's order — source by source; within a source, by the module that
        appended the act and the actor's uid (a person's acts are all in one partition,
        in order), or, for a fabricating source,
        by the record's place in its shuffled batch, which every partition rebuilds from
        the whole batch. Records routed here carry their truth: an act elsewhere
        (``ACT_ELSEWHERE``), an actor elsewhere; fabricated ones are drawn here as in
        every partition, and those naming its people kept."""
        if self.held is None:
            raise RuntimeError("sources on a partition: receive comes after the day's step")
        observations, truth, source, place_keys, made = self.held
        self.held = self.outbox = None
        # the place within the source's day: (appending module, its order keys) ranked
        # over this partition's records and every routed one
        key, routed_key = _places(place_keys, (routed["appender"], routed["first"],
                                               routed["second"]))
        routed_subject = np.asarray(routed["subject"], dtype=np.int64)
        local, here = world.locate(routed_subject)
        ours = world.locate(np.asarray(routed["actor"], dtype=np.int64))[1]
        k = np.flatnonzero(here & ~ours & ~routed["batch"])  # misattributed to us
        parts_obs = [observations, _observed(k, local, routed)]
        parts_truth = [truth, _routed_truth(k, routed)]
        keys = [key, routed_key[k]]
        for code, fabricated in made.items():
            sel = np.flatnonzero(routed["batch"] & (routed["source"] == code))
            m = sel.size
            k_made = 0 if fabricated is None else len(fabricated[0])
            observed_at = np.empty(m, dtype=np.int64)  # place of each in the whole batch
            observed_at[np.argsort(routed_key[sel], kind="stable")] = np.arange(m)
            place = np.empty(m + k_made, dtype=np.int64)
            place[self._shuffle(world, day, code, m + k_made)] = np.arange(m + k_made)
            key[source == code] = place[observed_at[ours[sel]]]
            theirs = sel[here[sel] & ~ours[sel]]
            parts_obs.append(_observed(theirs, local, routed))
            parts_truth.append(_routed_truth(theirs, routed))
            keys.append(place[observed_at[here[sel] & ~ours[sel]]])
            if k_made:
                made_obs, made_truth = fabricated
                fab_local, fab_here = world.locate(made_obs["subject"].astype(np.int64))
                mine = np.flatnonzero(fab_here)  # those naming this partition's people
                parts_obs.append(Table.from_columns(
                    OBSERVATION_LAYOUT, ref=unfiled(mine.size), subject=fab_local[mine],
                    act=made_obs["act"][mine], source=made_obs["source"][mine],
                    sensor=made_obs["sensor"][mine]))
                parts_truth.append(made_truth.take(mine))
                keys.append(place[m + mine])
        observations = Table.concat(OBSERVATION_LAYOUT, parts_obs)
        if len(observations) == 0:
            return
        truth = Table.concat(OBSERVATION_TRUTH_LAYOUT, parts_truth)
        order = np.lexsort((np.concatenate(keys), observations["source"]))
        world.append("observations", observations.take(order))
        world.append("observation_truth", truth.take(order))

    def _shuffle(self, world, day: int, code: int, n: int) -> np.ndarray:
        """The order of a fabricating source's day's batch of ``n`` records (its
        observed records in their order, then its fabricated ones): a keyed random
        permutation by place, so a record's place tells the system nothing."""
        stream = world.stream("fabricate")
        w = stream.words(day, stream.slot(source=code, act=FABRICATION_COUNT_SLOT, ordinal=3),
                         np.arange(n, dtype=np.int64))
        key = (w[:, 0].astype(np.uint64) << np.uint64(32)) | w[:, 1].astype(np.uint64)
        return np.argsort(key, kind="stable")

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
            u = st.uniform(day, st.slot(source=src.code, act=true_code),
                           world.uid_of(actor[sel]))
            edge = 0.0
            for name, q in table.items():
                hit = (u >= edge) & (u < edge + q)
                reported[sel[hit]] = self.scenario.acts[name].code
                edge += q
        return reported

    def _interleave(self, world, day: int, observations: Table, truth: Table,
                    fabricating: list) -> tuple[Table, Table]:
        """Each fabricating source's batch, its observed and fabricated records together, in
        a keyed random order: a record's place in the day (and so its reference) tells the
        system nothing of whether an act stands behind it. Sources that never fabricate
        keep the order they observed in."""
        obs_parts, truth_parts, at = [], [], 0
        for start, end, code, made in fabricating:
            obs_parts.append(observations.take(np.arange(at, start)))
            truth_parts.append(truth.take(np.arange(at, start)))
            batch_obs = observations.take(np.arange(start, end))
            batch_truth = truth.take(np.arange(start, end))
            if made is not None:
                batch_obs = Table.concat(OBSERVATION_LAYOUT, [batch_obs, made[0]])
                batch_truth = Table.concat(OBSERVATION_TRUTH_LAYOUT, [batch_truth, made[1]])
            order = self._shuffle(world, day, code, len(batch_obs))
            obs_parts.append(batch_obs.take(order))
            truth_parts.append(batch_truth.take(order))
            at = end
        obs_parts.append(observations.take(np.arange(at, len(observations))))
        truth_parts.append(truth.take(np.arange(at, len(truth))))
        return (Table.concat(OBSERVATION_LAYOUT, obs_parts),
                Table.concat(OBSERVATION_TRUTH_LAYOUT, truth_parts))

    def _fabricated(self, world, day, src, seen_codes) -> tuple[Table, Table] | None:
        """Today's fabricated records of ``src`` (observations, truth), or None."""
        stream = world.stream("fabricate")
        count_slot = stream.slot(source=src.code, act=FABRICATION_COUNT_SLOT)
        k = int(stream.poisson(day, count_slot, np.zeros(1, np.int64),
                               self.n * src.fabrication_rate)[0])
        if k == 0:
            return None
        ordinal = np.arange(k, dtype=np.int64)  # the k-th fabricated record of the day
        subj_slot = stream.slot(source=src.code, act=FABRICATION_COUNT_SLOT, ordinal=1)
        w = stream.words(day, subj_slot, ordinal)
        subject = ((w[:, 0].astype(np.uint64) * np.uint64(self.n)) >> np.uint64(32)).astype(
            np.int64)
        table = AliasTable.from_weights(np.ones(seen_codes.size))
        act_slot = stream.slot(source=src.code, act=FABRICATION_COUNT_SLOT, ordinal=2)
        codes = seen_codes[stream.choice(day, act_slot, ordinal, table)]
        return (Table.from_columns(
            OBSERVATION_LAYOUT,
            ref=unfiled(k),
            subject=subject,
            act=codes,
            source=np.full(k, src.code),
            sensor=np.zeros(k),
        ), Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT,
            act_ref=np.full(k, -1),
            true_actor=np.full(k, -1),
            true_act=np.zeros(k),
            erroneous=np.ones(k, dtype=bool),
            lawful=np.zeros(k, dtype=bool),
        ))


def _observed(rows: np.ndarray, local: np.ndarray, routed: dict[str, np.ndarray]) -> Table:
    """Observations of the routed records ``rows``, naming this partition's people
    (``local``: their rows here)."""
    return Table.from_columns(
        OBSERVATION_LAYOUT, ref=unfiled(rows.size), subject=local[rows],
        act=routed["act"][rows], source=routed["source"][rows], sensor=np.zeros(rows.size))


def _routed_truth(rows: np.ndarray, routed: dict[str, np.ndarray]) -> Table:
    """Their truth: the act and the actor are in another partition."""
    return Table.from_columns(
        OBSERVATION_TRUTH_LAYOUT, act_ref=np.full(rows.size, ACT_ELSEWHERE),
        true_actor=elsewhere(routed["actor"][rows]), true_act=routed["true_act"][rows],
        erroneous=routed["erroneous"][rows], lawful=routed["lawful"][rows])


def _places(here: tuple[np.ndarray, ...], routed: tuple[np.ndarray, ...]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Records' places within their source's day (before a shuffle), as one sortable
    integer each, for this partition's records and the routed ones: their ranks by the
    module that appended the act, then that module's order keys (``View.act_order``)."""
    columns = [np.concatenate([np.asarray(a), np.asarray(b)]).astype(dtype)
               for a, b, dtype in zip(here, routed, (np.int64, np.uint64, np.int64),
                                      strict=True)]
    order = np.lexsort(columns[::-1])
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return rank[:here[0].size], rank[here[0].size:]

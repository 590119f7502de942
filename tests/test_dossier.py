"""The record log: per-subject index, tombstones, retention, truth accounting."""

from __future__ import annotations

import numpy as np

from helpers import small
from scslab.core.layouts import OBSERVATION_TRUTH_LAYOUT, Table, pack_ref
from scslab.core.record_log import Dossier
from scslab.core.world import TruthStore
from scslab.run.engine import Sim


def _file(d, day, subjects, obs_refs):
    k = len(subjects)
    return d.append(day, subject=np.asarray(subjects), act=np.ones(k, np.uint8),
                    source=np.ones(k, np.uint8), kind=np.zeros(k, np.uint8),
                    obs_ref=np.asarray(obs_refs, dtype=np.int64))


def _append(d, day, subjects):
    return _file(d, day, subjects, np.full(len(subjects), -1))


def test_per_subject_index_walks_newest_first():
    d = Dossier(10)
    r0 = _append(d, 0, [3, 5, 3])
    r1 = _append(d, 1, [5, 3])
    r2 = _append(d, 1, [3])
    assert list(d.records_of(3)) == [r2[0], r1[1], r0[2], r0[0]]
    assert list(d.records_of(5)) == [r1[0], r0[1]]
    assert d.records_of(7).size == 0
    assert d.live_count[3] == 4


def test_tombstones_and_retention():
    d = Dossier(4)
    r0 = _append(d, 0, [1, 1])
    _append(d, 5, [1])
    assert d.remove(np.array([r0[0], r0[0], pack_ref(9, 0)])) == 1  # twice, unknown: once
    assert d.live_count[1] == 2
    assert list(d.records_of(1)) == [pack_ref(5, 0), r0[1]]
    assert len(d.records_of(1, include_removed=True)) == 3
    d.drop_before(3)
    assert list(d.records_of(1)) == [pack_ref(5, 0)]
    assert d.live_count[1] == 1
    assert d.total_records() == 1


def test_zero_error_rates_no_misattributed_or_fabricated_and_truth_accounts_for_all():
    sc = small(sets=["sources.court.misattribution=0", "sources.court.fabrication_rate=0",
                     "sources.tax_office.misattribution=0", "sources.bank.misattribution=0",
                     "sources.enforcement.confusion.judgment_unable=null",
                     "sources.enforcement.misattribution=0", "sources.court.coverage=0.8",
                     "sources.court.sees=[fraud, traffic]"])
    sim = Sim(sc).run()
    w = sim.world
    total = 0
    for day, chunk in w.dossier.chunks.items():
        act_ref = w.truth.act_refs(w.dossier.obs_refs(day, chunk))
        assert np.all(act_ref >= 0)
        actor, _ = w.truth.lookup(w.dossier.obs_refs(day, chunk))
        assert np.all(actor >= 0)  # every record's act is in the truth sidecar
        assert np.array_equal(actor, chunk["subject"])
        assert np.all((act_ref >> 32) == day)
        total += len(chunk)
    assert total > 100
    s = sim.results().summary
    assert s["fabricated_record_share"] == 0 and s["misattributed_record_share"] == 0
    assert s["misclassified_record_share"] == 0


def test_errors_are_counted_exactly(noisy_scenario):
    sim = Sim(noisy_scenario).run()
    w = sim.world
    fabricated = mis = records = court_real = court_mis = 0
    for day, chunk in w.dossier.chunks.items():
        actor, _ = w.truth.lookup(w.dossier.obs_refs(day, chunk))
        real = w.truth.act_refs(w.dossier.obs_refs(day, chunk)) >= 0
        wrong = real & (actor != chunk["subject"])
        fabricated += int((~real).sum())
        mis += int(wrong.sum())
        records += len(chunk)
        court = chunk["source"] == 1
        court_real += int((court & real).sum())
        court_mis += int((court & wrong).sum())
    c = w.counters
    assert c.totals("records", slice(None)).sum() == records
    assert c.totals("records_fabricated", slice(None)).sum() == fabricated
    assert c.totals("records_misattributed", slice(None)).sum() == mis
    assert fabricated > 0 and mis > 0
    # the court misattributes 0.2 of the acts it observes
    assert abs(court_mis / court_real - 0.2) < 0.03


def test_a_records_reference_does_not_tell_a_fabricated_observation(noisy_scenario):
    """The reference the system sees is the observation's place in the day's observations:
    a fabricated observation's is the same kind of number as any other (the act behind a
    record, or that there was none, is only in the truth store)."""
    sim = Sim(noisy_scenario).run()
    w = sim.world
    fabricated = 0
    for day, chunk in w.dossier.chunks.items():
        ref = w.dossier.obs_refs(day, chunk)
        assert np.all(ref >> 32 == day)
        assert np.array_equal(ref & 0xFFFFFFFF, np.arange(len(chunk)))  # no kin records here
        made_up = w.truth.act_refs(ref) < 0
        fabricated += int(made_up.sum())
        real_actor, _ = w.truth.lookup(ref)
        assert np.all((real_actor < 0) == made_up)
    assert fabricated > 0


def test_a_records_place_does_not_tell_a_fabricated_observation(noisy_scenario):
    """Nor does its place: the court's fabricated records sit among its observed ones in a
    keyed random order, not after them. Their mean relative place in the court's daily
    batch is near one half (at the end it would be near 1); tolerance 0.1 over >100
    fabricated records at a 0.1 % daily rate."""
    sim = Sim(noisy_scenario).run()
    w = sim.world
    places = []
    court = noisy_scenario.sources["court"].code
    for day, chunk in w.dossier.chunks.items():
        batch = np.flatnonzero(chunk["source"] == court)
        if batch.size < 2:
            continue
        made_up = w.truth.act_refs(w.dossier.obs_refs(day, chunk)[batch]) < 0
        places.extend(np.flatnonzero(made_up) / (batch.size - 1))
    assert len(places) > 100
    assert abs(float(np.mean(places)) - 0.5) < 0.1


def test_heads_are_32_bit_record_numbers_and_widen_to_refs_when_filed_out_of_order():
    d = Dossier(6)
    r0 = _append(d, 0, [2, 4, 2])
    r2 = _append(d, 2, [4])
    r2b = _append(d, 2, [2])
    assert d.head.dtype == np.int32  # half the bytes of a ref per person
    # so are the per-subject links: record 2 (day 0, row 2) follows record 0, day 2's
    # rows (numbers 3, 4) follow records 1 and 2
    assert d.chunks[0]["prev"].dtype == np.int32
    assert list(d.chunks[0]["prev"]) == [-1, -1, 0] and list(d.chunks[2]["prev"]) == [1, 2]
    assert list(d.records_of(2)) == [r2b[0], r0[2], r0[0]]
    before = {s: list(d.records_of(s)) for s in range(6)}
    r1 = _append(d, 1, [4])  # an earlier day than the newest: the numbering cannot go on
    assert d.head.dtype == np.int64
    assert all(c["prev"].dtype == np.int64 for c in d.chunks.values())  # widened, all
    assert list(d.chunks[2]["prev"]) == [r0[1], r0[2]] and list(d.chunks[1]["prev"]) == [r2[0]]
    assert list(d.records_of(4)) == [r1[0], r2[0], r0[1]]
    assert {s: list(d.records_of(s)) for s in range(6) if s != 4} == {
        s: v for s, v in before.items() if s != 4}
    snap = d.snapshot()
    d.restore(snap)
    assert list(d.records_of(2)) == [r2b[0], r0[2], r0[0]]


def _truth(act_ref):
    k = len(act_ref)
    return Table.from_columns(OBSERVATION_TRUTH_LAYOUT, act_ref=np.asarray(act_ref),
                              true_actor=np.arange(k), true_act=np.ones(k),
                              erroneous=np.zeros(k, bool), lawful=np.zeros(k, bool))


def test_truth_keeps_same_day_act_refs_as_32_bit_rows_and_others_as_refs():
    """4 B a record of a store that grows with the days: a chunk whose acts all happened on
    its day keeps their rows; one act of another day keeps the chunk's refs whole."""
    t = TruthStore()
    t.add(7, pack_ref(7, np.array([0, 1, 2])), _truth([pack_ref(7, 5), -1, pack_ref(7, 0)]))
    assert t.chunks[7]["act_ref"].dtype == np.uint32
    assert list(t.act_refs(pack_ref(7, np.array([2, 0, 1, 9])))) == [
        pack_ref(7, 0), pack_ref(7, 5), -1, -1]
    # the same day again, with an act of day 6: the merged chunk widens to refs
    t.add(7, pack_ref(7, np.array([3])), _truth([pack_ref(6, 4)]))
    assert t.chunks[7]["act_ref"].dtype == np.int64
    assert list(t.act_refs(pack_ref(7, np.array([0, 1, 2, 3])))) == [
        pack_ref(7, 5), -1, pack_ref(7, 0), pack_ref(6, 4)]
    # refs of several days in one call
    t.add(8, pack_ref(8, np.array([0])), _truth([pack_ref(8, 3)]))
    assert list(t.act_refs(np.array([pack_ref(8, 0), pack_ref(7, 3)]))) == [
        pack_ref(8, 3), pack_ref(6, 4)]


def test_records_keep_same_day_observations_as_32_bit_rows_and_others_as_refs():
    """4 B of every record: a day whose records all saw observations of that day (or none)
    keeps their rows; one of another day keeps that chunk's refs whole. Read either way
    through ``obs_refs`` and ``columns``, and kept through the prev links' widening."""
    d = Dossier(4)
    r3 = _file(d, 3, [0, 1, 2], [pack_ref(3, 7), -1, pack_ref(3, 0)])
    assert "obs_ref" not in d.chunks[3].columns and d.chunks[3]["obs_row"].dtype == np.uint32
    chunk, _ = d.day_records(3)
    assert list(d.obs_refs(3, chunk)) == [pack_ref(3, 7), -1, pack_ref(3, 0)]
    # the same day again, one record of day 2's observation: the day's chunk widens
    _file(d, 3, [3], [pack_ref(2, 5)])
    assert d.chunks[3]["obs_ref"].dtype == np.int64 and "obs_row" not in d.chunks[3].columns
    assert list(d.obs_refs(3, d.chunks[3])) == [pack_ref(3, 7), -1, pack_ref(3, 0),
                                                pack_ref(2, 5)]
    # and then a day that keeps rows again; a later record of refs beside it
    r4 = _file(d, 4, [1], [pack_ref(4, 2)])
    _file(d, 4, [2], [pack_ref(4, 3)])
    assert d.chunks[4]["obs_row"].tolist() == [2, 3]
    assert list(d.columns(np.r_[r4, r3[::-1]], "obs_ref")[0]) == [
        pack_ref(4, 2), pack_ref(3, 0), -1, pack_ref(3, 7)]
    # the prev links widen (a day filed out of order); the rows stay rows
    _file(d, 1, [0], [pack_ref(1, 0)])
    assert d.head.dtype == np.int64 and d.chunks[4]["obs_row"].tolist() == [2, 3]
    assert list(d.records_of(2)) == [pack_ref(4, 1), r3[2]]


def test_truth_of_every_observation_of_a_day_needs_no_row_column():
    """A chunk holding rows 0 … k − 1 keys them by position (4 B a record less); a gap, or
    rows out of order, keep the row column until the gap fills."""
    t = TruthStore()
    t.add(3, pack_ref(3, np.array([0, 2])), _truth([pack_ref(3, 4), pack_ref(3, 6)]))
    assert list(t.chunks[3]["row"]) == [0, 2]  # row 1 is missing
    assert list(t.lookup(pack_ref(3, np.array([2, 1, 0])))[0]) == [1, -1, 0]
    t.add(3, pack_ref(3, np.array([1])), _truth([pack_ref(3, 5)]))
    assert "row" not in t.chunks[3]  # rows 0, 1, 2: by position
    assert list(t.act_refs(pack_ref(3, np.array([2, 1, 0, 3])))) == [
        pack_ref(3, 6), pack_ref(3, 5), pack_ref(3, 4), -1]
    t.add(3, pack_ref(3, np.array([3, 4])), _truth([pack_ref(3, 7), -1]))
    assert "row" not in t.chunks[3] and t.chunks[3]["true_actor"].size == 5
    assert list(t.lookup(pack_ref(3, np.array([4, 3, 9])))[0]) == [1, 0, -1]
    # a day whose observations start past row 0 keeps its rows; several days in one call
    t.add(4, pack_ref(4, np.array([1])), _truth([pack_ref(4, 0)]))
    assert list(t.chunks[4]["row"]) == [1]
    assert list(t.act_refs(np.array([pack_ref(4, 1), pack_ref(3, 1), pack_ref(4, 0)]))) == [
        pack_ref(4, 0), pack_ref(3, 5), -1]


def test_records_in_the_place_of_their_observations_keep_no_observation_column():
    """The dossier files a day's observations first, in order, so record i saw observation
    i: such a chunk keeps no column (8 B a record less than refs); a record out of place
    filed later that day turns it to rows, one of another day's observation to refs."""
    d = Dossier(3)
    _file(d, 5, [0, 1], [pack_ref(5, 0), pack_ref(5, 1)])
    _file(d, 5, [2], [pack_ref(5, 2)])  # still in place
    assert "obs_ref" not in d.chunks[5].columns and "obs_row" not in d.chunks[5].columns
    assert list(d.obs_refs(5, d.chunks[5])) == [pack_ref(5, 0), pack_ref(5, 1), pack_ref(5, 2)]
    r = _file(d, 5, [1, 2], [pack_ref(5, 0), -1])  # kin and an evaluation, out of place
    assert d.chunks[5]["obs_row"].tolist() == [0, 1, 2, 0, 0xFFFFFFFF]
    assert list(d.columns(r, "obs_ref")[0]) == [pack_ref(5, 0), -1]
    _file(d, 6, [0], [pack_ref(6, 0)])
    _file(d, 6, [1], [pack_ref(2, 9)])  # another day's observation: refs
    assert list(d.chunks[6]["obs_ref"]) == [pack_ref(6, 0), pack_ref(2, 9)]
    _file(d, 7, [2], [pack_ref(7, 0)])
    _file(d, 1, [2], [pack_ref(1, 0)])  # out of order: the prev links widen, the rest stays
    assert d.head.dtype == np.int64 and "obs_row" not in d.chunks[7].columns
    assert list(d.obs_refs(7, d.chunks[7])) == [pack_ref(7, 0)]
    assert list(d.records_of(2)) == [pack_ref(1, 0), pack_ref(7, 0), pack_ref(5, 4),
                                     pack_ref(5, 2)]

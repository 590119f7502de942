"""The opportunity clock: each (person, act, day) an independent Bernoulli trial."""

from __future__ import annotations

import numpy as np
import pytest

import scslab.core.acts as acts
from scslab.core.acts import _opportunities, opportunities

RATES = np.array([0.01, 0.2, 0.002, 1.0])
CODES = np.array([3, 40, 41, 200], dtype=np.int64)
K0, K1 = np.uint64(0x1234), np.uint64(0xABCD)


def _day(day: int, n: int, rates=RATES, codes=CODES):
    with np.errstate(divide="ignore"):
        log_stay = np.log1p(-rates)
    return _opportunities(K0, K1, np.int64(day), np.int64(n), codes, log_stay)


def test_opportunities_come_in_person_then_act_order_without_repeats():
    person, column = _day(5, 5000)
    key = person.astype(np.int64) * 256 + column
    assert np.all(np.diff(key) > 0)
    assert person.min() >= 0 and person.max() < 5000


def test_each_act_arrives_at_its_rate_and_certain_acts_every_day():
    n, days = 20_000, 30
    counts = np.zeros(RATES.size)
    for day in range(days):
        counts += np.bincount(_day(day, n)[1], minlength=RATES.size)
    expected = RATES * n * days
    sd = np.sqrt(expected * (1 - RATES))
    assert counts[3] == n * days  # rate 1: everyone, every day
    assert np.all(np.abs(counts[:3] - expected[:3]) < 4 * sd[:3])  # 4 sd: fails < 1e-4


def test_a_persons_opportunities_do_not_depend_on_population_size():
    small_p, small_a = _day(7, 1000)
    big_p, big_a = _day(7, 50_000)
    keep = big_p < 1000
    assert np.array_equal(small_p, big_p[keep]) and np.array_equal(small_a, big_a[keep])


def test_opportunities_are_independent_across_days_and_people():
    # two days' indicators of a common act are uncorrelated; neighbours' too
    n = 200_000
    rates = np.array([0.2])
    codes = np.array([9], dtype=np.int64)
    x = np.zeros((2, n))
    for d in range(2):
        x[d, _day(d, n, rates, codes)[0]] = 1.0
    r_days = np.corrcoef(x[0], x[1])[0, 1]
    r_next = np.corrcoef(x[0, :-1], x[0, 1:])[0, 1]
    bound = 4 / np.sqrt(n)
    assert abs(r_days) < bound and abs(r_next) < bound


#: many acts of unequal rates (more than the lanes a thread interleaves), some 0 and 1
MANY_RATES = np.array([0.0, 0.01, 0.2, 0.002, 1.0, 0.5, 0.03, 1e-4, 0.07, 0.0, 0.3])
MANY_CODES = np.array([1, 3, 40, 41, 200, 7, 9, 11, 12, 13, 14], dtype=np.int64)


@pytest.mark.parametrize("serial_below", [0, 10**12])
def test_interleaved_clock_is_the_sequential_one_bit_for_bit(monkeypatch, serial_below):
    """Walks advanced several at a time (``LANES`` per thread) and merged by the winner
    tree give exactly the sequential heap clock's pairs, on the parallel path and on the
    one-thread path of small populations."""
    monkeypatch.setattr(acts, "SERIAL_BELOW", serial_below)
    with np.errstate(divide="ignore"):
        log_stay = np.log1p(-MANY_RATES)
    for n in (0, 1, 7, 300, 20_000):
        for day in (0, 3, 11):
            args = (K0, K1, np.int64(day), np.int64(n), MANY_CODES, log_stay)
            p_seq, a_seq = _opportunities(*args)
            p_new, a_new = opportunities(*args)
            assert np.array_equal(p_seq, p_new) and np.array_equal(a_seq, a_new), (n, day)


@pytest.mark.parametrize("groups", [1, 2, 3, 11, 40])
def test_walks_are_the_same_in_any_number_of_groups(groups):
    """The acts' walks split into any number of groups (one per thread) are the same."""
    with np.errstate(divide="ignore"):
        log_stay = np.log1p(-MANY_RATES)
    n = 50_000
    start = np.zeros(MANY_CODES.size + 1, dtype=np.int64)
    np.cumsum(acts._rooms(n, log_stay), out=start[1:])
    args = (K0, K1, np.int64(5), np.int64(n), MANY_CODES, log_stay, start)
    w1, c1 = acts._walks(*args, 1)
    w, c = acts._walks(*args, groups)
    assert np.array_equal(c, c1) and (c1 >= 0).all() and c1[MANY_RATES == 0].sum() == 0
    for a in range(MANY_CODES.size):
        assert np.array_equal(w[start[a]:start[a] + c[a]], w1[start[a]:start[a] + c1[a]])


@pytest.mark.parametrize("pieces", [1, 3, 16, 97])
def test_parallel_clock_is_the_sequential_one_bit_for_bit(monkeypatch, pieces):
    """The acts' walks in parallel and the merge by uid ranges give exactly the pairs, in
    exactly the order, of the sequential heap merge, whatever the number of pieces
    (including more pieces than people)."""
    monkeypatch.setattr(acts, "MERGE_PIECES", pieces)
    monkeypatch.setattr(acts, "SERIAL_BELOW", 0)  # the parallel path even for few people
    rates = np.array([0.0, 0.01, 0.2, 0.002, 1.0, 0.5])
    codes = np.array([1, 3, 40, 41, 200, 7], dtype=np.int64)
    with np.errstate(divide="ignore"):
        log_stay = np.log1p(-rates)
    for n in (0, 1, 50, 5000, 100_000):
        for day in (0, 11):
            args = (K0, K1, np.int64(day), np.int64(n), codes, log_stay)
            p_seq, a_seq = _opportunities(*args)
            p_par, a_par = opportunities(*args)
            assert np.array_equal(p_seq, p_par) and np.array_equal(a_seq, a_par)
            assert p_par.dtype == p_seq.dtype and a_par.dtype == a_seq.dtype


@pytest.mark.parametrize("serial_below", [0, 10**12])
def test_parallel_clock_falls_back_when_an_act_overflows_its_room(monkeypatch, serial_below):
    monkeypatch.setattr(acts, "_rooms", lambda n, log_stay: np.full(log_stay.size, 3))  # too few
    monkeypatch.setattr(acts, "SERIAL_BELOW", serial_below)
    with np.errstate(divide="ignore"):
        log_stay = np.log1p(-RATES)
    args = (K0, K1, np.int64(4), np.int64(20_000), CODES, log_stay)
    p_seq, a_seq = _opportunities(*args)
    p_par, a_par = opportunities(*args)
    assert p_seq.size > 1000
    assert np.array_equal(p_seq, p_par) and np.array_equal(a_seq, a_par)


@pytest.mark.parametrize("serial_below", [0, 10**12])
def test_rates_too_small_to_tell_from_zero_give_no_opportunities(monkeypatch, serial_below):
    """A gap of ln U / ln(1 − rate) beyond 2^63 (a rate below ~4e-18) is no opportunity.
    Its conversion to an integer once overflowed to a negative gap, and a rate of 1e-300
    gave everyone an opportunity every day."""
    monkeypatch.setattr(acts, "SERIAL_BELOW", serial_below)
    rates = np.array([1e-20, 1e-300, 5e-324, 0.05])
    codes = np.array([5, 6, 7, 8], dtype=np.int64)
    log_stay = np.log1p(-rates)
    for day in (0, 3):
        args = (K0, K1, np.int64(day), np.int64(20_000), codes, log_stay)
        for person, act in (_opportunities(*args), opportunities(*args)):
            assert (person >= 0).all()
            assert np.bincount(act, minlength=4)[:3].tolist() == [0, 0, 0]
            assert abs(np.count_nonzero(act == 3) - 1000) < 4 * np.sqrt(1000)

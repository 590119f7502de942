"""Random streams: known answers, kernel = reference bit for bit, statistics, independence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from scslab.numerics import rng
from scslab.numerics import rng_reference as ref
from scslab.numerics.rng import AliasTable, SlotLayout, Stream, stream_key

U = np.uint64

# Random123 known-answer vectors for Philox4x32-10 (kat_vectors): key, counter, output.
KAT = [
    ((0x00000000, 0x00000000), (0, 0, 0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (0xFFFFFFFF, 0xFFFFFFFF),
        (0xFFFFFFFF,) * 4,
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0xA4093822, 0x299F31D0),
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("key,ctr,expected", KAT)
def test_philox_known_answers_kernel_and_reference(key, ctr, expected):
    got = rng.k_philox(U(key[0]), U(key[1]), *(U(c) for c in ctr))
    assert tuple(int(x) for x in got) == expected
    got_ref = ref.philox(key[0], key[1], *ctr)
    assert tuple(int(x) for x in got_ref) == expected


def test_stream_key_pinned_and_field_separated():
    # pinned: changing the key derivation silently would break reproducibility of old runs
    assert stream_key(1, "population", 0) == stream_key(1, "population", 0)
    k = stream_key(20261127, "acts.decide", 3)
    assert k == PINNED_KEY
    # length-prefixing: ("ab", 1) and ("a", ...) cannot collide by concatenation
    assert stream_key(1, "ab", 0) != stream_key(1, "a", 0)
    assert stream_key(1, "x", 1) != stream_key(2, "x", 0)


# Pinned by value: a change to key derivation would silently change every old run.
PINNED_KEY = (3943477178, 1036611042)


def test_pinned_words_of_a_stream():
    s = Stream(7, "test.pinned", 0)
    w = s.words(3, 5, np.array([0, 1, 2**32 - 1]))
    assert w.dtype == np.uint32
    assert [int(x) for x in w[:, 0]] == PINNED_WORDS


PINNED_WORDS = [3889471164, 587206721, 3668689994]


@pytest.fixture(scope="module")
def stream():
    return Stream(12345, "test.stream", 2, SlotLayout((("act", 8), ("ordinal", 8))))


@pytest.fixture(scope="module")
def uids():
    return np.arange(0, 200_000, dtype=np.int64) * 7919 % (2**32)


def test_kernel_equals_reference_bit_for_bit(stream, uids):
    day, slot = 17, stream.slot(act=3, ordinal=1)
    assert np.array_equal(stream.words(day, slot, uids), ref.words(stream, day, slot, uids))
    u = stream.uniform(day, slot, uids)
    assert np.array_equal(u.view(np.uint64), ref.uniform(stream, day, slot, uids).view(np.uint64))
    p = np.linspace(0, 1, uids.size)
    assert np.array_equal(stream.bernoulli(day, slot, uids, p), ref.bernoulli(stream, day, slot, uids, p))
    z = stream.normal(day, slot, uids[:50_000])
    zr = ref.normal(stream, day, slot, uids[:50_000])
    assert np.array_equal(z.view(np.uint64), zr.view(np.uint64))
    for lam in (0.0, 0.3, 4.0, 25.0):
        assert np.array_equal(
            stream.poisson(day, slot, uids[:20_000], lam), ref.poisson(stream, day, slot, uids[:20_000], lam)
        )
    for n, pp in ((1, 0.5), (10, 0.2), (200, 0.03)):
        assert np.array_equal(
            stream.binomial(day, slot, uids[:20_000], n, pp),
            ref.binomial(stream, day, slot, uids[:20_000], n, pp),
        )
    table = AliasTable.from_weights([0.1, 0.0, 0.5, 0.25, 0.15])
    assert np.array_equal(stream.choice(day, slot, uids, table), ref.choice(stream, day, slot, uids, table))
    assert np.array_equal(stream.priority(day, slot, uids), ref.priority(stream, day, slot, uids))
    words = ref.words(stream, day, slot, uids)[:, 0].astype(np.uint64)
    for n in (1, 7, 10**8, 2**32):  # the first word scaled by multiply-shift
        want = ((words * np.uint64(n)) >> np.uint64(32)).astype(np.int64)
        got = stream.below(day, slot, uids, n)
        assert got.dtype == np.int64 and np.array_equal(got, want)
        assert got.min() >= 0 and got.max() < n


def test_below_refuses_a_range_it_cannot_scale_to(stream, uids):
    for n in (0, -3, 2**32 + 1):
        with pytest.raises(ValueError, match="must lie in"):
            stream.below(1, 1, uids[:3], n)


def test_uniform_and_normal_moments_and_ks(stream):
    uids = np.arange(1_000_000)
    u = stream.uniform(5, 1, uids)
    assert 0.0 < u.min() and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / uids.size)
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    z = stream.normal(5, 2, uids)
    assert abs(z.mean()) < 4 / np.sqrt(uids.size)
    assert abs(z.var() - 1.0) < 4 * np.sqrt(2 / uids.size)
    assert abs(stats.skew(z)) < 0.01 and abs(stats.kurtosis(z)) < 0.02
    assert stats.kstest(z, "norm").pvalue > 1e-3


@pytest.mark.parametrize("lam", [0.05, 3.0, 80.0, 2500.0])
def test_poisson_moments(stream, lam):
    x = stream.poisson(9, 4, np.arange(300_000), lam)
    se = np.sqrt(lam / x.size)
    assert abs(x.mean() - lam) < 5 * se
    assert abs(x.var() / lam - 1.0) < 0.03


def test_binomial_and_bernoulli_moments(stream):
    uids = np.arange(400_000)
    x = stream.binomial(2, 9, uids, 40, 0.15)
    assert abs(x.mean() - 6.0) < 5 * np.sqrt(40 * 0.15 * 0.85 / uids.size)
    b = stream.bernoulli(2, 10, uids, 0.013)
    assert abs(b.mean() - 0.013) < 5 * np.sqrt(0.013 * 0.987 / uids.size)
    assert stream.bernoulli(2, 11, uids, 1.0).all()
    assert not stream.bernoulli(2, 11, uids, 0.0).any()


def test_alias_table_frequencies(stream):
    w = np.array([5.0, 1.0, 0.0, 3.0, 1.0])
    table = AliasTable.from_weights(w)
    assert np.allclose(table.probabilities(), w / w.sum(), atol=1e-9)
    x = stream.choice(4, 4, np.arange(500_000), table)
    counts = np.bincount(x, minlength=w.size)
    assert counts[2] == 0
    expected = w / w.sum() * x.size
    nz = expected > 0
    assert stats.chisquare(counts[nz], expected[nz]).pvalue > 1e-3


def test_draws_are_monotone_in_parameters(stream):
    """Inversion: raising p or lambda never lowers any individual draw (paired runs)."""
    uids = np.arange(50_000)
    assert np.all(stream.poisson(1, 1, uids, 2.0) <= stream.poisson(1, 1, uids, 2.5))
    assert np.all(stream.bernoulli(1, 1, uids, 0.2) <= stream.bernoulli(1, 1, uids, 0.3))
    assert np.all(stream.binomial(1, 1, uids, 20, 0.2) <= stream.binomial(1, 1, uids, 20, 0.3))


def _corr(a, b):
    return abs(np.corrcoef(a, b)[0, 1])


def test_no_correlation_between_streams_seeds_days_slots_and_neighbours():
    uids = np.arange(500_000)
    bound = 5 / np.sqrt(uids.size)
    a = Stream(1, "a").uniform(10, 0, uids)
    assert _corr(a, Stream(1, "b").uniform(10, 0, uids)) < bound  # streams
    assert _corr(a, Stream(2, "a").uniform(10, 0, uids)) < bound  # seeds
    assert _corr(a, Stream(1, "a", 1).uniform(10, 0, uids)) < bound  # instances
    assert _corr(a, Stream(1, "a").uniform(11, 0, uids)) < bound  # consecutive days
    assert _corr(a, Stream(1, "a").uniform(10, 1, uids)) < bound  # slots
    assert _corr(a[:-1], a[1:]) < bound  # consecutive uids


def test_same_draw_whether_population_is_whole_or_sliced(stream):
    uids = np.arange(100_000)
    whole = stream.normal(3, 7, uids)
    parts = np.concatenate([stream.normal(3, 7, uids[i : i + 9_999]) for i in range(0, uids.size, 9_999)])
    assert np.array_equal(whole.view(np.uint64), parts.view(np.uint64))
    shuffled = uids[::-1]
    assert np.array_equal(stream.normal(3, 7, shuffled)[::-1].view(np.uint64), whole.view(np.uint64))


def test_serve_is_order_independent(stream):
    applicants = np.array([5, 99, 3, 42, 17, 8, 1000, 77])
    a = stream.serve(8, 3, applicants, 3)
    b = stream.serve(8, 3, applicants[::-1].copy(), 3)
    assert np.array_equal(a, b) and a.size == 3
    assert np.array_equal(stream.serve(8, 3, applicants, 100), np.sort(applicants))


def test_slot_layout_packs_bit_fields_and_rejects_overflow():
    layout = SlotLayout((("act", 8), ("ordinal", 8)))
    assert layout.pack(act=3, ordinal=1) == (3 << 8) | 1
    with pytest.raises(ValueError):
        layout.pack(act=256)
    with pytest.raises(KeyError):
        layout.pack(sensor=1)
    with pytest.raises(ValueError):
        SlotLayout((("a", 10), ("b", 10)))


def test_counter_fields_are_range_checked(stream):
    with pytest.raises(ValueError):
        stream.uniform(70_000, 0, np.arange(3))
    with pytest.raises(ValueError):
        stream.uniform(0, 70_000, np.arange(3))
    with pytest.raises(ValueError):
        stream.uniform(0, 0, np.array([-1]))


def test_packed_family_kernel_equals_reference_and_is_its_own_family(stream, uids):
    """Packed draws: four uids per block, the same number however the uids are asked for,
    equal to the NumPy reference, and disjoint from the per-uid family."""
    day, slot = 9, stream.slot(act=1)
    w = stream.lane_words(day, slot, uids)
    assert np.array_equal(w, ref.lane_words(stream, day, slot, uids))
    p = np.linspace(0, 1, uids.size)
    assert np.array_equal(stream.lane_bernoulli(day, slot, uids, p),
                          ref.lane_bernoulli(stream, day, slot, uids, p))
    # a uid's word does not depend on which other uids are drawn with it
    everyone = np.arange(4000)
    assert np.array_equal(stream.lane_words(day, slot, everyone)[1::3],
                          stream.lane_words(day, slot, everyone[1::3]))
    # uids 4q..4q+3 are the four words of one block at counter (q, day<<16|slot, 0, 1)
    block = rng.k_philox(stream.k0, stream.k1, U(5), U((day << 16) | slot), U(0), U(1))
    assert [int(x) for x in stream.lane_words(day, slot, np.arange(20, 24))] == [int(b) for b in block]
    # ... which is not any per-uid block: the families never share a counter
    assert not np.array_equal(stream.words(day, slot, np.array([5]))[0], np.array(block, np.uint32))
    # edge probabilities are exact and the frequency is right
    assert not stream.lane_bernoulli(day, slot, everyone, 0.0).any()
    assert stream.lane_bernoulli(day, slot, everyone, 1.0).all()
    hits = stream.lane_bernoulli(day, slot, np.arange(400_000), 0.05).mean()
    assert abs(hits - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 400_000)
    # neighbouring lanes of one block are uncorrelated
    x = stream.lane_words(day, slot, np.arange(400_000)).astype(np.float64).reshape(-1, 4)
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 0.01


def test_one_slot_per_uid_equals_one_call_per_slot(stream, uids):
    """Draws whose slot names each row's act: the same numbers as a call per slot, equal to
    the reference, and range-checked like a single slot."""
    day = 11
    slots = (np.arange(uids.size) % 7 + 3).astype(np.int64)
    u = stream.uniform(day, slots, uids)
    w = stream.words(day, slots, uids)
    for s in np.unique(slots):
        rows = slots == s
        assert np.array_equal(u[rows], stream.uniform(day, int(s), uids[rows]))
        assert np.array_equal(w[rows], stream.words(day, int(s), uids[rows]))
    assert np.array_equal(u.view(np.uint64), ref.uniform(stream, day, slots, uids).view(np.uint64))
    assert np.array_equal(w, ref.words(stream, day, slots, uids))
    with pytest.raises(ValueError, match="16-bit slot"):
        stream.uniform(day, np.array([1, 2**16]), np.array([0, 1]))
    with pytest.raises(ValueError, match="one per uid"):
        stream.uniform(day, np.array([1, 2, 3]), np.array([0, 1]))


def test_scalar_threshold_is_the_array_threshold():
    """The scalar fast path of probability_to_threshold gives the array path's value, at
    the half-way points where rounding could differ, the ends and outside [0, 1]."""
    from scslab.numerics.rng import probability_to_threshold

    rng = np.random.default_rng(7)
    halfway = (np.floor(rng.random(2000) * 2**32) + 0.5) / 2**32
    ps = np.concatenate([rng.random(2000), halfway, [0.0, 1.0, -0.5, 1.5, 1e-300,
                                                     1 - 1e-16, 0.5 / 2**32, 1.5 / 2**32]])
    array = probability_to_threshold(ps)
    scalar = np.array([probability_to_threshold(float(p)) for p in ps], dtype=np.uint32)
    np.testing.assert_array_equal(scalar, array)
    assert probability_to_threshold(1) == 0xFFFFFFFF and probability_to_threshold(0) == 0


def test_uids_out_of_range_are_refused_whatever_their_dtype():
    from scslab.numerics.rng import AliasTable, Stream

    st = Stream(1, "test.uids")
    table = AliasTable.from_weights([0.2, 0.3, 0.5])
    draws = {  # every draw over uids: each kernel refuses them itself, after its loop
        "words": lambda u: st.words(1, 1, u), "lane_words": lambda u: st.lane_words(1, 1, u),
        "lane_bernoulli": lambda u: st.lane_bernoulli(1, 1, u, 0.5),
        "uniform": lambda u: st.uniform(1, 1, u), "bernoulli": lambda u: st.bernoulli(1, 1, u, 0.5),
        "normal": lambda u: st.normal(1, 1, u), "poisson": lambda u: st.poisson(1, 1, u, 3.0),
        "binomial": lambda u: st.binomial(1, 1, u, 5, 0.5),
        "choice": lambda u: st.choice(1, 1, u, table), "below": lambda u: st.below(1, 1, u, 10),
        "priority": lambda u: st.priority(1, 1, u),
        "serve, some served": lambda u: st.serve(1, 1, u, u.size - 1 or 1),
        "serve, all served": lambda u: st.serve(1, 1, u, u.size)}
    for bad in (np.array([3, -1]), np.array([2**32]), np.array([-1], dtype=np.int32),
                np.array([5, -2])[::-1].copy(), np.array([2**33, 1])[::2],
                np.array([2**63 - 1]), np.array([7, 2**32], dtype=np.uint64)):
        for name, draw in draws.items():
            with pytest.raises(ValueError, match="uids must lie"):
                draw(bad)
                pytest.fail(f"{name} drew for uids {bad}")
    ok = np.array([0, 2**32 - 1, 7])
    np.testing.assert_array_equal(st.uniform(1, 1, ok), st.uniform(1, 1, ok.astype(np.uint64)))
    np.testing.assert_array_equal(st.uniform(1, 1, ok[::2]), st.uniform(1, 1, ok[[0, 2]]))

"""Set helpers: the same answers as NumPy's, by either route."""

from __future__ import annotations

import numpy as np
import pytest

from scslab.numerics.sets import (
    first_by_priority,
    priority_order,
    priority_order_by_bucket,
    scaled_distinct,
    unique,
)


@pytest.mark.parametrize("size", [0, 1, 50, 20_000, 150_000])  # sort route, then byte map
def test_scaled_distinct_equals_numpy_unique_of_the_scaled_words(size):
    rng = np.random.default_rng(size)
    block = rng.integers(0, 2**32, (size, 4), dtype=np.uint64).astype(np.uint32)
    if size:
        block[0, 0], block[-1, 0] = 2**32 - 1, 0  # both ends of the range
    words = block[:, 0]  # a column of Philox blocks, as the market draws it: strided
    expected = np.unique((words.astype(np.uint64) * np.uint64(100_000)) >> np.uint64(32))
    got = scaled_distinct(words, 100_000)
    assert got.dtype == np.int64
    assert np.array_equal(got, expected)
    assert np.array_equal(unique(words), np.unique(words))


def test_scaled_distinct_refuses_words_that_are_not_uint32():
    with pytest.raises(TypeError, match="uint32"):
        scaled_distinct(np.arange(5, dtype=np.int64), 10)


@pytest.mark.parametrize("size", [0, 1, 7, 10_000, 150_000])
def test_priority_order_is_the_stable_sort(size):
    rng = np.random.default_rng(size)
    keys = rng.integers(0, 2**63, size, dtype=np.uint64) * np.uint64(2)
    keys[: size // 3] = keys[size // 3: 2 * (size // 3)]  # ties: keep their positions
    assert np.array_equal(priority_order(keys), np.argsort(keys, kind="stable"))


def test_priority_order_falls_back_on_crowded_keys():
    keys = np.r_[np.arange(500, 0, -1), np.arange(500)].astype(np.uint64)  # one bucket
    assert np.array_equal(priority_order(keys), np.argsort(keys, kind="stable"))


@pytest.mark.parametrize("size, buckets", [(0, 1), (1, 1), (9, 3), (20_000, 12), (5_000, 70_000)])
def test_priority_order_by_bucket_is_the_lexsort(size, buckets):
    """The homophily order of synthesis: by bucket (region and group), then keyed
    priority, then position — ties (forced here) keep their positions; buckets beyond 16
    bits fall back to ``np.lexsort`` itself."""
    rng = np.random.default_rng(size)
    keys = rng.integers(0, 2**63, size, dtype=np.uint64) * np.uint64(2)
    keys[: size // 3] = keys[size // 3: 2 * (size // 3)]
    bucket = rng.integers(0, buckets, size)
    assert np.array_equal(priority_order_by_bucket(keys, bucket), np.lexsort((keys, bucket)))


@pytest.mark.parametrize("size, count", [(0, 3), (1, 1), (10, 0), (10, 10), (10, 25),
                                         (5_000, 1), (5_000, 37), (5_000, 4_999)])
@pytest.mark.parametrize("levels", [2**64 - 1, 40])  # keyed priorities; crowded ties
def test_first_by_priority_is_the_head_of_the_lexsort(size, count, levels):
    """The ``count`` first of a queue by priority, tie-break and position: the head of
    ``np.lexsort`` exactly, ties in priority (forced) and in both keys included."""
    rng = np.random.default_rng(size + count)
    prio = rng.integers(0, levels, size, dtype=np.uint64)
    tiebreak = rng.integers(0, 30, size)
    expected = np.lexsort((tiebreak, prio))[:count]
    assert np.array_equal(first_by_priority(prio, tiebreak, count), expected)


def test_first_by_priority_refuses_float_priorities():
    """A NaN priority would fall on neither side of the cut: integers only."""
    with pytest.raises(TypeError, match="integers"):
        first_by_priority(np.array([np.nan, 0.1, 0.2]), np.zeros(3), 2)

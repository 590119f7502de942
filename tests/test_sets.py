"""Set helpers: the same answers as NumPy's, by either route."""

from __future__ import annotations

import numpy as np
import pytest

from scslab.numerics.sets import priority_order, unique, unique_below


@pytest.mark.parametrize("size", [0, 1, 50, 20_000])  # sort route, then byte-map route
def test_unique_below_equals_numpy_unique(size):
    values = np.random.default_rng(size).integers(0, 100_000, size)
    got = unique_below(values, 100_000)
    assert got.dtype == np.int64
    assert np.array_equal(got, np.unique(values))
    assert np.array_equal(unique(values), np.unique(values))


def test_unique_below_refuses_values_out_of_range():
    with pytest.raises(ValueError, match="outside"):
        unique_below(np.r_[np.zeros(20_000, dtype=np.int64), 100_000], 100_000)


@pytest.mark.parametrize("size", [0, 1, 7, 10_000])
def test_priority_order_is_the_stable_sort(size):
    rng = np.random.default_rng(size)
    keys = rng.integers(0, 2**63, size, dtype=np.uint64) * np.uint64(2)
    keys[: size // 3] = keys[size // 3: 2 * (size // 3)]  # ties: keep their positions
    assert np.array_equal(priority_order(keys), np.argsort(keys, kind="stable"))


def test_priority_order_falls_back_on_crowded_keys():
    keys = np.r_[np.arange(500, 0, -1), np.arange(500)].astype(np.uint64)  # one bucket
    assert np.array_equal(priority_order(keys), np.argsort(keys, kind="stable"))

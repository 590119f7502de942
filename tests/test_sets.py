"""Set helpers: the same answers as NumPy's, by either route."""

from __future__ import annotations

import numpy as np
import pytest

from scslab.sets import unique, unique_below


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

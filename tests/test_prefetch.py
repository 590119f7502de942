"""The prefetch hint changes nothing but timing."""

from __future__ import annotations

import numba as nb
import numpy as np

from scslab.numerics.prefetch import no_prefetch, prefetch, supported


@nb.njit
def _gather_sum(values, index, hint):
    total = 0.0
    for j in range(index.shape[0]):
        if hint and j + 4 < index.shape[0]:
            prefetch(values, index[j + 4])
        total += values[index[j]]
    return total


@nb.njit
def _noop(values):
    no_prefetch(values, 0)
    return values[0]


def test_prefetch_leaves_results_unchanged():
    rng = np.random.default_rng(3)
    values = rng.random(100_000)
    index = rng.integers(0, values.size, 10_000)
    assert _gather_sum(values, index, True) == _gather_sum(values, index, False)
    assert _noop(values) == values[0]
    assert isinstance(supported(), bool)
    import scslab.numerics.prefetch as pf

    assert pf.PREFETCH is supported()

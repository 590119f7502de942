"""Compressed sparse rows: households and the network as (offsets, values) arrays."""

from __future__ import annotations

import numba as nb
import numpy as np


def group_index(keys: np.ndarray, index_dtype=np.int64, n_keys: int = 0
                ) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the positions sharing a key (e.g. household members): (offsets by key, at
    least ``n_keys`` keys; positions sorted by key, ascending within a key), both of
    ``index_dtype``."""
    if keys.size and np.iinfo(index_dtype).max < keys.size:
        raise OverflowError(f"{keys.size:,} positions do not fit {np.dtype(index_dtype)}")
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=max(int(keys.max()) + 1 if keys.size else 0, n_keys))
    offsets = np.zeros(counts.size + 1, dtype=index_dtype)
    np.cumsum(counts, out=offsets[1:])
    return offsets, order.astype(index_dtype, copy=False)


def gather(offsets: np.ndarray, values: np.ndarray, rows: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """The entries of CSR ``rows``, row after row, and each row's length — so
    ``np.repeat(x, sizes)`` lines per-row data up with the entries."""
    rows = np.asarray(rows, dtype=np.int64)
    sizes = (offsets[rows + 1] - offsets[rows]).astype(np.int64)
    starts = np.repeat(offsets[rows], sizes)
    within = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return values[starts + within], sizes


# The codes are sorted, so a code's row only grows along the pass: it is tracked (the
# row's first code, advanced by n) instead of divided out — a 64-bit division per code
# was most of these passes' time (10^8 codes at 10^7 people: 2.0 → 0.5 s).


@nb.njit(cache=True)
def _count_distinct_rows(pairs: np.ndarray, n: int, counts: np.ndarray) -> int:
    total = 0
    prev = np.int64(-1)
    row = 0
    start = np.int64(0)  # the first code of ``row``
    for i in range(pairs.size):
        p = pairs[i]
        if p != prev:
            while p - start >= n:
                row += 1
                start += n
            counts[row] += 1
            total += 1
            prev = p
    return total


@nb.njit(cache=True)
def _fill_distinct_columns(pairs: np.ndarray, n: int, out: np.ndarray) -> None:
    k = 0
    prev = np.int64(-1)
    start = np.int64(0)
    for i in range(pairs.size):
        p = pairs[i]
        if p != prev:
            while p - start >= n:
                start += n
            out[k] = p - start
            k += 1
            prev = p


def csr_from_sorted_pairs(pairs: np.ndarray, n: int, offset_dtype, value_dtype
                          ) -> tuple[np.ndarray, np.ndarray]:
    """CSR (offsets, columns) of the distinct ``row × n + column`` codes in ``pairs``
    (sorted ascending, non-negative). Two passes and no temporary the size of ``pairs``:
    the peak is ``pairs`` plus the output."""
    counts = np.zeros(n, dtype=np.int64)
    total = _count_distinct_rows(pairs, np.int64(n), counts)
    offsets = np.zeros(n + 1, dtype=offset_dtype)
    np.cumsum(counts, out=offsets[1:])
    del counts
    columns = np.empty(total, dtype=value_dtype)
    _fill_distinct_columns(pairs, np.int64(n), columns)
    return offsets, columns

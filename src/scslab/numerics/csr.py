"""Compressed sparse rows: households and the network as (offsets, values) arrays."""

from __future__ import annotations

import numpy as np


def group_index(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the positions sharing a key (e.g. household members): (offsets by key,
    positions sorted by key)."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=int(keys.max()) + 1 if keys.size else 0)
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets, order.astype(np.int64)


def gather(offsets: np.ndarray, values: np.ndarray, rows: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """The entries of CSR ``rows``, row after row, and each row's length — so
    ``np.repeat(x, sizes)`` lines per-row data up with the entries."""
    rows = np.asarray(rows, dtype=np.int64)
    sizes = (offsets[rows + 1] - offsets[rows]).astype(np.int64)
    starts = np.repeat(offsets[rows], sizes)
    within = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return values[starts + within], sizes

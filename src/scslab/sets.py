"""Set operations on integer arrays, as fast as the daily steps need them."""

from __future__ import annotations

import numpy as np


def unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, like ``np.unique(values)``.

    Sort and adjacent difference: NumPy 2's ``np.unique`` hashes before it sorts, which
    is ~3× slower on the integer arrays of 10^3–10^5 elements a day's events produce
    (1.1 ms against 0.3 ms for 10^4 uids), and the daily steps call it dozens of times.
    """
    s = np.sort(np.asarray(values).ravel())
    if s.size < 2:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]

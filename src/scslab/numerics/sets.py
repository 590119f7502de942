"""Set operations on integer arrays, as fast as the daily steps need them."""

from __future__ import annotations

import numba as nb
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


@nb.njit(cache=True)
def _scaled_distinct(words, n):  # pragma: no cover - compiled
    seen = np.zeros(n, dtype=np.bool_)
    count = 0
    for i in range(words.shape[0]):
        v = (np.uint64(words[i]) * np.uint64(n)) >> np.uint64(32)
        count += not seen[v]
        seen[v] = True
    out = np.empty(count + 1, dtype=np.int64)
    j = 0
    for v in range(n):  # branch-free: the slot past the last is a scratch
        out[j] = v
        j += seen[v]
    return out[:count]


def scaled_distinct(words: np.ndarray, n: int) -> np.ndarray:
    """Sorted distinct ``floor(w · n / 2^32)`` of uint32 words ``w`` — uniform words mapped
    to uids in ``[0, n)`` (a day's buyers), as int64. The same values as
    ``np.unique((w.astype(uint64) * n) >> 32)``, in one pass marking a byte map instead of
    a sort and four temporaries (2.37 → 0.73 ms for 95,000 words among 10^6 uids); sparse words
    (fewer than n/16) are sorted instead, as there."""
    words = np.asarray(words)
    if words.dtype != np.uint32:
        raise TypeError(f"words must be uint32, not {words.dtype}")
    if words.size * 16 < n:
        return unique((words.astype(np.uint64) * np.uint64(n)) >> np.uint64(32)).astype(
            np.int64)
    return _scaled_distinct(words, np.int64(n))


@nb.njit(cache=True)
def _priority_order(keys):  # pragma: no cover - compiled
    n = keys.shape[0]
    if n >= 1 << 31:
        return np.argsort(keys, kind="mergesort")
    bits = 1
    while bits < 20 and (1 << (bits + 2)) < n:  # about four keys a bucket
        bits += 1
    shift = np.uint64(64 - bits)
    start = np.zeros((1 << bits) + 1, dtype=np.int32)
    for i in range(n):
        start[(keys[i] >> shift) + np.uint64(1)] += 1
    for b in range(1 << bits):
        start[b + 1] += start[b]
    fill = start[:-1].copy()
    out = np.empty(n, dtype=np.int64)
    placed = np.empty(n, dtype=np.uint64)  # the keys in bucket order, read in place below
    for i in range(n):  # counting sort on the top bits: stable
        b = keys[i] >> shift
        f = fill[b]
        out[f] = i
        placed[f] = keys[i]
        fill[b] = f + 1
    for b in range(1 << bits):  # insertion sort within a bucket: stable
        lo, hi = start[b], start[b + 1]
        if hi - lo > 64:  # keys far from uniform: give up on buckets
            return np.argsort(keys, kind="mergesort")
        for j in range(lo + 1, hi):
            v = out[j]
            kv = placed[j]
            t = j - 1
            while t >= lo and placed[t] > kv:
                out[t + 1] = out[t]
                placed[t + 1] = placed[t]
                t -= 1
            out[t + 1] = v
            placed[t + 1] = kv
    return out


def priority_order(keys: np.ndarray) -> np.ndarray:
    """The stable ascending order of uint64 keyed priorities (ties keep their positions),
    like ``np.argsort(keys, kind="stable")``, so ``np.lexsort((uids, keys))`` where the uids
    are ascending. Keyed priorities are uniform, so a counting sort on their top bits and
    an insertion sort within each small bucket take linear time (0.05 against 0.4 ms for
    10^4 keys); keys that crowd one bucket fall back to a merge sort. About four keys a
    bucket, 32-bit bucket counts and the keys moved with their positions keep the work
    in cache at a market day's size (``benchmarks/hotspots.md``)."""
    return _priority_order(np.ascontiguousarray(keys, dtype=np.uint64))


def first_by_priority(prio: np.ndarray, tiebreak: np.ndarray, count: int) -> np.ndarray:
    """``np.lexsort((tiebreak, prio))[:count]``: the positions of the ``count`` first by
    priority, then ``tiebreak``, then position. Only the keys at or below the
    ``count``-th smallest priority are sorted (a selection, then a sort of about
    ``count`` keys), so a long queue of which a few are served a day costs a pass over
    it, not a sort of it (an appeals board's backlog)."""
    prio = np.asarray(prio)
    if prio.dtype.kind not in "iu":  # a float NaN would pass neither side of the cut
        raise TypeError(f"priorities must be integers (keyed priorities), not {prio.dtype}")
    if count <= 0:
        return np.empty(0, dtype=np.intp)
    if count >= prio.size:
        return np.lexsort((tiebreak, prio))
    # the first `count` all have a priority at or below the count-th smallest; among
    # those, the positions ascend, so the stable sort keeps the full sort's order of ties
    candidates = np.flatnonzero(prio <= np.partition(prio, count - 1)[count - 1])
    order = np.lexsort((np.asarray(tiebreak)[candidates], prio[candidates]))
    return candidates[order[:count]]


def priority_order_by_bucket(keys: np.ndarray, bucket: np.ndarray) -> np.ndarray:
    """``np.lexsort((keys, bucket))`` for uint64 keyed priorities: positions by a small
    non-negative integer bucket (a region and a group), then key, then position — the same
    permutation, ~4× faster at 10^7 people. ``np.lexsort`` makes an indirect merge sort
    pass per key; here one stable radix sort of the 16-bit buckets, then
    :func:`priority_order` (linear) within each bucket."""
    bucket = np.asarray(bucket)
    if bucket.size == 0 or bucket.min() < 0 or bucket.max() >= 1 << 16:
        return np.lexsort((keys, bucket))
    by_bucket = np.argsort(bucket.astype(np.uint16), kind="stable")
    sorted_bucket = bucket[by_bucket]
    bounds = [0, *(np.flatnonzero(sorted_bucket[1:] != sorted_bucket[:-1]) + 1).tolist(),
              bucket.size]
    del sorted_bucket
    keys = np.asarray(keys, dtype=np.uint64)
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):  # a loop over buckets
        members = by_bucket[lo:hi]  # ascending positions (the radix sort is stable)
        by_bucket[lo:hi] = members[priority_order(keys[members])]
    return by_bucket

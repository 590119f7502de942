"""Hand-fused Numba reference: one ``@njit(parallel=True)`` loop over people per day.

The fairest fast baseline: no framework at all, the whole day of one person in one pass,
counter-based Philox4x32-10 draws (the same generator family scslab uses, implemented
here from scratch), per-chunk counters reduced in chunk order (thread-count invariant).
"""

from __future__ import annotations

import hashlib

import numba as nb
import numpy as np
from benchmarks.reduced import spec

U64 = np.uint64
MASK32 = U64(0xFFFFFFFF)
M0 = U64(0xD2511F53)
M1 = U64(0xCD9E8D57)
W0 = U64(0x9E3779B9)
W1 = U64(0xBB67AE85)
TWO_M53 = 2.0**-53
CHUNK = 1 << 13  # people per parallel chunk: small enough to balance two threads at 10^5

SLOT_VIOLATE, SLOT_DETECT, SLOT_TRAVEL = 1, 2, 3


@nb.njit(inline="always", cache=True)
def _philox(k0, k1, c0, c1, c2, c3):  # pragma: no cover - compiled
    for _ in range(10):
        p0 = M0 * c0
        p1 = M1 * c2
        n0 = (p1 >> U64(32)) ^ c1 ^ k0
        n1 = p1 & MASK32
        n2 = (p0 >> U64(32)) ^ c3 ^ k1
        n3 = p0 & MASK32
        c0, c1, c2, c3 = n0, n1, n2, n3
        k0 = (k0 + W0) & MASK32
        k1 = (k1 + W1) & MASK32
    return c0, c1, c2, c3


@nb.njit(inline="always", cache=True)
def _uniform(k0, k1, day, slot, uid):  # pragma: no cover - compiled
    c0, c1, _, _ = _philox(k0, k1, U64(uid), (U64(day) << U64(16)) | U64(slot), U64(0), U64(0))
    bits = (c0 << U64(21)) | (c1 >> U64(11))
    return (float(bits) + 0.5) * TWO_M53


@nb.njit(inline="always", cache=True)
def _quad_words(k0, k1, day, slot, quad):  # pragma: no cover - compiled
    """Four 32-bit words for people 4·quad … 4·quad + 3 (one Philox block; last counter
    word 1 keeps these blocks apart from the per-person ones)."""
    return _philox(k0, k1, U64(quad), (U64(day) << U64(16)) | U64(slot), U64(0), U64(1))


@nb.njit(inline="always", cache=True)
def _threshold(pd):  # pragma: no cover - compiled
    p = min(max(spec.BASE * (1.0 - spec.K * pd), 0.0), 1.0)
    return np.int64(p * 4294967296.0)


BLOCK_QUADS = 1024


@nb.njit(parallel=True, cache=True)
def run_days(pd, points, until, day0, n_days, keys, out):  # pragma: no cover - compiled
    """Advance ``n_days`` days from ``day0``; ``out[d] = (violations, detections, listed,
    blocked)`` for each day. ``keys`` = (violate k0, k1, detect k0, k1, travel k0, k1).

    The violation draws of every person are made first, in blocks: one Philox block
    gives the words of four people (the packed draws scslab uses for everyone-decides
    steps), computed in a branch-free loop that LLVM vectorises, then compared with each
    person's threshold ``⌊p·2³²⌋``; the branchy per-person day then reads the result."""
    n = pd.size
    n_chunks = (n + CHUNK - 1) // CHUNK
    acc = np.zeros((n_chunks, 4), dtype=np.int64)
    violate = np.empty(n, dtype=np.bool_)
    kv0, kv1, kd0, kd1, kt0, kt1 = keys[0], keys[1], keys[2], keys[3], keys[4], keys[5]
    for d in range(n_days):
        day = day0 + d
        uday = U64(day)
        acc[:] = 0
        for c in nb.prange(n_chunks):  # 2. decide (draws only; vectorised)
            lo = c * CHUNK
            hi = min(lo + CHUNK, n)
            words = np.empty((4, BLOCK_QUADS), dtype=np.int64)
            full = lo + (hi - lo) // 4 * 4
            for b in range(lo, full, 4 * BLOCK_QUADS):
                nq = min(BLOCK_QUADS, (full - b) // 4)
                for q in range(nq):
                    w0, w1, w2, w3 = _quad_words(kv0, kv1, uday, SLOT_VIOLATE, b // 4 + q)
                    words[0, q] = np.int64(w0)
                    words[1, q] = np.int64(w1)
                    words[2, q] = np.int64(w2)
                    words[3, q] = np.int64(w3)
                for q in range(nq):
                    for lane in range(4):
                        i = b + 4 * q + lane
                        violate[i] = words[lane, q] < _threshold(pd[i])
            for i in range(full, hi):  # the tail: one block per person
                w = _quad_words(kv0, kv1, uday, SLOT_VIOLATE, i // 4)[i % 4]
                violate[i] = np.int64(w) < _threshold(pd[i])
        for c in nb.prange(n_chunks):
            lo = c * CHUNK
            hi = min(lo + CHUNK, n)
            nv = 0
            nd = 0
            nl = 0
            nb_ = 0
            for i in range(lo, hi):
                if until[i] >= 0 and day > until[i]:  # 1. release
                    until[i] = -1
                    points[i] = spec.POINTS0
                detected = False
                if violate[i]:  # 2. decide (drawn above)
                    nv += 1
                    if _uniform(kd0, kd1, day, SLOT_DETECT, i) < spec.COVERAGE:  # 3. detect
                        detected = True
                        nd += 1
                        points[i] -= spec.DEDUCTION
                        if until[i] < 0 and points[i] < spec.THRESHOLD:  # 4. list
                            until[i] = day + spec.LIST_DAYS - 1
                if until[i] >= 0:  # 5. travel
                    nl += 1
                    if _uniform(kt0, kt1, day, SLOT_TRAVEL, i) < spec.P_BLOCK:
                        nb_ += 1
                if detected:  # 6. learn
                    pd[i] += spec.ETA * (1.0 - pd[i])
                else:
                    pd[i] += spec.ETA_DECAY * (spec.PD0 - pd[i])
            acc[c, 0] = nv
            acc[c, 1] = nd
            acc[c, 2] = nl
            acc[c, 3] = nb_
        for c in range(n_chunks):  # reduce in chunk order
            for j in range(4):
                out[d, j] += acc[c, j]


def default_keys(seed: int) -> np.ndarray:
    """Three independent Philox keys derived from ``seed`` (not scslab's stream keys)."""
    words = []
    for name in (b"violate", b"detect", b"travel"):
        h = hashlib.blake2b(seed.to_bytes(8, "little") + name, digest_size=8).digest()
        w = int.from_bytes(h, "little")
        words += [w & 0xFFFFFFFF, w >> 32]
    return np.array(words, dtype=np.uint64)


class ReferenceModel:
    def __init__(self, n: int, seed: int = 1, keys: np.ndarray | None = None) -> None:
        self.n = n
        self.pd = np.full(n, spec.PD0)
        self.points = np.full(n, spec.POINTS0, dtype=np.int32)
        self.until = np.full(n, -1, dtype=np.int32)
        self.keys = default_keys(seed) if keys is None else np.asarray(keys, dtype=np.uint64)
        self.day = 0
        self.counts: list[np.ndarray] = []

    def run(self, days: int) -> None:
        out = np.zeros((days, 4), dtype=np.int64)
        run_days(self.pd, self.points, self.until, self.day, days, self.keys, out)
        self.day += days
        self.counts.append(out)

    def outputs(self) -> dict[str, np.ndarray]:
        c = np.concatenate(self.counts) if self.counts else np.zeros((0, 4), np.int64)
        return {
            "violation_rate": c[:, 0] / self.n,
            "detections": c[:, 1].astype(np.float64),
            "listed_share": c[:, 2] / self.n,
            "blocked_trips": c[:, 3].astype(np.float64),
        }


def build(n: int, seed: int = 1) -> ReferenceModel:
    return ReferenceModel(n, seed)


def warm_up() -> None:
    """Compile (or load from the cache) on a tiny model."""
    ReferenceModel(100).run(2)


def run(n: int, days: int, seed: int = 1) -> dict[str, np.ndarray]:
    m = build(n, seed)
    m.run(days)
    return m.outputs()

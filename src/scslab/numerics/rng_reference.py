"""Pure NumPy reference for :mod:`scslab.numerics.rng`, used to pin the Numba kernels bit for bit.

Integer arithmetic is vectorised on uint64 lanes. Transcendental functions go through
Python's :mod:`math` (the platform libm, which Numba also calls) element by element, so
that the reference and the kernels round identically; the reference is for tests and
audits, not for speed.
"""

from __future__ import annotations

import math

import numpy as np

from scslab.numerics.rng import (
    MASK32,
    PHILOX_M0,
    PHILOX_M1,
    PHILOX_W0,
    PHILOX_W1,
    THRESHOLD_CERTAIN,
    TWO_POW_M53,
    AliasTable,
    probability_to_threshold,
)

U64 = np.uint64


def _libm(fn, x: np.ndarray) -> np.ndarray:
    return np.fromiter((fn(float(v)) for v in x.ravel()), dtype=np.float64, count=x.size).reshape(
        x.shape
    )


def philox(k0, k1, c0, c1, c2, c3):
    """Philox4x32-10 over arrays of uint64 lanes holding 32-bit values."""
    k0 = np.asarray(k0, dtype=U64)
    k1 = np.asarray(k1, dtype=U64)
    c = [np.asarray(x, dtype=U64) for x in (c0, c1, c2, c3)]
    c0, c1, c2, c3 = np.broadcast_arrays(*c)
    for _ in range(10):
        p0 = PHILOX_M0 * c0
        p1 = PHILOX_M1 * c2
        c0, c1, c2, c3 = (
            (p1 >> U64(32)) ^ c1 ^ k0,
            p1 & MASK32,
            (p0 >> U64(32)) ^ c3 ^ k1,
            p0 & MASK32,
        )
        k0 = (k0 + PHILOX_W0) & MASK32
        k1 = (k1 + PHILOX_W1) & MASK32
    return c0, c1, c2, c3


def _block(stream, day, slot, uids, block=0):
    uids = np.asarray(uids, dtype=U64)
    hi = (U64(day) << U64(16)) | np.asarray(slot, dtype=U64)  # one slot, or one per uid
    return philox(stream.k0, stream.k1, uids, np.broadcast_to(hi, uids.shape), U64(block),
                  U64(0))


def words(stream, day, slot, uids, block=0) -> np.ndarray:
    return np.stack(_block(stream, day, slot, uids, block), axis=1).astype(np.uint32)


def uniform(stream, day, slot, uids) -> np.ndarray:
    w0, w1, _, _ = _block(stream, day, slot, uids)
    bits = (w0 << U64(21)) | (w1 >> U64(11))
    return (bits.astype(np.float64) + 0.5) * TWO_POW_M53


def bernoulli(stream, day, slot, uids, p) -> np.ndarray:
    thresholds = np.broadcast_to(probability_to_threshold(p), np.shape(uids)).astype(U64)
    w0 = _block(stream, day, slot, uids)[0]
    return (thresholds == U64(THRESHOLD_CERTAIN)) | (w0 < thresholds)


def lane_words(stream, day, slot, uids) -> np.ndarray:
    """Packed family: word ``uid mod 4`` of the block at counter (uid div 4, day << 16 |
    slot, 0, 1)."""
    uids = np.asarray(uids, dtype=U64)
    hi = (U64(day) << U64(16)) | U64(slot)
    block = np.stack(philox(stream.k0, stream.k1, uids >> U64(2), np.full_like(uids, hi),
                            U64(0), U64(1)), axis=1)
    return block[np.arange(uids.size), (uids & U64(3)).astype(np.int64)].astype(np.uint32)


def lane_bernoulli(stream, day, slot, uids, p) -> np.ndarray:
    p = np.broadcast_to(np.asarray(p, dtype=np.float64), np.shape(uids))
    threshold = (np.maximum(p, 0.0) * 4294967296.0).astype(np.int64)
    return lane_words(stream, day, slot, uids).astype(np.int64) < threshold


def norm_ppf(p: np.ndarray) -> np.ndarray:
    """Wichura AS 241, vectorised; tails use libm log/sqrt element by element."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    out = np.empty_like(p)
    central = np.abs(q) <= 0.425
    r = 0.180625 - q[central] * q[central]
    num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                + 67265.770927008700853) * r + 45921.953931549871457) * r
              + 13731.693765509461125) * r + 1971.5909503065514427) * r
            + 133.14166789178437745) * r + 3.387132872796366608)
    den = (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                + 39307.89580009271061) * r + 21213.794301586595867) * r
              + 5394.1960214247511077) * r + 687.1870074920579083) * r
            + 42.313330701600911252) * r + 1.0)
    out[central] = q[central] * num / den
    tail = ~central
    qt = q[tail]
    r = np.where(qt < 0.0, p[tail], 1.0 - p[tail])
    r = _libm(math.sqrt, -_libm(math.log, r))
    x = np.empty_like(r)
    near = r <= 5.0
    rn = r[near] - 1.6
    num = (((((((7.7454501427834140764e-4 * rn + 0.0227238449892691845833) * rn
                + 0.24178072517745061177) * rn + 1.27045825245236838258) * rn
              + 3.64784832476320460504) * rn + 5.7694972214606914055) * rn
            + 4.6303378461565452959) * rn + 1.42343711074968357734)
    den = (((((((1.05075007164441684324e-9 * rn + 5.475938084995344946e-4) * rn
                + 0.0151986665636164571966) * rn + 0.14810397642748007459) * rn
              + 0.68976733498510000455) * rn + 1.6763848301838038494) * rn
            + 2.05319162663775882187) * rn + 1.0)
    x[near] = num / den
    rf = r[~near] - 5.0
    num = (((((((2.01033439929228813265e-7 * rf + 2.71155556874348757815e-5) * rf
                + 0.0012426609473880784386) * rf + 0.026532189526576123093) * rf
              + 0.29656057182850489123) * rf + 1.7848265399172913358) * rf
            + 5.4637849111641143699) * rf + 6.6579046435011037772)
    den = (((((((2.04426310338993978564e-15 * rf + 1.4215117583164458887e-7) * rf
                + 1.8463183175100546818e-5) * rf + 7.868691311456132591e-4) * rf
              + 0.0148753612908506148525) * rf + 0.13692988092273580531) * rf
            + 0.59983220655588793769) * rf + 1.0)
    x[~near] = num / den
    out[tail] = np.where(qt < 0.0, -x, x)
    return out


def normal(stream, day, slot, uids) -> np.ndarray:
    return norm_ppf(uniform(stream, day, slot, uids))


def poisson(stream, day, slot, uids, lam: float) -> np.ndarray:
    """Sequential CDF inversion (the kernel's branch for lam < 30)."""
    if not 0.0 <= lam < 30.0:
        raise ValueError("the reference covers 0 <= lam < 30")
    u = uniform(stream, day, slot, uids)
    k = np.zeros(u.shape, dtype=np.int64)
    if lam == 0.0:
        return k
    pmf = np.full(u.shape, math.exp(-lam))
    cdf = pmf.copy()
    active = cdf < u
    while active.any():
        k[active] += 1
        pmf[active] = pmf[active] * lam / k[active]
        cdf[active] += pmf[active]
        active &= cdf < u
    return k


def binomial(stream, day, slot, uids, n: int, p: float) -> np.ndarray:
    """Sequential CDF inversion (the kernel's branch where (1-p)^n does not underflow)."""
    u = uniform(stream, day, slot, uids)
    k = np.zeros(u.shape, dtype=np.int64)
    if n <= 0 or p <= 0.0:
        return k
    if p >= 1.0:
        return k + n
    q = 1.0 - p
    pmf = np.full(u.shape, math.exp(n * math.log1p(-p)))
    cdf = pmf.copy()
    ratio = p / q
    active = (cdf < u) & (k < n)
    while active.any():
        kk = k[active]
        pmf[active] = pmf[active] * (n - kk) / (kk + 1) * ratio
        k[active] += 1
        cdf[active] += pmf[active]
        active &= (cdf < u) & (k < n)
    return k


def choice(stream, day, slot, uids, table: AliasTable) -> np.ndarray:
    w0, w1, _, _ = _block(stream, day, slot, uids)
    column = (w0 * U64(table.accept.size)) >> U64(32)
    accept = table.accept.astype(U64)[column]
    keep = (accept == U64(THRESHOLD_CERTAIN)) | (w1 < accept)
    return np.where(keep, column.astype(np.int64), table.alias[column])


def priority(stream, day, slot, uids) -> np.ndarray:
    w0, w1, _, _ = _block(stream, day, slot, uids)
    return (w0 << U64(32)) | w1

"""Counter-based random streams: exact common random numbers.

Every random number in scslab is a pure function of
``(seed, stream name, instance, day, slot, uid)``:

* key     = first 8 bytes of blake2b(seed | stream name | instance), length-prefixed fields;
* counter = Philox4x32-10 counter words ``(uid, day << 16 | slot, word block, 0)``,
  i.e. the 64-bit design counter ``day (16) | slot (16) | uid (32)`` packed by bit
  fields (never XOR or addition), plus a block index for draws that need more than
  four 32-bit words;
* bits    = Philox4x32-10 (Salmon et al., SC'11), pinned by the Random123 known-answer
  vectors in ``tests/test_rng.py``.

The *slot* is a registered semantic position (act code and ordinal, sensor code, ...)
declared by a :class:`SlotLayout`; it is never a running counter or a batch row, so an
extra draw in one place cannot shift any other draw.

Draws are by inversion so they are monotone in their parameters: Bernoulli as an integer
word against a uint32 threshold, Poisson and binomial by CDF inversion, normals by
inverse CDF (Wichura's AS 241), categorical choice by alias table (Walker/Vose),
capacity-limited queues by keyed priority.

Two implementations exist: scalar Numba kernels (``k_*``) used inside fused loops and by
the array API of :class:`Stream`, and a pure NumPy reference in
:mod:`scslab.numerics.rng_reference`; tests require them to agree bit for bit.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field

import numba as nb
import numpy as np

from scslab.numerics.sets import first_by_priority

U64 = np.uint64
MASK32 = U64(0xFFFFFFFF)
PHILOX_M0 = U64(0xD2511F53)
PHILOX_M1 = U64(0xCD9E8D57)
PHILOX_W0 = U64(0x9E3779B9)
PHILOX_W1 = U64(0xBB67AE85)
TWO_POW_M53 = 2.0**-53
THRESHOLD_CERTAIN = np.uint32(0xFFFFFFFF)

MAX_DAY = 0xFFFF
MAX_SLOT = 0xFFFF
MAX_UID = 0xFFFFFFFF


# --------------------------------------------------------------------------- keys


def stream_key(seed: int, name: str, instance: int = 0) -> tuple[int, int]:
    """Return the two 32-bit Philox key words for ``(seed, name, instance)``.

    Fields are length-prefixed before hashing so that no two different triples can
    produce the same byte string.
    """
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be in [0, 2**63), got {seed}")
    if not 0 <= instance < 2**32:
        raise ValueError(f"instance must be in [0, 2**32), got {instance}")
    name_bytes = name.encode("utf-8")
    payload = (
        seed.to_bytes(8, "little")
        + len(name_bytes).to_bytes(4, "little")
        + name_bytes
        + instance.to_bytes(4, "little")
    )
    digest = hashlib.blake2b(payload, digest_size=8, person=b"scslab-stream").digest()
    word = int.from_bytes(digest, "little")
    return word & 0xFFFFFFFF, word >> 32


# --------------------------------------------------------------------------- slots


@dataclass(frozen=True)
class SlotLayout:
    """Bit layout of the 16-bit slot of one stream: named semantic fields.

    ``SlotLayout((("act", 8), ("ordinal", 8)))`` gives slot = act << 8 | ordinal.
    Fields are packed with shifts into disjoint bits; values out of range are an error.
    """

    fields: tuple[tuple[str, int], ...] = (("position", 16),)

    def __post_init__(self) -> None:
        total = sum(bits for _, bits in self.fields)
        if total > 16:
            raise ValueError(f"slot layout uses {total} bits; the slot has 16")
        names = [name for name, _ in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"slot layout repeats a field name: {names}")

    def pack(self, **values: int) -> int:
        """Pack named field values into a slot number (missing fields are 0)."""
        unknown = set(values) - {name for name, _ in self.fields}
        if unknown:
            raise KeyError(f"slot layout has no field(s) {sorted(unknown)}")
        slot = 0
        for name, bits in self.fields:
            value = int(values.get(name, 0))
            if not 0 <= value < (1 << bits):
                raise ValueError(f"slot field {name}={value} does not fit in {bits} bits")
            slot = (slot << bits) | value
        return slot


@dataclass(frozen=True)
class StreamSpec:
    """A stream a module declares: its name and the semantic layout of its slots."""

    name: str
    slots: SlotLayout = field(default_factory=SlotLayout)
    doc: str = ""


# --------------------------------------------------------------------------- kernels


@nb.njit(inline="always", cache=True)
def k_philox(k0, k1, c0, c1, c2, c3):  # pragma: no cover - compiled
    """Philox4x32-10 on uint64 lanes holding 32-bit values; returns four words."""
    k0 = U64(k0)
    k1 = U64(k1)
    c0 = U64(c0)
    c1 = U64(c1)
    c2 = U64(c2)
    c3 = U64(c3)
    for _ in range(10):
        p0 = PHILOX_M0 * c0
        p1 = PHILOX_M1 * c2
        n0 = (p1 >> U64(32)) ^ c1 ^ k0
        n1 = p1 & MASK32
        n2 = (p0 >> U64(32)) ^ c3 ^ k1
        n3 = p0 & MASK32
        c0 = n0
        c1 = n1
        c2 = n2
        c3 = n3
        k0 = (k0 + PHILOX_W0) & MASK32
        k1 = (k1 + PHILOX_W1) & MASK32
    return c0, c1, c2, c3


@nb.njit(inline="always", cache=True)
def k_counter_hi(day, slot):  # pragma: no cover - compiled
    """Second counter word: day in the high 16 bits, slot in the low 16 bits."""
    return (U64(day) << U64(16)) | U64(slot)


@nb.njit(inline="always", cache=True)
def k_word(k0, k1, day, slot, uid):  # pragma: no cover - compiled
    """First 32-bit word of the block for (day, slot, uid)."""
    w0, _, _, _ = k_philox(k0, k1, uid, k_counter_hi(day, slot), 0, 0)
    return w0


@nb.njit(inline="always", cache=True)
def k_uniform(k0, k1, day, slot, uid):  # pragma: no cover - compiled
    """A uniform double in (0, 1) from the first two words (53 bits, centred)."""
    w0, w1, _, _ = k_philox(k0, k1, uid, k_counter_hi(day, slot), 0, 0)
    bits = (w0 << U64(21)) | (w1 >> U64(11))
    return (float(bits) + 0.5) * TWO_POW_M53


@nb.njit(inline="always", cache=True)
def k_bernoulli(k0, k1, day, slot, uid, threshold):  # pragma: no cover - compiled
    """True with probability threshold / 2**32 (THRESHOLD_CERTAIN means always)."""
    t = U64(threshold)
    if t == U64(0xFFFFFFFF):
        return True
    return k_word(k0, k1, day, slot, uid) < t


# The packed family. A decision every person makes every day (violate or not) needs one
# Bernoulli word per person; a Philox block has four. In the packed family four
# consecutive uids share a block: uid = 4·quad + lane takes word ``lane`` of the block at
# counter ``(quad, day << 16 | slot, 0, 1)``. The last counter word is 1 (0 in the per-uid
# family), so the two families never share a block, and a packed draw is still a pure
# function of (seed, stream, instance, day, slot, uid): common random numbers hold.
LANES = 4


@nb.njit(inline="always", cache=True)
def k_lane_block(k0, k1, day, slot, quad):  # pragma: no cover - compiled
    """The four packed words of uids 4·quad … 4·quad + 3."""
    return k_philox(k0, k1, quad, k_counter_hi(day, slot), 0, 1)


@nb.njit(inline="always", cache=True)
def k_lane_word(k0, k1, day, slot, uid):  # pragma: no cover - compiled
    """The packed word of one uid (a whole block is computed: use ``k_lane_block`` in
    loops over consecutive uids)."""
    w0, w1, w2, w3 = k_lane_block(k0, k1, day, slot, U64(uid) >> U64(2))
    lane = U64(uid) & U64(3)
    if lane == U64(0):
        return w0
    if lane == U64(1):
        return w1
    if lane == U64(2):
        return w2
    return w3


@nb.njit(inline="always", cache=True)
def k_lane_threshold(p):  # pragma: no cover - compiled
    """The threshold a packed word is compared with: ``⌊p·2³²⌋`` as int64 (0 for p ≤ 0,
    2³² — always — for p = 1). Integer, so the comparison vectorises."""
    return np.int64(max(p, 0.0) * 4294967296.0)


@nb.njit(inline="always", cache=True)
def k_word_below(word, p):  # pragma: no cover - compiled
    """Bernoulli(p), p in [0, 1], from one 32-bit word: ``word < ⌊p·2³²⌋``."""
    return np.int64(word) < k_lane_threshold(p)


@nb.njit(inline="always", cache=True)
def k_norm_ppf(p):  # pragma: no cover - compiled
    """Inverse standard normal CDF, Wichura (1988) AS 241 PPND16 (rel. error ~1e-16)."""
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        num = (((((((2509.0809287301226727 * r + 33430.575583588128105) * r
                    + 67265.770927008700853) * r + 45921.953931549871457) * r
                  + 13731.693765509461125) * r + 1971.5909503065514427) * r
                + 133.14166789178437745) * r + 3.387132872796366608)
        den = (((((((5226.495278852545925 * r + 28729.085735721942674) * r
                    + 39307.89580009271061) * r + 21213.794301586595867) * r
                  + 5394.1960214247511077) * r + 687.1870074920579083) * r
                + 42.313330701600911252) * r + 1.0)
        return q * num / den
    if q < 0.0:
        r = p
    else:
        r = 1.0 - p
    r = math.sqrt(-math.log(r))
    if r <= 5.0:
        r = r - 1.6
        num = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r
                    + 0.24178072517745061177) * r + 1.27045825245236838258) * r
                  + 3.64784832476320460504) * r + 5.7694972214606914055) * r
                + 4.6303378461565452959) * r + 1.42343711074968357734)
        den = (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r
                    + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
                  + 0.68976733498510000455) * r + 1.6763848301838038494) * r
                + 2.05319162663775882187) * r + 1.0)
    else:
        r = r - 5.0
        num = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                    + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
                  + 0.29656057182850489123) * r + 1.7848265399172913358) * r
                + 5.4637849111641143699) * r + 6.6579046435011037772)
        den = (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r
                    + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
                  + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
                + 0.59983220655588793769) * r + 1.0)
    x = num / den
    if q < 0.0:
        return -x
    return x


@nb.njit(inline="always", cache=True)
def k_normal(k0, k1, day, slot, uid):  # pragma: no cover - compiled
    """A standard normal draw by inverse CDF."""
    return k_norm_ppf(k_uniform(k0, k1, day, slot, uid))


@nb.njit(cache=True)
def k_poisson_ppf(u, lam):  # pragma: no cover - compiled
    """Smallest k with P(X <= k) >= u for X ~ Poisson(lam): inversion, monotone in u."""
    if lam <= 0.0:
        return 0
    if lam < 30.0:
        k = 0
        pmf = math.exp(-lam)
        cdf = pmf
        while cdf < u and k < 1000:
            k += 1
            pmf = pmf * lam / k
            cdf += pmf
        return k
    # Large means: the CDF at the mode from the log pmf, summed downwards, then a walk.
    mode = int(lam)
    log_pmf_mode = -lam + mode * math.log(lam) - math.lgamma(mode + 1.0)
    pmf_mode = math.exp(log_pmf_mode)
    cdf = pmf_mode
    pmf = pmf_mode
    j = mode
    while j > 0:
        pmf = pmf * j / lam
        j -= 1
        cdf += pmf
        if pmf < 1e-300 or pmf < cdf * 1e-17:
            break
    k = mode
    if cdf >= u:
        pmf = pmf_mode
        while k > 0:
            lower = cdf - pmf
            if lower < u:
                return k
            cdf = lower
            pmf = pmf * k / lam
            k -= 1
        return 0
    pmf = pmf_mode
    limit = mode + 1000 + int(40.0 * math.sqrt(lam))
    while cdf < u and k < limit:
        k += 1
        pmf = pmf * lam / k
        cdf += pmf
    return k


@nb.njit(inline="always", cache=True)
def k_poisson(k0, k1, day, slot, uid, lam):  # pragma: no cover - compiled
    return k_poisson_ppf(k_uniform(k0, k1, day, slot, uid), lam)


@nb.njit(cache=True)
def k_binomial_ppf(u, n, p):  # pragma: no cover - compiled
    """Smallest k with P(X <= k) >= u for X ~ Binomial(n, p): inversion."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    q = 1.0 - p
    pmf = math.exp(n * math.log1p(-p))
    if pmf < 1e-290:
        # Deep in the tail of a huge trial count: fall back to the normal quantile with
        # continuity correction (documented approximation; still monotone in u and p).
        mean = n * p
        sd = math.sqrt(n * p * q)
        k = int(math.floor(mean + sd * k_norm_ppf(u) + 0.5))
        if k < 0:
            return 0
        if k > n:
            return n
        return k
    cdf = pmf
    k = 0
    ratio = p / q
    while cdf < u and k < n:
        pmf = pmf * (n - k) / (k + 1) * ratio
        k += 1
        cdf += pmf
    return k


@nb.njit(inline="always", cache=True)
def k_binomial(k0, k1, day, slot, uid, n, p):  # pragma: no cover - compiled
    return k_binomial_ppf(k_uniform(k0, k1, day, slot, uid), n, p)


@nb.njit(inline="always", cache=True)
def k_alias(k0, k1, day, slot, uid, accept, alias):  # pragma: no cover - compiled
    """Categorical draw from an alias table: column by multiply-shift, then a coin."""
    w0, w1, _, _ = k_philox(k0, k1, uid, k_counter_hi(day, slot), 0, 0)
    n = U64(accept.shape[0])
    column = (w0 * n) >> U64(32)
    threshold = U64(accept[column])
    if threshold == U64(0xFFFFFFFF) or w1 < threshold:
        return np.int64(column)
    return np.int64(alias[column])


@nb.njit(inline="always", cache=True)
def k_priority(k0, k1, day, slot, uid):  # pragma: no cover - compiled
    """A 64-bit keyed priority for capacity queues (lower is served first)."""
    w0, w1, _, _ = k_philox(k0, k1, uid, k_counter_hi(day, slot), 0, 0)
    return (w0 << U64(32)) | w1


# --------------------------------------------------------------------------- array kernels


@nb.njit(inline="always", cache=True)
def _refuse_wide(seen):  # pragma: no cover - compiled
    """Raise if any uid a draw loop read lies outside [0, 2^32): ``seen`` is the OR of them
    all (a negative uid cast to uint64 has its top bit set). The loops OR each uid in and
    test once at the end: a test and a ``raise`` inside the loop kept Numba from
    vectorising it (a uniform per uid: 2.6 -> 6.8 ms for 10^6 uids; with the OR, 2.2)."""
    if seen >> U64(32):
        raise ValueError("uids must lie in [0, 2**32)")


@nb.njit(cache=True)
def _words(k0, k1, day, slots, uids, block):  # pragma: no cover - compiled
    out = np.empty((uids.shape[0], 4), dtype=np.uint32)
    scalar = slots.shape[0] == 1
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        hi = k_counter_hi(day, slots[0] if scalar else slots[i])
        w0, w1, w2, w3 = k_philox(k0, k1, u, hi, block, 0)
        out[i, 0] = w0
        out[i, 1] = w1
        out[i, 2] = w2
        out[i, 3] = w3
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _lane_bernoulli(k0, k1, day, slot, uids, ps):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.bool_)
    scalar = ps.shape[0] == 1
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        p = ps[0] if scalar else ps[i]
        out[i] = k_word_below(k_lane_word(k0, k1, day, slot, u), p)
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _lane_words(k0, k1, day, slot, uids):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.uint32)
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        out[i] = k_lane_word(k0, k1, day, slot, u)
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _uniform(k0, k1, day, slots, uids):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.float64)
    scalar = slots.shape[0] == 1
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        out[i] = k_uniform(k0, k1, day, slots[0] if scalar else slots[i], u)
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _bernoulli(k0, k1, day, slot, uids, thresholds):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.bool_)
    scalar = thresholds.shape[0] == 1
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        t = thresholds[0] if scalar else thresholds[i]
        out[i] = k_bernoulli(k0, k1, day, slot, u, t)
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _normal(k0, k1, day, slot, uids):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.float64)
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        out[i] = k_normal(k0, k1, day, slot, u)
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _poisson(k0, k1, day, slot, uids, lams):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.int64)
    scalar = lams.shape[0] == 1
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        lam = lams[0] if scalar else lams[i]
        out[i] = k_poisson(k0, k1, day, slot, u, lam)
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _binomial(k0, k1, day, slot, uids, ns, ps):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.int64)
    n_scalar = ns.shape[0] == 1
    p_scalar = ps.shape[0] == 1
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        n = ns[0] if n_scalar else ns[i]
        p = ps[0] if p_scalar else ps[i]
        out[i] = k_binomial(k0, k1, day, slot, u, n, p)
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _alias(k0, k1, day, slot, uids, accept, alias):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.int64)
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        out[i] = k_alias(k0, k1, day, slot, u, accept, alias)
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _below(k0, k1, day, slot, uids, n):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.int64)
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        out[i] = np.int64((U64(k_word(k0, k1, day, slot, u)) * n) >> U64(32))
    _refuse_wide(seen)
    return out


@nb.njit(cache=True)
def _priority(k0, k1, day, slot, uids):  # pragma: no cover - compiled
    out = np.empty(uids.shape[0], dtype=np.uint64)
    seen = U64(0)
    for i in range(uids.shape[0]):
        u = uids[i]
        seen |= u
        out[i] = k_priority(k0, k1, day, slot, u)
    _refuse_wide(seen)
    return out


# --------------------------------------------------------------------------- helpers


def _scalar_probability(p: object) -> bool:
    """A Python or NumPy float or int, not NaN: converted in Python, not as an array."""
    return isinstance(p, (float, int)) and p == p


def probability_to_threshold(p: np.ndarray | float) -> np.ndarray:
    """Map probabilities to uint32 Bernoulli thresholds: round(p * 2**32), saturating.

    A threshold of 0xFFFFFFFF means "certain", so p = 1 always fires and p = 0 never does.
    A Python or NumPy float (not NaN) takes a scalar path, the same value (``round`` and
    ``np.rint`` both round half to even) in a fifth of the time: a draw call is dozens of
    microseconds of overhead, which is what a small population's day is made of.
    """
    if _scalar_probability(p):
        return np.uint32(min(round(min(max(float(p), 0.0), 1.0) * 4294967296.0), 4294967295))
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    scaled = np.rint(p * 4294967296.0)
    return np.minimum(scaled, 4294967295.0).astype(np.uint32)


@dataclass(frozen=True)
class AliasTable:
    """Walker/Vose alias table with uint32 acceptance thresholds (integer-only draws)."""

    accept: np.ndarray  # uint32, THRESHOLD_CERTAIN where the column always keeps itself
    alias: np.ndarray  # int64

    @classmethod
    def from_weights(cls, weights: np.ndarray | list[float]) -> AliasTable:
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise ValueError("alias table needs a non-empty 1-D weight vector")
        if np.any(w < 0) or not np.all(np.isfinite(w)) or w.sum() <= 0:
            raise ValueError("alias weights must be finite, non-negative, and not all zero")
        n = w.size
        scaled = w * (n / w.sum())
        prob = np.ones(n)
        alias = np.arange(n, dtype=np.int64)
        small = [i for i in range(n) if scaled[i] < 1.0]
        large = [i for i in range(n) if scaled[i] >= 1.0]
        while small and large:
            s = small.pop()
            g = large.pop()
            prob[s] = scaled[s]
            alias[s] = g
            scaled[g] = scaled[g] + scaled[s] - 1.0
            (small if scaled[g] < 1.0 else large).append(g)
        for i in small + large:
            prob[i] = 1.0
            alias[i] = i
        accept = probability_to_threshold(prob)
        accept[prob >= 1.0] = THRESHOLD_CERTAIN
        return cls(accept=accept, alias=alias)

    def probabilities(self) -> np.ndarray:
        """The exact categorical distribution this table draws from."""
        n = self.accept.size
        keep = np.where(
            self.accept == THRESHOLD_CERTAIN, 1.0, self.accept.astype(np.float64) / 2**32
        )
        probs = keep / n
        np.add.at(probs, self.alias, (1.0 - keep) / n)
        return probs


def _as_uids(uids: np.ndarray | int) -> np.ndarray:
    """uids as uint64 for the kernels, which refuse any above ``MAX_UID`` as they draw
    (``_refuse_wide``): integers are only viewed or cast (a negative one becomes at least
    2^63), with no pass of their own — at a small population's day, the reductions that
    checked them here were 3.5 % of its time. Other dtypes are checked here."""
    arr = np.asarray(uids)
    if arr.ndim != 1:
        arr = np.atleast_1d(arr)
    if arr.dtype == np.int64 and arr.flags.c_contiguous and arr.flags.writeable:
        return arr.view(np.uint64)  # no copy; the kernels only read
    if arr.dtype.kind not in "iu":
        _refuse_outside(arr)
    return arr.astype(np.uint64, copy=False)


def _refuse_outside(uids: np.ndarray) -> None:
    """Refuse uids outside [0, 2^32) by a pass of their own, where no draw kernel reads
    them (other dtypes than integers; ``Stream.serve`` when all are served)."""
    if uids.size and (uids.min() < 0 or uids.max() > MAX_UID):
        raise ValueError("uids must lie in [0, 2**32)")


def _check_counter(day: int, slot: int) -> None:
    if not 0 <= day <= MAX_DAY:
        raise ValueError(f"day {day} does not fit the 16-bit day field")
    if not 0 <= slot <= MAX_SLOT:
        raise ValueError(f"slot {slot} does not fit the 16-bit slot field")


@functools.lru_cache(maxsize=4096)
def _one_slot(slot: int) -> np.ndarray:
    """A one-element slot array, made once per slot instead of once per draw. Shared, so
    only the draw kernels (which never write it) may see it; left writeable so that they
    are not compiled a second time for read-only arrays."""
    return np.full(1, slot, dtype=np.uint64)


@functools.lru_cache(maxsize=4096)
def _one_threshold(p: float) -> np.ndarray:
    """A scalar probability's one-element threshold array, made once per probability
    (a model's are its parameters, a few dozen) instead of once per draw; shared like
    :func:`_one_slot`."""
    return np.full(1, probability_to_threshold(p), dtype=np.uint32)


def _slot_array(day: int, slot: int | np.ndarray, n: int) -> np.ndarray:
    """A slot, or one slot per uid (draws whose slot names each row's act), as uint64
    for the array kernels; range-checked like a single slot."""
    if isinstance(slot, (int, np.integer)):
        _check_counter(day, int(slot))
        return _one_slot(int(slot))
    slots = np.asarray(slot)
    if slots.ndim != 1 or slots.size not in (1, n):
        raise ValueError(f"{slots.size} slots for {n} uids; give one, or one per uid")
    if slots.size:
        _check_counter(day, int(slots.min()))
        _check_counter(day, int(slots.max()))
    return slots.astype(np.uint64)


class Stream:
    """One named random stream; array draws over uids for a (day, slot).

    ``k0``/``k1`` are exposed so fused Numba kernels can call the ``k_*`` functions
    directly with the same key.
    """

    __slots__ = ("name", "instance", "seed", "k0", "k1", "layout")

    def __init__(
        self, seed: int, name: str, instance: int = 0, layout: SlotLayout | None = None
    ) -> None:
        self.seed = int(seed)
        self.name = name
        self.instance = int(instance)
        self.layout = layout or SlotLayout()
        k0, k1 = stream_key(self.seed, name, self.instance)
        self.k0 = np.uint64(k0)
        self.k1 = np.uint64(k1)

    def __repr__(self) -> str:
        return f"Stream({self.name!r}, instance={self.instance}, seed={self.seed})"

    def slot(self, **fields: int) -> int:
        """Pack a semantic slot with this stream's layout."""
        return self.layout.pack(**fields)

    def words(self, day: int, slot: int | np.ndarray, uids: np.ndarray, block: int = 0
              ) -> np.ndarray:
        """The raw Philox block (n × 4 uint32 words); ``slot`` may be one per uid."""
        uids = _as_uids(uids)
        slots = _slot_array(day, slot, uids.size)
        return _words(self.k0, self.k1, U64(day), slots, uids, U64(block))

    def lane_words(self, day: int, slot: int, uids: np.ndarray) -> np.ndarray:
        """Packed-family words (one uint32 per uid; see ``k_lane_block``)."""
        _check_counter(day, slot)
        return _lane_words(self.k0, self.k1, U64(day), U64(slot), _as_uids(uids))

    def lane_bernoulli(
        self, day: int, slot: int, uids: np.ndarray, p: np.ndarray | float
    ) -> np.ndarray:
        """Packed-family Bernoulli draws, the array twin of ``k_word_below(k_lane_word)``
        in fused kernels that decide for every person each day."""
        _check_counter(day, slot)
        ps = np.atleast_1d(np.asarray(p, dtype=np.float64))
        return _lane_bernoulli(self.k0, self.k1, U64(day), U64(slot), _as_uids(uids), ps)

    def uniform(self, day: int, slot: int | np.ndarray, uids: np.ndarray) -> np.ndarray:
        """Uniforms in (0, 1); ``slot`` may be one per uid (e.g. naming each row's act)."""
        uids = _as_uids(uids)
        return _uniform(self.k0, self.k1, U64(day), _slot_array(day, slot, uids.size), uids)

    def bernoulli(
        self, day: int, slot: int, uids: np.ndarray, p: np.ndarray | float
    ) -> np.ndarray:
        _check_counter(day, slot)
        if _scalar_probability(p):  # its threshold made once
            thresholds = _one_threshold(float(p))
        else:
            thresholds = np.atleast_1d(probability_to_threshold(p))
        return _bernoulli(self.k0, self.k1, U64(day), U64(slot), _as_uids(uids), thresholds)

    def normal(self, day: int, slot: int, uids: np.ndarray) -> np.ndarray:
        _check_counter(day, slot)
        return _normal(self.k0, self.k1, U64(day), U64(slot), _as_uids(uids))

    def poisson(
        self, day: int, slot: int, uids: np.ndarray, lam: np.ndarray | float
    ) -> np.ndarray:
        _check_counter(day, slot)
        lams = np.atleast_1d(np.asarray(lam, dtype=np.float64))
        return _poisson(self.k0, self.k1, U64(day), U64(slot), _as_uids(uids), lams)

    def binomial(
        self, day: int, slot: int, uids: np.ndarray, n: np.ndarray | int, p: np.ndarray | float
    ) -> np.ndarray:
        _check_counter(day, slot)
        ns = np.atleast_1d(np.asarray(n, dtype=np.int64))
        ps = np.atleast_1d(np.asarray(p, dtype=np.float64))
        return _binomial(self.k0, self.k1, U64(day), U64(slot), _as_uids(uids), ns, ps)

    def choice(self, day: int, slot: int, uids: np.ndarray, table: AliasTable) -> np.ndarray:
        _check_counter(day, slot)
        return _alias(
            self.k0, self.k1, U64(day), U64(slot), _as_uids(uids), table.accept, table.alias
        )

    def below(self, day: int, slot: int, uids: np.ndarray, n: int) -> np.ndarray:
        """Integers in [0, n) (int64): the first word scaled by multiply-shift,
        ``(word × n) >> 32`` — the same as ``words(...)[:, 0]`` scaled, without the block's
        other words; ``n`` at most 2^32."""
        _check_counter(day, slot)
        if not 0 < n <= 1 << 32:
            raise ValueError(f"n={n}: must lie in (0, 2**32]")
        return _below(self.k0, self.k1, U64(day), U64(slot), _as_uids(uids), U64(n))

    def priority(self, day: int, slot: int, uids: np.ndarray) -> np.ndarray:
        _check_counter(day, slot)
        return _priority(self.k0, self.k1, U64(day), U64(slot), _as_uids(uids))

    def serve(self, day: int, slot: int, applicants: np.ndarray, capacity: int) -> np.ndarray:
        """Capacity-limited queue: the ``capacity`` applicants with the lowest keyed
        priority, ties broken by uid. Independent of the order applicants arrive in."""
        applicants = np.asarray(applicants)
        if capacity <= 0 or applicants.size == 0:
            return applicants[:0]
        if capacity >= applicants.size:  # all served, no draw: checked here
            _refuse_outside(applicants)
            return np.sort(applicants)
        prio = self.priority(day, slot, applicants)
        return np.sort(applicants[first_by_priority(prio, applicants, capacity)])

"""The act catalogue, compiled to arrays, and the opportunity clock.

Acts arrive as *opportunities* — exogenous, the same in every scenario — and a person
decides whether to take each one. Each (person, act, day) is an
independent Bernoulli trial with the act's daily ``rate``. A day's opportunities of an act
are found by geometric skips over uids, drawn by inversion keyed by (day, act, the uid the
skip starts from), so no per-person clock state is kept. Because
opportunities do not depend on policy, two scenarios see the same opportunities and
differ only in decisions (exact common random numbers), and a day's work is
proportional to the opportunities that fall due, not to people × acts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from scslab.core.layouts import dtype
from scslab.core.scenario_schema import Scenario
from scslab.numerics.rng import SlotLayout, k_uniform

ACT_CLASSES = ("violation", "prosocial", "expression", "economic", "movement")
CLASS_CODE = {name: i for i, name in enumerate(ACT_CLASSES)}

#: Slot layout of the opportunity clock stream: purpose (the skip to the next uid with an
#: opportunity) and act code.
CLOCK_LAYOUT = SlotLayout((("purpose", 8), ("act", 8)))
PURPOSE_SKIP = 3


@dataclass(frozen=True)
class ActCatalogue:
    """Acts in a fixed order (by code) with their attributes as arrays."""

    names: tuple[str, ...]
    code: np.ndarray  # uint8
    act_class: np.ndarray  # uint8, index into ACT_CLASSES
    venue: np.ndarray  # uint8 venue code
    rate: np.ndarray  # float64, opportunities per person-day
    gain: np.ndarray
    harm: np.ndarray
    lawful_ref: np.ndarray  # bool
    penalty: np.ndarray  # float64, ordinary legal sanction (money)
    displaced_venue: np.ndarray  # uint8 venue code, or the act's own venue when unset
    position_of_code: np.ndarray  # int16[256], -1 where no act has the code

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ActCatalogue:
        items = sorted(scenario.acts.items(), key=lambda kv: kv[1].code)
        pos = np.full(256, -1, dtype=np.int16)
        for i, (_, a) in enumerate(items):
            pos[a.code] = i
        return cls(
            names=tuple(k for k, _ in items),
            code=np.array([a.code for _, a in items], dtype=dtype("code")),
            act_class=np.array([CLASS_CODE[a.act_class] for _, a in items], dtype=dtype("code")),
            venue=np.array([scenario.venues[a.venue].code for _, a in items], dtype=dtype("code")),
            rate=np.array([a.rate for _, a in items], dtype=np.float64),
            gain=np.array([a.gain for _, a in items], dtype=np.float64),
            harm=np.array([a.harm for _, a in items], dtype=np.float64),
            lawful_ref=np.array([a.lawful_ref for _, a in items], dtype=bool),
            penalty=np.array([a.penalty for _, a in items], dtype=np.float64),
            displaced_venue=np.array(
                [scenario.venues[a.displaced_venue or a.venue].code for _, a in items],
                dtype=dtype("code"),
            ),
            position_of_code=pos,
        )

    def __len__(self) -> int:
        return len(self.names)

    def position(self, name: str) -> int:
        """Position of a named act (raises KeyError naming the catalogue if absent)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no act {name!r} in the catalogue") from None

    def mask(self, names) -> np.ndarray:
        """Boolean mask over positions for a set of act names (unknown names ignored)."""
        wanted = set(names)
        return np.array([n in wanted for n in self.names], dtype=bool)

    def codes_of_class(self, name: str) -> np.ndarray:
        return self.code[self.act_class == CLASS_CODE[name]]

    def is_class(self, act_codes: np.ndarray, name: str) -> np.ndarray:
        return self.act_class[self.position_of_code[act_codes]] == CLASS_CODE[name]

    def perception_venues(self) -> tuple[np.ndarray, np.ndarray]:
        """The venues people hold a perceived detection for — those where an unlawful act
        happens (a violation, or an act unlawful under the reference norm, such as a
        judgment refusal), in venue-code order — and each act's slot among them (its own
        venue's; -1 for an act at a venue with no slot)."""
        unlawful = (self.act_class == CLASS_CODE["violation"]) | ~self.lawful_ref
        venues = np.unique(self.venue[unlawful])
        slot = np.full(len(self), -1, dtype=np.int64)
        for k, v in enumerate(venues):
            slot[self.venue == v] = k
        return venues, slot


@nb.njit(inline="always", cache=True)
def _gap_of(u, log_stay):  # pragma: no cover - compiled
    """The geometric gap (>= 0, at most 2^31 − 1) that the uniform ``u`` gives at a rate
    below 1 (``log_stay`` = ln(1 − rate) < 0), by inversion."""
    x = math.log(u) / log_stay  # >= 0; inf for a rate too small to tell from 0
    if x >= 0x7FFFFFFF:  # tested before the conversion: a float past 2^63 has no int64
        return 0x7FFFFFFF
    return int(math.floor(x))


@nb.njit(inline="always", cache=True)
def _gap(k0, k1, day, slot, uid, log_stay):  # pragma: no cover - compiled
    """Geometric number of days (>= 0) until the next success, by inversion."""
    if log_stay == 0.0:  # rate 0
        return 0x7FFFFFFF
    if log_stay == -np.inf:  # rate 1
        return 0
    return _gap_of(k_uniform(k0, k1, day, slot, uid), log_stay)


@nb.njit(inline="always", cache=True)
def _skip(k0, k1, day, slot, start, n, log_stay):  # pragma: no cover - compiled
    """The first uid >= ``start`` with an opportunity today (``n`` if none): a geometric
    skip over uids keyed by the uid it starts from, so each uid is an independent
    Bernoulli(rate) trial."""
    if start >= n:
        return n
    g = _gap(k0, k1, day, slot, start, log_stay)
    return min(n, start + g)


@nb.njit(inline="always", cache=True)
def _sift_down(heap, size, j):  # pragma: no cover - compiled
    """Restore the min-heap below position ``j``."""
    while True:
        c = 2 * j + 1
        if c >= size:
            return
        if c + 1 < size and heap[c + 1] < heap[c]:
            c += 1
        if heap[j] <= heap[c]:
            return
        heap[j], heap[c] = heap[c], heap[j]
        j = c


@nb.njit(cache=True)
def _opportunities(k0, k1, day, n, codes, log_stay):  # pragma: no cover - compiled
    """Today's (person, act column) opportunities in person then column order.

    Each act walks the uids by geometric skips; the acts' walks are merged through a
    min-heap on ``uid × 256 + column``, so the work is proportional to the opportunities
    that fall due (plus one draw per act), with no per-person state."""
    A = codes.shape[0]
    expected = 0.0
    for a in range(A):
        expected += n * (1.0 - math.exp(log_stay[a])) if log_stay[a] != 0.0 else 0.0
    cap = int(expected + 6.0 * math.sqrt(expected + 1.0)) + A + 16
    out_person = np.empty(cap, dtype=np.int32)
    out_act = np.empty(cap, dtype=np.int32)
    heap = np.empty(A, dtype=np.int64)
    size = 0
    for a in range(A):
        slot = (PURPOSE_SKIP << 8) | codes[a]
        i = _skip(k0, k1, day, slot, 0, n, log_stay[a])
        if i < n:
            heap[size] = (np.int64(i) << 8) | a
            size += 1
    for j in range(size // 2 - 1, -1, -1):
        _sift_down(heap, size, j)
    m = 0
    while size > 0:
        top = heap[0]
        i = top >> 8
        a = top & 255
        if m == cap:  # more than six standard deviations above the mean: grow
            cap *= 2
            grown_p = np.empty(cap, dtype=np.int32)
            grown_a = np.empty(cap, dtype=np.int32)
            grown_p[:m] = out_person[:m]
            grown_a[:m] = out_act[:m]
            out_person, out_act = grown_p, grown_a
        out_person[m] = i
        out_act[m] = a
        m += 1
        nxt = _skip(k0, k1, day, (PURPOSE_SKIP << 8) | codes[a], i + 1, n, log_stay[a])
        if nxt < n:
            heap[0] = (np.int64(nxt) << 8) | a
        else:
            size -= 1
            heap[0] = heap[size]
        _sift_down(heap, size, 0)
    return out_person[:m], out_act[:m]


def _rooms(n: int, log_stay: np.ndarray) -> np.ndarray:
    """Places for each act's opportunities of a day: the mean plus six standard
    deviations (a walk that needs more is redone by the sequential clock)."""
    expected = n * -np.expm1(log_stay)  # n × rate; 0 for rate 0, n for rate 1
    return (expected + 6.0 * np.sqrt(expected + 1.0)).astype(np.int64) + 16


#: walks one thread advances together, a skip of each in turn: a walk's skips form a
#: chain (each starts where the last ended), so one walk at a time waits on every draw;
#: the draws of different walks are independent and overlap (bit for bit the same walks)
LANES = 4


@nb.njit(inline="always", cache=True)
def _next_walk(acts, nxt, log_stay, count):  # pragma: no cover - compiled
    """The first act of ``acts[nxt:]`` with a walk to make (rate > 0) and the place after
    it (-1 when none is left); acts of rate 0 passed on the way get no opportunity."""
    while nxt < acts.shape[0]:
        a = acts[nxt]
        nxt += 1
        if log_stay[a] != 0.0:
            return a, nxt
        count[a] = 0
    return -1, nxt


@nb.njit(inline="always", cache=True)
def _walk_acts(k0, k1, day, n, codes, log_stay, start, acts, out, count):  # pragma: no cover
    """The walks of ``acts`` (act columns), ``LANES`` at a time: act ``a``'s uids go to
    ``out[start[a]:start[a] + count[a]]`` in uid order, ``count[a] = -1`` if they did not
    fit. Each lane holds an act and the uid its next skip starts from; the lanes' draws
    are made in one unrolled loop, so they overlap."""
    act = np.full(LANES, -1, dtype=np.int64)
    slot = np.zeros(LANES, dtype=np.int64)
    at = np.zeros(LANES, dtype=np.int64)  # the uid the lane's next skip starts from
    m = np.zeros(LANES, dtype=np.int64)  # uids written for the lane's act
    u = np.empty(LANES)
    nxt = 0
    live = 0
    for t in range(LANES):
        act[t], nxt = _next_walk(acts, nxt, log_stay, count)
        if act[t] >= 0:
            slot[t] = (PURPOSE_SKIP << 8) | codes[act[t]]
            live += 1
    while live > 0:
        for t in range(LANES):  # independent draws (an idle lane's is not used)
            u[t] = k_uniform(k0, k1, day, slot[t], at[t])
        for t in range(LANES):
            a = act[t]
            if a < 0:
                continue
            i = min(n, at[t] + (0 if log_stay[a] == -np.inf else _gap_of(u[t], log_stay[a])))
            done = i >= n
            if not done and m[t] == start[a + 1] - start[a]:
                m[t] = -1  # no room: the sequential clock redoes the day
                done = True
            if not done:
                out[start[a] + m[t]] = i
                m[t] += 1
                at[t] = i + 1
                done = at[t] >= n
            if done:  # the lane takes the next act
                count[a] = m[t]
                act[t], nxt = _next_walk(acts, nxt, log_stay, count)
                if act[t] < 0:
                    live -= 1
                else:
                    slot[t] = (PURPOSE_SKIP << 8) | codes[act[t]]
                    at[t] = 0
                    m[t] = 0


@nb.njit(parallel=True, cache=True)
def _walks(k0, k1, day, n, codes, log_stay, start, groups):  # pragma: no cover - compiled
    """Each act's uids with an opportunity today (an act's walk is a chain of skips, each
    keyed by where it starts: the same skips as the sequential clock's), ``groups`` groups
    of acts in parallel: the acts sorted by their room (their expected count) and dealt
    out in turn, so that the groups' work is about even."""
    A = codes.shape[0]
    out = np.empty(start[A], dtype=np.int32)
    count = np.zeros(A, dtype=np.int64)
    by_size = np.argsort(-(start[1:] - start[:-1]), kind="mergesort")
    for g in nb.prange(groups):
        _walk_acts(k0, k1, day, n, codes, log_stay, start, by_size[g::groups], out, count)
    return out, count


#: a key no uid reaches: an act whose walk is used up in the merge's tree
EXHAUSTED = np.int64(0x7FFFFFFFFFFFFFFF)


@nb.njit(inline="always", cache=True)
def _merge_range(walks, lo, hi, out_person, out_act, m):  # pragma: no cover - compiled
    """The walks' entries ``walks[lo[a]:hi[a]]`` of every act ``a`` merged into
    ``out_person``/``out_act`` from ``m`` on, in the order of the keys ``uid × 256 + a``.
    A winner tree over the acts (leaves padded to a power of two): taking the smallest key
    and replacing it climbs a fixed number of levels with a ``min`` each, no branch on the
    data (a heap's sift-down branches at random at every level: 2.2× slower at 10^6)."""
    A = lo.shape[0]
    leaves = 1
    while leaves < A:
        leaves *= 2
    tree = np.full(2 * leaves, EXHAUSTED, dtype=np.int64)
    at = lo.copy()
    for a in range(A):
        if at[a] < hi[a]:
            tree[leaves + a] = (np.int64(walks[at[a]]) << 8) | a
    for k in range(leaves - 1, 0, -1):
        tree[k] = min(tree[2 * k], tree[2 * k + 1])
    while tree[1] != EXHAUSTED:
        top = tree[1]
        a = top & 255
        out_person[m] = top >> 8
        out_act[m] = a
        m += 1
        at[a] += 1
        v = (np.int64(walks[at[a]]) << 8) | a if at[a] < hi[a] else EXHAUSTED
        k = leaves + a
        tree[k] = v
        while k > 1:
            v = min(v, tree[k ^ 1])
            k >>= 1
            tree[k] = v


@nb.njit(cache=True)
def _opportunities_one_thread(k0, k1, day, n, codes, log_stay, start):  # pragma: no cover
    """The parallel clock's walks and merge on the calling thread (small populations:
    waking threads would cost more than the work); ``ok`` false when an act's walk
    overflowed its room."""
    A = codes.shape[0]
    walks = np.empty(start[A], dtype=np.int32)
    count = np.zeros(A, dtype=np.int64)
    _walk_acts(k0, k1, day, n, codes, log_stay, start, np.arange(A), walks, count)
    ok = True
    total = 0
    for a in range(A):
        ok &= count[a] >= 0
        total += max(count[a], 0)
    out_person = np.empty(total, dtype=np.int32)
    out_act = np.empty(total, dtype=np.int32)
    if ok:
        _merge_range(walks, start[:A], start[:A] + count, out_person, out_act, 0)
    return out_person, out_act, ok


@nb.njit(parallel=True, cache=True)
def _merge(walks, start, count, n, pieces):  # pragma: no cover - compiled
    """The acts' walks merged into (person, act column) pairs in person then column order,
    in ``pieces`` ranges of uids merged in parallel, each written at its offset. The
    order is that of the keys ``uid × 256 + column``, so the result is the same for any
    number of pieces or threads."""
    A = count.shape[0]
    bounds = np.empty((pieces + 1, A), dtype=np.int64)
    for c in nb.prange(pieces + 1):
        edge = (n * c) // pieces
        for a in range(A):
            bounds[c, a] = start[a] + np.searchsorted(
                walks[start[a]:start[a] + count[a]], edge)
    offset = np.zeros(pieces + 1, dtype=np.int64)
    for c in range(pieces):
        offset[c + 1] = offset[c]
        for a in range(A):
            offset[c + 1] += bounds[c + 1, a] - bounds[c, a]
    out_person = np.empty(offset[pieces], dtype=np.int32)
    out_act = np.empty(offset[pieces], dtype=np.int32)
    for c in nb.prange(pieces):
        _merge_range(walks, bounds[c], bounds[c + 1], out_person, out_act, offset[c])
    return out_person, out_act


#: uid ranges the parallel clock merges separately (any number gives the same result)
MERGE_PIECES = 16
#: below this many places for the day's opportunities the sequential clock runs: threads
#: woken for a few hundred draws cost more CPU than they save (the result is the same)
SERIAL_BELOW = 20_000


def opportunities(k0, k1, day, n, codes: np.ndarray, log_stay: np.ndarray):
    """Today's (person, act column) opportunities in person then column order: the acts'
    walks, groups of acts in parallel and each thread's walks interleaved, then a merge in
    parallel over uid ranges (on the calling thread alone below ``SERIAL_BELOW``); bit for
    bit the sequential :func:`_opportunities` (tested), which also serves the rare day on
    which an act's opportunities exceed the room set aside for them."""
    start = np.zeros(codes.shape[0] + 1, dtype=np.int64)
    np.cumsum(_rooms(int(n), log_stay), out=start[1:])
    if start[-1] < SERIAL_BELOW:
        person, act, ok = _opportunities_one_thread(k0, k1, day, n, codes, log_stay, start)
        return (person, act) if ok else _opportunities(k0, k1, day, n, codes, log_stay)
    groups = max(1, min(codes.shape[0], nb.get_num_threads()))
    walks, count = _walks(k0, k1, day, n, codes, log_stay, start, groups)
    if (count < 0).any():
        return _opportunities(k0, k1, day, n, codes, log_stay)
    return _merge(walks, start, count, n, MERGE_PIECES)


def clock_positions(catalogue: ActCatalogue) -> np.ndarray:
    """Catalogue positions of the acts that arrive as opportunities (rate > 0); acts with
    rate 0 are only ever emitted by mechanisms (a debt repaid) and need no clock column."""
    return np.flatnonzero(catalogue.rate > 0)


class OpportunityClock:
    """Hands out each day's opportunities as (person, catalogue position) pairs. It keeps
    no per-person state: a day's opportunities of an act are drawn afresh by geometric
    skips over uids, keyed by (day, act, uid the skip starts from)."""

    def __init__(self, catalogue: ActCatalogue) -> None:
        self.positions = clock_positions(catalogue)
        self.codes = catalogue.code[self.positions].astype(np.int64)
        with np.errstate(divide="ignore"):
            self.log_stay = np.log1p(-np.clip(catalogue.rate[self.positions], 0.0, 1.0))

    def due(self, stream, day: int, people: int):
        """Persons and act positions with an opportunity today, in person then act order."""
        person, column = opportunities(stream.k0, stream.k1, np.int64(day), np.int64(people),
                                       self.codes, self.log_stay)
        return person, self.positions[column]

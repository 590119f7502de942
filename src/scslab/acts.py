"""The act catalogue, compiled to arrays, and the opportunity clock.

Acts arrive as *opportunities* — exogenous, the same in every scenario — and a person
decides whether to take each one. Opportunities of act ``a`` for person ``i`` follow a
Bernoulli process with the act's daily ``rate``: the gap to the next one is geometric,
drawn by inversion keyed by (day of the current opportunity, act, person). Because
opportunities do not depend on policy, two scenarios see the same opportunities and
differ only in decisions (exact common random numbers), and a day's work is
proportional to the opportunities that fall due, not to people × acts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba as nb
import numpy as np

from scslab.rng import SlotLayout, k_uniform
from scslab.scenario.schema import MAX_CLOCKED_ACTS, Scenario
from scslab.schema import dtype

try:  # Numba's count-trailing-zeros intrinsic (one instruction); private API, so a fallback
    from numba.cpython.unsafe.numbers import trailing_zeros
except ImportError:  # pragma: no cover - only on a Numba without it

    @nb.njit(inline="always", cache=True)
    def trailing_zeros(x):
        n = 0
        while n < 64 and (x >> np.uint64(n)) & np.uint64(1) == np.uint64(0):
            n += 1
        return np.uint64(n)


ACT_CLASSES = ("violation", "prosocial", "expression", "economic", "movement")
CLASS_CODE = {name: i for i, name in enumerate(ACT_CLASSES)}
NEVER = np.uint16(0xFFFF)

#: Slot layout of the opportunity clock stream: purpose (init or gap) and act code.
CLOCK_LAYOUT = SlotLayout((("purpose", 8), ("act", 8)))
PURPOSE_INIT = 1
PURPOSE_GAP = 2


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


@nb.njit(inline="always", cache=True)
def _gap(k0, k1, day, slot, uid, log_stay):  # pragma: no cover - compiled
    """Geometric number of days (>= 0) until the next success, by inversion."""
    if log_stay == 0.0:  # rate 0
        return 0x7FFFFFFF
    if log_stay == -np.inf:  # rate 1
        return 0
    u = k_uniform(k0, k1, day, slot, uid)
    g = math.floor(math.log(u) / log_stay)
    if g > 0x7FFFFFFF:
        return 0x7FFFFFFF
    return int(g)


@nb.njit(cache=True)
def _init_clock(k0, k1, codes, log_stay, next_opp, next_any):  # pragma: no cover - compiled
    n, A = next_opp.shape
    for i in range(n):
        best = 0xFFFF
        for a in range(A):
            slot = (PURPOSE_INIT << 8) | codes[a]
            g = _gap(k0, k1, 0, slot, i, log_stay[a])
            d = 0xFFFF if g >= 0xFFFF else g
            next_opp[i, a] = d
            if d < best:
                best = d
        next_any[i] = best


@nb.njit(cache=True)
def _advance_clock(k0, k1, day, codes, log_stay, next_opp, next_any):  # pragma: no cover
    """Today's (person, act) opportunities in person then act order; draws each one's next
    day. Who is due comes from a scan of ``next_any``; each due row is then read once,
    branch-free (so the rows' cache misses overlap), into a bit mask of today's acts and
    the earliest day of the others; the opportunities are read off the masks, so the
    outputs are sized to the day and no row is scanned again."""
    n, A = next_opp.shape
    k = 0
    for i in range(n):
        k += next_any[i] == day
    due = np.empty(k + 1, dtype=np.int32)  # + 1: the branch-free fill writes one past
    k = 0
    for i in range(n):
        due[k] = i  # kept only if due
        k += next_any[i] == day
    hits = np.empty(k, dtype=np.uint64)  # bit a: act a is due today
    rest = np.empty(k, dtype=np.uint16)  # earliest day of the acts not due today
    for j in range(k):
        i = due[j]
        hit = np.uint64(0)
        low = np.uint16(0xFFFF)
        for a in range(A):
            v = next_opp[i, a]
            now = v == day
            hit |= np.uint64(now) << np.uint64(a)
            low = min(low, np.uint16(0xFFFF) if now else v)
        hits[j] = hit
        rest[j] = low
    m = 0
    for j in range(k):
        h = hits[j]
        while h:
            m += 1
            h &= h - np.uint64(1)
    out_person = np.empty(m, dtype=np.int32)
    out_act = np.empty(m, dtype=np.int32)
    m = 0
    for j in range(k):
        i = due[j]
        h = hits[j]
        best = rest[j]
        while h:
            a = trailing_zeros(h)
            h &= h - np.uint64(1)
            out_person[m] = i
            out_act[m] = a
            m += 1
            g = _gap(k0, k1, day, (PURPOSE_GAP << 8) | codes[a], i, log_stay[a])
            d = day + 1 + g
            d = 0xFFFF if d >= 0xFFFF else d
            next_opp[i, a] = d
            best = min(best, d)
        next_any[i] = best
    return out_person, out_act


def clock_positions(catalogue: ActCatalogue) -> np.ndarray:
    """Catalogue positions of the acts that arrive as opportunities (rate > 0); acts with
    rate 0 are only ever emitted by mechanisms (a debt repaid) and need no clock column."""
    return np.flatnonzero(catalogue.rate > 0)


class OpportunityClock:
    """Holds the next opportunity day of each (person, clocked act); hands out today's
    as (person, catalogue position) pairs."""

    def __init__(self, catalogue: ActCatalogue) -> None:
        self.positions = clock_positions(catalogue)
        if self.positions.size > MAX_CLOCKED_ACTS:  # a person's due acts are a 64-bit mask
            raise ValueError(f"at most {MAX_CLOCKED_ACTS} acts with a rate > 0, "
                             f"not {self.positions.size}")
        self.codes = catalogue.code[self.positions].astype(np.int64)
        with np.errstate(divide="ignore"):
            self.log_stay = np.log1p(-np.clip(catalogue.rate[self.positions], 0.0, 1.0))

    def init(self, stream, next_opp: np.ndarray, next_any: np.ndarray) -> None:
        _init_clock(stream.k0, stream.k1, self.codes, self.log_stay, next_opp, next_any)

    def due(self, stream, day: int, next_opp: np.ndarray, next_any: np.ndarray):
        """Persons and act positions with an opportunity today; reschedules them."""
        people, column = _advance_clock(
            stream.k0, stream.k1, np.int64(day), self.codes, self.log_stay, next_opp, next_any
        )
        return people, self.positions[column]

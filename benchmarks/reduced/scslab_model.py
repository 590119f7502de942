"""The reduced model on scslab's public Module API.

Six modules, one per mechanism and role, run by :class:`scslab.run.engine.Sim`:

===========  =========  ========  ====================================================
module       role       phase     what
===========  =========  ========  ====================================================
decide       behaviour  DECIDE    fused kernel over people: lazy ``pd``, one packed
                                  Bernoulli word each (stream ``decide.violate``, four
                                  people per Philox block) → ``acts``
camera       sensing    SENSE     one uniform per act (``camera.detect``), in parallel
                                  chunks → ``observations`` (+ the truth sidecar)
blacklist    system     LIST      releases listings that ran out (event-driven: the
                                  people listed on each day), deducts points for
                                  today's observations, lists those under the
                                  threshold → ``list_changes``
travel_ban   system     SANCTION  keeps the index of the listed from ``list_changes``;
                                  one uniform per listed person (``travel_ban.travel``),
                                  in parallel chunks; counts listed and blocked
learn        behaviour  LEARN     people update ``pd`` from their own detections; the
                                  daily decay is lazy (anchor value + anchor day)
metrics      observer   OBSERVE   violations and detections from the event batches
===========  =========  ========  ====================================================

Lazy decay: ``pd`` on day ``t`` is ``PD0 + (anchor − PD0)·q^(t − 1 − anchor_day)`` with
``q = 1 − ETA_DECAY`` (a power table), exactly the daily recursion's closed form.
Work per day is one pass over everyone (the decision) plus work proportional to the
day's events and to the listed. Violators are compacted per chunk and concatenated in
chunk order, so results do not depend on the number of threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numba as nb
import numpy as np
import yaml
from benchmarks.reduced import spec

from scslab.core.layouts import (
    ACT_LAYOUT,
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    Table,
    dtype,
)
from scslab.core.metrics import MetricDef
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.core.population import ALL_ARRAYS, Population
from scslab.core.scenario_schema import Scenario
from scslab.modules.apparatus.lists import publish
from scslab.numerics.rng import (
    LANES,
    SlotLayout,
    StreamSpec,
    k_lane_block,
    k_lane_threshold,
    k_lane_word,
    k_uniform,
    k_word_below,
)
from scslab.run.engine import Sim

SCENARIO = Path(__file__).with_name("reduced.yaml")
ACT_CODE = 1  # the "violation" act of reduced.yaml
SOURCE_CODE = 1  # the camera
BLACKLIST = 0  # list code in list_changes
CHUNK = 1 << 13  # at most this many people per parallel chunk (the words stay in cache)
BALANCE = 8  # the number of chunks is a multiple of this: equal shares for 1, 2, 4, 8 threads


def chunk_size(n: int) -> int:
    """People per parallel chunk: at most CHUNK, at least 1024, a multiple of four, and
    (above 8192 people) so that the chunks come in a multiple of BALANCE — Numba's
    ``prange`` gives each thread an equal run of chunks, and 13 chunks (10^5 people in
    chunks of 8192) leave one of two threads a chunk behind. Violators are compacted per
    chunk and concatenated in chunk order, i.e. in uid order, so the result does not
    depend on the chunk size (nor on the number of threads)."""
    n_chunks = BALANCE * -(-n // (BALANCE * CHUNK))
    return max(1024, -(-n // n_chunks // 4) * 4)


ONE = SlotLayout((("position", 16),))


def power_table(n_days: int) -> np.ndarray:
    """q^m for m = 0 … n_days, q = 1 − ETA_DECAY, by repeated multiplication."""
    q = 1.0 - spec.ETA_DECAY
    t = np.empty(n_days + 2)
    t[0] = 1.0
    for m in range(1, t.size):
        t[m] = t[m - 1] * q
    return t


@nb.njit(inline="always", cache=True)
def pd_today(anchor, anchor_day, day, qpow):  # pragma: no cover - compiled
    """``day`` is an int64 (a uint64 day mixed with int16 would promote to float); the
    index is unsigned so that Numba needs no wrap-around test for negative indices."""
    return spec.PD0 + (anchor - spec.PD0) * qpow[np.uint32(max(day - 1 - np.int64(anchor_day), 0))]


# --------------------------------------------------------------------------- kernels


@nb.njit(inline="always", cache=True)
def _threshold(anchor, anchor_day, i, iday, qpow):  # pragma: no cover - compiled
    """Person i's violation probability today as a packed-word threshold."""
    pd = pd_today(float(anchor[i]), anchor_day[i], iday, qpow)
    return k_lane_threshold(min(max(spec.BASE * (1.0 - spec.K * pd), 0.0), 1.0))


BLOCK_QUADS = 1024  # people decide in blocks of 4 × 1024 (the words stay in L1)
# The largest threshold anyone can have: the violation probability BASE·(1 − K·pd) falls
# with pd, and pd ≥ 0 (it lies between the anchor, > 0, and PD0), so p ≤ BASE and, the
# rounding being monotone, every threshold is ≤ T_MAX. A word ≥ T_MAX is a "no" whatever
# the person's pd: the exact threshold (a table lookup that keeps its loop from being
# vectorised) is computed only for the ~BASE share of words below it. Bit-identical to
# comparing every word with its threshold.
T_MAX = int(min(max(spec.BASE * (1.0 - spec.K * 0.0), 0.0), 1.0) * 4294967296.0)


@nb.njit(parallel=True, cache=True)
def _decide_kernel(anchor, anchor_day, qpow, k0, k1, iday, slot, buf, counts,
                   chunk):  # pragma: no cover - compiled
    """Everyone decides, a block of 4096 people at a time, in branch-free or nearly
    branch-free loops that LLVM vectorises: the packed Philox words of the block (one
    block per four people), each word against the largest threshold T_MAX, and the
    compaction of violators into ``buf[chunk start:]`` (eight flags tested at once),
    where the few words under T_MAX are compared with their person's own threshold.
    Chunks are multiples of four people; the last chunk's tail draws word by word.
    Returns the violators of all chunks in chunk order, i.e. in uid order."""
    n = anchor.size
    day = np.uint64(iday)
    for c in nb.prange(counts.size):
        lo = c * chunk
        hi = min(lo + chunk, n)
        words = np.empty((LANES, BLOCK_QUADS), dtype=np.int64)
        flags = np.zeros(LANES * BLOCK_QUADS, dtype=np.uint8)
        flag_words = flags.view(np.uint64)
        m = lo
        full = lo + (hi - lo) // LANES * LANES
        for b in range(lo, full, LANES * BLOCK_QUADS):
            nq = min(BLOCK_QUADS, (full - b) // LANES)
            q0 = b // LANES
            for q in range(nq):
                w0, w1, w2, w3 = k_lane_block(k0, k1, day, slot, np.uint64(q0 + q))
                words[0, q] = np.int64(w0)
                words[1, q] = np.int64(w1)
                words[2, q] = np.int64(w2)
                words[3, q] = np.int64(w3)
            for q in range(nq):  # the screen: no one whose word is ≥ T_MAX violates
                for lane in range(LANES):
                    flags[LANES * q + lane] = words[lane, q] < T_MAX
            for g in range(nq * LANES // 8):
                if flag_words[g] != 0:
                    for j in range(8 * g, 8 * g + 8):
                        if flags[j] and words[j % LANES, j // LANES] < _threshold(
                                anchor, anchor_day, b + j, iday, qpow):
                            buf[m] = b + j
                            m += 1
            for j in range(nq * LANES // 8 * 8, nq * LANES):
                if flags[j] and words[j % LANES, j // LANES] < _threshold(
                        anchor, anchor_day, b + j, iday, qpow):
                    buf[m] = b + j
                    m += 1
        for i in range(full, hi):
            if k_word_below(k_lane_word(k0, k1, day, slot, np.uint64(i)),
                            min(max(spec.BASE * (1.0 - spec.K * pd_today(
                                float(anchor[i]), anchor_day[i], iday, qpow)), 0.0), 1.0)):
                buf[m] = i
                m += 1
        counts[c] = m - lo
    return _in_chunk_order(buf, counts, chunk)  # the violators, in uid order


@nb.njit(cache=True)
def _in_chunk_order(buf, counts, chunk):  # pragma: no cover - compiled
    """The first ``counts[c]`` entries of each chunk ``c`` of ``buf`` (chunk ``c`` starts
    at ``c * chunk``), concatenated in chunk order: what parallel chunks compacted."""
    out = np.empty(counts.sum(), dtype=buf.dtype)
    j = 0
    for c in range(counts.size):
        for k in range(c * chunk, c * chunk + counts[c]):
            out[j] = buf[k]
            j += 1
    return out


EVENT_CHUNKS = 2  # parallel chunks of the day's acts or listed, per thread


def event_chunks() -> int:
    """Chunks for a pass over the day's events: a few per thread, so that the threads
    get equal shares (at 10^5 people a day has ~4,000 acts)."""
    return EVENT_CHUNKS * nb.get_num_threads()


@nb.njit(parallel=True, cache=True)
def _detect_kernel(actor, k0, k1, day, slot, n_chunks):  # pragma: no cover - compiled
    """One uniform per act (keyed by the actor), in ``n_chunks`` parallel chunks of acts:
    the rows the camera sees, their actors and their act references (day << 32 | row).
    Each chunk draws in a branch-free loop (LLVM vectorises the Philox rounds), then
    compacts the rows seen; chunks are concatenated in chunk order, i.e. in row order,
    so the result does not depend on the chunks or the number of threads."""
    n = actor.size
    chunk = max((n + n_chunks - 1) // n_chunks, 1)
    n_chunks = (n + chunk - 1) // chunk
    rows = np.empty(n, dtype=np.int64)
    counts = np.zeros(n_chunks, dtype=np.int64)
    for c in nb.prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, n)
        seen = np.empty(hi - lo, dtype=np.uint8)
        for r in range(lo, hi):
            seen[r - lo] = k_uniform(k0, k1, day, slot, np.uint64(actor[r])) < spec.COVERAGE
        m = lo
        for r in range(lo, hi):
            if seen[r - lo]:
                rows[m] = r
                m += 1
        counts[c] = m - lo
    seen_rows = _in_chunk_order(rows, counts, chunk)
    return actor[seen_rows], (day << np.int64(32)) | seen_rows


@nb.njit(cache=True)
def _deduct_and_list(points, until, subject, day):  # pragma: no cover - compiled
    """Each detected person loses DEDUCTION points; those now under THRESHOLD and not
    listed are listed until ``day + LIST_DAYS − 1``. Returns the newly listed."""
    new = np.empty(subject.size, dtype=subject.dtype)
    k = 0
    for s in subject:  # one observation per person per day
        points[s] -= spec.DEDUCTION
        if points[s] < spec.THRESHOLD and until[s] < 0:
            until[s] = day + spec.LIST_DAYS - 1
            new[k] = s
            k += 1
    return new[:k]


@nb.njit(parallel=True, cache=True)
def _travel_kernel(listed, cell, k0, k1, day, slot, listed_days, blocked,
                   n_chunks):  # pragma: no cover - compiled
    """One draw per listed person (the index of the listed, not a pass over everyone), in
    ``n_chunks`` parallel chunks: the draws in a branch-free loop (vectorised), then the
    counts per cell, added into the counters' accumulators in chunk order. The counts
    are whole numbers, exact in float64, so the sums do not depend on the chunks or the
    threads."""
    n = listed.size
    chunk = max((n + n_chunks - 1) // n_chunks, 1)
    n_chunks = (n + chunk - 1) // chunk
    part = np.zeros((n_chunks, 2, listed_days.size))
    for c in nb.prange(n_chunks):
        lo = c * chunk
        hi = min(lo + chunk, n)
        hit = np.empty(hi - lo, dtype=np.uint8)
        for j in range(lo, hi):
            hit[j - lo] = k_uniform(k0, k1, day, slot, np.uint64(listed[j])) < spec.P_BLOCK
        mine = np.zeros((2, listed_days.size))  # this chunk's counts: no shared cache line
        for j in range(lo, hi):
            s = listed[j]
            mine[0, cell[s]] += 1.0
            mine[1, cell[s]] += hit[j - lo]
        part[c] = mine
    for c in range(n_chunks):
        listed_days += part[c, 0]
        blocked += part[c, 1]


@nb.njit(cache=True)
def _drop(listed, exits, mark):  # pragma: no cover - compiled
    """``listed`` without ``exits``, in order (``mark``: a zeroed flag per person, left
    zeroed): the set difference in O(listed + exits), not a sort."""
    for s in exits:
        mark[s] = True
    out = np.empty(listed.size, dtype=listed.dtype)
    k = 0
    for s in listed:
        if not mark[s]:
            out[k] = s
            k += 1
    for s in exits:
        mark[s] = False
    return out[:k]


@nb.njit(cache=True)
def _count_kernel(cell, actor, subject, violations, detections):  # pragma: no cover
    """Violations by actor's cell and detections by subject's cell, added into the
    counters' accumulators (what two ``add_cells`` would add)."""
    for s in actor:
        violations[cell[s]] += 1.0
    for s in subject:
        detections[cell[s]] += 1.0


@nb.njit(cache=True)
def _learn_kernel(anchor, last, subject, day, qpow):  # pragma: no cover - compiled
    """pd of today's detected: the lazily decayed value, then the step towards 1."""
    for s in subject:
        pd = pd_today(float(anchor[s]), last[s], day, qpow)
        anchor[s] = pd + spec.ETA * (1.0 - pd)
        last[s] = day


# --------------------------------------------------------------------------- modules


class Constants:
    """Constant event columns (the act code, the camera's source, ...) as the first ``k``
    entries of arrays kept by the module and grown on demand, instead of an ``np.full`` a
    column a day. Event tables are never changed in place, so the views stay constant."""

    def __init__(self) -> None:
        self.columns: dict[tuple[int, str], np.ndarray] = {}

    def __call__(self, value: int, kind: str, k: int) -> np.ndarray:
        col = self.columns.get((value, kind))
        if col is None or col.size < k:
            col = np.full(max(k, 1024, 0 if col is None else 2 * col.size), value,
                          dtype=dtype(kind))
            self.columns[(value, kind)] = col
        return col[:k]



class Decide(Module):
    name = "decide"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    doc = "People violate with probability BASE·(1 − K·pd)."
    reads = ("people.pd_anchor@prev", "people.pd_day@prev")
    appends = ("acts",)
    streams = (StreamSpec("violate", ONE, "whether a person violates today"),)

    def setup(self, world) -> None:
        n = world.counts["people"]
        self.qpow = power_table(self.scenario.time.burn_in + self.scenario.time.days)
        self.buf = np.empty(n, dtype=dtype("uid"))
        self.chunk = chunk_size(n)
        self.counts = np.zeros(-(-n // self.chunk), dtype=np.int64)
        self.const = Constants()
        self.stream = world.stream("violate")

    def step(self, world, day: int) -> None:
        st = self.stream
        actor = _decide_kernel(world.array("people.pd_anchor"), world.array("people.pd_day"),
                               self.qpow, st.k0, st.k1, np.int64(day), np.uint64(0),
                               self.buf, self.counts, self.chunk)
        k = actor.size
        c = self.const
        world.append("acts", Table.from_columns(
            ACT_LAYOUT, actor=actor, act=c(ACT_CODE, "code", k), venue=c(1, "code", k),
            counterparty=c(-1, "uid", k), ordinal=c(0, "code", k)))


class Camera(Module):
    name = "camera"
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "A camera sees each violation with probability COVERAGE."
    reads = ("acts",)
    appends = ("observations", "observation_truth")
    streams = (StreamSpec("detect", ONE, "whether the camera sees a violation"),)

    def setup(self, world) -> None:
        self.const = Constants()
        self.stream = world.stream("detect")

    def step(self, world, day: int) -> None:
        st = self.stream
        subject, ref = _detect_kernel(world.events("acts")["actor"], st.k0, st.k1,
                                      np.int64(day), np.uint64(0), event_chunks())
        k = subject.size
        c = self.const
        act = c(ACT_CODE, "code", k)  # every act of the reduced model is the violation
        world.append("observations", Table.from_columns(
            OBSERVATION_LAYOUT, ref=c(-1, "ref", k), subject=subject, act=act,
            source=c(SOURCE_CODE, "code", k), sensor=c(0, "sensor", k)))
        world.append("observation_truth", Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT, act_ref=ref, true_actor=subject, true_act=act,
            erroneous=c(0, "flag", k), lawful=c(0, "flag", k)))


class Blacklist(Module):
    name = "blacklist"
    role = Role.SYSTEM
    phase = Phase.LIST
    doc = "Points fall by DEDUCTION per record; under THRESHOLD → listed for LIST_DAYS."
    owns: ClassVar = (
        ArraySpec("people.points", "points", "people", False, "points", fill=spec.POINTS0),
        ArraySpec("people.listed_until", "day", "people", False,
                  "last day on the blacklist (-1 = not listed)", fill=-1),
    )
    reads = ("observations",)
    appends = ("list_changes",)

    def setup(self, world) -> None:
        # the people listed on each day of the last LIST_DAYS: releases are event-driven
        world.state["listed_on"] = {}

    def step(self, world, day: int) -> None:
        points = world.array("people.points")
        until = world.array("people.listed_until")
        listed_on = world.state["listed_on"]
        out = listed_on.pop(day - spec.LIST_DAYS, None)  # their listing ran out yesterday
        if out is not None:
            until[out] = -1
            points[out] = spec.POINTS0
        subject = world.events("observations")["subject"]
        new = _deduct_and_list(points, until, subject, np.int64(day))
        if new.size:
            listed_on[day] = new
        publish(world, [(new, BLACKLIST)], [] if out is None else [(out, BLACKLIST)])


class TravelBan(Module):
    name = "travel_ban"
    role = Role.SYSTEM
    phase = Phase.SANCTION
    doc = "A listed person's daily travel opportunity is blocked with probability P_BLOCK."
    reads = ("list_changes", "people.cell")
    streams = (StreamSpec("travel", ONE, "whether a listed person's trip is blocked"),)
    counters = (
        CounterSpec("listed", "people on the blacklist × days, by cell"),
        CounterSpec("blocked_trips", "trips blocked by the blacklist, by cell"),
    )

    def setup(self, world) -> None:
        self.n_cells = len(world.group_names) * world.n_regions
        world.state["listed"] = np.empty(0, dtype=dtype("uid"))  # who is listed, any order
        self.mark = np.zeros(world.counts["people"], dtype=bool)
        self.stream = world.stream("travel")

    def step(self, world, day: int) -> None:
        listed = world.state["listed"]
        changes = world.events("list_changes")
        if len(changes):
            entered = changes["entered"]
            exits = changes["person"][~entered]
            if exits.size:
                listed = _drop(listed, exits, self.mark)
            listed = np.concatenate([listed, changes["person"][entered]])
            world.state["listed"] = listed
        st = self.stream
        c = world.counters
        _travel_kernel(listed, world.array("people.cell"), st.k0, st.k1, np.uint64(day),
                       np.uint64(0), c.slot("listed")[0], c.slot("blocked_trips")[0],
                       event_chunks())


class Learn(Module):
    name = "learn"
    role = Role.BEHAVIOUR
    phase = Phase.LEARN
    doc = "pd moves up after one's own detection and decays towards PD0 otherwise (lazily)."
    owns: ClassVar = (
        ArraySpec("people.pd_anchor", "prob", "people", True,
                  "perceived detection probability after the last detection", fill=spec.PD0),
        ArraySpec("people.pd_day", "day", "people", True,
                  "day of the last detection (-1 = never)", fill=-1),
    )
    reads = ("observations",)

    def setup(self, world) -> None:
        self.qpow = power_table(self.scenario.time.burn_in + self.scenario.time.days)

    def step(self, world, day: int) -> None:
        subject = world.events("observations")["subject"]
        if subject.size:
            _learn_kernel(world.array("people.pd_anchor"), world.array("people.pd_day"),
                          subject, np.int64(day), self.qpow)


class ReducedMetrics(Module):
    name = "metrics"
    role = Role.OBSERVER
    phase = Phase.OBSERVE
    doc = "Violations and detections from the day's event batches."
    reads = ("people.cell", "acts", "observations")
    counters = (
        CounterSpec("person_days", "people × days, by cell"),
        CounterSpec("violations", "violation acts, by actor's cell"),
        CounterSpec("detections", "violations seen by the camera, by subject's cell"),
    )
    metrics = (
        MetricDef("violation_rate", "violations", "person_days", "violations per person-day"),
        MetricDef("detections", "detections", None, "detections per day"),
        MetricDef("listed_share", "listed", "person_days", "share of people listed"),
        MetricDef("blocked_trips", "blocked_trips", None, "blocked trips per day"),
    )

    def setup(self, world) -> None:
        n_cells = len(world.group_names) * world.n_regions
        cell = world.array("people.cell")
        self.cell_sizes = np.bincount(cell, minlength=n_cells).astype(np.float64)

    def step(self, world, day: int) -> None:
        c = world.counters
        cell = world.array("people.cell")
        c.add_vector("person_days", self.cell_sizes)
        _count_kernel(cell, world.events("acts")["actor"],
                      world.events("observations")["subject"], c.slot("violations")[0],
                      c.slot("detections")[0])


MODULES = (Decide, Camera, Blacklist, TravelBan, Learn, ReducedMetrics)


def minimal_population(n: int) -> Population:
    """Everyone in group 0, region 0; no network, firms or officials. The reduced model
    reads none of the synthetic traits, so they are left zero (untouched pages)."""
    counts = {"people": n, "links": 0, "firms": 0, "officials": 0, "regions": 1, "groups": 1}
    arrays = {}
    for s in ALL_ARRAYS:
        base = s.entity.split("+")[0]
        size = counts[base] + (1 if s.entity.endswith("+1") else 0)
        arrays[s.name] = np.zeros(size, dtype=dtype(s.kind))
    return Population(counts=counts, arrays=arrays)


def scenario(n: int, days: int = 200, seed: int = 20261127) -> Scenario:
    """reduced.yaml with people, days and seed set. Validated by the schema directly, so
    the scenario does not depend on which modules the registry holds."""
    data = yaml.safe_load(SCENARIO.read_text())
    data["population"]["people"] = n
    data["time"] = {"days": days, "burn_in": 0}
    data["seed"] = seed
    return Scenario.model_validate(data)


def build(n: int, days: int = 200, seed: int = 20261127) -> Sim:
    scenario_ = scenario(n, days, seed)
    return Sim(scenario_, modules=MODULES, population=minimal_population(n))


def outputs(sim: Sim) -> dict[str, np.ndarray]:
    series = sim.results().replicates[0].series
    return {k: np.asarray(series[k], dtype=np.float64) for k in spec.OUTPUTS}


def warm_up() -> None:
    build(200, days=3).run()


def run(n: int, days: int, seed: int = 20261127) -> dict[str, np.ndarray]:
    sim = build(n, days, seed)
    sim.run()
    return outputs(sim)

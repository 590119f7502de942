"""The reduced model on scslab's public Module API.

Five modules, one per mechanism and role, run by :class:`scslab.engine.Sim`:

===========  =========  ========  ====================================================
module       role       phase     what
===========  =========  ========  ====================================================
decide       behaviour  DECIDE    fused kernel over people: lazy ``pd``, one uniform
                                  each (stream ``decide.violate``) → ``acts``
camera       sensing    SENSE     one uniform per act (``camera.detect``) →
                                  ``observations`` (+ the truth sidecar)
blacklist    system     LIST      release expired listings (kernel), deduct points for
                                  today's observations, list those under the threshold
travel_ban   system     SANCTION  fused kernel over people: listed → one uniform
                                  (``travel_ban.travel``); counts listed and blocked
learn        behaviour  LEARN     people update ``pd`` from their own detections; the
                                  daily decay is lazy (anchor value + anchor day)
metrics      observer   OBSERVE   violations and detections from the event batches
===========  =========  ========  ====================================================

Lazy decay: ``pd`` on day ``t`` is ``PD0 + (anchor − PD0)·q^(t − 1 − anchor_day)`` with
``q = 1 − ETA_DECAY`` (a power table), exactly the daily recursion's closed form.
Counters are accumulated per (chunk, cell) inside the kernels and reduced in chunk
order, so results do not depend on the number of threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numba as nb
import numpy as np
import yaml
from benchmarks.reduced import spec

from scslab.engine import Sim
from scslab.metrics import MetricDef
from scslab.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.population import ALL_ARRAYS, Population
from scslab.rng import SlotLayout, StreamSpec, k_uniform
from scslab.scenario.schema import Scenario
from scslab.schema import (
    ACT_LAYOUT,
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    Table,
    dtype,
    pack_ref,
)

SCENARIO = Path(__file__).with_name("reduced.yaml")
ACT_CODE = 1  # the "violation" act of reduced.yaml
SOURCE_CODE = 1  # the camera
CHUNK = 1 << 16
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
def _pd_today(anchor, anchor_day, day, qpow):  # pragma: no cover - compiled
    """``day`` is an int64 (a uint64 day mixed with int16 would promote to float)."""
    return spec.PD0 + (anchor - spec.PD0) * qpow[day - 1 - np.int64(anchor_day)]


# --------------------------------------------------------------------------- kernels


@nb.njit(parallel=True, cache=True)
def _decide_kernel(anchor, anchor_day, qpow, k0, k1, iday, slot, flags, buf, counts):  # pragma: no cover
    """A branch-free loop of draws, which LLVM vectorises (Philox across people), then,
    in a separate parallel loop, a compaction of each chunk's violators into
    ``buf[chunk start:]``. (With both loops in one body the draw loop is not vectorised:
    ~3× slower.)"""
    n = anchor.size
    n_chunks = counts.size
    day = np.uint64(iday)
    for c in nb.prange(n_chunks):
        for i in range(c * CHUNK, min((c + 1) * CHUNK, n)):
            pd = _pd_today(float(anchor[i]), anchor_day[i], iday, qpow)
            p = min(max(spec.BASE * (1.0 - spec.K * pd), 0.0), 1.0)
            flags[i] = k_uniform(k0, k1, day, slot, np.uint64(i)) < p
    for c in nb.prange(n_chunks):
        lo = c * CHUNK
        m = lo
        for i in range(lo, min(lo + CHUNK, n)):
            if flags[i]:
                buf[m] = i
                m += 1
        counts[c] = m - lo


@nb.njit(cache=True)
def _compact(buf, counts):  # pragma: no cover - compiled
    out = np.empty(counts.sum(), dtype=buf.dtype)
    j = 0
    for c in range(counts.size):
        lo = c * CHUNK
        for k in range(counts[c]):
            out[j] = buf[lo + k]
            j += 1
    return out


@nb.njit(parallel=True, cache=True)
def _release_kernel(until, points, day):  # pragma: no cover - compiled
    """Listings that ran out end; points reset. (A branch-free version that always
    writes is slower: the branch is almost never taken.)"""
    n = until.size
    for c in nb.prange((n + CHUNK - 1) // CHUNK):
        for i in range(c * CHUNK, min((c + 1) * CHUNK, n)):
            if until[i] >= 0 and day > until[i]:
                until[i] = -1
                points[i] = spec.POINTS0


@nb.njit(parallel=True, cache=True)
def _travel_kernel(until, cell, k0, k1, day, slot, listed, blocked):  # pragma: no cover
    n = until.size
    for c in nb.prange(listed.shape[0]):
        for i in range(c * CHUNK, min((c + 1) * CHUNK, n)):
            if until[i] >= 0:
                listed[c, cell[i]] += 1.0
                if k_uniform(k0, k1, day, slot, i) < spec.P_BLOCK:
                    blocked[c, cell[i]] += 1.0


def _chunk_sum(acc: np.ndarray) -> np.ndarray:
    """Reduce per-chunk accumulators in chunk order."""
    total = acc[0].copy()
    for c in range(1, acc.shape[0]):
        total += acc[c]
    return total


# --------------------------------------------------------------------------- modules


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
        self.flags = np.empty(n, dtype=np.bool_)
        self.counts = np.zeros((n + CHUNK - 1) // CHUNK, dtype=np.int64)
        self.act = np.empty(0, dtype=dtype("code"))

    def step(self, world, day: int) -> None:
        st = world.stream("violate")
        _decide_kernel(world.array("people.pd_anchor"), world.array("people.pd_day"),
                       self.qpow, st.k0, st.k1, np.int64(day), np.uint64(0),
                       self.flags, self.buf, self.counts)
        actor = _compact(self.buf, self.counts)
        k = actor.size
        world.append("acts", Table.from_columns(
            ACT_LAYOUT, actor=actor, act=np.full(k, ACT_CODE), venue=np.full(k, 1),
            counterparty=np.full(k, -1), ordinal=np.zeros(k)))


class Camera(Module):
    name = "camera"
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "A camera sees each violation with probability COVERAGE."
    reads = ("acts",)
    appends = ("observations", "observation_truth")
    streams = (StreamSpec("detect", ONE, "whether the camera sees a violation"),)

    def step(self, world, day: int) -> None:
        acts = world.events("acts")
        actor = acts["actor"]
        seen = world.stream("detect").uniform(day, 0, actor) < spec.COVERAGE
        rows = np.flatnonzero(seen)
        subject = actor[rows]
        k = rows.size
        world.append("observations", Table.from_columns(
            OBSERVATION_LAYOUT, act_ref=pack_ref(day, rows), subject=subject,
            act=acts["act"][rows], source=np.full(k, SOURCE_CODE), sensor=np.zeros(k)))
        world.append("observation_truth", Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT, true_actor=subject, true_act=acts["act"][rows],
            erroneous=np.zeros(k, bool), lawful=np.zeros(k, bool)))


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

    def step(self, world, day: int) -> None:
        points = world.array("people.points")
        until = world.array("people.listed_until")
        _release_kernel(until, points, np.int64(day))
        subject = world.events("observations")["subject"]  # one per person per day
        if subject.size:
            points[subject] -= spec.DEDUCTION
            new = subject[(points[subject] < spec.THRESHOLD) & (until[subject] < 0)]
            until[new] = day + spec.LIST_DAYS - 1


class TravelBan(Module):
    name = "travel_ban"
    role = Role.SYSTEM
    phase = Phase.SANCTION
    doc = "A listed person's daily travel opportunity is blocked with probability P_BLOCK."
    reads = ("people.listed_until", "people.cell")
    streams = (StreamSpec("travel", ONE, "whether a listed person's trip is blocked"),)
    counters = (
        CounterSpec("listed", "people on the blacklist × days, by cell"),
        CounterSpec("blocked_trips", "trips blocked by the blacklist, by cell"),
    )

    def setup(self, world) -> None:
        n = world.counts["people"]
        n_cells = len(world.group_names) * world.n_regions
        self.acc = np.zeros((2, (n + CHUNK - 1) // CHUNK, n_cells))

    def step(self, world, day: int) -> None:
        st = world.stream("travel")
        self.acc[:] = 0.0
        _travel_kernel(world.array("people.listed_until"), world.array("people.cell"),
                       st.k0, st.k1, np.uint64(day), np.uint64(0), self.acc[0], self.acc[1])
        world.counters.add_vector("listed", _chunk_sum(self.acc[0]))
        world.counters.add_vector("blocked_trips", _chunk_sum(self.acc[1]))


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
            anchor = world.array("people.pd_anchor")
            last = world.array("people.pd_day")
            pd = spec.PD0 + (anchor[subject] - spec.PD0) * self.qpow[day - 1 - last[subject]]
            anchor[subject] = pd + spec.ETA * (1.0 - pd)
            last[subject] = day


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
        c.add_cells("violations", cell[world.events("acts")["actor"]])
        c.add_cells("detections", cell[world.events("observations")["subject"]])


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

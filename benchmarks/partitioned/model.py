"""The partitioned prototype's model: the reduced model (``benchmarks/reduced/spec.py``)
on a network, with one mechanism that crosses partitions.

Six modules on scslab's Module API, run by :class:`scslab.run.engine.Sim` on a
*partition* — the people of some regions, with their global uids (``View.uids``) — or on
the whole population (one partition). Every draw is keyed by the person's global uid, so
a partition draws for its people what the whole run draws for them.

===========  =========  =========================================================
module       phase      what
===========  =========  =========================================================
decide       DECIDE     violate with probability BASE·(1 − K·pd) (``decide.violate``)
camera       SENSE      a violation is seen with probability COVERAGE (``camera.detect``)
blacklist    LIST       −DEDUCTION points per record; under THRESHOLD → listed for
                        LIST_DAYS (then points reset)
travel_ban   SANCTION   a listed person's trip is blocked with probability P_BLOCK
learn        LEARN      own detection: pd ← pd + ETA·(1 − pd); then, for each
                        neighbour put on the list *yesterday*,
                        pd ← pd + ETA_NEIGHBOUR·(1 − pd)
                        (deterrence by example); pd decays towards PD0 (lazily)
metrics      OBSERVE    person-days, violations, detections by cell
===========  =========  =========================================================

What crosses partitions: the learning step reads whether each neighbour was put on the
list yesterday, and ~10 % of links join two partitions (4 regions in 2 blocks). The learn
module keeps one flag per person of the *whole* population (1 byte each; at the national
scale a halo of the cut's far ends would replace it), set from its own listings and from
the other partitions' (``inbox``: their ``outbox`` of yesterday, passed by the driver at
the day's barrier). Everything else is local to a person's partition: the cells of the
counters include the region, so partitions' counters are disjoint and add up exactly.
Event tables and the dossier hold *local* rows (an act's reference is its row in the
partition's day, a record's subject a local person): they are not comparable across
partitions and are not part of what the driver compares.

``ETA_NEIGHBOUR`` is an *assumption* of this benchmark model (not a scslab parameter).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numba as nb
import numpy as np
import yaml
from benchmarks.reduced import scslab_model as reduced
from benchmarks.reduced import spec
from benchmarks.reduced.scslab_model import Constants, pd_today, power_table

from scslab.core.layouts import (
    ACT_LAYOUT,
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    Table,
    dtype,
)
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.core.population import Population, restrict, synthesise
from scslab.core.scenario_schema import Scenario
from scslab.numerics.rng import SlotLayout, StreamSpec, k_uniform
from scslab.run.engine import Sim

SCENARIO = Path(__file__).resolve().parents[1] / "reduced" / "reduced.yaml"
REGIONS = 4
DEGREE = 8
ETA_NEIGHBOUR = 0.05
ACT_CODE = 1
SOURCE_CODE = 1
ONE = SlotLayout((("position", 16),))


@nb.njit(cache=True)
def _decide(uids, anchor, anchor_day, qpow, k0, k1, day):  # pragma: no cover - compiled
    """The local rows of today's violators, in row (= uid) order; one uniform per person
    keyed by the global uid."""
    out = np.empty(uids.size, dtype=np.int64)
    m = 0
    for i in range(uids.size):
        p = min(max(spec.BASE * (1.0 - spec.K * pd_today(float(anchor[i]), anchor_day[i],
                                                          day, qpow)), 0.0), 1.0)
        if k_uniform(k0, k1, np.uint64(day), np.uint64(0), np.uint64(uids[i])) < p:
            out[m] = i
            m += 1
    return out[:m]


@nb.njit(cache=True)
def _detect(actor, uids, k0, k1, day):  # pragma: no cover - compiled
    """The rows of today's acts the camera sees (one uniform per act, keyed by the actor's
    global uid)."""
    out = np.empty(actor.size, dtype=np.int64)
    m = 0
    for r in range(actor.size):
        if k_uniform(k0, k1, np.uint64(day), np.uint64(0), np.uint64(uids[actor[r]])) < spec.COVERAGE:
            out[m] = r
            m += 1
    return out[:m]


@nb.njit(cache=True)
def _travel(listed, uids, cell, k0, k1, day, listed_days, blocked):  # pragma: no cover
    for s in listed:
        listed_days[cell[s]] += 1.0
        if k_uniform(k0, k1, np.uint64(day), np.uint64(0), np.uint64(uids[s])) < spec.P_BLOCK:
            blocked[cell[s]] += 1.0


@nb.njit(cache=True)
def _learn(anchor, last, subject, offsets, neighbour, listed_yesterday, day, qpow):  # pragma: no cover
    """Own detections first, then each person's neighbours put on the list yesterday
    (global uids into the whole population's flags); both steps per person, so the order
    of people does not matter."""
    for s in subject:
        pd = pd_today(float(anchor[s]), last[s], day, qpow)
        anchor[s] = pd + spec.ETA * (1.0 - pd)
        last[s] = day
    for i in range(offsets.size - 1):
        k = 0
        for e in range(offsets[i], offsets[i + 1]):
            k += listed_yesterday[neighbour[e]]
        if k:
            pd = pd_today(float(anchor[i]), last[i], day, qpow)
            for _ in range(k):
                pd = pd + ETA_NEIGHBOUR * (1.0 - pd)
            anchor[i] = pd
            last[i] = day


class Decide(Module):
    name = "decide"
    partitionable = True
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    doc = "People violate with probability BASE·(1 − K·pd)."
    reads = ("people.pd_anchor@prev", "people.pd_day@prev")
    appends = ("acts",)
    streams = (StreamSpec("violate", ONE, "whether a person violates today"),)

    def setup(self, world) -> None:
        self.qpow = power_table(self.scenario.time.burn_in + self.scenario.time.days)
        self.uids = world.uids
        self.const = Constants()
        self.stream = world.stream("violate")

    def step(self, world, day: int) -> None:
        st = self.stream
        actor = _decide(self.uids, world.array("people.pd_anchor"), world.array("people.pd_day"),
                        self.qpow, st.k0, st.k1, np.int64(day)).astype(dtype("uid"))
        k, c = actor.size, self.const
        world.append("acts", Table.from_columns(
            ACT_LAYOUT, actor=actor, act=c(ACT_CODE, "code", k), venue=c(1, "code", k),
            counterparty=c(-1, "uid", k), ordinal=c(0, "code", k)))


class Camera(Module):
    name = "camera"
    partitionable = True
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "A camera sees each violation with probability COVERAGE."
    reads = ("acts",)
    appends = ("observations", "observation_truth")
    streams = (StreamSpec("detect", ONE, "whether the camera sees a violation"),)

    def setup(self, world) -> None:
        self.uids = world.uids
        self.const = Constants()
        self.stream = world.stream("detect")

    def step(self, world, day: int) -> None:
        st = self.stream
        actor = world.events("acts")["actor"]
        rows = _detect(actor, self.uids, st.k0, st.k1, np.int64(day))
        subject = actor[rows]
        ref = (np.int64(day) << np.int64(32)) | rows
        k, c = subject.size, self.const
        act = c(ACT_CODE, "code", k)
        world.append("observations", Table.from_columns(
            OBSERVATION_LAYOUT, ref=c(-1, "ref", k), subject=subject, act=act,
            source=c(SOURCE_CODE, "code", k), sensor=c(0, "sensor", k)))
        world.append("observation_truth", Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT, act_ref=ref, true_actor=subject, true_act=act,
            erroneous=c(0, "flag", k), lawful=c(0, "flag", k)))


class Blacklist(reduced.Blacklist):
    """The reduced model's blacklist: per person, on local rows, drawing nothing."""

    partitionable = True


class TravelBan(Module):
    name = "travel_ban"
    partitionable = True
    role = Role.SYSTEM
    phase = Phase.SANCTION
    doc = "A listed person's daily trip is blocked with probability P_BLOCK."
    reads = ("list_changes", "people.cell")
    streams = (StreamSpec("travel", ONE, "whether a listed person's trip is blocked"),)
    counters = (
        CounterSpec("listed", "people on the blacklist × days, by cell"),
        CounterSpec("blocked_trips", "trips blocked by the blacklist, by cell"),
    )

    def setup(self, world) -> None:
        self.uids = world.uids
        self.listed = np.empty(0, dtype=np.int64)  # in the order they were listed
        self.stream = world.stream("travel")

    def step(self, world, day: int) -> None:
        changes = world.events("list_changes")
        if len(changes):
            entered = changes["entered"]
            out = changes["person"][~entered]
            if out.size:
                self.listed = self.listed[~np.isin(self.listed, out)]
            self.listed = np.concatenate([self.listed, changes["person"][entered]])
        st, c = self.stream, world.counters
        _travel(self.listed, self.uids, world.array("people.cell"), st.k0, st.k1,
                np.int64(day), c.slot("listed")[0], c.slot("blocked_trips")[0])


class Learn(Module):
    """Besides the model: ``inbox`` (global uids the other partitions put on the list
    yesterday, set by the driver before the day) and ``outbox`` (the global uids this
    partition put on the list today, read by the driver after it). The flags of both are
    set for the day's kernel and cleared after it: one day's listings, not all so far."""

    name = "learn"
    partitionable = True
    role = Role.BEHAVIOUR
    phase = Phase.LEARN
    doc = "pd steps up after one's own detection and after each neighbour's listing."
    owns: ClassVar = (
        ArraySpec("people.pd_anchor", "prob", "people", True,
                  "perceived detection probability at the last update", fill=spec.PD0),
        ArraySpec("people.pd_day", "day", "people", True,
                  "day of the last update (-1 = never)", fill=-1),
    )
    reads = ("observations", "list_changes", "people.net_offsets", "links.neighbour")

    def setup(self, world) -> None:
        self.qpow = power_table(self.scenario.time.burn_in + self.scenario.time.days)
        self.uids = world.uids
        self.listed_yesterday = np.zeros(self.scenario.population.people, dtype=np.uint8)
        self.inbox = np.empty(0, dtype=np.int64)
        self.outbox = np.empty(0, dtype=np.int64)

    def step(self, world, day: int) -> None:
        flags = self.listed_yesterday
        flags[self.outbox] = 1
        flags[self.inbox] = 1
        _learn(world.array("people.pd_anchor"), world.array("people.pd_day"),
               world.events("observations")["subject"], world.array("people.net_offsets"),
               world.array("links.neighbour"), flags, np.int64(day), self.qpow)
        flags[self.outbox] = 0
        flags[self.inbox] = 0
        self.inbox = np.empty(0, dtype=np.int64)
        changes = world.events("list_changes")
        entered = changes["person"][changes["entered"]] if len(changes) else np.empty(0, int)
        self.outbox = self.uids[entered]


class Metrics(reduced.ReducedMetrics):
    """The reduced model's counts by cell (cells include the region): disjoint per
    partition, drawing nothing."""

    partitionable = True


MODULES = (Decide, Camera, Blacklist, TravelBan, Learn, Metrics)


def scenario(people: int, days: int, seed: int = 20261127) -> Scenario:
    """reduced.yaml on REGIONS regions and a network of degree DEGREE."""
    data = yaml.safe_load(SCENARIO.read_text())
    data["name"] = "partitioned"
    data["population"]["people"] = people
    data["population"]["regions"] = REGIONS
    data["population"]["network"] = {"degree": DEGREE}
    data["time"] = {"days": days, "burn_in": 0}
    data["seed"] = seed
    return Scenario.model_validate(data)


def partition_uids(population: Population, regions: list[int]) -> np.ndarray:
    """The global uids of the people living in ``regions``, increasing."""
    return np.flatnonzero(np.isin(population.arrays["people.region"], regions))


def build(people: int, days: int, regions: list[int] | None = None,
          seed: int = 20261127) -> Sim:
    """A Sim of the partition living in ``regions`` (None: everyone). Each partition draws
    the whole population and keeps its people — cheap at 10^5; at the national scale the
    population's uid-keyed draws would be made for the partition's uids only."""
    sc = scenario(people, days, seed)
    pop = synthesise(sc.population, sc.seed, 0)
    if regions is None:
        return Sim(sc, modules=MODULES, population=pop)
    uids = partition_uids(pop, regions)
    return Sim(sc, modules=MODULES, population=restrict(pop, uids), uids=uids)

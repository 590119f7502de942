"""People learn how likely they are to be recorded — from what they can see.

Perceived detection π_i moves towards

* **own experience**: after each own violation, towards 1 if a record of it names them,
  towards 0 if not — only where the dossier is transparent (``dossier.visibility``):
  people cannot learn from records they cannot see;
* **neighbours' experience**: the same signal pushed to network neighbours, weaker;
* **public information** (aware people only): towards the published detection signal
  (``incentives.public_detection_signal``) continuously at rate λ per day:
  ``π(t) = π* + (π(t0) − π*) e^{−λ (t − t0)}`` — computed lazily from the last event
  day, so the rate does not depend on the step size and no one is touched on a quiet day.

Updates are event-driven: pushed only from the people who had an event today.
Sanction experience (``perceived_sanction``) is updated by the sanctions module's events
when that mechanism is on.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

import numba as nb
import numpy as np
from pydantic import Field

from scslab.incentives import public_detection_signal
from scslab.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.prefetch import prefetch
from scslab.scenario.schema import ModuleParams
from scslab.schema import code_table

Prob = Annotated[float, Field(ge=0.0, le=1.0)]


class LearningParams(ModuleParams):
    detection_prior: Prob = 0.1  # π for the unaware before any experience
    own_rate: Prob = 0.2  # step towards own experience per event
    network_rate: Prob = 0.02  # step towards a neighbour's experience per event
    public_rate: Annotated[float, Field(ge=0.0)] = 1.0 / 180.0  # λ per day (aware only)
    sanction_rate: Prob = 0.2  # step of perceived sanction towards experience per sanction


@nb.njit(inline="always", cache=True)
def perceived_now(pd, pd_day, aware, i, day, pub_target, pub_rate):  # pragma: no cover
    """π_i today: stored value relaxed towards the public signal since its last update
    (aware people only) — the lazy form of a continuous-time update."""
    p = pd[i]
    if aware[i] and pub_rate > 0.0:
        p = pub_target + (p - pub_target) * math.exp(-pub_rate * (day - pd_day[i]))
    return p


@nb.njit(cache=True)
def _apply(day, person, target, rate, pd, pd_day, aware, pub_target, pub_rate,
           shift):  # pragma: no cover - compiled
    """Apply events in order: bring π up to date (lazy public relaxation), then step by
    ``rate`` towards each event's target."""
    for e in range(person.shape[0]):
        i = person[e]
        p = perceived_now(pd, pd_day, aware, i, day, pub_target, pub_rate)
        new = p + rate * (target[e] - p)
        shift[e] = abs(new - pd[i])
        pd[i] = new
        pd_day[i] = day


PREFETCH_AHEAD = 4  # actors ahead whose neighbours' perceptions _apply_network prefetches


@nb.njit(cache=True)
def _apply_network(day, actor, target, rate, net_off, net_nb, pd, pd_day, aware, pub_target,
                   pub_rate, cell, events):  # pragma: no cover - compiled
    """Each actor's neighbours step towards the actor's outcome, actor after actor and
    neighbour after neighbour (the order of :func:`_apply` over the gathered lists),
    counting the events by the neighbour's cell; the next actors' neighbours are
    prefetched, as their reads hop across the population."""
    k = actor.shape[0]
    for j in range(k):
        if j + PREFETCH_AHEAD < k:
            ahead = actor[j + PREFETCH_AHEAD]
            for e in range(net_off[ahead], net_off[ahead + 1]):
                prefetch(pd, net_nb[e])
                prefetch(pd_day, net_nb[e])
        t = target[j]
        b = actor[j]
        for e in range(net_off[b], net_off[b + 1]):
            i = net_nb[e]
            p = perceived_now(pd, pd_day, aware, i, day, pub_target, pub_rate)
            pd[i] = p + rate * (t - p)
            pd_day[i] = day
            events[cell[i]] += 1.0


class Learning(Module):
    name = "learning"
    role = Role.BEHAVIOUR
    phase = Phase.LEARN
    Params = LearningParams
    doc = "Perceived detection learned from own records, neighbours and public information."
    owns: ClassVar = (
        ArraySpec("people.perceived_detection", "prob", "people", True,
                  "perceived chance a violation is recorded (π)"),
        ArraySpec("people.perceived_day", "day_u16", "people", True,
                  "day π was last updated (lazy public relaxation)"),
        ArraySpec("people.perceived_sanction", "money", "people", True,
                  "multiplier on perceived sanctions (1 = accurate)", fill=1.0),
    )
    reads = ("people.aware", "people.cell", "people.net_offsets", "links.neighbour", "acts",
             "dossier")
    counters = (
        CounterSpec("learning_events_own", "own-record learning events (violations seen)"),
        CounterSpec("learning_shift_own", "sum of |Δπ| from own-record events", real=True),
        CounterSpec("learning_events_network", "neighbour learning events"),
    )

    def setup(self, world) -> None:
        self.pub_target = public_detection_signal(world.consequences, world.catalogue)
        pd = world.array("people.perceived_detection")
        aware = world.array("people.aware")
        pd[:] = np.where(aware, self.pub_target, self.params.detection_prior)
        self.transparent = (
            world.scenario.modules.get("dossier", {}).get("visibility", "transparent")
            == "transparent"
        )
        self.is_violation = code_table(world.catalogue.codes_of_class("violation"))

    def step(self, world, day: int) -> None:
        if not self.transparent:
            return  # records are secret: nothing to learn from them
        acts = world.events("acts")
        rows = np.flatnonzero(self.is_violation[acts["act"]])
        if rows.size == 0:
            return
        actor = acts["actor"][rows].astype(np.int64)
        recorded = np.zeros(len(acts), dtype=bool)
        chunk, live = world.dossier.day_records(day)
        if len(chunk):
            refs = chunk["act_ref"]
            today = live & (refs >= 0) & ((refs >> 32) == day)
            r = (refs[today] & 0xFFFFFFFF).astype(np.int64)
            correct = chunk["subject"][today] == acts["actor"][r]
            recorded[r[correct]] = True
        target = recorded[rows].astype(np.float64)
        self._update(world, day, actor, target, self.params.own_rate)
        if self.params.network_rate > 0:
            _apply_network(
                np.int64(day), actor, target, self.params.network_rate,
                world.array("people.net_offsets"), world.array("links.neighbour"),
                world.array("people.perceived_detection"), world.array("people.perceived_day"),
                world.array("people.aware"), self.pub_target, self.params.public_rate,
                world.array("people.cell"), world.counters.slot("learning_events_network")[0])

    def _update(self, world, day, person, target, rate) -> None:
        """Own experience: step towards it, counting events and the shift they made."""
        shift = np.empty(person.size)
        _apply(np.int64(day), person, target, float(rate),
               world.array("people.perceived_detection"), world.array("people.perceived_day"),
               world.array("people.aware"), self.pub_target, self.params.public_rate, shift)
        cells = world.array("people.cell")[person]
        c = world.counters
        c.add_cells("learning_events_own", cells)
        c.add_cells("learning_shift_own", cells, shift)

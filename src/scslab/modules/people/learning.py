"""People learn how likely they are to be recorded and what the apparatus does to them.

Perceived detection is held per venue (``people.perceived_detection``, people ×
perception venues: the venues where an unlawful act happens, ``ActCatalogue.
perception_venues``). π_iv moves towards

* **own experience**: after each own violation (any unlawful act), π of the act's venue
  towards 1 if a record of it names them, towards 0 if not — only where the dossier is transparent (``dossier.visibility``):
  people cannot learn from records they cannot see;
* **neighbours' experience**: the same signal, for the same venue, pushed to network
  neighbours, weaker;
* **public information** (informed people only): towards the venue's published detection
  signal (``incentives.public_detection_by_venue``) continuously at rate λ per day:
  ``π_v(t) = π*_v + (π_v(t0) − π*_v) e^{−λ (t − t0)}`` — computed lazily from the person's
  last event day (one day for all venues: an event brings every venue of the person up to
  date), so the rate does not depend on the step size and no one is touched on a quiet day.

Perceived sanction ψ_i (``people.perceived_sanction``) is the weight a person gives the
apparatus's own sanctions (the part of an act's sanction beyond the ordinary legal
penalty): 1 for those who know the system at day 0, ``sanction_prior`` for the rest. It
moves towards 1 by ``sanction_rate`` when the person is put on a list that sanctions
(an experienced sanction), by ``sanction_neighbour_rate`` when a network neighbour is
put on such a list (a sanction seen among neighbours, named in public or not), and by a further
``sanction_network_rate`` when that neighbour is publicly named (a listing whose measures
include public naming); k events in a day compose to ``ψ ← 1 − (1 − ψ)(1 − r)^k``,
independent of their order.

Awareness spreads (``people.informed``, starting as the drawn ``people.aware``): being
put on a list that sanctions informs (with probability ``listed_awareness``); a network
neighbour put on a list that sanctions informs with probability ``neighbour_awareness``
per listing, named in public or not (naming adds its ψ step, not a second draw); a
publicity ``campaign`` (a scenario event: day, reach, salience) informs a share ``reach``
of the uninformed and raises their ψ to at least ``salience``. Informed people perceive the published detection signal and the
watching in their region (``behaviour``).

Updates are event-driven: pushed only from the people who had an event today.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

import numba as nb
import numpy as np
from pydantic import Field

from scslab.core.acts import CLASS_CODE
from scslab.core.apparatus import ListParams, SanctionParams, SanctionRule
from scslab.core.incentives import public_detection_by_venue
from scslab.core.layouts import (
    INFORMED_CAMPAIGN,
    INFORMED_LAYOUT,
    INFORMED_LISTING,
    INFORMED_NEIGHBOUR,
    Table,
    code_table,
)
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.core.scenario_schema import ModuleParams, Strict
from scslab.core.world import in_append_order
from scslab.numerics.csr import gather
from scslab.numerics.prefetch import prefetch
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import unique

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
AWARENESS_LAYOUT = SlotLayout((("purpose", 8), ("campaign", 8)))
P_NEIGHBOUR, P_CAMPAIGN, P_LISTED = 1, 2, 3


class Campaign(Strict):
    """A publicity campaign about the system: on ``day`` it informs a share ``reach`` of
    the uninformed, whose perceived sanction rises to at least ``salience``."""

    day: Annotated[int, Field(ge=0, le=65534)]
    reach: Prob
    salience: Prob = 1.0
    #: what it tells (``attitudes``): nothing on approval, the state's benefits, or
    #: pros and cons
    framing: Literal["none", "state", "balanced"] = "none"


class LearningParams(ModuleParams):
    detection_prior: Prob = 0.1  # π for the unaware before any experience
    own_rate: Prob = 0.2  # step towards own experience per event
    network_rate: Prob = 0.02  # step towards a neighbour's experience per event
    public_rate: Annotated[float, Field(ge=0.0)] = 1.0 / 180.0  # λ per day (informed only)
    sanction_prior: Prob = 0.0  # ψ of the uninformed at day 0: ordinary penalties only
    sanction_rate: Prob = 0.2  # step of ψ towards 1 per own sanctioning listing
    sanction_neighbour_rate: Prob = 0.02  # step of ψ towards 1 per neighbour sanctioned
    sanction_network_rate: Prob = 0.05  # step of ψ towards 1 per publicly named neighbour
    listed_awareness: Prob = 1.0  # chance one's own sanctioning listing informs
    neighbour_awareness: Prob = 0.1  # chance a neighbour's sanctioning listing informs
    campaigns: dict[str, Campaign] = Field(default_factory=dict)


@nb.njit(inline="always", cache=True)
def perceived_now(pd, pd_day, aware, i, v, day, target, pub_rate):  # pragma: no cover
    """π_iv today: the stored value for venue slot v relaxed towards the venue's public
    signal ``target`` since the person's last update (aware people only) — the lazy form
    of a continuous-time update."""
    p = pd[i, v]
    if aware[i] and pub_rate > 0.0:
        p = target + (p - target) * math.exp(-pub_rate * (day - pd_day[i]))
    return p


@nb.njit(inline="always", cache=True)
def _up_to_date(pd, pd_day, aware, i, day, pub_target, pub_rate):  # pragma: no cover
    """Store π_iv as of today for every venue of person i (one last-update day for all)."""
    if aware[i] and pub_rate > 0.0 and pd_day[i] != day:
        f = math.exp(-pub_rate * (day - pd_day[i]))
        for v in range(pd.shape[1]):
            pd[i, v] = pub_target[v] + (pd[i, v] - pub_target[v]) * f
    pd_day[i] = day


@nb.njit(cache=True)
def _apply(day, person, slot, target, rate, pd, pd_day, aware, pub_target, pub_rate,
           shift):  # pragma: no cover - compiled
    """Apply events in order: bring the person's π up to date (lazy public relaxation),
    then step the event's venue by ``rate`` towards the event's target."""
    for e in range(person.shape[0]):
        i = person[e]
        v = slot[e]
        old = pd[i, v]
        _up_to_date(pd, pd_day, aware, i, day, pub_target, pub_rate)
        p = np.float64(pd[i, v])
        new = p + rate * (target[e] - p)
        shift[e] = abs(new - old)
        pd[i, v] = new


PREFETCH_AHEAD = 4  # actors ahead whose neighbours' perceptions _apply_network prefetches


@nb.njit(parallel=True, cache=True)
def _apply_network(day, actor, slot, target, rate, net_off, net_nb, pd, pd_day, aware,
                   pub_target, pub_rate, cell, events, pieces):  # pragma: no cover - compiled
    """Each actor's neighbours step their π of the act's venue towards the actor's
    outcome, actor after actor and neighbour after neighbour (the order of :func:`_apply`
    over the gathered lists), counting the events by the neighbour's cell.

    The steps on one person do not commute, but steps on different people are
    independent: so the uids are cut into ``pieces`` ranges (one per thread), and each walks
    all actors in order and applies only the steps of the people in its range — each
    person's steps in the same order as on one thread, whatever the number of ranges.
    The counts are whole numbers (exact in float64), added per range. The next actors'
    neighbours are prefetched, as their reads hop across the population."""
    n = pd_day.shape[0]
    part = np.zeros((pieces, events.shape[0]))
    k = actor.shape[0]
    for q in nb.prange(pieces):
        lo = n * q // pieces
        hi = n * (q + 1) // pieces
        for j in range(k):
            if j + PREFETCH_AHEAD < k:
                ahead = actor[j + PREFETCH_AHEAD]
                for e in range(net_off[ahead], net_off[ahead + 1]):
                    if lo <= net_nb[e] < hi:
                        prefetch(pd_day, net_nb[e])
            t = target[j]
            b = actor[j]
            v = slot[j]
            for e in range(net_off[b], net_off[b + 1]):
                i = net_nb[e]
                if i < lo or i >= hi:
                    continue
                _up_to_date(pd, pd_day, aware, i, day, pub_target, pub_rate)
                p = np.float64(pd[i, v])
                pd[i, v] = p + rate * (t - p)
                part[q, cell[i]] += 1.0
    for q in range(pieces):
        for c in range(events.shape[0]):
            events[c] += part[q, c]


@nb.njit(cache=True)
def _push_network(day, ev_uid, ev_slot, ev_target, rate, rev_off, rev_rows, pd, pd_day,
                  aware, pub_target, pub_rate, cell, events):  # pragma: no cover - compiled
    """:func:`_apply_network` on a partition: the day's events of every partition, in the
    whole run's order (actor uid, then act), each stepping the actor's neighbours that
    live here — found through the reverse index (``rev_rows[rev_off[u]:rev_off[u + 1]]``:
    the local people with uid ``u`` among their neighbours, as often as it appears there,
    which by symmetry is as often as they appear among its). Each person gets the steps
    it gets in the whole run, in the same order."""
    for k in range(ev_uid.shape[0]):
        u = ev_uid[k]
        v = ev_slot[k]
        t = ev_target[k]
        for e in range(rev_off[u], rev_off[u + 1]):
            i = rev_rows[e]
            _up_to_date(pd, pd_day, aware, i, day, pub_target, pub_rate)
            p = np.float64(pd[i, v])
            pd[i, v] = p + rate * (t - p)
            events[cell[i]] += 1.0


class Learning(Module):
    name = "learning"
    role = Role.BEHAVIOUR
    phase = Phase.LEARN
    Params = LearningParams
    doc = ("Perceived detection per venue learned from own records, neighbours and public "
           "information; perceived sanction and awareness from sanctions seen.")
    owns: ClassVar = (
        ArraySpec("people.perceived_detection", "prob", "people×perceived_venues", True,
                  "perceived chance an unlawful act is recorded, per venue (π_v)"),
        ArraySpec("people.perceived_day", "day_u16", "people", True,
                  "day π was last updated (lazy public relaxation)"),
        ArraySpec("people.perceived_sanction", "prob", "people", True,
                  "weight given to the apparatus's sanctions (ψ; 1 = as published)"),
        ArraySpec("people.informed", "flag", "people", True,
                  "knows the system: drawn awareness, or learned since"),
    )
    reads = ("people.aware", "people.cell", "people.net_offsets", "links.neighbour", "acts",
             "dossier", "truth", "list_changes?")
    appends = ("informed",)
    partitionable = True
    streams = (StreamSpec("awareness", AWARENESS_LAYOUT,
                          "awareness from listings, listed neighbours and campaigns"),)
    counters = (
        CounterSpec("learning_events_own", "own-record learning events (violations seen)"),
        CounterSpec("learning_shift_own", "sum of |Δπ| from own-record events", real=True),
        CounterSpec("learning_events_network", "neighbour learning events"),
        CounterSpec("informed_by_listing", "people informed by their own listing"),
        CounterSpec("informed_by_neighbour",
                    "people informed by a neighbour's sanctioning listing (named or not)"),
        CounterSpec("informed_by_campaign", "people informed by a publicity campaign"),
        CounterSpec("sanction_learning_events", "ψ updates from own or neighbours' sanctions"),
    )

    @classmethod
    def check_params(cls, params, scenario):
        for name, c in params.campaigns.items():
            last = scenario.time.burn_in + scenario.time.days - 1
            if c.day > last:
                raise ValueError(f"campaigns.{name}.day: {c.day} is after the run's last day "
                                 f"({last}, burn-in included)")
        return params

    def setup(self, world) -> None:
        p = self.params
        self.partitioned = world.partitioned
        #: on a partition with network learning: the day's events (actor uid, venue slot,
        #: outcome), exchanged by the driver, then :meth:`push`\ed (None: nothing pending)
        self.outbox: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        #: people see their neighbours' sanctioning listings and public namings: on a
        #: partition, every partition's of the day (uids) are handed in before this
        #: module's step (:meth:`listings`, :meth:`receive_listings`)
        self.sees_listings = world.scenario.module_params("lists", ListParams).enabled and any(
            r > 0 for r in (p.sanction_neighbour_rate, p.sanction_network_rate,
                            p.neighbour_awareness))
        self.listings_in: tuple[np.ndarray, np.ndarray] | None = None
        self.pub_target = public_detection_by_venue(world.consequences, world.catalogue)
        pd = world.array("people.perceived_detection")
        aware = world.array("people.aware")
        # filled, then overwritten for the aware: no (people × venues) float64 temporary
        pd[:] = p.detection_prior
        pd[aware] = self.pub_target
        world.array("people.informed")[:] = aware
        ps = world.array("people.perceived_sanction")
        ps[:] = p.sanction_prior
        ps[aware] = 1.0
        lists = world.scenario.module_params("lists", ListParams)
        sanctions = world.scenario.module_params("sanctions", SanctionParams)
        rule = SanctionRule.compile(sanctions, lists, world.catalogue)
        naming = sum(1 << m.bit for m in sanctions.measures.values()
                     if m.avoided_by_counterparties)
        self.sanctioning = rule.sanctioning.copy()  # by list code: a listing that sanctions
        self.named = (rule.own_bits & np.uint16(naming)) != 0  # ... that names in public
        self.campaigns = {c.day: (k, c) for k, c in enumerate(p.campaigns.values())}
        self.transparent = (
            world.scenario.modules.get("dossier", {}).get("visibility", "transparent")
            == "transparent"
        )
        cat = world.catalogue
        _, slot = cat.perception_venues()
        unlawful = (cat.act_class == CLASS_CODE["violation"]) | ~cat.lawful_ref
        self.is_violation = code_table(cat.code[unlawful])  # learned from: unlawful acts
        self.slot_of_code = np.full(256, -1, dtype=np.int64)
        self.slot_of_code[cat.code] = slot

    def exchange_due(self) -> str | None:
        return ("network events were not exchanged (Learning.push)"
                if self.outbox is not None else None)

    def step(self, world, day: int) -> None:
        self.require_exchanged()
        if self.partitioned and self.sees_listings and self.listings_in is None:
            raise RuntimeError("learning on a partition: today's listings of every partition "
                               "were not handed in (Learning.receive_listings)")
        if self.partitioned and self.params.network_rate > 0:
            # every day has an exchange, with or without events of this partition's own
            self.outbox = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64),
                           np.empty(0), np.empty(0, dtype=np.int16))
        self._sanctions_and_awareness(world, day)
        if not self.transparent:
            return  # records are secret: nothing to learn from them
        acts = world.events("acts")
        rows = np.flatnonzero(self.is_violation[acts["act"]])
        if rows.size == 0:
            return
        actor = acts["actor"][rows].astype(np.int64)
        slot = self.slot_of_code[acts["act"][rows]]
        recorded = np.zeros(len(acts), dtype=bool)
        chunk, live = world.dossier.day_records(day)
        if len(chunk):
            refs = world.truth.act_refs(world.dossier.obs_refs(day, chunk))  # acts seen
            today = live & (refs >= 0) & ((refs >> 32) == day)
            r = (refs[today] & 0xFFFFFFFF).astype(np.int64)
            correct = chunk["subject"][today] == acts["actor"][r]
            recorded[r[correct]] = True
        target = recorded[rows].astype(np.float64)
        self._update(world, day, actor, slot, target, self.params.own_rate)
        if self.params.network_rate > 0 and self.partitioned:
            # on a partition the steps reach neighbours anywhere: exchanged first (push),
            # merged by (appending module, its order keys: the actor's uid, or the
            # market's queue) — the whole run's order
            uid = world.uid_of(actor)
            rank = world.appended_by("acts")[rows]
            first, second = (key[rows] for key in world.act_order())
            if not in_append_order(rank, first, second):
                raise RuntimeError("learning on a partition: today's violations are not in "
                                   "order within each module's acts (View.act_order), so "
                                   "merging partitions would not give the whole run's order")
            self.outbox = (uid, slot.astype(np.int64), target, rank, first, second)
        elif self.params.network_rate > 0:
            _apply_network(
                np.int64(day), actor, slot, target, self.params.network_rate,
                world.array("people.net_offsets"), world.array("links.neighbour"),
                world.array("people.perceived_detection"), world.array("people.perceived_day"),
                world.array("people.informed"), self.pub_target, self.params.public_rate,
                world.array("people.cell"), world.counters.slot("learning_events_network")[0],
                nb.get_num_threads())

    def _sanctions_and_awareness(self, world, day: int) -> None:
        """Listings experienced and seen, and campaigns: ψ and awareness."""
        p = self.params
        informed = world.array("people.informed")
        psi = world.array("people.perceived_sanction")
        cell = world.array("people.cell")
        c = world.counters
        # on a partition the neighbours' listings are everyone's, handed in (by uid)
        everywhere, self.listings_in = self.listings_in, None
        if everywhere is not None or len(world.events("list_changes")):
            own, named = self._listed_today(world)
            listed_anywhere, named_anywhere = (
                everywhere if everywhere is not None else (world.uid_of(own), world.uid_of(named)))
            if own.size:
                new = own[~informed[own]]
                if p.listed_awareness < 1.0:
                    u = world.stream("awareness").uniform(
                        day, AWARENESS_LAYOUT.pack(purpose=P_LISTED), world.uid_of(new))
                    new = new[u < p.listed_awareness]
                self._inform(world, day, new, INFORMED_LISTING)
                c.add_cells("informed_by_listing", cell[new])
                if p.sanction_rate > 0:
                    psi[own] = 1.0 - (1.0 - psi[own]) * (1.0 - p.sanction_rate)
                    c.add_cells("sanction_learning_events", cell[own])
            if listed_anywhere.size:
                if p.sanction_neighbour_rate > 0 or p.neighbour_awareness > 0:
                    # sanctions seen among neighbours, named in public or not
                    who, times = self._neighbours_of(world, own, listed_anywhere)
                    if p.sanction_neighbour_rate > 0:
                        keep = 1.0 - p.sanction_neighbour_rate
                        psi[who] = 1.0 - (1.0 - psi[who]) * keep**times
                        c.add_cells("sanction_learning_events", cell[who])
                    if p.neighbour_awareness > 0:
                        fresh = ~informed[who]
                        u = world.stream("awareness").uniform(
                            day, AWARENESS_LAYOUT.pack(purpose=P_NEIGHBOUR),
                            world.uid_of(who[fresh]))
                        keep = 1.0 - p.neighbour_awareness
                        told = who[fresh][u < 1.0 - keep**times[fresh]]
                        self._inform(world, day, told, INFORMED_NEIGHBOUR)
                        c.add_cells("informed_by_neighbour", cell[told])
            if p.sanction_network_rate > 0:  # public naming adds its own step to ψ
                if named_anywhere.size:
                    who, times = self._neighbours_of(world, named, named_anywhere)
                    keep = 1.0 - p.sanction_network_rate
                    psi[who] = 1.0 - (1.0 - psi[who]) * keep**times
                    c.add_cells("sanction_learning_events", cell[who])
        if day in self.campaigns:
            k, campaign = self.campaigns[day]
            people = np.flatnonzero(~informed)  # one pass on a campaign's day only
            u = world.stream("awareness").uniform(
                day, AWARENESS_LAYOUT.pack(purpose=P_CAMPAIGN, campaign=k), world.uid_of(people))
            told = people[u < campaign.reach]
            self._inform(world, day, told, INFORMED_CAMPAIGN + k)
            psi[told] = np.maximum(psi[told], campaign.salience)
            c.add_cells("informed_by_campaign", cell[told])

    def _listed_today(self, world) -> tuple[np.ndarray, np.ndarray]:
        """Today's sanctioning listings of this World's people (rows, each once) and
        their public namings (rows, once per naming list entered)."""
        changes = world.events("list_changes")
        if not len(changes):
            empty = np.empty(0, dtype=np.int64)
            return empty, empty
        entered = changes["entered"]
        code = changes["list"]
        own = unique(changes["person"][entered & self.sanctioning[code]].astype(np.int64))
        named = changes["person"][entered & self.named[code]].astype(np.int64)
        return own, named

    def _neighbours_of(self, world, rows: np.ndarray, uids: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The people here with a neighbour among these people, and how many times each:
        the neighbours of ``rows`` in the whole population; on a partition, the local
        people listing any of ``uids`` (everyone's, from every partition) — by the
        network's symmetry, the same people as often."""
        if self.partitioned:
            seen, _ = gather(*world.reverse_neighbours(), uids)
        else:
            seen, _ = gather(world.array("people.net_offsets"),
                             world.array("links.neighbour"), rows)
        return np.unique(seen, return_counts=True)

    def listings(self, world) -> tuple[np.ndarray, np.ndarray]:
        """On a partition, before this module's step: today's sanctioning listings and
        public namings of its people (uids), which the driver hands to every partition."""
        own, named = self._listed_today(world)
        return world.uid_of(own), world.uid_of(named)

    def receive_listings(self, listed: np.ndarray, named: np.ndarray) -> None:
        """On a partition, before this module's step: every partition's sanctioning
        listings and public namings of the day (uids, :meth:`listings` concatenated; the
        order does not matter: a neighbour's listings count, they do not sequence)."""
        self.listings_in = (np.asarray(listed, dtype=np.int64),
                            np.asarray(named, dtype=np.int64))

    def push(self, world, day: int, uid: np.ndarray, slot: np.ndarray,
             target: np.ndarray) -> None:
        """On a partition: step the local neighbours of every partition's actors of the
        day — ``uid``, ``slot``, ``target`` concatenated over partitions and put in the
        whole run's order by the caller (stable by uid) — as :func:`_apply_network` does
        in one process. Called after this module's step, before the day's next module."""
        self.outbox = None
        p = self.params
        _push_network(np.int64(day), uid, slot, target, p.network_rate,
                      *world.reverse_neighbours(), world.array("people.perceived_detection"),
                      world.array("people.perceived_day"), world.array("people.informed"),
                      self.pub_target, p.public_rate, world.array("people.cell"),
                      world.counters.slot("learning_events_network")[0])

    def _inform(self, world, day: int, people: np.ndarray, channel: int) -> None:
        """People learn the system exists. Their π is up to date as of today (no public
        relaxation before they knew), then follows the public signal. Published in
        ``informed`` (who, through which channel)."""
        if people.size:
            world.array("people.informed")[people] = True
            world.array("people.perceived_day")[people] = day
            world.append("informed", Table.from_columns(
                INFORMED_LAYOUT, person=people.astype(np.int32),
                channel=np.full(people.size, channel, dtype=np.uint8)))

    def _update(self, world, day, person, slot, target, rate) -> None:
        """Own experience: step towards it, counting events and the shift they made."""
        shift = np.empty(person.size)
        _apply(np.int64(day), person, slot, target, float(rate),
               world.array("people.perceived_detection"), world.array("people.perceived_day"),
               world.array("people.informed"), self.pub_target, self.params.public_rate, shift)
        cells = world.array("people.cell")[person]
        c = world.counters
        c.add_cells("learning_events_own", cells)
        c.add_cells("learning_shift_own", cells, shift)

"""Markets: buyers screen sellers (people and firms); sellers honour or defraud.

Four modules share one parameter block (``modules.market``):

* ``market`` (behaviour, DECIDE) — each day ``Poisson(N · buy_rate)`` buyers each draw
  ``candidates`` sellers of their region by keyed choice, screen them and trade with the
  best one that has capacity left; buyers are served in keyed priority order, so capacity
  is rationed by the queue rule of ``randomness.md``. A seller decides once a day whether
  to defraud, by the random-utility rule of ``behaviour.violation_probability``. Screening
  modes: ``none`` (first candidate), ``private`` (avoid sellers who defrauded the buyer or
  a network neighbour: informal reputation), ``institution`` (private, and buyers who pay
  ``check_cost`` avoid publicly flagged sellers; a buyer checks with probability
  ``σ((VOI − check_cost)/check_scale)``, VOI the fraud loss the public flag is seen to
  avoid: how informative the score is, learned from market-wide experience). Honest
  trades may earn a review; "gaming" sellers buy fake reviews. Public naming: a buyer
  passes over a candidate who is publicly named (a sanction measure with
  ``avoided_by_counterparties`` in force, ``people.bans``) with probability
  ``named_avoidance``, whatever the screening mode.
* ``market_complaints`` (sensing, SENSE) — a defrauded buyer complains with probability
  ``complaint_probability``, an honest trade draws a malicious complaint with probability
  ``malicious_complaint_probability``; a complaint names another seller with probability
  ``complaint_misattribution``. Complaints about people are observations (act ``fraud``,
  source ``complaint_source_code``; a malicious one has no act behind it); complaints
  about firms are counted in ``firms.complaints``.
* ``market_registry`` (system, SCORE) — the public seller score: decayed count of live
  fraud records (courts and complaints) minus ``review_weight`` × decayed reviews.
  Records removed from the dossier are taken back.

Fraud acts by people sellers enter the ``acts`` table (so the court sees them: the slow
courts of the low-trust baseline). Equations and parameters: ``docs/markets.md``.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal

import numba as nb
import numpy as np
from pydantic import Field

from scslab.core.apparatus import ListParams, SanctionParams
from scslab.core.layouts import (
    ACT_LAYOUT,
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    TRADE_LAYOUT,
    Table,
    pack_ref,
    unfiled,
)
from scslab.core.metrics import MetricDef
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role, RunsRegions
from scslab.core.population import cut_refusal
from scslab.core.scenario_schema import ModuleParams
from scslab.core.world import owned_part
from scslab.modules.economy.firms import own_firms
from scslab.modules.people.behaviour import BehaviourParams
from scslab.numerics.logistic import sigmoid
from scslab.numerics.prefetch import prefetch
from scslab.numerics.rng import U64, SlotLayout, Stream, StreamSpec, k_uniform, k_word
from scslab.numerics.sets import priority_order, scaled_distinct

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]

LAYOUT = SlotLayout((("purpose", 8), ("k", 8)))
P_SELLER, P_BUY_COUNT, P_BUY_WHO, P_CAND, P_CHECK, P_FRAUD, P_FIRM_FRAUD = 1, 2, 3, 4, 5, 6, 7
P_PRIO, P_REVIEW, P_GAMER, P_FIRM_GAMER, P_AVOID = 8, 9, 10, 11, 12
P_COMPLAIN, P_MALICIOUS, P_MISATTR, P_WHO = 20, 21, 22, 23
MODES = {"none": 0, "private": 1, "institution": 2}
AHEAD_LIST, AHEAD_MEMORY = 16, 8  # buyers ahead whose reads _screen prefetches


class MarketParams(ModuleParams):
    enabled: bool = False
    screening: Literal["none", "private", "institution"] = "private"
    seller_share: Prob = 0.01  # people who sell
    firms_sell: bool = True
    buy_rate: Prob = 0.1  # purchases per person-day
    candidates: Annotated[int, Field(ge=1, le=32)] = 3
    local: bool = True  # candidates from the buyer's region
    seller_capacity: Annotated[int, Field(ge=1)] = 20  # trades a person seller serves a day
    firm_capacity: Positive = 40.0  # trades per unit of firm size a day
    price: Positive = 1.0  # money: lost by a defrauded buyer
    buyer_value: NonNeg = 1.3
    seller_cost: NonNeg = 0.7  # saved by a seller who defrauds (the fraud gain)
    fraud_deadweight: NonNeg = 0.2  # social loss of a fraud beyond the transfer
    fraud_intercept: float = 7.0  # α_m (assumption: ~4 % of unscreened trades go wrong)
    reputation_weight: NonNeg = 2.0  # logit units of the stake at full visibility
    private_visibility: Prob = 0.1  # share of future buyers who hear of a fraud privately
    memory: Annotated[int, Field(ge=1, le=8)] = 4  # frauds a buyer remembers
    check_cost: NonNeg = 0.02  # money per check
    check_scale: Positive = 0.02  # money per logit unit of the check decision
    belief_rate: Prob = 0.05  # EWMA weight of a day's market experience
    prior_fraud: Prob = 0.1
    flag_threshold: float = 0.5
    flag_halflife_days: Positive = 365.0
    review_probability: Prob = 0.2
    review_weight: NonNeg = 0.05
    gaming_share: Prob = 0.0  # scale of the share of sellers who buy fake reviews
    fake_reviews_per_day: Annotated[int, Field(ge=0, le=1000)] = 2
    complaint_probability: Prob = 0.5
    malicious_complaint_probability: Prob = 0.0
    complaint_misattribution: Prob = 0.0
    complaint_source_code: Annotated[int, Field(ge=0, le=31)] = 20
    named_avoidance: Prob = 0.5  # a buyer passes over a publicly named seller (assumption)


def market_params(scenario) -> MarketParams:
    return scenario.module_params("market", MarketParams)


def naming_bits(scenario) -> int:
    """Bits of the sanction measures that name a person publicly, so that counterparties
    avoid them (``avoided_by_counterparties``); 0 when joint sanctions are off."""
    sanctions = scenario.module_params("sanctions", SanctionParams)
    if not sanctions.enabled:
        return 0
    return sum(1 << m.bit for m in sanctions.measures.values() if m.avoided_by_counterparties)


@nb.njit(cache=True, parallel=True)
def _screen(k0, k1, day, buyers, keys, buyer_region, pool_off, mode, m, memory, lane_bits,
            net_off, net_nb, check_p, slot_cand, slot_check, rank):  # pragma: no cover
    """Phase 1 of a market day, in uid order (buyers sorted by uid): each buyer's check
    decision, its ``m`` keyed candidates and whether the buyer or a network neighbour
    remembers each candidate as bad. Nothing here depends on the queue, so it runs in
    the order that reads the network nearly sequentially.

    ``memory`` is the memories (pool positions, -1 empty) viewed as 64-bit words of
    16- or 32-bit lanes; a word holds a candidate iff ``word XOR spread(candidate)`` has
    a zero lane, tested branch-free (the "has zero" bit trick), so the random reads of
    the neighbours' memories overlap instead of waiting on mispredicted branches:
    ~2-3× faster than comparing entry by entry. The neighbour lists of the buyer
    ``AHEAD_LIST`` places on, and the memories of the one ``AHEAD_MEMORY`` on, are
    prefetched (-30 % on cold caches). Parallel over buyers (``prange``, contiguous
    chunks, so the look-ahead prefetch still runs ahead within a chunk): each buyer
    writes only its own row from keyed draws, so any thread count gives the same bits.

    Rows are written at the buyer's place in the queue (``rank[j]``), so that the queue's
    sequential phases (``_trade``, ``_settle``) read them in order: the scattered writes
    here cost less than the queue's random reads did (rongcheng 10^6: -4 ms a day)."""
    nb_ = buyers.shape[0]
    cand = np.full((nb_, m), -1, dtype=np.int64)
    known = np.zeros((nb_, m), dtype=np.bool_)
    checked = np.zeros(nb_, dtype=np.bool_)
    if lane_bits == 16:
        ones = U64(0x0001000100010001)
        highs = U64(0x8000800080008000)
    else:
        ones = U64(0x0000000100000001)
        highs = U64(0x8000000080000000)
    flat = memory.reshape(-1)
    width = memory.shape[1]
    for j in nb.prange(nb_):
        if mode >= 1:
            if j + AHEAD_LIST < nb_:
                prefetch(net_nb, net_off[buyers[j + AHEAD_LIST]])
            if j + AHEAD_MEMORY < nb_:
                ahead = buyers[j + AHEAD_MEMORY]
                prefetch(flat, ahead * width)
                for e in range(net_off[ahead], net_off[ahead + 1]):
                    prefetch(flat, net_nb[e] * width)
        b = buyers[j]
        key = keys[j]  # the buyer's uid (its row outside a partition)
        i = rank[j]
        r = buyer_region[j]
        lo = pool_off[r]
        size = pool_off[r + 1] - lo
        if size == 0:
            continue
        if mode == 2:
            checked[i] = k_uniform(k0, k1, day, slot_check, key) < check_p
        for k in range(m):
            w = k_word(k0, k1, day, slot_cand + k, key)
            cand[i, k] = lo + np.int64((w * U64(size)) >> U64(32))
        if mode >= 1:
            for e in range(net_off[b] - 1, net_off[b + 1]):
                who = b if e < net_off[b] else net_nb[e]
                for q in range(memory.shape[1]):
                    x = memory[who, q]
                    for k in range(m):
                        y = x ^ (U64(cand[i, k]) * ones)
                        if ((y - ones) & ~y & highs) != U64(0):
                            known[i, k] = True
    return cand, known, checked


@nb.njit(cache=True)
def _trade(cand, known, checked, cap_left, fraud_today, flag_val, flag_thr, seller_cell,
           mode, n_cells, avoid, avoided):  # pragma: no cover - compiled
    """Phase 2, in queue order (the rows of ``cand`` are): each buyer takes the best
    screened candidate with capacity left, passing over the publicly named ones it avoids
    (``avoid``, empty when no one is named; counted by seller cell into ``avoided``).
    Outputs are in queue order."""
    nb_ = cand.shape[0]
    m = cand.shape[1]
    chosen = np.full(nb_, -1, dtype=np.int64)
    honest_scr = np.zeros(n_cells)
    honest_exc = np.zeros(n_cells)
    for i in range(nb_):
        chk = checked[i]
        best = -1
        bestv = 1e300
        for k in range(m):
            c = cand[i, k]
            if c < 0 or cap_left[c] <= 0:
                continue
            excl = known[i, k]
            if not excl and chk and flag_val[c] > flag_thr:
                excl = True
            if mode >= 1 and not fraud_today[c]:
                honest_scr[seller_cell[c]] += 1.0
                if excl:
                    honest_exc[seller_cell[c]] += 1.0
            if not excl and avoid.shape[0] and avoid[i, k]:
                avoided[seller_cell[c]] += 1.0
                excl = True
            if excl:
                continue
            v = flag_val[c] if chk else float(k)
            if v < bestv:
                bestv = v
                best = c
        if best >= 0:
            chosen[i] = best
            cap_left[best] -= 1
    return chosen, honest_scr, honest_exc


@nb.njit(cache=True)
def _settle(chosen, queue, queue_cell, checked, fraud_today, check_cost, fraud_loss,
            trade_gain, price, buyer_days, trades, frauds, checks, surplus,
            tcost):  # pragma: no cover - compiled
    """The day's trades in queue order (buyer, seller position, fraud) and the buyers'
    counters added into their accumulators in queue order (so sums are the same as a
    ``bincount`` over the queue). ``queue``, ``queue_cell``: the buyers and their cells
    in queue order."""
    nb_ = queue.shape[0]
    k = 0
    for i in range(nb_):
        k += chosen[i] >= 0
    tb = np.empty(k, dtype=np.int64)
    tc = np.empty(k, dtype=np.int64)
    tf = np.empty(k, dtype=np.bool_)
    k = 0
    n_checked = 0
    for i in range(nb_):
        b = queue[i]
        c = queue_cell[i]
        chk = checked[i]
        n_checked += chk
        buyer_days[c] += 1.0
        cost = check_cost if chk else 0.0
        if chk:
            checks[c] += 1.0
        s = -cost
        t = cost
        seller = chosen[i]
        if seller >= 0:
            f = fraud_today[seller]
            tb[k] = b
            tc[k] = seller
            tf[k] = f
            k += 1
            trades[c] += 1.0
            if f:
                frauds[c] += 1.0
                s += fraud_loss
                t += price
            else:
                s += trade_gain
        surplus[c] += s
        tcost[c] += t
    return tb, tc, tf, n_checked


@nb.njit(cache=True, parallel=True)
def _avoid(cand, named, queue, k0, k1, day, slots, p):  # pragma: no cover - compiled
    """Which candidate slots each buyer passes over because the candidate is publicly
    named: one uniform per (buyer, slot k) whose candidate is named, keyed by the buyer's
    uid and the slot (``slots[k]``), the same draws as ``Stream.uniform``. Parallel over
    buyers: each row is its own keyed draws, so any thread count gives the same bits."""
    avoid = np.zeros(cand.shape, dtype=np.bool_)
    for i in nb.prange(cand.shape[0]):
        for k in range(cand.shape[1]):
            c = cand[i, k]
            if c >= 0 and named[c]:
                avoid[i, k] = k_uniform(k0, k1, day, slots[k], U64(queue[i])) < p
    return avoid


class Market(Module):
    name = "market"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    Params = MarketParams
    doc = "Buyers screen candidate sellers; sellers honour or defraud; reviews and gaming."
    owns: ClassVar = (
        ArraySpec("people.seller", "flag", "people", False, "sells on the market (public)"),
        ArraySpec("people.market_reviews", "count", "people", False,
                  "positive reviews received as a seller (public, cumulative)"),
        ArraySpec("firms.market_reviews", "count", "firms", False,
                  "positive reviews received (public, cumulative)"),
    )
    reads = ("people.region", "people.cell", "people.honesty", "people.aware",
             "people.informed@prev?", "people.perceived_sanction@prev?",
             "people.net_offsets", "links.neighbour", "firms.region", "firms.size",
             "firms.compliance", "people.perceived_detection@prev?",
             "people.market_flags@prev", "firms.market_flags@prev", "firms.listed@prev?",
             "people.bans@prev?", "people.listed@prev?")
    appends = ("acts", "trades")
    streams = (StreamSpec("draws", LAYOUT, "buyers, candidates, checks, fraud, reviews"),)
    counters = (
        CounterSpec("market_buyer_days", "buyers with a purchase to make (buyer's cell)"),
        CounterSpec("market_trades", "trades (buyer's cell)"),
        CounterSpec("market_frauds", "trades in which the seller defrauded (buyer's cell)"),
        CounterSpec("market_checks", "paid checks of the public score (buyer's cell)"),
        CounterSpec("market_surplus", "social surplus of trades less check costs", real=True),
        CounterSpec("market_transaction_cost", "check costs plus losses to fraud", real=True),
        CounterSpec("market_honest_screened", "screened candidate slots of honest sellers "
                    "(seller's cell; firms: reference group, firm region)"),
        CounterSpec("market_honest_excluded", "of which screened out"),
        CounterSpec("market_seller_days", "people sellers, per day (seller's cell)"),
        CounterSpec("market_person_sales", "trades sold by people sellers (seller's cell)"),
        CounterSpec("market_blacklisted_seller_days", "blacklisted people sellers, per day "
                    "(seller's cell)"),
        CounterSpec("market_blacklisted_sales", "trades sold by blacklisted people sellers"),
        CounterSpec("market_named_avoided", "candidate slots of named sellers passed over "
                    "for the naming (seller's cell)"),
    )
    metrics = (
        MetricDef("fraud_rate", "market_frauds", "market_trades",
                  "share of trades in which the seller defrauded the buyer",
                  theme="compliance", unit="frauds per person-day"),
        MetricDef("trade_volume", "market_trades", "market_buyer_days",
                  "trades per buyer-day (1 = every purchase found an acceptable seller)",
                  theme="economy", unit="market trades per market buyer days"),
        MetricDef("surplus", "market_surplus", "market_buyer_days",
                  "social surplus per buyer-day, net of check costs (money)",
                  theme="economy", unit="market surplus per market buyer days"),
        MetricDef("transaction_cost", "market_transaction_cost", "market_buyer_days",
                  "checking costs plus losses to fraud per buyer-day (money)",
                  theme="economy", unit="market transaction cost per market buyer days"),
        MetricDef("check_rate", "market_checks", "market_buyer_days",
                  "share of buyers who pay to check the public score",
                  theme="economy", unit="market checks per market buyer days"),
        MetricDef("honest_sellers_excluded", "market_honest_excluded", "market_honest_screened",
                  "share of screened candidate slots of honest sellers that screening rejected",
                  theme="harm", unit="market honest excluded per market honest screened"),
        MetricDef("seller_trade_rate", "market_person_sales", "market_seller_days",
                  "trades per people-seller-day",
                  theme="economy", unit="market person sales per market seller days"),
        MetricDef("blacklisted_trade_rate", "market_blacklisted_sales",
                  "market_blacklisted_seller_days",
                  "trades per seller-day of blacklisted people sellers",
                  theme="economy",
                  unit="market blacklisted sales per market blacklisted seller days"),
        MetricDef("named_avoided_rate", "market_named_avoided", "market_blacklisted_seller_days",
                  "candidate slots of named sellers passed over, per blacklisted seller-day",
                  theme="economy", unit="market named avoided per market blacklisted seller days"),
    )

    #: on a partition of whole regions (``local`` markets): buyers drawn over the nation,
    #: each partition serving its own; draws keyed by uid; the market-wide beliefs from
    #: every partition's day (:meth:`day_counts` / :meth:`receive_day_counts`)
    partitionable = True

    national_keys = ("market.sellers",)

    @classmethod
    def national_figures(cls, scenario, population) -> dict[str, int]:
        """How many sell, people and firms, over the whole population: a partition whose
        own regions have no seller must still count its buyers when the nation has some
        (the seller draw redone over everyone, as ``setup`` draws it)."""
        if not cls.enabled_in(scenario):
            return {}
        p = market_params(scenario)
        st = Stream(scenario.seed, f"{cls.name}.draws", population.replicate, LAYOUT)
        people = np.arange(population.counts["people"], dtype=np.int64)
        sellers = int(st.bernoulli(0, LAYOUT.pack(purpose=P_SELLER), people,
                                   p.seller_share).sum())
        return {"market.sellers": sellers + (population.counts["firms"] if p.firms_sell
                                             else 0)}

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        if not params.local:
            return "candidates come from the whole nation (local: false)"
        return cut_refusal(split, "people.region", "a buyer's candidates are the sellers "
                           "of the buyer's region")

    @classmethod
    def check_params(cls, params, scenario):
        if params.enabled and "fraud" not in scenario.acts:
            raise ValueError("enabled: the market needs the act 'fraud' in the catalogue")
        return params

    def setup(self, world) -> None:
        p = self.params
        st = world.stream("draws")
        n = world.counts["people"]
        n_firms = world.counts["firms"]
        seller = world.array("people.seller")
        seller[:] = st.bernoulli(0, LAYOUT.pack(purpose=P_SELLER), world.uids, p.seller_share)
        R = world.n_regions
        pregion = world.array("people.region").astype(np.int64)
        fregion = world.array("firms.region").astype(np.int64)
        psel = np.flatnonzero(seller)
        fsel = np.arange(n_firms, dtype=np.int64) if p.firms_sell else np.empty(0, np.int64)
        ids = np.concatenate([psel, n + fsel])
        reg = np.concatenate([pregion[psel], fregion[fsel]])
        if not p.local:
            reg[:] = 0
        order = np.lexsort((ids, reg))
        pool = ids[order]
        nreg = R if p.local else 1
        off = np.zeros(nreg + 1, dtype=np.int64)
        np.cumsum(np.bincount(reg, minlength=nreg), out=off[1:])
        is_firm = pool >= n
        ref = world.group_names.index(world.scenario.population.reference_group)
        cell = np.where(is_firm, ref * R + fregion[np.where(is_firm, pool - n, 0)],
                        world.array("people.cell")[np.where(is_firm, 0, pool)].astype(np.int64))
        cap = np.where(is_firm,
                       np.maximum(1, np.round(p.firm_capacity * world.array("firms.size")[
                           np.where(is_firm, pool - n, 0)])).astype(np.int64),
                       p.seller_capacity)
        honesty = np.where(is_firm, world.array("firms.compliance")[np.where(is_firm, pool - n, 0)],
                           world.array("people.honesty")[np.where(is_firm, 0, pool)]).astype(
            np.float64)
        g_p = st.bernoulli(0, LAYOUT.pack(purpose=P_GAMER), world.uid_of(pool[~is_firm]),
                           np.minimum(1.0, 2.0 * p.gaming_share * (1.0 - honesty[~is_firm])))
        g_f = st.bernoulli(0, LAYOUT.pack(purpose=P_FIRM_GAMER), pool[is_firm] - n,
                           np.minimum(1.0, 2.0 * p.gaming_share * (1.0 - honesty[is_firm])))
        gamer = np.zeros(pool.size, dtype=bool)
        gamer[~is_firm] = g_p
        gamer[is_firm] = g_f
        self.pool, self.off, self.is_firm, self.cell, self.cap = pool, off, is_firm, cell, cap
        # the pool's people and firms, by position, kept for the day's gathers (a boolean
        # mask of the pool costs a pass over it at every use)
        self.person_at = np.flatnonzero(~is_firm)
        self.firm_at = np.flatnonzero(is_firm)
        self.person_sellers = pool[self.person_at]
        self.person_seller_uids = world.uid_of(self.person_sellers)
        self.firm_sellers = pool[self.firm_at] - n
        #: the draw slot of passing over a named candidate, by candidate slot k
        self.avoid_slots = np.array([LAYOUT.pack(purpose=P_AVOID, k=k)
                                     for k in range(p.candidates)], dtype=np.uint64)
        self.honesty, self.gamer = honesty, gamer
        self.n = n
        n_cells = len(world.group_names) * R
        self.seller_days = np.bincount(cell[~is_firm], minlength=n_cells).astype(np.float64)
        self.naming_bits = naming_bits(world.scenario)
        lists = world.scenario.module_params("lists", ListParams)
        self.black_bits = sum(1 << s.code for s in lists.lists.values()
                              if s.kind == "black") if lists.enabled else 0
        self.b = world.scenario.module_params("behaviour", BehaviourParams)
        cat = world.catalogue
        self.fraud_pos = cat.position("fraud")
        self.fraud_code = int(cat.code[self.fraud_pos])
        self.fraud_venue = int(cat.venue[self.fraud_pos])
        cons = world.consequences
        d = float(cons.detection[self.fraud_pos])
        self.det_aware = 1.0 - (1.0 - d) * (1.0 - p.complaint_probability)
        self.sanction = float(cons.sanction[self.fraud_pos])
        self.penalty = float(cat.penalty[self.fraud_pos])
        self.fraud_slot = int(cat.perception_venues()[1][self.fraud_pos])
        # sellers a buyer remembers as bad, by position in the pool: 16-bit lanes where
        # the pool allows (the reads of neighbours' memories are the market's main cost),
        # rows padded with empty lanes to whole 64-bit words for the branch-free test
        self.lane_bits = 16 if pool.size < np.iinfo(np.int16).max else 32
        lanes = 64 // self.lane_bits
        width = -(-p.memory // lanes) * lanes
        world.state["bad"] = np.full((n, width), -1, dtype=f"int{self.lane_bits}")
        world.state["belief"] = np.array([p.prior_fraud, p.prior_fraud, 0.0])  # all, clean, check
        self.partitioned = world.partitioned
        #: buyers are drawn over the nation's uids; on a partition each serves its own
        self.n_all = world.scenario.population.people if self.partitioned else n
        #: whether anyone sells in the nation (on a partition: the national figure)
        self.pool_all = world.national("market.sellers") if self.partitioned else pool.size
        #: the network whose memories a buyer reads: on a partition its local neighbours'
        #: (under ``local`` a neighbour elsewhere remembers only another region's sellers)
        self.network = (world.array("people.net_offsets"), world.array("links.neighbour"))
        if self.partitioned:
            self.network = local_network(world, *self.network)
        #: on a partition: today's counts for the market-wide beliefs, until exchanged
        self.counts_out: np.ndarray | None = None

    def _fraud_today(self, world, day: int) -> np.ndarray:
        """Each seller decides once a day: σ(α + gain/τ − β h − δ π S^γ − ρ·visibility),
        S the perceived sanction of fraud (people: P + ψ (S₀ − P); firms: P)."""
        p, b = self.params, self.b
        st = world.stream("draws")
        pool, person_at = self.pool, self.person_at
        u = np.empty(pool.size)
        u[person_at] = st.uniform(day, LAYOUT.pack(purpose=P_FRAUD), self.person_seller_uids)
        u[self.firm_at] = st.uniform(day, LAYOUT.pack(purpose=P_FIRM_FRAUD), self.firm_sellers)
        pdet = np.full(pool.size, self.det_aware)
        people = self.person_sellers
        informed = world.optional("people.informed")
        aware = (informed if informed is not None else world.array("people.aware"))[people]
        perceived = world.optional("people.perceived_detection")
        unaware_det = (perceived[people, self.fraud_slot].astype(np.float64)
                       if perceived is not None else 0.1)  # π of the market's venue
        pdet[person_at] = np.where(aware, self.det_aware, unaware_det)
        # the perceived sanction, as in behaviour: the legal penalty plus the apparatus's
        # part weighed by ψ. Firms face the legal penalty: the citizens' apparatus (points,
        # lists of people) does not score them — their own is the corporate score (firms)
        sanction = np.full(pool.size, self.penalty)
        psi = world.optional("people.perceived_sanction")
        sanction[person_at] = self.penalty + (
            psi[people] if psi is not None else 1.0) * (self.sanction - self.penalty)
        mode = MODES[p.screening]
        vis = 0.0 if mode == 0 else p.private_visibility
        if mode == 2:
            vis = min(1.0, vis + float(world.state["belief"][2]))
        z = (p.fraud_intercept + p.seller_cost / b.gain_scale - b.moral_weight * self.honesty
             - b.deterrence_weight * pdet * sanction ** b.severity_exponent
             - p.reputation_weight * vis)
        return u < sigmoid(z)

    def _avoided(self, world, day: int, queue: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Which candidate slots each buyer passes over because the candidate is publicly
        named (keyed by buyer and slot; ``queue``: the buyers of ``cand``'s rows); empty
        when no one is named."""
        no_avoid = np.zeros((0, cand.shape[1]), dtype=np.bool_)
        bans = world.optional("people.bans")
        if bans is None or not self.naming_bits:
            return no_avoid
        named = np.zeros(self.pool.size, dtype=bool)
        named[self.person_at] = (bans[self.person_sellers] & self.naming_bits) != 0
        if not named.any():
            return no_avoid
        st = world.stream("draws")
        return _avoid(cand, named, world.uid_of(queue), st.k0, st.k1, U64(day),
                      self.avoid_slots, float(self.params.named_avoidance))

    def exchange_due(self) -> str | None:
        return ("counts were not exchanged (Market.receive_day_counts)"
                if self.counts_out is not None else None)

    def step(self, world, day: int) -> None:
        p = self.params
        st = world.stream("draws")
        n = self.n
        self.require_exchanged()
        k = int(st.poisson(day, LAYOUT.pack(purpose=P_BUY_COUNT), np.zeros(1, np.int64),
                           self.n_all * p.buy_rate)[0])
        pool = self.pool
        if self.partitioned:  # every day: the beliefs need every partition's counts
            self.counts_out = np.zeros(6, dtype=np.int64)
        if k == 0 or self.pool_all == 0:
            return
        w = st.words(day, LAYOUT.pack(purpose=P_BUY_WHO), np.arange(k, dtype=np.int64))[:, 0]
        buyers = scaled_distinct(w, self.n_all)
        del w  # a day's temporaries are released when done: at 10^8 people each is 10^7
        # entries, and the market's day is the run's memory peak (docs/scaling.md)
        n_buyers = buyers.size  # over the nation
        keys = buyers  # each buyer's uid: its draws' key
        if self.partitioned:  # the nation's buyers drawn, this partition's served
            keys = buyers[world.locate(buyers)[1]]
            buyers = world.rows_here(keys)
        prio = st.priority(day, LAYOUT.pack(purpose=P_PRIO), keys)
        order = priority_order(prio)  # the queue, ties by uid (buyers are in uid order)
        if not self.partitioned:
            del prio
        rank = np.empty_like(order)  # each buyer's place in the queue
        rank[order] = np.arange(order.size)
        fraud = self._fraud_today(world, day)
        flag = np.empty(pool.size, dtype=np.float64)
        flag[self.person_at] = world.array("people.market_flags")[self.person_sellers]
        firm_ids = self.firm_sellers
        flag[self.firm_at] = world.array("firms.market_flags")[firm_ids]
        listed = world.optional("firms.listed")
        if listed is not None:
            flag[self.firm_at] += np.where(listed[firm_ids], 1e6, 0.0)  # public blacklist
        belief = world.state["belief"]
        voi = p.price * max(0.0, belief[0] - belief[1])
        check_p = 1.0 / (1.0 + math.exp(-(voi - p.check_cost) / p.check_scale))
        region = world.array("people.region")[buyers].astype(np.int64) if p.local else \
            np.zeros(buyers.size, dtype=np.int64)
        n_cells = len(world.group_names) * world.n_regions
        mode = MODES[p.screening]
        bad = world.state["bad"]
        cand, known, checked = _screen(
            st.k0, st.k1, np.int64(day), buyers, keys, region, self.off, mode, p.candidates,
            bad.view(np.uint64), self.lane_bits, *self.network, check_p,
            LAYOUT.pack(purpose=P_CAND), LAYOUT.pack(purpose=P_CHECK), rank)
        del rank, region
        c = world.counters
        queue = buyers[order]
        # cells read in uid order (near-sequential), then permuted within the day's buyers
        queue_cell = world.array("people.cell")[buyers][order]
        avoid = self._avoided(world, day, queue, cand)
        chosen, h_scr, h_exc = _trade(cand, known, checked, self.cap.copy(), fraud,
                                      flag, float(p.flag_threshold), self.cell, mode, n_cells,
                                      avoid, c.slot("market_named_avoided")[0])
        del cand, known, avoid
        tb, tc, tf, n_checked = _settle(
            chosen, queue, queue_cell, checked, fraud,
            p.check_cost, -p.fraud_deadweight, p.buyer_value - p.seller_cost, p.price,
            *(c.slot(name)[0] for name in ("market_buyer_days", "market_trades",
                                           "market_frauds", "market_checks", "market_surplus",
                                           "market_transaction_cost")))
        del checked, queue_cell, queue
        in_uid_order = np.empty_like(chosen)  # today's trades for the complaints, by buyer
        in_uid_order[order] = chosen
        sold = in_uid_order >= 0
        world.append("trades", Table.from_columns(
            TRADE_LAYOUT, buyer=buyers[sold], seller=pool[in_uid_order[sold]],
            fraud=fraud[in_uid_order[sold]]))
        del in_uid_order, sold, chosen
        # private memory: a defrauded buyer remembers the seller (a ring of `memory` slots)
        if tf.any():
            vb = tb[tf]
            bad[vb, 1:p.memory] = bad[vb, :p.memory - 1]
            bad[vb, 0] = tc[tf]
        # reviews: genuine after honest trades, fake for gaming sellers
        rev = st.bernoulli(day, LAYOUT.pack(purpose=P_REVIEW), world.uid_of(tb),
                           p.review_probability) & ~tf
        reviewed = pool[tc[rev]]
        preview = world.array("people.market_reviews")
        freview = world.array("firms.market_reviews")
        np.add.at(preview, reviewed[reviewed < n], preview.dtype.type(1))
        np.add.at(freview, reviewed[reviewed >= n] - n, freview.dtype.type(1))
        if p.fake_reviews_per_day and self.gamer.any():
            g = pool[self.gamer]
            preview[g[g < n]] += p.fake_reviews_per_day
            freview[g[g >= n] - n] += p.fake_reviews_per_day
        # sales of people sellers, named or not (seller's cell)
        by_person = ~self.is_firm[tc]
        sold_by = tc[by_person]
        c.add_vector("market_seller_days", self.seller_days)
        c.add_cells("market_person_sales", self.cell[sold_by])
        listed = world.optional("people.listed")
        if listed is not None and self.black_bits:
            black = np.zeros(pool.size, dtype=bool)
            black[self.person_at] = (listed[self.person_sellers] & self.black_bits) != 0
            c.add_cells("market_blacklisted_seller_days", self.cell[black])
            c.add_cells("market_blacklisted_sales", self.cell[sold_by[black[sold_by]]])
        # fraud acts of people sellers: the court (and complaints) may see them
        fsel = np.flatnonzero(tf & by_person)
        if fsel.size:
            actor = pool[tc[fsel]]
            o = np.lexsort((tb[fsel], actor))
            actor_s = actor[o]
            first = np.r_[True, actor_s[1:] != actor_s[:-1]]
            start = np.maximum.accumulate(np.where(first, np.arange(actor_s.size), 0))
            ordinal = np.empty(actor_s.size, dtype=np.int64)
            ordinal[o] = 1 + np.minimum(np.arange(actor_s.size) - start, 254)
            place = None  # in queue order: on a partition, by the buyers' (priority, uid)
            if self.partitioned:
                at = np.searchsorted(buyers, tb[fsel])
                place = (prio[at], keys[at])
            world.append("acts", Table.from_columns(
                ACT_LAYOUT, actor=actor, act=np.full(fsel.size, self.fraud_code),
                venue=np.full(fsel.size, self.fraud_venue), counterparty=tb[fsel],
                ordinal=ordinal), order=place)
        # experience: market-wide beliefs about fraud with and without a public flag
        # (shares as count / size: the same float64 as a boolean array's mean)
        unflagged = ~(flag[tc] > p.flag_threshold)
        n_frauds = np.count_nonzero(tf)
        n_unflagged = np.count_nonzero(unflagged)
        n_unflagged_frauds = np.count_nonzero(tf & unflagged)
        a = p.belief_rate
        if self.partitioned:  # the nation's day: every partition's counts, exchanged
            self.counts_out = np.array([tc.size, n_frauds, n_unflagged, n_unflagged_frauds,
                                        n_checked, n_buyers], dtype=np.int64)
        else:
            if tc.size:
                belief[0] += a * (n_frauds / tc.size - belief[0])
                if n_unflagged:
                    belief[1] += a * (n_unflagged_frauds / n_unflagged - belief[1])
            belief[2] += a * (n_checked / buyers.size - belief[2])
        # seller's cell for screening
        c.add_vector("market_honest_screened", h_scr)
        c.add_vector("market_honest_excluded", h_exc)

    def day_counts(self) -> np.ndarray:
        """On a partition, after this module's step: its day's trades, frauds, trades
        and frauds of unflagged sellers, checks, and (the same in every partition) the
        nation's buyers — summed over partitions for the market-wide beliefs."""
        if self.counts_out is None:
            raise RuntimeError("market: day_counts is for a partition, after the step")
        return self.counts_out

    def receive_day_counts(self, world, counts: np.ndarray) -> None:
        """On a partition: every partition's :meth:`day_counts` summed (the nation's
        buyers counted once): the market-wide beliefs learn from the nation's day, as
        the whole run's do."""
        trades, frauds, unflagged, unflagged_frauds, checks = (int(v) for v in counts[:5])
        buyers = int(self.counts_out[5])
        self.counts_out = None
        if buyers == 0:  # no one bought today, in the whole run either
            return
        belief, a = world.state["belief"], self.params.belief_rate
        if trades:
            belief[0] += a * (frauds / trades - belief[0])
            if unflagged:
                belief[1] += a * (unflagged_frauds / unflagged - belief[1])
        belief[2] += a * (checks / buyers - belief[2])


def local_network(world, offsets: np.ndarray, neighbours: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """On a partition: each local person's neighbours who live here, as local rows, in
    their order (the network's neighbours are global uids there)."""
    rows, here = world.locate(np.asarray(neighbours, dtype=np.int64))
    owner = np.repeat(np.arange(offsets.size - 1, dtype=np.int64), np.diff(offsets))
    kept = np.zeros(offsets.size, dtype=np.int64)
    np.cumsum(np.bincount(owner[here], minlength=offsets.size - 1), out=kept[1:])
    return kept, rows[here].astype(neighbours.dtype)


#: the firms' complaint counts a partition hands to the others (public, and false)
FIRM_COMPLAINTS = ("firms.complaints", "firms.complaints_false")


class MarketComplaints(RunsRegions, Module):
    name = "market_complaints"
    switched_by = "market"
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "Complaints by buyers (true and malicious) become records (follows market.enabled)."
    owns: ClassVar = (
        ArraySpec("firms.complaints", "count", "firms", False,
                  "complaints filed against the firm (public, cumulative)"),
        ArraySpec("firms.complaints_false", "count", "firms", True,
                  "of which malicious or misattributed (truth)"),
    )
    reads = ("acts", "trades", "people.seller",
             "people.cell", "firms.region", "people.region")
    #: on a partition: draws keyed by the buyer's uid; a firm's complaints come from
    #: its region's buyers, so the partition holding the region hands them to the
    #: others (:meth:`firm_complaints`), whose corporate scores read them
    partitionable = True

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        if market_params(scenario).complaint_misattribution > 0:
            return ("a misattributed complaint names a seller anywhere "
                    "(complaint_misattribution > 0), which is not routed between partitions")
        return None
    appends = ("observations", "observation_truth")
    streams = (StreamSpec("draws", LAYOUT, "complaints, malice, misattribution"),)
    counters = (
        CounterSpec("market_complaints", "complaints filed (named seller's cell)"),
        CounterSpec("market_complaints_malicious", "complaints with no fraud behind them"),
    )
    metrics = (
        MetricDef("malicious_complaints", "market_complaints_malicious", "market_complaints",
                  "share of market complaints with no fraud behind them",
                  theme="harm", unit="market complaints malicious per market complaints"),
    )

    def setup(self, world) -> None:
        self.p = market_params(world.scenario)
        n = world.counts["people"]
        psel = np.flatnonzero(world.array("people.seller"))
        fsel = np.arange(world.counts["firms"], dtype=np.int64) if self.p.firms_sell else \
            np.empty(0, np.int64)
        self.pool = np.concatenate([psel, n + fsel])
        self.n = n
        cat = world.catalogue
        self.fraud_code = int(cat.code[cat.position("fraud")])
        self.ref = world.group_names.index(world.scenario.population.reference_group)
        self.own_firm = own_firms(world)
        self.partitioned = world.partitioned
        self.complaints_due = False
        if self.partitioned:  # own firms' complaints as of the last exchange
            world.state["complaints_sent"] = {
                name: np.zeros(world.counts["firms"], dtype=np.int64)
                for name in FIRM_COMPLAINTS}

    def firm_complaints(self, world) -> dict[str, np.ndarray]:
        """On a partition, after this module's step: its own regions' firms' complaint
        counts (public and, for the truth, false) where they changed since the last
        exchange, 0 elsewhere — what crosses is the firms complained about today (a
        count only grows, so a changed one is never 0)."""
        sent = world.state["complaints_sent"]
        out = {}
        for name in FIRM_COMPLAINTS:
            now = owned_part(world.array(name), self.own_firm).astype(np.int64)
            out[name] = np.where(now != sent[name], now, 0)
            sent[name] = now
        return out

    def receive_firm_complaints(self, world, complaints: dict[str, np.ndarray]) -> None:
        """On a partition: every partition's :meth:`firm_complaints` summed — the
        changed counts of each firm from the partition holding its region, which replace
        this partition's own reckoning of the others' firms."""
        others = ~self.own_firm
        for name, summed in complaints.items():
            summed = np.asarray(summed)
            changed = others & (summed != 0)
            values = world.array(name)
            values[changed] = summed[changed].astype(values.dtype)
        self.complaints_due = False

    def exchange_due(self) -> str | None:
        return ("firms' complaints were not exchanged "
                "(MarketComplaints.receive_firm_complaints)") if self.complaints_due else None

    def step(self, world, day: int) -> None:
        self.require_exchanged()
        self.complaints_due = self.partitioned
        self._complain(world, day)

    def _complain(self, world, day: int) -> None:
        p, n = self.p, self.n
        trades = world.events("trades")
        if len(trades) == 0 or self.pool.size == 0:
            return
        buyers = trades["buyer"].astype(np.int64)
        seller = trades["seller"].astype(np.int64)
        fraud = trades["fraud"]
        st = world.stream("draws")
        # each trade's draw keyed by its buyer: a defrauded buyer's complaint, another's
        # malice (drawn only for the trades that need it, and not at all when it cannot be)
        uids = world.uid_of(buyers)
        complain = np.zeros(buyers.size, dtype=bool)
        complain[fraud] = st.bernoulli(day, LAYOUT.pack(purpose=P_COMPLAIN), uids[fraud],
                                       p.complaint_probability)
        if p.malicious_complaint_probability > 0:
            honest = ~fraud
            complain[honest] = st.bernoulli(day, LAYOUT.pack(purpose=P_MALICIOUS),
                                            uids[honest], p.malicious_complaint_probability)
        sel = np.flatnonzero(complain)
        if sel.size == 0:
            return
        b, s, f = buyers[sel], seller[sel], fraud[sel]
        named = s.copy()
        if p.complaint_misattribution > 0 and self.pool.size > 1:
            mis = st.bernoulli(day, LAYOUT.pack(purpose=P_MISATTR), b, p.complaint_misattribution)
            if mis.any():
                w = st.words(day, LAYOUT.pack(purpose=P_WHO), b[mis])[:, 0].astype(np.uint64)
                idx = ((w * np.uint64(self.pool.size - 1)) >> np.uint64(32)).astype(np.int64)
                idx += idx >= np.searchsorted(self.pool, s[mis])  # skip the seller itself
                named[mis] = self.pool[idx]
        false = ~f | (named != s)
        cell = world.array("people.cell")
        fregion = world.array("firms.region").astype(np.int64)
        R = world.n_regions
        named_cell = np.where(named < n, cell[np.minimum(named, n - 1)],
                              self.ref * R + fregion[np.maximum(named - n, 0)])
        world.counters.add_cells("market_complaints", named_cell.astype(np.int64))
        world.counters.add_cells("market_complaints_malicious", named_cell[~f].astype(np.int64))
        to_firm = named >= n
        if to_firm.any():
            complaints = world.array("firms.complaints")
            false_complaints = world.array("firms.complaints_false")
            np.add.at(complaints, named[to_firm] - n, complaints.dtype.type(1))
            np.add.at(false_complaints, named[to_firm & false] - n,
                      false_complaints.dtype.type(1))
        person = ~to_firm
        if not person.any():
            return
        # the act behind a true complaint about a person: the seller's fraud act against b
        acts = world.events("acts")
        rows = np.flatnonzero((acts["act"] == self.fraud_code) & (acts["counterparty"] >= 0))
        ref = np.full(sel.size, -1, dtype=np.int64)
        true_actor = np.full(sel.size, -1, dtype=np.int64)
        has_act = f & (s < n)
        if rows.size and has_act.any():
            cp = acts["counterparty"][rows].astype(np.int64)
            o = np.argsort(cp, kind="stable")
            pos = np.searchsorted(cp[o], b[has_act])
            pos = np.minimum(pos, rows.size - 1)
            hit = cp[o][pos] == b[has_act]
            idx = np.flatnonzero(has_act)[hit]
            r = rows[o][pos[hit]]
            ref[idx] = pack_ref(day, r)
            true_actor[idx] = acts["actor"][r]
        k = np.flatnonzero(person)
        world.append("observations", Table.from_columns(
            OBSERVATION_LAYOUT, ref=unfiled(k.size), subject=named[k],
            act=np.full(k.size, self.fraud_code), source=np.full(k.size, p.complaint_source_code),
            sensor=np.zeros(k.size)))
        world.append("observation_truth", Table.from_columns(
            OBSERVATION_TRUTH_LAYOUT, act_ref=ref[k], true_actor=true_actor[k],
            true_act=np.where(ref[k] >= 0, self.fraud_code, 0),
            erroneous=(ref[k] < 0) | (true_actor[k] != named[k]),
            lawful=np.zeros(k.size, dtype=bool)))


@nb.njit(cache=True)
def _decay_at(values, at, factor):  # pragma: no cover - compiled
    """``values[at] *= factor`` in one pass (``values`` and ``factor`` float32: NumPy's
    product of a float32 array and a Python float)."""
    for i in at:
        values[i] *= factor


@nb.njit(cache=True)
def _review_flags(flags, at, reviews, before, weight):  # pragma: no cover - compiled
    """``flags[at] -= weight × (reviews[at] − before)`` and ``before = reviews[at]`` in
    one pass: each new review lowers the seller's public flag (in float64 and stored as
    float32, as NumPy's mixed expression does)."""
    for j in range(at.size):
        i = at[j]
        now = np.int64(reviews[i])
        flags[i] = flags[i] - weight * np.float64(now - before[j])
        before[j] = now


class MarketRegistry(Module):
    name = "market_registry"
    switched_by = "market"
    role = Role.SYSTEM
    phase = Phase.SCORE
    doc = "The public seller score from fraud records, complaints and reviews (follows market)."
    owns: ClassVar = (
        ArraySpec("people.market_flags", "money", "people", False,
                  "public seller score: decayed fraud records − weight × decayed reviews"),
        ArraySpec("firms.market_flags", "money", "firms", False,
                  "public seller score of firms (complaints − weight × reviews)"),
    )
    reads = ("dossier", "dossier_removals@prev", "people.seller", "people.market_reviews",
             "firms.market_reviews", "firms.complaints")
    #: draws nothing; its own sellers' flags from its own records (other partitions'
    #: firms' flags are reckoned without their buyers' reviews: read by no one here)
    partitionable = True

    def setup(self, world) -> None:
        self.p = market_params(world.scenario)
        self.is_seller = world.array("people.seller").copy()
        self.pool = np.flatnonzero(self.is_seller)
        self.decay = math.exp(-math.log(2.0) / self.p.flag_halflife_days)
        cat = world.catalogue
        self.fraud_code = int(cat.code[cat.position("fraud")])
        st = world.state
        st["cursor"] = 0
        st["reviews"] = np.zeros(self.pool.size, dtype=np.int64)
        st["firm_reviews"] = np.zeros(world.counts["firms"], dtype=np.int64)
        st["firm_complaints"] = np.zeros(world.counts["firms"], dtype=np.int64)

    def step(self, world, day: int) -> None:
        p, st, d = self.p, world.state, world.dossier
        pf = world.array("people.market_flags")
        ff = world.array("firms.market_flags")
        _decay_at(pf, self.pool, np.float32(self.decay))
        ff *= self.decay
        chunk, live = d.day_records(day)
        if len(chunk):
            rows = np.flatnonzero(live & (chunk["act"] == self.fraud_code))
            subj = chunk["subject"][rows].astype(np.int64)
            np.add.at(pf, subj[self.is_seller[subj]], pf.dtype.type(1))
        refs, st["cursor"] = d.removals_since(st["cursor"])
        if refs.size:
            refs = refs[(refs >> 32) >= d.first_kept_day]  # records retention kept
            if refs.size:
                subj = d.fields(refs, "subject").astype(np.int64)
                keep = (d.fields(refs, "act") == self.fraud_code) & self.is_seller[subj]
                age = day - (refs[keep] >> 32)
                np.add.at(pf, subj[keep], -(self.decay ** age).astype(np.float32))
        _review_flags(pf, self.pool, world.array("people.market_reviews"), st["reviews"],
                      float(p.review_weight))
        frev = world.array("firms.market_reviews").astype(np.int64)
        fcom = world.array("firms.complaints").astype(np.int64)
        ff += (fcom - st["firm_complaints"]) - p.review_weight * (frev - st["firm_reviews"])
        st["firm_reviews"] = frev
        st["firm_complaints"] = fcom

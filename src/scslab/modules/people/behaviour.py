"""People decide: which opportunities they take, and how.

Opportunities arrive at each act's base rate (:mod:`scslab.core.acts`, policy-independent);
a person then decides, by class of act (equations and sources in ``docs/model.md``):

* **violation** — random utility: take iff
  ``α + gain/τ − β·h_i·(1 − crowding) − δ·π_ia·S_ia^γ + ε > 0``, ε logistic, so
  ``p = σ(α + gain/τ − β h_i (1 − c) − δ π S^γ)``; π perceived detection, S perceived
  sanction (a present value), γ < 1 so certainty deters more than severity; with the
  legitimacy link (``legitimacy_weight`` λ > 0, Tyler 2006) the moral cost gains
  ``λ·(logit t_i − logit t̄)``, t_i institutional trust from ``attitudes``;
* **expression** (lawful) — ``p = p0 · exp(−s_i (a_w W + a_p W P))``: W the perceived
  chance of being recorded, P the perceived penalty (with a prior above zero), s_i
  sensitivity. A *shadow* decision on the same uniform with W = 0 gives the direct
  chilling effect;
* **prosocial** — ``p = σ(logit(p0) + ρ·R)``, R the perceived reward;
* **economic, movement** — taken, unless blocked (a lost file, a ban).

Any act is blocked while its author is detained (``people.detained_until``, from the
surveillance module) or banned (``people.bans``, from joint sanctions). What the informed
perceive of watching is local: the recording chance in their own region
(``Consequences.detection_by_region``), following the sensors as they are redeployed
(``regions.watch_factor``).

Perceived detection is per venue (``people.perceived_detection``, people × perception
venues): a violation reads π of its own venue. Informed people (``people.informed``: drawn
awareness, or learned — ``learning``) scale it by the act's detectability in their region
relative to the venue's published signal, ``min(1, π_iv (d_ra + 0.01)/(π*_v + 0.01))``, and
perceive the watching in their region; the uninformed use their own (learned) π_iv, and do
not know they are watched. The perceived sanction of a
violation is ``P + ψ_i (S − P)``: the ordinary legal penalty P plus the apparatus's part of
the nominal sanction S weighted by ψ_i (``people.perceived_sanction``, learned from
sanctions experienced and seen; 1 for the aware at day 0, ``sanction_prior`` otherwise). Optional channels, off by default: crowding-out of honesty by extrinsic
sanctions; displacement of violations to an unwatched venue.
"""

from __future__ import annotations

import math
from typing import Annotated

import numba as nb
import numpy as np
from pydantic import Field

from scslab.core.acts import CLASS_CODE, CLOCK_LAYOUT, OpportunityClock
from scslab.core.incentives import public_detection_by_venue, relative_detection
from scslab.core.layouts import ACT_LAYOUT, Table, dtype
from scslab.core.module import CounterSpec, Module, Phase, Role
from scslab.core.scenario_schema import ModuleParams
from scslab.modules.people.decide_bundles import ActTables, DecideParams, PersonArrays
from scslab.modules.people.learning import LearningParams, perceived_now
from scslab.numerics.rng import SlotLayout, StreamSpec, k_uniform

DECIDE_LAYOUT = SlotLayout((("act", 8), ("ordinal", 4), ("purpose", 4)))
PURPOSE_TAKE = 0
PURPOSE_DISPLACE = 1

Positive = Annotated[float, Field(gt=0.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Prob = Annotated[float, Field(ge=0.0, le=1.0)]

#: Acts blocked while a person's file is lost (Dang'an): changing jobs, claiming a pension.
LOST_FILE_BLOCKS = ("job_change", "pension_claim")


class BehaviourParams(ModuleParams):
    # violations: random utility
    intercept: float = 2.0  # α
    gain_scale: Positive = 2.0  # τ, money per logit unit
    moral_weight: NonNeg = 4.0  # β, logit units per unit of honesty
    deterrence_weight: NonNeg = 6.5  # δ (calibrated: detection elasticity in [-0.5, -0.2])
    severity_exponent: Annotated[float, Field(gt=0.0, le=1.0)] = 0.2  # γ (calibrated: severity)
    # expression: chilling
    expression_base: Prob = 1.0  # p0
    watch_weight: NonNeg = 0.5  # a_w
    penalty_weight: NonNeg = 0.5  # a_p
    expression_penalty_prior: NonNeg = 0.2  # P prior, money
    sensitivity_scale: NonNeg = 2.0  # s_i = scale × privacy concern
    # prosocial
    prosocial_base: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.5
    reward_weight: NonNeg = 0.5  # ρ per money unit
    # optional channels (off by default)
    crowding_out: Prob = 0.0
    crowding_reference: Positive = 10.0  # sanction (money) at which crowding is complete
    displacement: Prob = 0.0
    # legitimacy → compliance (Tyler 2006): logit units per logit of institutional trust
    # above the population's mean; 0 = off (assumption, see docs/model.md)
    legitimacy_weight: NonNeg = 0.0
    # levers for measuring elasticities by paired runs (1 = as perceived)
    detection_perception_scale: NonNeg = 1.0
    sanction_perception_scale: NonNeg = 1.0


@nb.njit(inline="always", cache=True)
def violation_probability(alpha, gain, tau, moral, delta, pdet, s, gamma):  # pragma: no cover
    """σ(α + gain/τ − moral − δ·π·S^γ): the random-utility take-up of a violation."""
    return _violation_probability(alpha, gain, tau, moral, delta, pdet, s**gamma)


@nb.njit(inline="always", cache=True)
def _violation_probability(alpha, gain, tau, moral, delta, pdet, s_gamma):  # pragma: no cover
    """:func:`violation_probability` given S^γ (a table lookup where S is an act's)."""
    z = alpha + gain / tau - moral - delta * pdet * s_gamma
    return 1.0 / (1.0 + math.exp(-z))


@nb.njit(cache=True)
def _powers(x, gamma):  # pragma: no cover - compiled
    """x**γ element by element, by the same compiled pow as the kernels (bit for bit)."""
    out = np.empty(x.shape)
    for j in range(x.shape[0]):
        out[j] = x[j] ** gamma
    return out


@nb.njit(cache=True, parallel=True)
def _decide(k0, k1, day, people, pos, uids, acts, who, par):  # pragma: no cover - compiled
    """Take-up of each opportunity. Work only where it matters: no draw for economic and
    movement acts (always taken), S^γ from the per-act tables while the perceived
    sanction is the act's own (multiplier 1), no exp for expression unwatched (w = 0).
    ``acts``, ``who``, ``par``: :class:`ActTables`, :class:`PersonArrays`,
    :class:`DecideParams` (``decide_bundles.py``); ``uids``: each row's global uid on a
    partition, empty otherwise (the row is the uid). Parallel over opportunities
    (``prange``): each writes only its own outputs from keyed draws, with no reduction, so
    any thread count gives the same bits."""
    (codes, act_class, gain, penalty, sanction, reward, detection, rel_det, slot_of,
     pub_target, penalty_gamma, sanction_gamma) = acts
    region, honesty, aware, privacy, pd, pd_day, ps, trust = who
    (pub_rate, alpha, tau, beta, delta, gamma, det_scale, sanc_scale, p0e, a_w, a_p, prior_p,
     sens, logit_p0, rho, crowd, crowd_ref, displacement, lam, trust_ref) = par
    n = people.shape[0]
    take = np.zeros(n, dtype=np.bool_)
    shadow = np.zeros(n, dtype=np.bool_)
    displaced = np.zeros(n, dtype=np.bool_)
    for j in nb.prange(n):
        i = people[j]
        a = pos[j]
        cls = act_class[a]
        if cls > 2:  # economic, movement
            take[j] = True
            continue
        uid = np.int64(i) if uids.shape[0] == 0 else uids[i]
        u = k_uniform(k0, k1, day, (codes[a] << 8) | PURPOSE_TAKE, uid)
        is_aware = aware[i]
        r = region[i]
        if cls == 0:  # violation
            v = slot_of[a]
            p_now = perceived_now(pd, pd_day, aware, i, v, day, pub_target[v], pub_rate)
            if is_aware:
                pdet = min(1.0, p_now * rel_det[r, a] * det_scale)
            else:
                pdet = min(1.0, p_now * det_scale)
            psi = ps[i]
            s = (penalty[a] + psi * (sanction[a] - penalty[a])) * sanc_scale
            if sanc_scale == 1.0 and psi == 1.0:
                s_gamma = sanction_gamma[a]
            elif sanc_scale == 1.0 and psi == 0.0:
                s_gamma = penalty_gamma[a]
            else:
                s_gamma = s**gamma
            moral = beta * honesty[i]
            if crowd > 0.0:
                moral *= 1.0 - crowd * min(1.0, s / crowd_ref)
            if lam != 0.0:  # legitimacy: trust above the mean adds to the moral cost
                t = min(max(float(trust[i]), 1e-6), 1.0 - 1e-6)
                moral += lam * (math.log(t / (1.0 - t)) - trust_ref)
            p = _violation_probability(alpha, gain[a], tau, moral, delta, pdet, s_gamma)
            take[j] = u < p
            if take[j] and displacement > 0.0 and is_aware:
                u2 = k_uniform(k0, k1, day, (codes[a] << 8) | PURPOSE_DISPLACE, uid)
                displaced[j] = u2 < displacement * detection[r, a]
        elif cls == 2:  # lawful expression
            w = detection[r, a] if is_aware else 0.0
            if w == 0.0:
                p = p0e  # p0e · exp(−s_i · 0)
            else:
                pen = prior_p + (sanction[a] if is_aware else 0.0)
                s_i = sens * privacy[i]
                p = p0e * math.exp(-s_i * (a_w * w + a_p * w * pen))
            take[j] = u < p
            shadow[j] = u < p0e
        else:  # prosocial
            r = reward[a] if is_aware else 0.0
            p = 1.0 / (1.0 + math.exp(-(logit_p0 + rho * r)))
            take[j] = u < p
    return take, shadow, displaced


EXPRESSION, MOVEMENT = CLASS_CODE["expression"], CLASS_CODE["movement"]
#: rows of the per-cell counts ``_block_and_count`` returns
BLOCK_COUNTERS = ("expression_shadow", "expression_taken", "blocked_by_lost_file",
                  "blocked_by_ban", "blocked_expression", "blocked_trips",
                  "blocked_by_detention", "blocked_trips_detention", "displaced_violations")


@nb.njit(cache=True)
def _block_and_count(day, people, pos, take, shadow, displaced, cell, act_class, lost_file_mask,
                     lost, bans, blocked_by, held, n_cells, code, venue,
                     displaced_venue):  # pragma: no cover - compiled
    """Drop taken opportunities blocked by a lost file, a ban or a detention (in that order
    of precedence; an absent array is empty), count by cell (rows: BLOCK_COUNTERS) and
    return the acts taken (actor, act code, venue) — one pass instead of some fifty array
    operations."""
    counts = np.zeros((len(BLOCK_COUNTERS), n_cells))
    n = people.shape[0]
    actor = np.empty(n, dtype=people.dtype)
    act = np.empty(n, dtype=code.dtype)
    where = np.empty(n, dtype=venue.dtype)
    m = 0
    for j in range(n):
        i = people[j]
        a = pos[j]
        c = cell[i]
        expr = act_class[a] == EXPRESSION
        move = act_class[a] == MOVEMENT
        if shadow[j] and expr:
            counts[0, c] += 1.0
        if not take[j]:
            continue
        if expr:
            counts[1, c] += 1.0
        if lost.shape[0] and lost_file_mask[a] and lost[i]:
            counts[2, c] += 1.0
            continue
        elif bans.shape[0] and (bans[i] & blocked_by[a]) != 0:
            counts[3, c] += 1.0
            if expr:
                counts[4, c] += 1.0
            if move:
                counts[5, c] += 1.0
            continue
        elif held.shape[0] and held[i] > day:
            counts[6, c] += 1.0
            if expr:
                counts[4, c] += 1.0
            if move:
                counts[7, c] += 1.0
            continue
        elif displaced[j]:
            counts[8, c] += 1.0
        actor[m] = i
        act[m] = code[a]
        where[m] = displaced_venue[a] if displaced[j] else venue[a]
        m += 1
    return counts, actor[:m], act[:m], where[:m]


class Behaviour(Module):
    name = "behaviour"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    Params = BehaviourParams
    doc = "Opportunities and decisions: violations, expression, prosocial, economic, movement."
    reads = (
        "people.honesty", "people.informed@prev", "people.privacy_concern", "people.cell",
        "people.region", "people.detained_until@prev?",
        "people.perceived_detection@prev", "people.perceived_day@prev",
        "people.perceived_sanction@prev", "people.file_lost@prev?", "people.bans@prev?",
        "regions.watch_factor@prev?", "people.institutional_trust@prev?",
    )
    appends = ("acts",)
    partitionable = True
    streams = (
        StreamSpec("clock", CLOCK_LAYOUT, "who has an opportunity today (policy-independent)"),
        StreamSpec("decide", DECIDE_LAYOUT, "take-up of an opportunity; displacement"),
    )
    counters = (
        CounterSpec("expression_shadow", "expression opportunities taken with W = 0 (shadow)"),
        CounterSpec("expression_taken", "expression opportunities taken (before bans)"),
        CounterSpec("blocked_by_lost_file", "opportunities blocked by a lost file"),
        CounterSpec("blocked_by_ban", "opportunities blocked by a ban"),
        CounterSpec("blocked_expression", "expression opportunities blocked by a ban or a detention"),
        CounterSpec("blocked_trips", "trips (movement acts) blocked by a ban"),
        CounterSpec("blocked_by_detention", "opportunities lost while detained"),
        CounterSpec("blocked_trips_detention", "trips lost while detained"),
        CounterSpec("displaced_violations", "violations moved to an unwatched venue"),
    )

    def __init__(self, params, scenario) -> None:
        super().__init__(params, scenario)
        from scslab.core.acts import ActCatalogue

        self.catalogue = ActCatalogue.from_scenario(scenario)
        self.clock = OpportunityClock(self.catalogue)
        self.lost_file_mask = self.catalogue.mask(LOST_FILE_BLOCKS)

    def setup(self, world) -> None:
        self.people = world.counts["people"]
        self.uids = np.empty(0, dtype=np.int64)  # the row is the uid
        self.local_of = None
        if world.partitioned:
            # a partition walks the whole population's opportunity clock (its skips are
            # keyed by uid) and keeps its own people's: work ∝ the nation's opportunities
            self.uids = world.uids
            self.people = world.scenario.population.people
            self.local_of = np.full(self.people, -1, dtype=np.int32)
            self.local_of[self.uids] = np.arange(self.uids.size, dtype=np.int32)
        cons = world.consequences
        # what the aware perceive is local: the recording chance in their own region
        self.nominal_detection = np.ascontiguousarray(cons.detection_by_region,
                                                      dtype=np.float64)
        self.detection = self.nominal_detection
        self.pub_target = public_detection_by_venue(cons, self.catalogue)
        self.slot_of = self.catalogue.perception_venues()[1]
        self.rel_det = relative_detection(self.detection, self.pub_target, self.slot_of)
        self.watch_factor = None  # the factor the perceived detection was last built on
        gamma = self.params.severity_exponent
        self.penalty_gamma = _powers(self.catalogue.penalty, gamma)  # S^γ, unaware
        self.sanction_gamma = _powers(np.asarray(cons.sanction, dtype=np.float64), gamma)
        self.codes = self.catalogue.code.astype(np.int64)
        learning = world.scenario.module_params("learning", LearningParams)
        self.pub_rate = learning.public_rate if learning.enabled else 0.0

    def _legitimacy(self, world) -> tuple[np.ndarray, float, float]:
        """Institutional trust, λ and the logit of the trust mean for the legitimacy link
        (λ = 0, or no attitudes module: an empty array and no effect)."""
        lam = self.params.legitimacy_weight
        trust = world.optional("people.institutional_trust") if lam > 0 else None
        if trust is None:
            return np.zeros(0, dtype=np.float32), 0.0, 0.0
        mean = float(world.scenario.modules.get("attitudes", {}).get("trust_mean", 0.6))
        return trust, lam, math.log(mean / (1.0 - mean))

    def _follow_redeployment(self, world) -> None:
        """What the informed perceive of watching follows the sensors' deployment:
        ``d = 1 − (1 − d_0) · f``, f the surveillance's ``regions.watch_factor``."""
        factor = world.optional("regions.watch_factor")
        if factor is None or (self.watch_factor is not None
                              and np.array_equal(factor, self.watch_factor)):
            return
        self.watch_factor = factor.copy()
        if (factor == 1.0).all():
            self.detection = self.nominal_detection
        else:
            self.detection = np.ascontiguousarray(
                1.0 - (1.0 - self.nominal_detection) * factor)
        self.rel_det = relative_detection(self.detection, self.pub_target, self.slot_of)

    def step(self, world, day: int) -> None:
        self._follow_redeployment(world)
        people, pos = self.clock.due(world.stream("clock"), day, self.people)
        if self.local_of is not None:
            rows = self.local_of[people]
            mine = rows >= 0
            people, pos = rows[mine].astype(people.dtype), pos[mine]
        if people.size == 0:
            return
        cat = self.catalogue
        cons = world.consequences
        p = self.params
        st = world.stream("decide")
        trust, lam, trust_ref = self._legitimacy(world)
        take, shadow, displaced = _decide(
            st.k0, st.k1, np.int64(day), people, pos, self.uids,
            ActTables(self.codes, cat.act_class, cat.gain, cat.penalty, cons.sanction,
                      cons.reward, self.detection, self.rel_det, self.slot_of, self.pub_target,
                      self.penalty_gamma, self.sanction_gamma),
            PersonArrays(world.array("people.region"), world.array("people.honesty"),
                         world.array("people.informed"), world.array("people.privacy_concern"),
                         world.array("people.perceived_detection"),
                         world.array("people.perceived_day"),
                         world.array("people.perceived_sanction"), trust),
            DecideParams(self.pub_rate, p.intercept, p.gain_scale, p.moral_weight,
                         p.deterrence_weight, p.severity_exponent,
                         p.detection_perception_scale, p.sanction_perception_scale,
                         p.expression_base, p.watch_weight, p.penalty_weight,
                         p.expression_penalty_prior, p.sensitivity_scale,
                         math.log(p.prosocial_base / (1 - p.prosocial_base)), p.reward_weight,
                         p.crowding_out, p.crowding_reference, p.displacement, lam, trust_ref),
        )
        c = world.counters
        lost = world.optional("people.file_lost")
        bans = world.optional("people.bans")
        held = world.optional("people.detained_until")
        counts, actor, act, venue = _block_and_count(
            np.int64(day), people, pos, take, shadow, displaced, world.array("people.cell"),
            cat.act_class, self.lost_file_mask,
            lost if lost is not None else np.zeros(0, dtype=bool),
            bans if bans is not None else np.zeros(0, dtype=np.uint16), cons.blocked_by,
            held if held is not None else np.zeros(0, dtype=np.uint16), c.n_cells,
            cat.code, cat.venue, cat.displaced_venue)
        for name, per_cell in zip(BLOCK_COUNTERS, counts, strict=True):
            c.add_vector(name, per_cell)
        world.append("acts", Table.from_columns(
            ACT_LAYOUT,
            actor=actor,
            act=act,
            venue=venue,
            counterparty=np.full(actor.size, -1, dtype=dtype("uid")),
            ordinal=np.zeros(actor.size, dtype=dtype("code")),
        ))

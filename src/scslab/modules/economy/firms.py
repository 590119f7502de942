"""Firms and corporate credit: regulatory acts, records, a corporate score, lists, banks.

Four modules share one parameter block (``modules.firms``):

* ``firms`` (behaviour, DECIDE) — each firm meets regulatory opportunities in four
  domains (tax, environment, product safety, labour) at daily ``rates`` and violates by
  random utility, ``σ(α_f + g_k·size/τ + w_d (0.5 − r_f) − β·compliance − δ·d_k·S_k^γ)``
  (compliance plays honesty; ``r_f`` the firm's return on credit, so a firm in distress
  cuts more corners; firms know the inspection coverage ``d_k``; ``S_k`` the fine plus
  the value of a blacklisting the record moves the firm towards). It applies for credit
  at ``apply_rate``; when a loan or a supplier's bill falls due it fails to pay with
  probability ``σ(α_d + w_p (0.5 − r_f) + w_c (0.8 − compliance))``, ``r_f`` =
  productivity × (1 − ``soe_productivity_gap`` for state-owned firms). Every state-owned
  firm, and ``connected_share`` of private ones, is politically connected (public).
* ``firm_inspection`` (sensing, SENSE) — inspectors record a violation of domain k with
  probability ``coverage_k`` and file a false record on a compliant firm at
  ``false_record_rate``; an unpaid bill ends in a recorded court judgment with
  probability ``judgment_coverage``; banks record every loan outcome.
* ``corporate_credit`` (system, SANCTION) — the corporate score: ``base`` minus points
  per record, judgment, loan default and market complaint (points back for a record an
  official dropped for a bribe), recovering towards base with time constant
  ``restore_days``; firms below ``black_threshold`` are listed (procurement ban; loan
  denial if ``ban_loans``). Banks serve ``credit_share`` of the day's applicants in order
  of value to the bank (``lending_priority``): minus the expected loss read off the score,
  less the implicit state guarantee on state-owned firms, plus the officials' pressure for
  connected firms, plus noise.
* ``firm_metrics`` (observer) — lending outcomes against productivity (truth), approval
  by ownership, listing of compliant firms, and the corporate score's AUC for later
  default and later misconduct (``final_metrics``).

Firm-level figures are counted in the cell (reference group, firm region).
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from scslab.core.incentives import present_value
from scslab.core.metrics import FinalMetricDef, MetricDef
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role, RunsRegions
from scslab.core.population import cut_refusal
from scslab.core.scenario_schema import ModuleParams
from scslab.modules.people.behaviour import BehaviourParams
from scslab.numerics.logistic import sigmoid
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import unique

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]

DOMAINS = ("tax", "environment", "product_safety", "labour")
BIT_DEFAULT, BIT_REPAID, BIT_JUDGMENT = 4, 5, 6
NEVER = 0xFFFF
LAYOUT = SlotLayout((("purpose", 8), ("k", 8)))
P_OPP, P_VIOLATE, P_APPLY, P_DEFAULT, P_SEE, P_FALSE, P_CAP, P_NOISE, P_PROC_N, P_PROC_WHO = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
P_CONNECT, P_SUPPLIER, P_UNPAID, P_SUE = 11, 12, 13, 14
OUT_NONE, OUT_REPAID, OUT_DEFAULT = 0, 1, 2


def _domain_dict(**kw: float) -> dict[str, float]:
    return dict(kw)


class FirmParams(ModuleParams):
    enabled: bool = False
    # regulatory conduct (behaviour)
    rates: dict[str, NonNeg] = Field(default_factory=lambda: _domain_dict(
        tax=0.05, environment=0.03, product_safety=0.03, labour=0.03))
    gains: dict[str, float] = Field(default_factory=lambda: _domain_dict(
        tax=2.0, environment=3.0, product_safety=2.0, labour=1.0))  # × size
    fines: dict[str, NonNeg] = Field(default_factory=lambda: _domain_dict(
        tax=10.0, environment=20.0, product_safety=20.0, labour=5.0))  # × size
    violation_intercept: float = 2.0
    listing_cost_per_day: NonNeg = 0.5  # × size: procurement and credit lost while listed
    listing_days: Positive = 365.0  # expected length of a listing, for the stake
    # credit (behaviour)
    apply_rate: Prob = 0.01
    loan_size: Positive = 20.0  # × size
    loan_term: Annotated[int, Field(ge=1, le=3650)] = 180
    default_intercept: float = -2.5
    productivity_weight: NonNeg = 6.0
    compliance_weight: NonNeg = 2.0
    soe_productivity_gap: Prob = 0.2
    distress_weight: NonNeg = 4.0  # logit units per unit of (0.5 − r_f) in violations
    supplier_rate: Prob = 0.02  # supplier bills due per firm-day
    connected_share: Prob = 0.1  # private firms with a political connection (SOEs: all)
    # inspection (sensing)
    coverage: dict[str, Prob] = Field(default_factory=lambda: _domain_dict(
        tax=0.2, environment=0.1, product_safety=0.1, labour=0.1))
    false_record_rate: Prob = 2e-4  # per compliant firm-day and domain
    judgment_coverage: Prob = 0.3  # unpaid bills that end in a recorded court judgment
    # corporate score and lists (system)
    score_base: float = 100.0
    points: dict[str, NonNeg] = Field(default_factory=lambda: _domain_dict(
        tax=10.0, environment=15.0, product_safety=15.0, labour=5.0, loan_default=20.0,
        judgment=10.0, complaint=0.2))
    restore_days: Positive = 365.0
    black_threshold: float = 70.0
    ban_loans: bool = True
    procurement_rate: NonNeg = 0.01  # contracts per firm-day
    # banks (system)
    credit_share: Prob = 0.5
    score_weight: NonNeg = 1.0  # logit of the banks' default risk per 10 points below base
    risk_intercept: float = -2.0  # logit of the default risk of a firm at base
    implicit_guarantee: Prob = 0.5  # share of a state-owned firm's default the state covers
    lending_noise: NonNeg = 0.05  # sd of the banks' idiosyncratic judgement (loss units)
    # measurement (observer)
    misconduct_horizon_days: Annotated[int, Field(ge=1, le=3650)] = 90
    auc_interval_days: Annotated[int, Field(ge=1, le=3650)] = 30

    @field_validator("rates", "gains", "fines", "coverage", "points", mode="before")
    @classmethod
    def _domain_table(cls, value: object, info: ValidationInfo) -> object:
        """A table given in part keeps the defaults of the entries it does not name
        (``rates: {tax: 0.1}`` changes the tax rate alone: a domain left out would
        otherwise be read as 0 and silently vanish); a key that is no entry is refused."""
        if not isinstance(value, dict):
            return value
        default = cls.model_fields[str(info.field_name)].get_default(call_default_factory=True)
        unknown = sorted(str(k) for k in value if str(k) not in default)
        if unknown:
            raise ValueError(f"unknown entr{'y' if len(unknown) == 1 else 'ies'} "
                             f"{', '.join(unknown)}; known: {', '.join(default)}")
        return {**default, **{str(k): v for k, v in value.items()}}

    def vector(self, name: str, extra: str | None = None) -> np.ndarray:
        table = getattr(self, name)
        return np.array([float(table.get(d, 0.0)) for d in DOMAINS]
                        + ([float(table.get(extra, 0.0))] if extra else []))


def firm_params(scenario) -> FirmParams:
    return scenario.module_params("firms", FirmParams)


def firm_cells(world) -> np.ndarray:
    """Metric cell of each firm: (reference group, firm region)."""
    ref = world.group_names.index(world.scenario.population.reference_group)
    return (ref * world.n_regions + world.array("firms.region").astype(np.int64))


def own_firms(world) -> np.ndarray:
    """The firms this World counts: all in an ordinary run; on a partition, those of its
    own regions (``View.own_regions``). Every partition runs every firm alike — their
    draws are keyed by firm, and what other partitions' officials do to them is
    exchanged (``Officials.receive_firm_figures``) — but counts only its own."""
    return world.own_regions()[world.array("firms.region").astype(np.int64)]


def record_stakes(p: FirmParams, size: np.ndarray) -> np.ndarray:
    """S_k per firm and domain: what a record of domain k costs the firm — the fine plus
    the share of a listing the record's points move it towards (firms × domains)."""
    size = np.asarray(size, dtype=np.float64)
    gap = max(p.score_base - p.black_threshold, 1e-9)
    stake = present_value(p.listing_cost_per_day, p.listing_days, 0.999)
    return (np.outer(size, p.vector("fines"))
            + np.outer(size, stake * np.minimum(1.0, p.vector("points") / gap)))


class Firms(RunsRegions, Module):
    name = "firms"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    Params = FirmParams
    doc = "Firms: regulatory violations by random utility, credit applications, repayment."
    owns: ClassVar = (
        ArraySpec("firms.violated", "code", "firms", True, "domains violated today (bits)"),
        ArraySpec("firms.last_violation", "day", "firms", True, "day of the last violation",
                  fill=-1),
        ArraySpec("firms.return_rate", "prob", "firms", True,
                  "output per unit of credit: productivity × (1 − SOE gap)"),
        ArraySpec("firms.applying", "flag", "firms", False, "applies for credit today"),
        ArraySpec("firms.connected", "flag", "firms", False,
                  "politically connected (every state-owned firm; public)"),
        ArraySpec("firms.loan_outcome", "code", "firms", True,
                  "today: 0 nothing due, 1 repaid, 2 defaulted"),
        ArraySpec("firms.unpaid", "flag", "firms", True, "left a supplier's bill unpaid today"),
    )
    reads = ("firms.size", "firms.compliance", "firms.productivity", "firms.state_owned",
             "firms.region", "firms.loan_due@prev", "people.region")
    #: on a partition of whole regions: every firm run alike, its own regions' counted
    partitionable = True

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        return cut_refusal(split, "people.region", "each firm is counted by the partition "
                           "holding its region")
    streams = (StreamSpec("draws", LAYOUT, "opportunities, violations, applications, default"),)
    counters = (
        CounterSpec("firm_days", "firms × days (reference group, firm region)"),
        CounterSpec("firm_violations", "regulatory violations by firms"),
    )
    metrics = (
        MetricDef("firm_violation_rate", "firm_violations", "firm_days",
                  "regulatory violations per firm-day",
                  theme="compliance", unit="firm violations per firm days"),
    )

    def setup(self, world) -> None:
        p = self.params
        b = world.scenario.module_params("behaviour", BehaviourParams)
        self.b = b
        size = world.array("firms.size").astype(np.float64)
        prod = world.array("firms.productivity").astype(np.float64)
        soe = world.array("firms.state_owned")
        ret = prod * np.where(soe, 1.0 - p.soe_productivity_gap, 1.0)
        world.array("firms.return_rate")[:] = ret
        self.ret = world.array("firms.return_rate").astype(np.float64)
        # financial distress: firms with a low return on credit cut more corners
        self.distress = p.distress_weight * (0.5 - ret)
        nf = world.counts["firms"]
        world.array("firms.connected")[:] = soe | world.stream("draws").bernoulli(
            0, LAYOUT.pack(purpose=P_CONNECT), np.arange(nf, dtype=np.int64), p.connected_share)
        self.sanction = record_stakes(p, size)
        self.gain = np.outer(size, p.vector("gains"))
        self.cells = firm_cells(world)
        self.own = own_firms(world)
        n_cells = len(world.group_names) * world.n_regions
        self.cell_sizes = np.bincount(self.cells[self.own], minlength=n_cells).astype(
            np.float64)

    def step(self, world, day: int) -> None:
        p, b = self.params, self.b
        st = world.stream("draws")
        nf = world.counts["firms"]
        if nf == 0:
            return
        firms = np.arange(nf, dtype=np.int64)
        comp = world.array("firms.compliance").astype(np.float64)
        cov = p.vector("coverage")
        rates = p.vector("rates")
        violated = np.zeros(nf, dtype=np.uint8)
        for k in range(len(DOMAINS)):  # loop over domains, not firms
            if rates[k] <= 0:
                continue
            opp = st.bernoulli(day, LAYOUT.pack(purpose=P_OPP, k=k), firms, rates[k])
            idx = firms[opp]
            if idx.size == 0:
                continue
            z = (p.violation_intercept + self.gain[idx, k] / b.gain_scale + self.distress[idx]
                 - b.moral_weight * comp[idx]
                 - b.deterrence_weight * cov[k] * self.sanction[idx, k] ** b.severity_exponent)
            u = st.uniform(day, LAYOUT.pack(purpose=P_VIOLATE, k=k), idx)
            hit = idx[u < sigmoid(z)]
            violated[hit] |= np.uint8(1 << k)
        world.array("firms.violated")[:] = violated
        any_v = violated != 0
        world.array("firms.last_violation")[any_v] = day
        c = world.counters
        c.add_vector("firm_days", self.cell_sizes)
        bits = np.bitwise_count(violated)
        counted = any_v & self.own
        c.add_cells("firm_violations", self.cells[counted], bits[counted].astype(np.float64))
        # credit: repay or default when a loan falls due; apply when free of debt
        due = world.array("firms.loan_due").astype(np.int64)
        outcome = world.array("firms.loan_outcome")
        outcome[:] = OUT_NONE
        now = firms[due == day]
        if now.size:
            u = st.uniform(day, LAYOUT.pack(purpose=P_DEFAULT), now)
            outcome[now] = np.where(u < self._default_probability(now, comp), OUT_DEFAULT,
                                    OUT_REPAID)
        # supplier bills: the same ability and will to pay as towards the bank
        unpaid = world.array("firms.unpaid")
        unpaid[:] = False
        bill = firms[st.bernoulli(day, LAYOUT.pack(purpose=P_SUPPLIER), firms, p.supplier_rate)]
        if bill.size:
            u = st.uniform(day, LAYOUT.pack(purpose=P_UNPAID), bill)
            unpaid[bill[u < self._default_probability(bill, comp)]] = True
        free = (due == NEVER) | (due == day)
        world.array("firms.applying")[:] = free & st.bernoulli(
            day, LAYOUT.pack(purpose=P_APPLY), firms, p.apply_rate)


    def _default_probability(self, idx: np.ndarray, comp: np.ndarray) -> np.ndarray:
        """σ(α_d + w_p (0.5 − r_f) + w_c (0.8 − compliance)): a loan or a bill left unpaid."""
        p = self.params
        return sigmoid(p.default_intercept + p.productivity_weight * (0.5 - self.ret[idx])
                        + p.compliance_weight * (0.8 - comp[idx]))


class FirmInspection(RunsRegions, Module):
    name = "firm_inspection"
    switched_by = "firms"
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "Inspectors and banks record firms' violations and loan outcomes (follows firms)."
    owns: ClassVar = (
        ArraySpec("firms.record_bits", "code", "firms", False,
                  "records filed today: bits 0–3 domains, 4 loan default, 5 loan repaid, "
                  "6 court judgment for an unpaid bill"),
        ArraySpec("firms.false_bits", "code", "firms", True,
                  "of today's domain records, those with no violation behind them"),
    )
    reads = ("firms.violated", "firms.loan_outcome", "firms.region", "firms.unpaid",
             "people.region")
    partitionable = True  # draws keyed by firm; counts its own regions' firms
    streams = (StreamSpec("draws", LAYOUT, "inspection coverage and false records"),)
    counters = (
        CounterSpec("firm_records", "regulatory records of firms"),
        CounterSpec("firm_records_false", "regulatory records of firms with no violation"),
    )
    metrics = (
        MetricDef("firm_false_record_share", "firm_records_false", "firm_records",
                  "share of firms' regulatory records with no violation behind them",
                  theme="governance", unit="share"),
    )

    def setup(self, world) -> None:
        self.p = firm_params(world.scenario)
        self.cells = firm_cells(world)
        self.own = own_firms(world)

    def step(self, world, day: int) -> None:
        p = self.p
        st = world.stream("draws")
        nf = world.counts["firms"]
        firms = np.arange(nf, dtype=np.int64)
        violated = world.array("firms.violated")
        rec = np.zeros(nf, dtype=np.uint8)
        false = np.zeros(nf, dtype=np.uint8)
        cov = p.vector("coverage")
        for k in range(len(DOMAINS)):  # loop over domains
            bit = np.uint8(1 << k)
            v = (violated & bit) != 0
            seen = v & st.bernoulli(day, LAYOUT.pack(purpose=P_SEE, k=k), firms, cov[k])
            fake = ~v & st.bernoulli(day, LAYOUT.pack(purpose=P_FALSE, k=k), firms,
                                     p.false_record_rate)
            rec[seen | fake] |= bit
            false[fake] |= bit
        out = world.array("firms.loan_outcome")
        rec[out == OUT_DEFAULT] |= np.uint8(1 << BIT_DEFAULT)
        rec[out == OUT_REPAID] |= np.uint8(1 << BIT_REPAID)
        unpaid = np.flatnonzero(world.array("firms.unpaid"))
        sued = unpaid[st.bernoulli(day, LAYOUT.pack(purpose=P_SUE), unpaid, p.judgment_coverage)]
        rec[sued] |= np.uint8(1 << BIT_JUDGMENT)
        world.array("firms.record_bits")[:] = rec
        world.array("firms.false_bits")[:] = false
        dom = rec & np.uint8(0x0F)
        n_rec = np.bitwise_count(dom).astype(np.float64)
        n_false = np.bitwise_count(false).astype(np.float64)
        has = (n_rec > 0) & self.own
        world.counters.add_cells("firm_records", self.cells[has], n_rec[has])
        world.counters.add_cells("firm_records_false", self.cells[has], n_false[has])


def lending_priority(score: np.ndarray, state_owned: np.ndarray, connected: np.ndarray,
                     pressure: np.ndarray, noise: np.ndarray, p: FirmParams) -> np.ndarray:
    """Banks' ranking of applicants (higher is served first): minus the expected loss the
    bank bears — the default risk it reads off the score, less the share of a state-owned
    firm's default the state is expected to make good (the implicit guarantee) — plus the
    officials' pressure for politically connected firms, plus the bank's judgement noise.
    With no guarantee and no pressure, ownership and connection do not enter."""
    risk = sigmoid(p.risk_intercept + p.score_weight * (p.score_base - score) / 10.0)
    return (-risk * (1.0 - p.implicit_guarantee * state_owned) + pressure * connected
            + p.lending_noise * noise)


class CorporateCredit(RunsRegions, Module):
    name = "corporate_credit"
    switched_by = "firms"
    role = Role.SYSTEM
    phase = Phase.SANCTION
    doc = "Corporate score, blacklist, procurement bans, and bank lending (follows firms)."
    owns: ClassVar = (
        ArraySpec("firms.cscore", "money", "firms", False, "corporate credit score"),
        ArraySpec("firms.listed", "flag", "firms", False, "on the corporate blacklist"),
        ArraySpec("firms.loan_due", "day_u16", "firms", False, "loan due day", fill=NEVER),
        ArraySpec("firms.loan_amount", "money", "firms", False, "outstanding loan"),
        ArraySpec("firms.loan_day", "day", "firms", False, "day the loan was made", fill=-1),
    )
    reads = ("firms.record_bits", "firms.complaints?", "firms.state_owned", "firms.size",
             "firms.region", "firms.applying", "firms.connected", "firms.withdrawn_bits?",
             "regions.lending_pressure?", "people.region")
    #: on a partition: every firm scored and ranked alike (the officials' part exchanged),
    #: so the national rationing and procurement draws are the whole run's; counts its own
    partitionable = True
    streams = (StreamSpec("draws", LAYOUT, "credit rationing, bank noise, procurement"),)
    counters = (
        CounterSpec("procurement_contracts", "public contracts awarded (winner's cell)"),
        CounterSpec("procurement_blocked", "contract draws that fell on a listed firm"),
    )

    def setup(self, world) -> None:
        self.p = firm_params(world.scenario)
        world.array("firms.cscore")[:] = self.p.score_base
        world.state["complaints"] = np.zeros(world.counts["firms"], dtype=np.int64)
        self.cells = firm_cells(world)
        self.own = own_firms(world)
        self.recover = 1.0 - math.exp(-1.0 / self.p.restore_days)

    def step(self, world, day: int) -> None:
        p = self.p
        st = world.stream("draws")
        nf = world.counts["firms"]
        if nf == 0:
            return
        firms = np.arange(nf, dtype=np.int64)
        score = world.array("firms.cscore")
        score += (p.score_base - score) * self.recover
        bits = world.array("firms.record_bits")
        points = p.vector("points", "loan_default")
        hit = (bits & np.uint8(1 << BIT_JUDGMENT)) != 0
        score[hit] -= p.points.get("judgment", 0.0)
        withdrawn = world.optional("firms.withdrawn_bits")
        if withdrawn is not None:  # yesterday's records dropped today: points back, decayed
            for k in range(len(DOMAINS)):
                score[(withdrawn & np.uint8(1 << k)) != 0] += points[k] * (1.0 - self.recover)
        for k in range(len(DOMAINS) + 1):  # domains, then loan default (bit 4)
            hit = (bits & np.uint8(1 << k)) != 0
            score[hit] -= points[k]
        complaints = world.optional("firms.complaints")
        if complaints is not None:
            c_now = complaints.astype(np.int64)
            score -= p.points.get("complaint", 0.0) * (c_now - world.state["complaints"])
            world.state["complaints"] = c_now
        listed = world.array("firms.listed")
        listed[:] = score < p.black_threshold
        due = world.array("firms.loan_due")
        ended = due == day
        due[ended] = NEVER
        world.array("firms.loan_amount")[ended] = 0.0
        # lending: ration credit among today's applicants by the banks' ranking
        app = world.array("firms.applying") & (due == NEVER)
        if p.ban_loans:
            app &= ~listed
        idx = firms[app]
        if idx.size:
            cap_f = p.credit_share * idx.size
            cap = int(cap_f) + int(st.bernoulli(day, LAYOUT.pack(purpose=P_CAP),
                                                np.zeros(1, np.int64), cap_f - int(cap_f))[0])
            noise = st.normal(day, LAYOUT.pack(purpose=P_NOISE), idx)
            pressure = world.optional("regions.lending_pressure")
            press = (np.zeros(idx.size) if pressure is None else
                     pressure[world.array("firms.region")[idx]].astype(np.float64))
            prio = lending_priority(score[idx].astype(np.float64),
                                    world.array("firms.state_owned")[idx].astype(np.float64),
                                    world.array("firms.connected")[idx].astype(np.float64),
                                    press, noise, p)
            order = np.lexsort((idx, -prio))
            won = idx[order[:cap]]
            end = day + p.loan_term
            due[won] = NEVER if end >= NEVER else end
            world.array("firms.loan_amount")[won] = p.loan_size * world.array("firms.size")[won]
            world.array("firms.loan_day")[won] = day
        # procurement: contracts drawn over firms; a listed firm is banned
        lam = p.procurement_rate * nf
        k = int(st.poisson(day, LAYOUT.pack(purpose=P_PROC_N), np.zeros(1, np.int64), lam)[0])
        if k:
            w = st.words(day, LAYOUT.pack(purpose=P_PROC_WHO), np.arange(k, dtype=np.int64))
            who = ((w[:, 0].astype(np.uint64) * np.uint64(nf)) >> np.uint64(32)).astype(np.int64)
            who = who[self.own[who]]
            world.counters.add_cells("procurement_contracts", self.cells[who[~listed[who]]])
            world.counters.add_cells("procurement_blocked", self.cells[who[listed[who]]])


def auc(score: np.ndarray, positive: np.ndarray) -> float | None:
    """P(score of a negative > score of a positive) + ½ P(tie): how well a *high* score
    predicts *no* default (misconduct). The Mann–Whitney U of the negatives' scores over
    the positives' (sum of the negatives' average ranks − n(n+1)/2, as
    ``scipy.stats.mannwhitneyu`` computes it; ranks are half-integers, so the sum is exact),
    divided by the number of pairs. NumPy only: SciPy's import would dominate a small run."""
    score = np.asarray(score, dtype=np.float64)
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(score, kind="stable")
    s = score[order]
    first = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    counts = np.diff(first, append=s.size)
    ranks = np.empty(s.size, dtype=np.float64)
    ranks[order] = np.repeat(first + 1 + (counts - 1) / 2.0, counts)
    u = ranks[~positive].sum() - n_neg * (n_neg + 1) / 2
    return float(u / (n_pos * n_neg))


class FirmMetrics(RunsRegions, Module):
    name = "firm_metrics"
    switched_by = "firms"
    role = Role.OBSERVER
    phase = Phase.OBSERVE
    doc = "Credit allocation against productivity, listing of compliant firms, score AUC."
    reads = ("firms.return_rate", "firms.applying", "firms.loan_day", "firms.loan_amount",
             "firms.loan_due", "firms.cscore", "firms.listed", "firms.state_owned",
             "firms.loan_outcome", "firms.last_violation", "firms.region", "firms.size",
             "people.region")
    #: on a partition: counts its own regions' firms; every partition holds every firm
    #: alike, so its corporate-score AUCs over all firms are the whole run's
    partitionable = True
    counters = (
        CounterSpec("credit_lent", "credit lent to firms (money)", real=True),
        CounterSpec("credit_lent_soe", "credit lent to state-owned firms (money)", real=True),
        CounterSpec("loans_soe", "loans made to state-owned firms"),
        CounterSpec("loans_private", "loans made to private firms"),
        CounterSpec("applications_soe", "applications by state-owned firms (firm-days)"),
        CounterSpec("applications_private", "applications by private firms (firm-days)"),
        CounterSpec("credit_output", "output of the credit lent: amount × return", real=True),
        CounterSpec("credit_output_best", "output had the same credit gone to the most "
                    "productive applicants of the region first", real=True),
        CounterSpec("credit_output_lost", "best − actual output", real=True),
        CounterSpec("firm_loans_matured", "firm loans that fell due"),
        CounterSpec("firm_loans_defaulted", "firm loans defaulted"),
        CounterSpec("firm_listed_days", "listed firm-days"),
        CounterSpec("firm_listed_clean_days", "listed firm-days of firms with no violation "
                    "in the past year"),
    )
    metrics = (
        MetricDef("loan_share_state_owned", "credit_lent_soe", "credit_lent",
                  "share of credit lent to state-owned firms",
                  theme="economy", unit="credit lent soe per credit lent"),
        MetricDef("approval_rate_state_owned", "loans_soe", "applications_soe",
                  "share of state-owned firms' applications granted",
                  theme="economy", unit="loans soe per applications soe"),
        MetricDef("approval_rate_private", "loans_private", "applications_private",
                  "share of private firms' applications granted",
                  theme="economy", unit="loans private per applications private"),
        MetricDef("loans_to_less_productive", "credit_output_lost", "credit_output_best",
                  "output lost against lending the same credit to the most productive "
                  "applicants first, as a share of that best output",
                  theme="economy", unit="credit output lost per credit output best"),
        MetricDef("firm_default_rate", "firm_loans_defaulted", "firm_loans_matured",
                  "share of firm loans defaulted",
                  theme="economy", unit="firm loans defaulted per firm loans matured"),
        MetricDef("firm_listed_share", "firm_listed_days", "firm_days",
                  "share of firm-days on the corporate blacklist",
                  theme="governance", unit="share"),
        MetricDef("compliant_firms_listed", "firm_listed_clean_days", "firm_listed_days",
                  "share of listed firm-days of firms with no violation in the past year",
                  theme="harm", unit="firm listed clean days per firm listed days"),
    )

    def setup(self, world) -> None:
        self.cells = firm_cells(world)
        self.own = own_firms(world)
        self.region = world.array("firms.region").astype(np.int64)
        self.ref = world.group_names.index(world.scenario.population.reference_group)
        p = firm_params(world.scenario)
        self.loan_size = p.loan_size
        self.horizon, self.interval = p.misconduct_horizon_days, p.auc_interval_days
        t = world.scenario.time
        self.burn_in, self.last_day = t.burn_in, t.burn_in + t.days - 1
        nf = world.counts["firms"]
        st = world.state
        st["score_at_issue"] = np.zeros(nf, dtype=np.float64)
        st["auc_scores"], st["auc_defaults"] = [], []
        st["snapshots"] = {}  # day → scores of all firms, awaiting their misconduct window
        st["mis_scores"], st["mis_outcomes"] = [], []

    def step(self, world, day: int) -> None:
        c = world.counters
        st = world.state
        ret = world.array("firms.return_rate").astype(np.float64)
        amount = world.array("firms.loan_amount").astype(np.float64)
        new = np.flatnonzero(world.array("firms.loan_day") == day)
        out = world.array("firms.loan_outcome")
        matured = np.flatnonzero(out != 0)
        if matured.size:
            dflt = out[matured] == 2
            if day >= self.burn_in:  # every firm's: the AUC is over all firms
                st["auc_scores"].append(st["score_at_issue"][matured].copy())
                st["auc_defaults"].append(dflt)
            mine = self.own[matured]
            matured, dflt = matured[mine], dflt[mine]
            c.add_cells("firm_loans_matured", self.cells[matured])
            c.add_cells("firm_loans_defaulted", self.cells[matured[dflt]])
        self._misconduct_window(world, day)
        app = np.flatnonzero(world.array("firms.applying") & self.own)
        if app.size:
            soe = world.array("firms.state_owned")[app]
            c.add_cells("applications_soe", self.cells[app[soe]])
            c.add_cells("applications_private", self.cells[app[~soe]])
        if new.size:
            st["score_at_issue"][new] = world.array("firms.cscore")[new]
            new = new[self.own[new]]
        if new.size:
            soe = world.array("firms.state_owned")[new]
            c.add_cells("credit_lent", self.cells[new], amount[new])
            c.add_cells("credit_lent_soe", self.cells[new[soe]], amount[new[soe]])
            c.add_cells("loans_soe", self.cells[new[soe]])
            c.add_cells("loans_private", self.cells[new[~soe]])
            c.add_cells("credit_output", self.cells[new], amount[new] * ret[new])
            self._benchmark(world, new, ret, amount)
        listed = np.flatnonzero(world.array("firms.listed") & self.own)
        if listed.size:
            c.add_cells("firm_listed_days", self.cells[listed])
            last = world.array("firms.last_violation")[listed].astype(np.int64)
            clean = (last < 0) | (last < day - 365)
            c.add_cells("firm_listed_clean_days", self.cells[listed[clean]])

    def _misconduct_window(self, world, day: int) -> None:
        """Every ``auc_interval_days`` of the measured period, keep every firm's score; when
        its ``misconduct_horizon_days`` have passed, pair it with whether the firm
        violated (truth) in the days after. Windows that would outrun the run are not
        opened, so the figure does not depend on the run's length."""
        st = world.state
        snaps = st["snapshots"]
        opened = day - self.horizon
        if opened in snaps:
            last = world.array("firms.last_violation").astype(np.int64)
            st["mis_scores"].append(snaps.pop(opened))
            st["mis_outcomes"].append(last > opened)
        if (day >= self.burn_in and (day - self.burn_in) % self.interval == 0
                and day + self.horizon <= self.last_day):
            snaps[day] = world.array("firms.cscore").astype(np.float64)

    def _benchmark(self, world, new, ret, amount) -> None:
        """Per region: the same credit, lent greedily to the day's applicants with the
        highest return (each at the loan it asked for, the last one split), is the best
        output the day's applicants allowed."""
        app = np.union1d(np.flatnonzero(world.array("firms.applying")), new)
        ask = self.loan_size * world.array("firms.size")[app].astype(np.float64)
        n_cells = len(world.group_names) * world.n_regions
        best = np.zeros(n_cells)
        actual = np.zeros(n_cells)
        np.add.at(actual, self.cells[new], amount[new] * ret[new])
        for r in unique(self.region[new]):  # loop over regions
            credit = amount[new[self.region[new] == r]].sum()
            sel = self.region[app] == r
            cand, want = app[sel], ask[sel]
            order = np.argsort(-ret[cand], kind="stable")
            cum = np.cumsum(want[order])
            take = np.clip(credit - (cum - want[order]), 0.0, want[order])
            best[self.ref * world.n_regions + r] += float((take * ret[cand][order]).sum())
        c = world.counters
        c.add_vector("credit_output_best", best)
        c.add_vector("credit_output_lost", np.maximum(best - actual, 0.0))

    final_metric_defs = (
        FinalMetricDef("corporate_score_auc", "how well the corporate score ranks firms that later default (AUC)",
                       theme="governance", unit="area under the ROC curve (0.5 = chance)"),
        FinalMetricDef("corporate_score_auc_misconduct", "how well the corporate score ranks firms by later misconduct (AUC)",
                       theme="governance", unit="area under the ROC curve (0.5 = chance)"),
    )

    def final_metrics(self, world) -> dict:
        st = world.state

        def pooled(scores, outcomes):
            if not scores:
                return None
            return auc(np.concatenate(scores), np.concatenate(outcomes))

        return {"corporate_score_auc": pooled(st["auc_scores"], st["auc_defaults"]),
                "corporate_score_auc_misconduct": pooled(st["mis_scores"],
                                                         st["mis_outcomes"])}

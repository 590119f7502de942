"""Debts as stocks: loans and court judgments with an amount and an ability to pay.

A ``borrow`` act (an opportunity taken in the behaviour module) opens a loan of
``loan_size_days × income × LogNormal(0, 0.5)`` due after ``loan_term`` days. At each
decision point (the due day, the judgment deadline, then every ``recheck_days``):

* the debtor is **able** to pay with probability ``a = 1 − exp(−capacity_days · y / D)``
  (income y, debt D) — drawn at the due day; at later checks the last answer persists
  with probability ``ability_persistence`` and is drawn anew otherwise (inability is
  persistent, not a daily coin flip);
* an able debtor **refuses** (strategic default) with the random-utility probability of a
  violation whose gain is the debt in days of income: ``σ(α_d + D/(y·g) − β h − δ π S^γ)``,
  g = ``refusal_gain_days``, S the perceived sanction of ``judgment_refusal``; otherwise
  pays (compliance);
* stages: loan → (paid | ``loan_default``) → judgment with probability ``sue_probability``
  (else arrears, sued later at the same rate per check) → at the judgment deadline
  ``judgment_paid``, ``judgment_refusal`` (able, refuses: unlawful) or ``judgment_unable``
  (cannot pay: lawful under the reference norm) → rechecks until paid.

Debt is conserved: the total changes only by new borrowing and repayment (counters
``debt_borrowed`` and ``debt_repaid``; an accounting test checks it).
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

import numba as nb
import numpy as np
from pydantic import Field

from scslab.incentives import public_detection_signal, relative_detection
from scslab.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.modules.behaviour import BehaviourParams, violation_probability
from scslab.modules.learning import LearningParams, perceived_now
from scslab.rng import SlotLayout, StreamSpec, k_uniform
from scslab.scenario.schema import ModuleParams
from scslab.schema import ACT_LAYOUT, Table, dtype

LAYOUT = SlotLayout((("purpose", 8), ("stage", 8)))
P_AMOUNT, P_ABLE, P_REFUSE, P_SUE, P_INITIAL, P_INITIAL_DUE, P_INITIAL_AMOUNT = 1, 2, 3, 4, 5, 6, 7
P_KEEP = 8

NONE, LOAN, JUDGMENT, ARREARS, JUDGMENT_ARREARS = 0, 1, 2, 3, 4
NEVER = 0xFFFF
DEBT_ACTS = ("borrow", "loan_repaid", "loan_default", "judgment_paid", "judgment_refusal",
             "judgment_unable")
# outcome codes of the kernel
O_NOTHING, O_LOAN_REPAID, O_LOAN_DEFAULT, O_JUDGMENT_PAID, O_REFUSAL, O_UNABLE = 0, 1, 2, 3, 4, 5
#: rows of the per-cell counts ``_checks`` returns
CHECK_COUNTERS = ("debt_checks", "debt_payments", "debt_repaid", "debt_refusals", "debt_unable")

Positive = Annotated[float, Field(gt=0.0)]
Prob = Annotated[float, Field(ge=0.0, le=1.0)]


class DebtParams(ModuleParams):
    loan_size_days: Positive = 20.0  # loan in days of the borrower's income (median)
    loan_size_sigma: Annotated[float, Field(ge=0.0)] = 0.5
    loan_term: Annotated[int, Field(ge=1)] = 180
    capacity_days: Positive = 30.0  # ability to pay: 1 − exp(−capacity · income / debt)
    refusal_intercept: float = 0.0  # α_d
    refusal_gain_days: Annotated[float, Field(gt=0.0)] = 20.0  # debt in days of income per logit unit
    sue_probability: Prob = 0.5
    judgment_deadline: Annotated[int, Field(ge=1)] = 90
    recheck_days: Annotated[int, Field(ge=1)] = 30
    initial_debtor_share: Prob = 0.05  # share holding a loan at day 0
    ability_persistence: Prob = 0.97  # chance the last ability to pay still holds at a check


@nb.njit(cache=True)
def _checks(k0, k1, day, debt, stage, due, able_now, income, honesty, aware, pd, pd_day, ps,
            pub_target, pub_rate, rel_det_refusal, s_aware, s_unaware, alpha_d, gain_days, beta,
            delta, gamma, capacity, sue_p, deadline, recheck, persistence, cell,
            n_cells):  # pragma: no cover
    """Today's decision points, found by a scan of ``due`` here, in person order. Returns
    the people with an outcome to emit and its code, and counts by cell (rows:
    CHECK_COUNTERS, summed in person order)."""
    k = 0
    for i in range(due.shape[0]):
        k += due[i] == day
    due_people = np.empty(k + 1, dtype=np.int32)  # + 1: the branch-free fill writes one past
    k = 0
    for i in range(due.shape[0]):
        due_people[k] = i  # kept only if due
        k += due[i] == day
    outcome = np.zeros(k, dtype=np.int8)
    counts = np.zeros((len(CHECK_COUNTERS), n_cells))
    for j in range(k):
        i = due_people[j]
        st = stage[i]
        if st == NONE:
            continue
        c = cell[i]
        counts[0, c] += 1.0
        d = debt[i]
        able_p = 1.0 - math.exp(-capacity * income[i] / max(d, 1e-9))
        if st != LOAN and k_uniform(k0, k1, day, (P_KEEP << 8) | st, i) < persistence:
            able = able_now[i]  # circumstances persist between checks
        else:
            able = k_uniform(k0, k1, day, (P_ABLE << 8) | st, i) < able_p
        able_now[i] = able
        refuse = False
        if able:
            p_now = perceived_now(pd, pd_day, aware, i, day, pub_target, pub_rate)
            if aware[i]:
                pdet = min(1.0, p_now * rel_det_refusal)
                s = s_aware
            else:
                pdet = p_now
                s = s_unaware
            p_ref = violation_probability(alpha_d, d / max(income[i], 1e-9), gain_days,
                                          beta * honesty[i], delta, pdet, s * ps[i], gamma)
            refuse = k_uniform(k0, k1, day, (P_REFUSE << 8) | st, i) < p_ref
        pays = able and not refuse
        if pays:
            if d > 0:
                counts[1, c] += 1.0
                counts[2, c] += d
            debt[i] = 0.0
            stage[i] = NONE
            due[i] = NEVER
            outcome[j] = O_LOAN_REPAID if (st == LOAN or st == ARREARS) else O_JUDGMENT_PAID
            continue
        if st == LOAN or st == ARREARS:
            if st == LOAN:
                outcome[j] = O_LOAN_DEFAULT
            sued = k_uniform(k0, k1, day, (P_SUE << 8) | st, i) < sue_p
            if sued:
                stage[i] = JUDGMENT
                nxt = day + deadline
            else:
                stage[i] = ARREARS
                nxt = day + recheck
        else:  # JUDGMENT deadline or a recheck in judgment arrears
            if st == JUDGMENT:
                outcome[j] = O_REFUSAL if able else O_UNABLE
                counts[3 if able else 4, c] += 1.0
            stage[i] = JUDGMENT_ARREARS
            nxt = day + recheck
        due[i] = NEVER if nxt >= NEVER else nxt
    emit = np.flatnonzero(outcome)
    return due_people[emit], outcome[emit], counts


class Debts(Module):
    name = "debts"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    Params = DebtParams
    doc = "Loans and judgments as stocks with an ability to pay; pay, default or refuse."
    owns: ClassVar = (
        ArraySpec("people.debt", "money", "people", True, "outstanding debt (money)"),
        ArraySpec("people.debt_stage", "code", "people", True,
                  "0 none, 1 loan, 2 judgment, 3 loan arrears, 4 judgment arrears"),
        ArraySpec("people.debt_due", "day_u16", "people", True, "next decision day",
                  fill=NEVER),
        ArraySpec("people.debt_able", "flag", "people", True,
                  "able to pay at the last decision point", fill=1),
    )
    reads = ("acts", "people.income", "people.honesty", "people.aware", "people.cell",
             "people.perceived_detection@prev", "people.perceived_day@prev",
             "people.perceived_sanction@prev")
    appends = ("acts",)
    streams = (StreamSpec("draws", LAYOUT, "loan sizes, ability to pay, refusal, suing"),)
    counters = (
        CounterSpec("debt_borrowed", "money lent (new loans)", real=True),
        CounterSpec("debt_repaid", "money repaid", real=True),
        CounterSpec("debt_checks", "debt decision points (due days, deadlines, rechecks)"),
        CounterSpec("debt_payments", "decision points at which the debtor paid"),
        CounterSpec("debt_refusals", "judgment deadlines refused by an able debtor"),
        CounterSpec("debt_unable", "judgment deadlines missed by a debtor unable to pay"),
    )
    metrics = ()

    @classmethod
    def check_params(cls, params, scenario):
        if params.enabled:
            missing = [a for a in DEBT_ACTS if a not in scenario.acts]
            if missing:
                raise ValueError(f"enabled: debts need the acts {missing} in the catalogue")
        return params

    def setup(self, world) -> None:
        cat = world.catalogue
        self.code = {name: int(cat.code[cat.position(name)]) for name in DEBT_ACTS}
        # act code and venue by outcome code (O_*)
        self.act_of = np.array([0, self.code["loan_repaid"], self.code["loan_default"],
                                self.code["judgment_paid"], self.code["judgment_refusal"],
                                self.code["judgment_unable"]], dtype=dtype("code"))
        self.venue_of = cat.venue[cat.position_of_code[self.act_of]]
        b = BehaviourParams.model_validate(world.scenario.modules.get("behaviour", {}))
        lp = LearningParams.model_validate(world.scenario.modules.get("learning", {}))
        self.behaviour = b
        self.pub_rate = lp.public_rate if lp.enabled else 0.0
        cons = world.consequences
        self.pub_target = public_detection_signal(cons, cat)
        r = cat.position("judgment_refusal")
        self.rel_det = relative_detection(cons.detection[r], self.pub_target)
        self.s_aware = float(cons.sanction[r])
        self.s_unaware = float(cat.penalty[r])
        # an initial stock of loans, due over the first term
        n = world.counts["people"]
        people = np.arange(n, dtype=np.int64)
        st = world.stream("draws")
        has = st.bernoulli(0, LAYOUT.pack(purpose=P_INITIAL), people, self.params.initial_debtor_share)
        idx = people[has]
        if idx.size:
            amount = self._amount(world, 0, idx, P_INITIAL_AMOUNT)
            u = st.uniform(0, LAYOUT.pack(purpose=P_INITIAL_DUE), idx)
            world.array("people.debt")[idx] = amount
            world.array("people.debt_stage")[idx] = LOAN
            world.array("people.debt_due")[idx] = np.floor(u * self.params.loan_term).astype(
                np.uint16)
        world.state["initial_debt"] = float(world.array("people.debt").sum(dtype=np.float64))

    def _amount(self, world, day, people, purpose) -> np.ndarray:
        p = self.params
        z = world.stream("draws").normal(day, LAYOUT.pack(purpose=purpose), people)
        income = world.array("people.income")[people].astype(np.float64)
        return (p.loan_size_days * income * np.exp(p.loan_size_sigma * z)).astype(np.float32)

    def step(self, world, day: int) -> None:
        p = self.params
        debt = world.array("people.debt")
        stage = world.array("people.debt_stage")
        due = world.array("people.debt_due")
        cell = world.array("people.cell")
        c = world.counters
        acts = world.events("acts")
        borrowers = acts["actor"][acts["act"] == self.code["borrow"]].astype(np.int64)
        borrowers = borrowers[stage[borrowers] == NONE]
        if borrowers.size:
            amount = self._amount(world, day, borrowers, P_AMOUNT)
            debt[borrowers] = amount
            stage[borrowers] = LOAN
            end = day + p.loan_term
            due[borrowers] = NEVER if end >= NEVER else end
            c.add_cells("debt_borrowed", cell[borrowers], amount.astype(np.float64))
        b = self.behaviour
        st = world.stream("draws")
        who, outcome, counts = _checks(
            st.k0, st.k1, np.int64(day), debt, stage, due, world.array("people.debt_able"),
            world.array("people.income"), world.array("people.honesty"),
            world.array("people.aware"), world.array("people.perceived_detection"),
            world.array("people.perceived_day"), world.array("people.perceived_sanction"),
            self.pub_target, self.pub_rate, self.rel_det, self.s_aware, self.s_unaware,
            p.refusal_intercept, p.refusal_gain_days, b.moral_weight, b.deterrence_weight,
            b.severity_exponent, p.capacity_days, p.sue_probability, p.judgment_deadline,
            p.recheck_days, p.ability_persistence, cell, c.n_cells,
        )
        if counts[0].any():
            for name, per_cell in zip(CHECK_COUNTERS, counts, strict=True):
                c.add_vector(name, per_cell)
        if who.size:
            world.append("acts", Table.from_columns(
                ACT_LAYOUT,
                actor=who,
                act=self.act_of[outcome],
                venue=self.venue_of[outcome],
                counterparty=np.full(who.size, -1, dtype=dtype("uid")),
                ordinal=np.zeros(who.size, dtype=dtype("code")),
            ))

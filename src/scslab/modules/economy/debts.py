"""Debts as stocks: loans and court judgments, the debtor's means, and the cost of refusing.

A ``borrow`` act opens a loan of ``loan_size_days × y × LogNormal(0, loan_size_sigma)``
(y the borrower's daily income) due after ``loan_term`` days, and with it the debtor's
**means**, a stock that moves: liquid assets ``asset_days × y × LogNormal(0, asset_sigma)``
drawn at opening, plus savings of ``saving_rate × y`` a day since, plus kin support of
``kin_support_days`` days of the other household members' income. At each decision point
(the due day, the judgment deadline, then every ``recheck_days``):

* the debtor is **able** to pay iff means ≥ debt D (inability persists until the means
  have grown; no fresh coin at every check);
* an able debtor **refuses** — hides the means — iff ``u < σ(α_d + (D − κ C)/(y g) − β h)``,
  g = ``refusal_gain_days``, β h the moral cost (behaviour's ``moral_weight`` × honesty),
  κ = ``sanction_weight`` and C the perceived cost of not paying (money):

  - while on a list that payment ends (a debtor list), **the cost of staying listed**:
    ``C = PV(c, h)``, c the daily cost of the punitive measures that listing triggers for
    this person — in force, so felt, not guessed (share of income lost × y + gains of
    blocked acts forgone, ``apparatus.listing_cost_tables``), h the days left on the
    listing, PV discounted at the sanctions' ``discount_per_day`` — pay to exit;
  - otherwise the expected cost of the refusal being recorded: ``C = π (P + ψ A)``, P the
    legal penalty of ``judgment_refusal``, A the apparatus's nominal sanction of it (the
    listing's present value), ψ the person's perceived weight of the apparatus's sanctions
    (learned, ``learning``), π perceived detection — scaled for the informed by the act's
    relative detectability;

  u is the debtor's **type**: with probability ``type_persistence`` the uniform drawn once
  for the episode (at the loan's opening), otherwise a fresh one — so a refuser stays a
  refuser unless what refusing costs changes;
* stages: loan → (paid | ``loan_default``) → judgment with probability ``sue_probability``
  (else arrears, sued later at the same rate per check) → at the judgment deadline
  ``judgment_paid``, ``judgment_refusal`` (able, refuses: unlawful) or ``judgment_unable``
  (cannot pay: lawful under the reference norm) → rechecks until paid, or written off
  ``write_off_days`` after the judgment if the scenario says so.

Per-episode estimands (``docs/metrics.md``): each judgment is resolved once, as repaid
within ``REPAY_HORIZON`` days of the judgment or not, counted on the day it resolves.

The lender's price enters the stock: a loan granted at an APR (``lending``: prime, priced,
informal; ``people.loan_terms``) accrues simple interest into what is owed at each decision
point, ``D ← D (1 + APR · Δt / 365)``, Δt the days since the last accrual (the opening,
then the previous check) — so a priced loan is harder to repay out of the same means.

Debt is conserved: the total changes only by new borrowing, interest, repayment and
write-off (counters ``debt_borrowed``, ``debt_interest``, ``debt_repaid``,
``debt_written_off``; a test checks it). Nobody pays more than they owe, and only out of
their means (what an able refuser hides is the whole of them).
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numba as nb
import numpy as np
from pydantic import Field

from scslab.core.apparatus import ListParams, SanctionParams, listing_cost_tables
from scslab.core.incentives import public_detection_by_venue
from scslab.core.layouts import ACT_LAYOUT, Table, dtype
from scslab.core.metrics import MetricDef
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.core.population import cut_refusal
from scslab.core.scenario_schema import ModuleParams
from scslab.modules.economy.debt_bundles import DebtBook, Debtors, Households, ListCosts, LoanPrices
from scslab.modules.economy.lending import apr_by_terms, lender_params
from scslab.modules.people.behaviour import BehaviourParams
from scslab.modules.people.learning import LearningParams, perceived_now
from scslab.numerics.rng import SlotLayout, StreamSpec, k_uniform

LAYOUT = SlotLayout((("purpose", 8), ("stage", 8)))
P_AMOUNT, P_REFUSE, P_SUE, P_INITIAL, P_INITIAL_DUE, P_INITIAL_AMOUNT = 1, 3, 4, 5, 6, 7
P_KEEP, P_ASSETS, P_TYPE, P_INITIAL_ASSETS = 8, 9, 10, 11

NONE, LOAN, JUDGMENT, ARREARS, JUDGMENT_ARREARS = 0, 1, 2, 3, 4
NEVER = 0xFFFF
#: days after the judgment within which a repayment counts for the *_repaid_365 estimands
REPAY_HORIZON = 365
# episode flags (people.debt_episode)
ABLE_AT_JUDGMENT, LISTED_SEEN, RESOLVED = 1, 2, 4
DEBT_ACTS = ("borrow", "loan_repaid", "loan_default", "judgment_paid", "judgment_refusal",
             "judgment_unable")
# outcome codes of the kernel
O_NOTHING, O_LOAN_REPAID, O_LOAN_DEFAULT, O_JUDGMENT_PAID, O_REFUSAL, O_UNABLE = 0, 1, 2, 3, 4, 5
#: rows of the per-cell counts ``_checks`` returns
CHECK_COUNTERS = ("debt_checks", "debt_repaid", "debt_refusals", "debt_unable",
                  "debt_written_off", "debt_able_decisions", "debt_able_refusals",
                  "judgments_resolved", "judgments_repaid_365",
                  "able_judgments_resolved", "able_judgments_repaid_365",
                  "listed_judgments_resolved", "listed_judgments_repaid_365", "debt_interest")
(C_CHECKS, C_REPAID, C_REFUSALS, C_UNABLE, C_WRITTEN_OFF, C_ABLE, C_ABLE_REFUSE, C_RES,
 C_RES_PAID, C_ABLE_RES, C_ABLE_RES_PAID, C_LISTED_RES, C_LISTED_RES_PAID,
 C_INTEREST) = range(14)
#: positions in the scalar coefficient vector handed to ``_checks``
(K_ALPHA, K_GAIN_DAYS, K_BETA, K_KAPPA, K_SUE, K_DEADLINE, K_RECHECK, K_PERSIST, K_SAVING,
 K_KIN, K_WRITE_OFF, K_DISCOUNT, K_PUB_TARGET, K_PUB_RATE, K_REL_DET, K_PENALTY,
 K_SYSTEM) = range(17)

Positive = Annotated[float, Field(gt=0.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Prob = Annotated[float, Field(ge=0.0, le=1.0)]


class DebtParams(ModuleParams):
    loan_size_days: Positive = 20.0  # loan in days of the borrower's income (median)
    loan_size_sigma: NonNeg = 0.5
    loan_term: Annotated[int, Field(ge=1)] = 180
    asset_days: Positive = 30.0  # liquid assets at opening, days of income (median)
    asset_sigma: NonNeg = 1.0
    saving_rate: NonNeg = 0.05  # share of daily income added to the means each day
    kin_support_days: NonNeg = 0.0  # days of housemates' income they would lend
    refusal_intercept: float = 0.0  # α_d
    refusal_gain_days: Positive = 20.0  # g: debt in days of income per logit unit
    sanction_weight: NonNeg = 0.07  # κ (calibrated: SPC, listed debtors who complied ≈ 0.27)
    type_persistence: Prob = 0.99  # chance a decision uses the episode's own type draw
    sue_probability: Prob = 0.5
    judgment_deadline: Annotated[int, Field(ge=1)] = 90
    recheck_days: Annotated[int, Field(ge=1)] = 30
    write_off_days: Annotated[int, Field(ge=1)] | None = 730  # after the judgment; None: never
    initial_debtor_share: Prob = 0.05  # share holding a loan at day 0


@nb.njit(inline="always", cache=True)
def _means(i, day, assets, opened, income, saving, kin, hh_offsets, hh_members,
           household):  # pragma: no cover - compiled
    """Means today: assets at opening + savings since + kin support."""
    m = assets[i] + saving * income[i] * (day - opened[i])
    if kin > 0.0:
        h = household[i]
        for k in range(hh_offsets[h], hh_offsets[h + 1]):
            mate = hh_members[k]
            if mate != i:
                m += kin * income[mate]
    return m


@nb.njit(inline="always", cache=True)
def _listing_cost(i, day, listed, until, debtor_codes, debtor_rows, income_share, forgone,
                  income, discount):  # pragma: no cover - compiled
    """Present value of staying on the debtor lists ``i`` is on now (0 if on none)."""
    if listed.shape[0] == 0:
        return 0.0, False
    m = listed[i]
    per_day = income_share[m] * income[i] + forgone[m]
    left = 0
    on = False
    for j in range(debtor_codes.shape[0]):
        if (m >> debtor_codes[j]) & 1:
            on = True
            end = until[debtor_rows[j], i]
            if end != NEVER and end > day and end - day > left:
                left = end - day
    if per_day <= 0.0 or left == 0:
        return 0.0, on
    if discount >= 1.0:
        return per_day * left, on
    return per_day * (1.0 - discount**left) / (1.0 - discount), on


@nb.njit(cache=True)
def _checks(k0, k1, day, coef, slot, book, prices, debtors, lists, homes,
            n_cells, uids):  # pragma: no cover - compiled
    """Today's decision points, found by a scan of ``due`` here, in person order. Returns
    the people with an outcome to emit and its code, and counts by cell (rows:
    CHECK_COUNTERS, summed in person order). ``book``, ``prices``, ``debtors``, ``lists``,
    ``homes``: :class:`DebtBook`, :class:`LoanPrices`, :class:`Debtors`,
    :class:`ListCosts`, :class:`Households` (``debt_bundles.py``). Draws are keyed by
    the person's uid (``uids[i]`` on a partition; ``uids`` empty: the row)."""
    debt, stage, due, able_now, assets, opened, judged, episode, accrued = book
    terms, apr_of = prices
    income, honesty, aware, pd, pd_day, ps, cell = debtors
    listed, until, debtor_codes, debtor_rows, income_share, forgone = lists
    hh_offsets, hh_members, household = homes
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
    write_off = int(coef[K_WRITE_OFF])
    for j in range(k):
        i = due_people[j]
        st = stage[i]
        if st == NONE:
            continue
        uid = np.int64(i) if uids.shape[0] == 0 else uids[i]
        c = cell[i]
        counts[C_CHECKS, c] += 1.0
        if terms.shape[0]:  # the lender's price: simple interest since the last accrual
            rate = apr_of[terms[i]]
            if rate > 0.0:
                before = np.float64(debt[i])
                debt[i] = before * (1.0 + rate * (day - accrued[i]) / 365.0)
                counts[C_INTEREST, c] += np.float64(debt[i]) - before
        accrued[i] = day
        d = debt[i]
        y = max(income[i], 1e-9)
        able = _means(i, day, assets, opened, income, coef[K_SAVING], coef[K_KIN], hh_offsets,
                      hh_members, household) >= d
        able_now[i] = able
        in_judgment = st == JUDGMENT or st == JUDGMENT_ARREARS
        listing, on_list = _listing_cost(i, day, listed, until, debtor_codes, debtor_rows,
                                         income_share, forgone, income, coef[K_DISCOUNT])
        refuse = False
        if able:
            if in_judgment and on_list:
                cost = listing  # the measures in force: pay to exit
            else:
                p_now = perceived_now(pd, pd_day, aware, i, slot, day, coef[K_PUB_TARGET],
                                      coef[K_PUB_RATE])
                pdet = min(1.0, p_now * coef[K_REL_DET]) if aware[i] else p_now
                cost = pdet * (coef[K_PENALTY] + ps[i] * coef[K_SYSTEM])
            z = (coef[K_ALPHA] + (d - coef[K_KAPPA] * cost) / (y * coef[K_GAIN_DAYS])
                 - coef[K_BETA] * honesty[i])
            p_ref = 1.0 / (1.0 + np.exp(-z))
            if k_uniform(k0, k1, day, (P_KEEP << 8) | st, uid) < coef[K_PERSIST]:
                u = k_uniform(k0, k1, np.int64(opened[i]), P_TYPE << 8, uid)  # the episode's type
            else:
                u = k_uniform(k0, k1, day, (P_REFUSE << 8) | st, uid)
            refuse = u < p_ref
            counts[C_ABLE, c] += 1.0
            if refuse:
                counts[C_ABLE_REFUSE, c] += 1.0
        pays = able and not refuse
        written_off = (not pays and in_judgment and write_off > 0
                       and day - judged[i] >= write_off)
        if in_judgment:
            fl = episode[i]
            if on_list:
                fl |= LISTED_SEEN
            age = day - judged[i]
            if (fl & RESOLVED) == 0 and (age > REPAY_HORIZON or pays or written_off):
                ok = 1.0 if (pays and age <= REPAY_HORIZON) else 0.0
                counts[C_RES, c] += 1.0
                counts[C_RES_PAID, c] += ok
                if fl & ABLE_AT_JUDGMENT:
                    counts[C_ABLE_RES, c] += 1.0
                    counts[C_ABLE_RES_PAID, c] += ok
                if fl & LISTED_SEEN:
                    counts[C_LISTED_RES, c] += 1.0
                    counts[C_LISTED_RES_PAID, c] += ok
                fl |= RESOLVED
            episode[i] = fl
        if pays or written_off:
            counts[C_REPAID if pays else C_WRITTEN_OFF, c] += d
            debt[i] = 0.0
            stage[i] = NONE
            due[i] = NEVER
            if pays:
                outcome[j] = O_JUDGMENT_PAID if in_judgment else O_LOAN_REPAID
            continue
        if st == LOAN or st == ARREARS:
            if st == LOAN:
                outcome[j] = O_LOAN_DEFAULT
            sued = k_uniform(k0, k1, day, (P_SUE << 8) | st, uid) < coef[K_SUE]
            if sued:
                stage[i] = JUDGMENT
                judged[i] = day
                episode[i] = ABLE_AT_JUDGMENT if able else 0
                nxt = day + int(coef[K_DEADLINE])
            else:
                stage[i] = ARREARS
                nxt = day + int(coef[K_RECHECK])
        else:  # JUDGMENT deadline or a recheck in judgment arrears
            if st == JUDGMENT:
                outcome[j] = O_REFUSAL if able else O_UNABLE
                counts[C_REFUSALS if able else C_UNABLE, c] += 1.0
            stage[i] = JUDGMENT_ARREARS
            nxt = day + int(coef[K_RECHECK])
        due[i] = NEVER if nxt >= NEVER else nxt
    emit = np.flatnonzero(outcome)
    return due_people[emit], outcome[emit], counts


class Debts(Module):
    name = "debts"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    Params = DebtParams
    doc = "Loans and judgments as stocks with means that move; pay, default or refuse."
    owns: ClassVar = (
        ArraySpec("people.debt", "money", "people", True, "outstanding debt (money)"),
        ArraySpec("people.debt_stage", "code", "people", True,
                  "0 none, 1 loan, 2 judgment, 3 loan arrears, 4 judgment arrears"),
        ArraySpec("people.debt_due", "day_u16", "people", True, "next decision day",
                  fill=NEVER),
        ArraySpec("people.debt_able", "flag", "people", True,
                  "able to pay at the last decision point", fill=1),
        ArraySpec("people.debt_assets", "money", "people", True,
                  "liquid assets when the debt was opened"),
        ArraySpec("people.debt_opened", "day_u16", "people", True,
                  "day the debt was opened (savings accrue since; the type's draw day)"),
        ArraySpec("people.debt_judged", "day_u16", "people", True, "day of the judgment",
                  fill=NEVER),
        ArraySpec("people.debt_episode", "code", "people", True,
                  "judgment episode flags: able at judgment, listed seen, resolved"),
        ArraySpec("people.debt_accrued", "day_u16", "people", True,
                  "day interest was last added to the debt (its opening, then each check)"),
    )
    reads = ("acts", "people.income", "people.honesty", "people.informed@prev", "people.cell",
             "people.household", "people.perceived_detection@prev", "people.perceived_day@prev",
             "people.perceived_sanction@prev", "people.listed@prev?", "people.list_until@prev?",
             "people.loan_terms?")
    appends = ("acts",)
    #: draws keyed by the person's uid; its acts come after behaviour's, each in uid
    #: order (partitions merge by appending module, then uid: ``View.appended_by``)
    partitionable = True
    streams = (StreamSpec("draws", LAYOUT, "loan sizes, assets, types, refusal, suing"),)
    counters = (
        CounterSpec("debt_borrowed", "money lent (new loans)", real=True),
        CounterSpec("debt_repaid", "money repaid", real=True),
        CounterSpec("debt_written_off", "money written off", real=True),
        CounterSpec("debt_interest", "interest added to debts at the lender's price",
                    real=True),
        CounterSpec("debt_checks", "debt decision points (due days, deadlines, rechecks)"),
        CounterSpec("debt_refusals", "judgment deadlines refused by an able debtor"),
        CounterSpec("debt_unable", "judgment deadlines missed by a debtor unable to pay"),
        CounterSpec("debt_able_decisions", "decision points of a debtor able to pay"),
        CounterSpec("debt_able_refusals", "decision points at which an able debtor refused"),
        CounterSpec("judgments_resolved", "judgments resolved (repaid, or 365 days passed)"),
        CounterSpec("judgments_repaid_365", "judgments repaid within 365 days"),
        CounterSpec("able_judgments_resolved", "resolved judgments of debtors able at judgment"),
        CounterSpec("able_judgments_repaid_365",
                    "judgments of debtors able at judgment repaid within 365 days"),
        CounterSpec("listed_judgments_resolved",
                    "resolved judgments whose debtor was seen on a debtor list"),
        CounterSpec("listed_judgments_repaid_365",
                    "judgments of listed debtors repaid within 365 days"),
    )
    metrics = (
        MetricDef("judgment_repaid_365", "judgments_repaid_365", "judgments_resolved",
                  "share of judgment debts repaid within 365 days of the judgment",
                  theme="compliance", unit="judgments repaid 365 per judgments resolved"),
        MetricDef("able_debtor_repaid_365", "able_judgments_repaid_365",
                  "able_judgments_resolved",
                  "share of judgment debts of debtors able to pay at judgment repaid within "
                  "365 days", disparity=True,
                  theme="compliance", unit="able judgments repaid 365 per able judgments resolved"),
        MetricDef("listed_debtor_repaid_365", "listed_judgments_repaid_365",
                  "listed_judgments_resolved",
                  "share of judgment debts of debtors seen on a debtor list repaid within "
                  "365 days of the judgment",
                  theme="compliance",
                  unit="listed judgments repaid 365 per listed judgments resolved"),
        MetricDef("refusal_rate", "debt_able_refusals", "debt_able_decisions",
                  "refusals per decision point of a debtor able to pay",
                  theme="compliance", unit="debt able refusals per debt able decisions"),
    )

    @classmethod
    def check_params(cls, params, scenario):
        if params.enabled:
            missing = [a for a in DEBT_ACTS if a not in scenario.acts]
            if missing:
                raise ValueError(f"enabled: debts need the acts {missing} in the catalogue")
        return params

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        """Housemates' support needs whole households."""
        if params.kin_support_days > 0:
            return cut_refusal(split, "people.household", "kin support reads housemates' "
                               "income", "set kin_support_days to 0")
        return None

    def setup(self, world) -> None:
        cat = world.catalogue
        p = self.params
        self.code = {name: int(cat.code[cat.position(name)]) for name in DEBT_ACTS}
        # act code and venue by outcome code (O_*)
        self.act_of = np.array([0, self.code["loan_repaid"], self.code["loan_default"],
                                self.code["judgment_paid"], self.code["judgment_refusal"],
                                self.code["judgment_unable"]], dtype=dtype("code"))
        self.venue_of = cat.venue[cat.position_of_code[self.act_of]]
        b = world.scenario.module_params("behaviour", BehaviourParams)
        lp = world.scenario.module_params("learning", LearningParams)
        sp = world.scenario.module_params("sanctions", SanctionParams)
        lists = world.scenario.module_params("lists", ListParams)
        self.income_share, self.forgone, mask = listing_cost_tables(sp, lists, cat,
                                                                    "judgment_paid")
        self.debtor_codes = np.array([c for c in range(8) if (mask >> c) & 1], dtype=np.int64)
        self.debtor_rows = self.debtor_codes - lists.first_code()  # rows of list_until
        cons = world.consequences
        r = cat.position("judgment_refusal")
        _, slot_of = cat.perception_venues()
        self.slot = int(slot_of[r])  # π of the refusal's venue (court)
        pub_target = float(public_detection_by_venue(cons, cat)[self.slot])
        coef = np.zeros(17)
        coef[K_ALPHA] = p.refusal_intercept
        coef[K_GAIN_DAYS] = p.refusal_gain_days
        coef[K_BETA] = b.moral_weight
        coef[K_KAPPA] = p.sanction_weight
        coef[K_SUE] = p.sue_probability
        coef[K_DEADLINE] = p.judgment_deadline
        coef[K_RECHECK] = p.recheck_days
        coef[K_PERSIST] = p.type_persistence
        coef[K_SAVING] = p.saving_rate
        coef[K_KIN] = p.kin_support_days
        coef[K_WRITE_OFF] = p.write_off_days or 0
        coef[K_DISCOUNT] = sp.discount_per_day
        coef[K_PUB_TARGET] = pub_target
        coef[K_PUB_RATE] = lp.public_rate if lp.enabled else 0.0
        coef[K_REL_DET] = (cons.detection[r] + 0.01) / (pub_target + 0.01)
        coef[K_PENALTY] = float(cat.penalty[r])
        coef[K_SYSTEM] = float(cons.system_sanction[r])
        self.coef = coef
        self.apr_of = apr_by_terms(lender_params(world.scenario))
        self.hh_offsets, self.hh_members = world.index("people.household")
        self.uids = world.uids if world.partitioned else np.empty(0, dtype=np.int64)
        # an initial stock of loans, due over the first term, opened at day 0
        st = world.stream("draws")
        has = st.bernoulli(0, LAYOUT.pack(purpose=P_INITIAL), world.uids,
                           p.initial_debtor_share)
        idx = np.flatnonzero(has)
        if idx.size:
            u = st.uniform(0, LAYOUT.pack(purpose=P_INITIAL_DUE), world.uid_of(idx))
            world.array("people.debt")[idx] = self._draw(world, 0, idx, P_INITIAL_AMOUNT,
                                                         p.loan_size_days, p.loan_size_sigma)
            world.array("people.debt_assets")[idx] = self._draw(
                world, 0, idx, P_INITIAL_ASSETS, p.asset_days, p.asset_sigma)
            world.array("people.debt_stage")[idx] = LOAN
            world.array("people.debt_due")[idx] = np.floor(u * p.loan_term).astype(np.uint16)
        world.state["initial_debt"] = float(world.array("people.debt").sum(dtype=np.float64))

    def _draw(self, world, day, people, purpose, days, sigma) -> np.ndarray:
        """``days`` of each person's income × LogNormal(0, sigma): loan sizes, assets."""
        z = world.stream("draws").normal(day, LAYOUT.pack(purpose=purpose),
                                         world.uid_of(people))
        income = world.array("people.income")[people].astype(np.float64)
        return (days * income * np.exp(sigma * z)).astype(np.float32)

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
            amount = self._draw(world, day, borrowers, P_AMOUNT, p.loan_size_days,
                                p.loan_size_sigma)
            debt[borrowers] = amount
            world.array("people.debt_assets")[borrowers] = self._draw(
                world, day, borrowers, P_ASSETS, p.asset_days, p.asset_sigma)
            world.array("people.debt_opened")[borrowers] = day
            world.array("people.debt_accrued")[borrowers] = day
            stage[borrowers] = LOAN
            end = day + p.loan_term
            due[borrowers] = NEVER if end >= NEVER else end
            c.add_cells("debt_borrowed", cell[borrowers], amount.astype(np.float64))
        listed = world.optional("people.listed")
        until = world.optional("people.list_until")
        terms = world.optional("people.loan_terms")
        st = world.stream("draws")
        book = DebtBook(
            debt, stage, due, world.array("people.debt_able"),
            world.array("people.debt_assets"), world.array("people.debt_opened"),
            world.array("people.debt_judged"), world.array("people.debt_episode"),
            world.array("people.debt_accrued"))
        prices = LoanPrices(terms if terms is not None else np.zeros(0, dtype=np.uint8),
                            self.apr_of)
        debtors = Debtors(
            world.array("people.income"), world.array("people.honesty"),
            world.array("people.informed"), world.array("people.perceived_detection"),
            world.array("people.perceived_day"), world.array("people.perceived_sanction"),
            cell)
        lists = ListCosts(
            listed if listed is not None else np.zeros(0, dtype=np.uint8),
            until if until is not None else np.zeros((0, 0), dtype=np.uint16),
            self.debtor_codes, self.debtor_rows, self.income_share, self.forgone)
        homes = Households(self.hh_offsets, self.hh_members, world.array("people.household"))
        who, outcome, counts = _checks(st.k0, st.k1, np.int64(day), self.coef,
                                       np.int64(self.slot), book, prices, debtors, lists,
                                       homes, c.n_cells, self.uids)
        if counts[C_CHECKS].any():
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

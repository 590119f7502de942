"""Lending on the bureau's report: a loan application is granted, priced or refused.

Two modules share one parameter block (``modules.lender``); both run only beside the
credit bureau (``credit_bureau``):

* ``lender`` (system, SCORE) — from the bureau's score alone (``people.credit_score``,
  never the truth) each person's standing offer ``people.credit_offer``: **prime** at a
  score of ``prime_from`` or more, **priced** (subprime APR) from ``deny_below`` to
  ``prime_from``, **denied** below ``deny_below``, **excluded** from mainstream credit when
  the bureau has no file or cannot score it. Recomputed when the bureau refreshes its
  scores (and at set-up). ``reads_score: false`` is the ablation: the lender ignores the
  bureau and offers everyone prime terms.
* ``loan_applications`` (behaviour, DECIDE) — a gate between the people who apply (a
  ``borrow`` act taken in the behaviour module) and the debts module that opens loans:
  the application meets yesterday's offer; a prime offer is taken, a priced one with
  probability ``priced_acceptance``; an excluded applicant either goes without
  (``unscored: deny``) or to a non-reporting informal lender at ``informal_apr``, taking
  it with probability ``informal_acceptance`` (``unscored: informal``). Applications not
  granted are withdrawn from today's ``acts`` before the debts module reads them, so no
  loan opens; informal loans are not reported to the bureau (``credit_furnishers``).

Counters by the applicant's cell give credit access, denial, exclusion and price, overall
and by group (``docs/metrics.md``). The lender decides on records; the gate only applies
the decision (as the behaviour module applies yesterday's bans) and the applicant's
take-up. Equations and sources: ``docs/markets.md`` (Credit bureau), ``docs/parameters.md``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import numpy as np
from pydantic import Field

from scslab.core.metrics import MetricDef
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.core.scenario_schema import ModuleParams
from scslab.modules.economy.credit_bureau import EXCLUDED_OFFER, bureau_params
from scslab.numerics.rng import SlotLayout, StreamSpec

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
FicoScore = Annotated[int, Field(ge=300, le=850)]
LAYOUT = SlotLayout((("purpose", 8), ("k", 8)))
P_ACCEPT = 1
#: standing offers (``people.credit_offer``)
PRIME, PRICED, DENIED, EXCLUDED = 0, 1, 2, EXCLUDED_OFFER
NO_DEBT = 0  # debts module: ``people.debt_stage`` of a person without an open debt
NO_TERMS = 255  # ``people.loan_terms`` of a person never granted a loan here



class LenderParams(ModuleParams):
    enabled: bool = False
    reads_score: bool = True  # false: the ablation, everyone offered prime terms
    deny_below: FicoScore = 580  # FICO "poor" is below 580 [V]
    prime_from: FicoScore = 670  # FICO "good" starts at 670 [V]
    unscored: Literal["deny", "informal"] = "informal"  # no file / unscorable
    prime_apr: NonNeg = 0.12  # Federal Reserve G.19, 24-month personal loans 2024 [V]
    priced_apr: NonNeg = 0.36  # the 36 % small-loan cap (assumption: top of subprime)
    informal_apr: NonNeg = 3.91  # CFPB 2013: $15 per $100 per 14 days [V]
    priced_acceptance: Prob = 1.0  # assumption
    informal_acceptance: Prob = 0.5  # assumption


def lender_params(scenario) -> LenderParams:
    return scenario.module_params("lender", LenderParams)


def apr_by_terms(p: LenderParams) -> np.ndarray:
    """APR by ``people.loan_terms`` code (prime, priced, informal; 0 for none)."""
    apr = np.zeros(256)
    if p.enabled:
        apr[PRIME], apr[PRICED], apr[EXCLUDED] = p.prime_apr, p.priced_apr, p.informal_apr
    return apr


def standing_offers(score: np.ndarray, p: LenderParams) -> np.ndarray:
    """Offer code per person from the bureau's score (−1 unscorable, −2 no file)."""
    if not p.reads_score:
        return np.full(score.shape, PRIME, dtype=np.uint8)
    s = score.astype(np.int64)
    out = np.where(s >= p.prime_from, PRIME, np.where(s >= p.deny_below, PRICED, DENIED))
    return np.where(s < 0, EXCLUDED, out).astype(np.uint8)


class Lender(Module):
    name = "lender"
    role = Role.SYSTEM
    phase = Phase.SCORE
    Params = LenderParams
    switched_by = "credit_bureau"
    doc = "Mainstream lenders' standing offers from the bureau's score: prime, priced, denied."
    owns: ClassVar = (
        ArraySpec("people.credit_offer", "code", "people", False,
                  "lender's standing offer: 0 prime, 1 priced, 2 denied, 3 excluded (no "
                  "scorable file)", fill=EXCLUDED),
    )
    reads = ("people.credit_score",)
    partitionable = True  # draws nothing; each person's offer from their own score

    @classmethod
    def check_params(cls, params, scenario):
        if params.deny_below > params.prime_from:
            raise ValueError(f"prime_from: {params.prime_from} is below deny_below "
                             f"({params.deny_below}); priced offers lie between them")
        if params.enabled and "borrow" not in scenario.acts:
            raise ValueError("enabled: the lender needs the act 'borrow' in the catalogue")
        return params

    def setup(self, world) -> None:
        self.refresh = bureau_params(world.scenario).refresh_days
        world.array("people.credit_offer")[:] = standing_offers(
            world.array("people.credit_score"), self.params)

    def step(self, world, day: int) -> None:
        if day % self.refresh == 0:  # the bureau refreshed its scores today
            world.array("people.credit_offer")[:] = standing_offers(
                world.array("people.credit_score"), self.params)


#: counters of the gate, by the applicant's cell
APPLICATION_COUNTERS = (
    CounterSpec("credit_applications", "loan applications (borrow acts of people without "
                "an open debt)"),
    CounterSpec("credit_granted", "applications that became a loan (any lender)"),
    CounterSpec("credit_denied", "applications that did not become a loan"),
    CounterSpec("credit_excluded", "applications refused mainstream credit for want of a "
                "scorable file (denied or sent to an informal lender)"),
    CounterSpec("credit_informal", "loans from a non-reporting informal lender"),
    CounterSpec("credit_priced", "loans at the priced (subprime) rate"),
    CounterSpec("credit_apr_sum", "Σ APR of the loans granted", real=True),
    CounterSpec("credit_applications_scored", "applications by people with a scorable file"),
    CounterSpec("credit_granted_scored", "of which granted"),
    CounterSpec("credit_applications_unscored", "applications by people with no file or "
                "an unscorable one"),
    CounterSpec("credit_granted_unscored", "of which granted"),
)


class LoanApplications(Module):
    name = "loan_applications"
    role = Role.BEHAVIOUR
    phase = Phase.DECIDE
    switched_by = "lender"
    doc = "Loan applications meet the lender's standing offer; refused ones open no loan."
    owns: ClassVar = (
        ArraySpec("people.loan_terms", "code", "people", False,
                  "terms of the last loan granted: 0 prime, 1 priced, 3 informal, 255 none "
                  "(its APR accrues in the debts module)", fill=NO_TERMS),
    )
    reads = ("acts", "people.credit_offer@prev", "people.credit_score@prev",
             "people.debt_stage@prev?", "people.cell")
    withdraws = ("acts",)
    streams = (StreamSpec("draws", LAYOUT, "take-up of priced and informal offers"),)
    partitionable = True  # take-up keyed by the applicant's uid, counted by their cell
    counters = APPLICATION_COUNTERS
    metrics = (
        MetricDef("credit_access_rate", "credit_granted", "credit_applications",
                  "share of loan applications that became a loan (any lender)",
                  theme="economy", unit="credit granted per credit applications"),
        MetricDef("credit_denied_rate", "credit_denied", "credit_applications",
                  "share of loan applications that did not become a loan",
                  theme="economy", unit="credit denied per credit applications"),
        MetricDef("credit_excluded_share", "credit_excluded", "credit_applications",
                  "share of loan applications refused mainstream credit for want of a "
                  "scorable file",
                  theme="economy", unit="share"),
        MetricDef("credit_informal_rate", "credit_informal", "credit_applications",
                  "share of loan applications served by a non-reporting informal lender",
                  theme="economy", unit="credit informal per credit applications"),
        MetricDef("credit_priced_rate", "credit_priced", "credit_applications",
                  "share of loan applications granted at the priced (subprime) rate",
                  theme="economy", unit="credit priced per credit applications"),
        MetricDef("credit_mean_apr", "credit_apr_sum", "credit_granted",
                  "mean APR of the loans granted",
                  theme="economy", unit="credit apr sum per credit granted"),
        MetricDef("credit_access_rate_scored", "credit_granted_scored",
                  "credit_applications_scored",
                  "credit access of applicants with a scorable file",
                  theme="economy", unit="credit granted scored per credit applications scored"),
        MetricDef("credit_access_rate_unscored", "credit_granted_unscored",
                  "credit_applications_unscored",
                  "credit access of applicants with no file or an unscorable one",
                  theme="economy", unit="credit granted unscored per credit applications unscored"),
    )

    @classmethod
    def enabled_in(cls, scenario) -> bool:
        return super().enabled_in(scenario) and Lender.enabled_in(scenario)

    def setup(self, world) -> None:
        cat = world.catalogue
        self.borrow = int(cat.code[cat.position("borrow")])
        p = self.params = lender_params(world.scenario)
        self.apr = np.array([p.prime_apr, p.priced_apr, 0.0, p.informal_apr])

    def step(self, world, day: int) -> None:
        acts = world.events("acts")
        rows = np.flatnonzero(acts["act"] == self.borrow)
        if rows.size == 0:
            return
        who = acts["actor"][rows].astype(np.int64)
        stage = world.optional("people.debt_stage")
        if stage is not None:  # a person with an open debt does not get a second loan
            open_debt = stage[who] != NO_DEBT
            rows, who = rows[~open_debt], who[~open_debt]
            if rows.size == 0:
                return
        p = self.params
        offer = world.array("people.credit_offer")[who]
        u = world.stream("draws").uniform(day, LAYOUT.pack(purpose=P_ACCEPT),
                                          world.uid_of(who))
        excluded = offer == EXCLUDED
        informal = excluded & (p.unscored == "informal") & (u < p.informal_acceptance)
        priced = (offer == PRICED) & (u < p.priced_acceptance)
        granted = (offer == PRIME) | priced | informal
        unscored = world.array("people.credit_score")[who] < 0
        cell = world.array("people.cell")[who]
        c = world.counters
        c.add_cells("credit_applications", cell)
        c.add_cells("credit_granted", cell[granted])
        c.add_cells("credit_denied", cell[~granted])
        c.add_cells("credit_excluded", cell[excluded])
        c.add_cells("credit_informal", cell[informal])
        c.add_cells("credit_priced", cell[priced])
        c.add_cells("credit_apr_sum", cell[granted], self.apr[offer[granted]])
        c.add_cells("credit_applications_scored", cell[~unscored])
        c.add_cells("credit_granted_scored", cell[granted & ~unscored])
        c.add_cells("credit_applications_unscored", cell[unscored])
        c.add_cells("credit_granted_unscored", cell[granted & unscored])
        # the terms the loan is opened on (informal loans keep the EXCLUDED code)
        world.array("people.loan_terms")[who[granted]] = offer[granted]
        if not granted.all():
            keep = np.ones(len(acts), dtype=bool)
            keep[rows[~granted]] = False
            world.withdraw("acts", keep)

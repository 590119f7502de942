"""A Western credit bureau: furnishers report accounts; the bureau scores files (FICO-like).

Two modules share one parameter block (``modules.credit_bureau``):

* ``credit_furnishers`` (sensing, SENSE) — lenders report to the bureau. At day 0 a
  person has no file (credit-invisible) with probability
  ``σ(a + income_slope·(−z_income) + group_offset_g)``, ``a`` solved so that the
  population share is ``invisible_share`` (CFPB 2015: 1 in 10 adults); the rest have a
  file with ``1 + Poisson(accounts_mean)`` accounts, a history of up to ``max_history_days``,
  and past late payments ``Poisson(late_mean·2(1 − honesty))``. A share
  ``material_error_share`` of files carries a false late payment (FTC 2012: ~5 % of people
  had an error that moved them to a worse tier). Afterwards loans from the debts module are
  reported (new account; repaid → on time; default, court judgments → late) — except that
  a person without a file borrows from a lender who does not report with probability
  ``nonreporting_if_invisible`` ("no file, no mainstream credit"); with the ``lender``
  module on, the lender's offer settles it instead: loans to people it excluded (no
  scorable file) are informal and not reported, all others are. Balances are the debts
  actually owed (``people.debt``).
* ``credit_bureau`` (system, SCORE) — monthly, ``S = 300 + 550·(0.35·PH + 0.30·AO +
  0.15·LEN + 0.10·NEW + 0.10·MIX)`` with the FICO weights: PH = on-time / (on-time +
  ``late_weight``·late), AO = 1 − min(1, balance / (accounts·``limit_per_account``)),
  LEN = min(1, file age / 10 years), NEW = 0.5 if an account opened in the past year else
  1, MIX = min(1, accounts / 4). A file younger than ``min_file_days`` or without accounts
  is unscorable (−1); no file: −2.

Exclusion (no file) is counted apart from false sanction: ``credit_invisible_share``.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field

from scslab.core.layouts import code_table
from scslab.core.metrics import MetricDef
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.core.population import log_income_moments, log_incomes
from scslab.core.scenario_schema import ModuleParams
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import unique

Prob = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
LAYOUT = SlotLayout((("purpose", 8), ("k", 8)))
P_INVISIBLE, P_ACCOUNTS, P_AGE, P_LATE, P_ERROR, P_NONREPORT = 1, 2, 3, 4, 5, 6
NO_FILE, UNSCORABLE = -2, -1
EXCLUDED_OFFER = 3  # ``people.credit_offer`` of the lender (``lending.py``): informal only
FICO_WEIGHTS = (0.35, 0.30, 0.15, 0.10, 0.10)  # payment, owed, length, new, mix [V]


class CreditBureauParams(ModuleParams):
    enabled: bool = False
    invisible_share: Prob = 0.10  # CFPB 2015 [V]
    income_slope: NonNeg = 0.85  # logit per sd of log income (calibrated: ~30 % vs ~4 %)
    group_offset: dict[str, float] = Field(default_factory=dict)  # logit offsets by group
    accounts_mean: NonNeg = 2.0
    max_history_days: Annotated[int, Field(ge=1, le=30000)] = 7300
    late_mean: NonNeg = 0.5
    material_error_share: Prob = 0.05  # FTC 2012 [V]
    nonreporting_if_invisible: Prob = 0.9
    late_weight: NonNeg = 4.0
    limit_per_account: Positive = 30.0  # money
    min_file_days: Annotated[int, Field(ge=0)] = 180
    refresh_days: Annotated[int, Field(ge=1)] = 30


def bureau_params(scenario) -> CreditBureauParams:
    return scenario.module_params("credit_bureau", CreditBureauParams)


#: the national figure of a partition: the invisibility calibration over everyone
INVISIBILITY = "credit_bureau.invisibility"


def invisibility_calibration(log_income: np.ndarray, offset: np.ndarray, share: float,
                             slope: float) -> np.ndarray:
    """The mean and sd of log income and the intercept ``a`` of
    :func:`invisible_probability`, solved by bisection so that its mean over these people
    is ``share`` (calibration to the population, not a fit to individuals)."""
    mean, sd = log_income_moments(log_income)
    base = -slope * ((log_income - mean) / sd) + offset
    lo, hi = -30.0, 30.0
    for _ in range(80):  # bisection on a scalar
        mid = 0.5 * (lo + hi)
        if (1.0 / (1.0 + np.exp(-(mid + base)))).mean() < share:
            lo = mid
        else:
            hi = mid
    return np.array([mean, sd, 0.5 * (lo + hi)])


def invisible_probability(log_income: np.ndarray, offset: np.ndarray, slope: float,
                          calibration: np.ndarray) -> np.ndarray:
    """σ(a − slope·z + offset), z log income standardised, by the calibration's mean, sd
    and intercept (:func:`invisibility_calibration`; each person's on their own)."""
    mean, sd, a = calibration
    base = -slope * ((log_income - mean) / sd) + offset
    return 1.0 / (1.0 + np.exp(-(a + base)))


def _log_income_and_offset(p: CreditBureauParams, groups: list[str], income: np.ndarray,
                           group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each person's log income (float64) and logit offset of their group."""
    return log_incomes(income), np.array([p.group_offset.get(g, 0.0) for g in groups])[group]


#: people drawn (``CreditFurnishers.setup``) or scored (``CreditBureau._rescore``) per slice
PEOPLE_PER_SLICE = 1 << 16


class CreditFurnishers(Module):
    name = "credit_furnishers"
    switched_by = "credit_bureau"
    role = Role.SENSING
    phase = Phase.SENSE
    doc = "Lenders report accounts to the bureau; thin and missing files (follows credit_bureau)."
    owns: ClassVar = (
        ArraySpec("people.credit_file", "flag", "people", False, "has a bureau file"),
        ArraySpec("people.credit_opened", "day", "people", False,
                  "day the file opened (negative: before the run)"),
        ArraySpec("people.credit_accounts", "count", "people", False, "reported accounts"),
        ArraySpec("people.credit_ontime", "count", "people", False, "on-time payments"),
        ArraySpec("people.credit_late", "count", "people", False, "late payments reported"),
        ArraySpec("people.credit_balance", "money", "people", False, "reported amount owed"),
        ArraySpec("people.credit_last_new", "day", "people", False, "last account opened",
                  fill=-32768),
        ArraySpec("people.credit_error", "flag", "people", True,
                  "file carries a false late payment (truth)"),
    )
    reads = ("acts", "people.debt", "people.income", "people.group", "people.honesty",
             "people.cell", "people.credit_offer@prev?")
    streams = (StreamSpec("draws", LAYOUT, "initial files, errors, non-reporting lenders"),)
    #: draws keyed by uid, counts by its own people's cells; the invisibility calibration
    #: is over everyone (a national figure on a partition)
    partitionable = True
    national_keys = (INVISIBILITY,)
    counters = (
        CounterSpec("credit_invisible_days", "person-days without a credit file"),
        CounterSpec("credit_error_days", "person-days with a material error in the file"),
        CounterSpec("credit_files_opened", "files opened during the run"),
    )
    metrics = (
        MetricDef("credit_invisible_share", "credit_invisible_days", "person_days",
                  "share of person-days without a credit file (exclusion, not sanction)",
                  theme="economy", unit="share"),
        MetricDef("credit_material_error_share", "credit_error_days", "person_days",
                  "share of person-days with a false late payment in the file",
                  theme="economy", unit="share"),
    )

    @classmethod
    def national_figures(cls, scenario, population) -> dict[str, np.ndarray]:
        if not cls.enabled_in(scenario):
            return {}
        p = bureau_params(scenario)
        log_income, offset = _log_income_and_offset(
            p, list(scenario.population.groups), population.arrays["people.income"],
            population.arrays["people.group"])
        return {INVISIBILITY: invisibility_calibration(log_income, offset,
                                                       p.invisible_share, p.income_slope)}

    def setup(self, world) -> None:
        p = self.p = bureau_params(world.scenario)
        n = world.counts["people"]
        st = world.stream("draws")
        log_income, offset = _log_income_and_offset(
            p, world.group_names, world.array("people.income"), world.array("people.group"))
        # calibrated to everyone at once (its mean is the share); the draws and files
        # below are per person, keyed by uid, so they are made a slice of people at a
        # time: the same bits, with temporaries the size of a slice (they were a
        # 10^6-person build's peak, +80 B per person)
        calibration = world.national(INVISIBILITY) if world.partitioned else \
            invisibility_calibration(log_income, offset, p.invisible_share, p.income_slope)
        q = invisible_probability(log_income, offset, p.income_slope, calibration)
        del log_income, offset
        cell = world.array("people.cell")
        n_cells = len(world.group_names) * world.n_regions
        honesty = world.array("people.honesty")
        files = {name: world.array(f"people.credit_{name}")
                 for name in ("file", "accounts", "opened", "ontime", "late", "error")}
        invisible_cells = np.zeros(n_cells, dtype=np.int64)
        error_cells = np.zeros(n_cells, dtype=np.int64)
        for lo in range(0, n, PEOPLE_PER_SLICE):
            part = slice(lo, lo + PEOPLE_PER_SLICE)
            people = world.uid_of(np.arange(lo, min(n, lo + PEOPLE_PER_SLICE),
                                            dtype=np.int64))
            invisible = st.bernoulli(0, LAYOUT.pack(purpose=P_INVISIBLE), people, q[part])
            has = ~invisible
            files["file"][part] = has
            acc = 1 + st.poisson(0, LAYOUT.pack(purpose=P_ACCOUNTS), people, p.accounts_mean)
            files["accounts"][part] = np.where(has, acc, 0)
            age = np.floor(st.uniform(0, LAYOUT.pack(purpose=P_AGE), people)
                           * p.max_history_days)
            files["opened"][part] = np.where(has, -np.minimum(age, 32000), 0)
            ontime = np.floor(age / 30.0 * np.minimum(acc, 3) * 0.5)
            files["ontime"][part] = np.where(has, ontime, 0)
            hon = honesty[part].astype(np.float64)
            late = st.poisson(0, LAYOUT.pack(purpose=P_LATE), people,
                              p.late_mean * 2 * (1 - hon))
            err = has & st.bernoulli(0, LAYOUT.pack(purpose=P_ERROR), people,
                                     p.material_error_share)
            files["late"][part] = np.where(has, late + err, 0)
            files["error"][part] = err
            invisible_cells += np.bincount(cell[part][invisible], minlength=n_cells)
            error_cells += np.bincount(cell[part][err], minlength=n_cells)
        world.state["invisible"] = invisible_cells.astype(float)
        world.state["errors"] = error_cells.astype(float)
        cat = world.catalogue
        code = {a: int(cat.code[cat.position(a)]) for a in
                ("borrow", "loan_repaid", "loan_default", "judgment_refusal", "judgment_unable")
                if a in world.scenario.acts}
        self.borrow = code.get("borrow", -1)
        self.ontime = code_table([code[a] for a in ("loan_repaid",) if a in code])
        self.late = code_table([code[a] for a in ("loan_default", "judgment_refusal",
                                                  "judgment_unable") if a in code])

    def step(self, world, day: int) -> None:
        p = self.p
        c = world.counters
        st = world.state
        acts = world.events("acts")
        cell = world.array("people.cell")
        if len(acts):
            has = world.array("people.credit_file")
            actor = acts["actor"].astype(np.int64)
            new = unique(actor[acts["act"] == self.borrow])
            offer = world.optional("people.credit_offer")
            if offer is not None:  # the lender decided: informal loans are not reported
                new = new[offer[new] != EXCLUDED_OFFER]
            if new.size:
                stranger = new[~has[new]]
                if offer is None:
                    nonrep = world.stream("draws").bernoulli(
                        day, LAYOUT.pack(purpose=P_NONREPORT), world.uid_of(stranger),
                        p.nonreporting_if_invisible)
                else:  # a mainstream loan to someone without a file (the lender ignored it)
                    nonrep = np.zeros(stranger.size, dtype=bool)
                opened = stranger[~nonrep]
                if opened.size:
                    has[opened] = True
                    world.array("people.credit_opened")[opened] = day
                    np.subtract.at(st["invisible"], cell[opened], 1.0)
                    c.add_cells("credit_files_opened", cell[opened])
                rep = new[has[new]]
                world.array("people.credit_accounts")[rep] += 1
                world.array("people.credit_last_new")[rep] = day
            for table, name in ((self.ontime, "people.credit_ontime"),
                                (self.late, "people.credit_late")):
                who = actor[table[acts["act"]]]
                who = who[has[who]]
                counts = world.array(name)
                np.add.at(counts, who, counts.dtype.type(1))  # a typed 1: NumPy's fast path
            touched = actor[has[actor]]
            world.array("people.credit_balance")[touched] = world.array("people.debt")[touched]
        c.add_vector("credit_invisible_days", st["invisible"])
        c.add_vector("credit_error_days", st["errors"])


def fico_score(ontime, late, balance, accounts, age_days, days_since_new, late_weight,
               limit_per_account) -> np.ndarray:
    """300 + 550·Σ w_k·component_k with the FICO weights 35/30/15/10/10."""
    ontime = ontime.astype(np.float64)
    late = late.astype(np.float64)
    hist = ontime + late_weight * late
    ph = np.where(hist > 0, ontime / np.maximum(hist, 1e-12), 0.5)
    limit = np.maximum(accounts.astype(np.float64) * limit_per_account, 1e-12)
    ao = 1.0 - np.minimum(1.0, balance.astype(np.float64) / limit)
    ln = np.minimum(1.0, age_days / 3650.0)
    nw = np.where(days_since_new < 365, 0.5, 1.0)
    mix = np.minimum(1.0, accounts / 4.0)
    w = FICO_WEIGHTS
    return 300.0 + 550.0 * (w[0] * ph + w[1] * ao + w[2] * ln + w[3] * nw + w[4] * mix)


class CreditBureau(Module):
    name = "credit_bureau"
    role = Role.SYSTEM
    phase = Phase.SCORE
    Params = CreditBureauParams
    doc = "The bureau's FICO-like score, refreshed monthly; thin files are unscorable."
    owns: ClassVar = (
        ArraySpec("people.credit_score", "bureau_score", "people", False,
                  "bureau score 300–850; −1 unscorable, −2 no file", fill=NO_FILE),
    )
    reads = ("people.credit_file", "people.credit_opened", "people.credit_accounts",
             "people.credit_ontime", "people.credit_late", "people.credit_balance",
             "people.credit_last_new", "people.cell")
    counters = (CounterSpec("credit_unscorable_days", "person-days with an unscorable file"),)
    partitionable = True  # draws nothing; each person's score from their own file
    metrics = (
        MetricDef("credit_unscorable_share", "credit_unscorable_days", "person_days",
                  "share of person-days with a file too thin or new to score",
                  theme="economy", unit="share"),
    )

    def setup(self, world) -> None:
        self._rescore(world, 0)  # files exist from day 0: so does their score

    def _rescore(self, world, day: int) -> None:
        """Everyone's score, a slice of people at a time: the score is elementwise, so the
        slices give the same bits, and its ~13 float64 temporaries per person are the
        size of a slice, not of everyone (they were a 10^6-person run's peak, +104 B per
        person on every refresh day)."""
        p = self.params
        has = world.array("people.credit_file")
        opened = world.array("people.credit_opened")
        last_new = world.array("people.credit_last_new")
        acc = world.array("people.credit_accounts")
        ontime = world.array("people.credit_ontime")
        late = world.array("people.credit_late")
        balance = world.array("people.credit_balance")
        cell = world.array("people.cell")
        score = world.array("people.credit_score")
        n_cells = len(world.group_names) * world.n_regions
        unscorable = np.zeros(n_cells, dtype=np.int64)
        for lo in range(0, has.size, PEOPLE_PER_SLICE):
            part = slice(lo, lo + PEOPLE_PER_SLICE)
            age = day - opened[part].astype(np.float64)
            since = day - last_new[part].astype(np.float64)
            s = fico_score(ontime[part], late[part], balance[part], acc[part], age, since,
                           p.late_weight, p.limit_per_account)
            thin = has[part] & ((acc[part] == 0) | (age < p.min_file_days))
            # within 300–850 or a code
            score[part] = np.where(has[part], np.where(thin, UNSCORABLE, np.rint(s)), NO_FILE)
            unscorable += np.bincount(cell[part][thin], minlength=n_cells)
        world.state["unscorable"] = unscorable.astype(float)

    def step(self, world, day: int) -> None:
        if day % self.params.refresh_days == 0:
            self._rescore(world, day)
        world.counters.add_vector("credit_unscorable_days", world.state["unscorable"])

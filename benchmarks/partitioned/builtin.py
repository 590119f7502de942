"""Builtin scenarios split by region: run whole and as partitions (in process or as Dask
actors) — the steps of ``docs/scaling.md``'s plan for the builtin scenarios.

Partitionable today (``Module.partitionable``, each refusing in ``partition_problem``
the settings whose effects cross partitions and are not exchanged): behaviour (the
opportunity clock walked over the whole population, each partition keeping its own
people), debts, attitudes (national log-income moments), sources, dossier (lost files
drawn over everyone, each partition keeping its own; kin spreading only without cut
households), learning, core_metrics; and the apparatus — scoring, lists, sanctions,
appeals filing and the appeals
boards, officials' evaluations (whole regions), harm (household measures reach
housemates a region boundary puts in another partition: exchanged); the officials group — officials,
official_audits, central_authority — each region's officials run for the record and
counted by the partition holding the region (whole regions; draws keyed by the
subject's uid or the official; national region sizes); and the firms group — firms,
firm_inspection, corporate_credit, firm_metrics — every firm run alike in every
partition (draws keyed by firm, the national credit rationing over all firms), counted
by the partition holding its region; and the market group — market, market_complaints,
market_registry — buyers drawn over the nation and served by their partition (under
``local``, a buyer's candidates and remembered sellers are of its region); and the credit
bureau group — credit_furnishers (draws keyed by uid; the invisibility calibration over
everyone, a national figure), credit_bureau, lender, loan_applications (take-up keyed by
the applicant's uid); and surveillance — surveillance with the landlord's camera (draws
keyed by uid, whole regions, national region sizes), watchlist, surveillance_metrics.
Every builtin scenario runs split by region.

Variants (``VARIANTS``): ``baseline``, ``rongcheng``, ``national-blacklist``,
``corporate``, ``calibrated``, ``transparent-officials`` and ``credit-bureau``, the
builtin scenarios unmodified (burn-in 0); ``baseline-exact``, baseline with no misattributed or fabricated
records (so no records exchange); and ``rongcheng-stress``, with many misattributed and
fabricated records, fast debt cycles, more public naming, officials' evaluations, regions rewarded on
reports, officials corrupt, often suspended and pressing banks hard, firms listed and
loans maturing, and buyers checking the public score, for the tests;
``blacklist-households``, national-blacklist with big households listed often, so that
school restriction reaches housemates across a region boundary; ``checkpoint-region``,
``export``, ``western-fragmented`` and ``eu-ai-act`` unmodified; ``export-stress``, export
watching every region; ``landlord-stress``, western-fragmented with the landlord's
tenants quick to complain; ``every-module``, ``benchmarks/every-module.yaml`` (all 31
modules on); ``kin-households``, checkpoint-region with the kin and households
exchanges after the same module.

What crosses, exchanged each day at up to ten points (``EXCHANGES``), where it is on:

* ``officials``, after officials: the central authority rewards a region on its reported
  violation rate against the mean rate over every region; and every partition runs
  every firm, but only the partition holding a region knows which of its officials are
  suspended (their residents' bribes are there) — so which firms' records they dropped
  for a bribe and how hard they press the banks. Each partition hands over its own
  regions' reported violations and lending pressure and its own firms' dropped records
  (0 elsewhere: ``CentralAuthority.reports``, ``Officials.firm_figures``); the sums are
  every region's and firm's, handed to every partition
  (``CentralAuthority.receive_reports``, ``Officials.receive_firm_figures``, which
  replaces its own reckoning of the others').
* ``market``, after market_complaints: buyers check the public score by market-wide
  beliefs learned from every trade of the day, and a firm's complaints come from its
  region's buyers but weigh on its corporate score in every partition. Each partition
  hands over its day's counts (trades, frauds, unflagged trades and frauds, checks; the
  nation's buyers) and its own firms' complaint counts where they changed since the
  last exchange (``Market.day_counts``, ``MarketComplaints.firm_complaints``); the sums
  update every partition's beliefs (``Market.receive_day_counts``) and replace the
  others' firms' counts (``MarketComplaints.receive_firm_complaints``).
* ``records``, after sources: a misattributed record names a person anywhere, and a
  fabricating source's day is shuffled over its whole batch. Each partition hands over
  its records naming people elsewhere and every record of a fabricating source
  (``Sources.outbox``, with their truth and actor's uid); every partition gets them all
  and files those naming its people — and the fabricated records it draws like every
  partition that name them — in the whole run's order (``Sources.receive``).
* ``listings``, before learning (rongcheng): a sanctioning listing moves the perceived
  sanction of the listed person's neighbours and may inform them, public naming moves it
  again and moves their approval; a detention (surveillance) moves the approval of the
  detainee's neighbours. Each partition hands over its people's listings, namings and
  detentions of the day (uids); every partition gets them all and counts, for each of
  its people, the listed, named and detained neighbours (``Learning.receive_listings``,
  ``Attitudes.receive_listings``, ``Attitudes.receive_detentions``: the steps compose,
  so order does not matter).
* ``network``, after learning: each violation's outcome steps the perceived detection of
  the actor's neighbours, in the whole run's order. Every partition's events (actor uid,
  venue, outcome, appending module and its order keys) are put in that order — by
  module, then by the module's order keys (``View.act_order``: the actor's uid; for the
  market's fraud acts, which come in queue order, the buyer's priority and uid) — and
  pushed to every partition (``Learning.push``), which steps its own people. Routed
  records are placed by the same keys.
* ``national``, at the day's start: a checkpoint searching the whole watchlist needs its
  national size, the landlord's camera its enrolled tenants (the gallery a face is
  searched in) and tenants; each partition's counts, summed
  (``Surveillance.receive_national_counts``).
* ``surveillance``, after surveillance: on a feedback redeployment day each sensor's
  records by (venue, region), and the landlord's tenants who joined the complaint;
  summed, then the redeployment and the complaint
  (``Surveillance.receive_day_figures``).
* ``kin``, after the watchlist: today's entries by record in households a region
  boundary cuts; every partition lists its members of them as kin
  (``Watchlist.receive_kin``).
* ``households``, before sanctions, and ``shadows``, after harm (where a household
  measure reaches housemates): a region boundary may cut a household. Each partition
  hands over the list membership of its members of the households it cuts (for the
  apparatus, then for harm's shadow E); every partition gets them all and ORs the
  measures spilling from the members it does not hold into its members' bans
  (``Sanctions.receive_housemates``, ``Harm.receive_housemates``, which then counts the
  day).

The parts of the exchanges whose figures are added up (``SUMMED``: national counts,
officials, market, surveillance) travel as their nonzero entries (:class:`Nonzeros`): a
figure over every region or firm is mostly the other partitions' zeros.

Counters (cells include the region) add up to the whole run's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from benchmarks.partitioned import run

from scslab.core.module import Module
from scslab.core.population import restrict, synthesise
from scslab.core.scenario_schema import Scenario
from scslab.run.engine import Sim, national_figures
from scslab.scenario import load_scenario

#: per variant: the builtin scenario, modules switched off (none now: every module of
#: baseline and rongcheng runs on a partition), and settings changed
VARIANTS = {
    "baseline": ("baseline", (), ()),
    "rongcheng": ("rongcheng", (), ()),
    # the builtins with a household measure (school restriction), unmodified
    **{name: (name, (), ()) for name in ("national-blacklist", "corporate", "calibrated",
                                         "transparent-officials")},
    # the Western credit bureau, its furnishers, the lender and loan applications
    "credit-bureau": ("credit-bureau", (), ()),
    # the surveillance builtins
    **{name: (name, (), ()) for name in ("checkpoint-region", "export",
                                         "western-fragmented", "eu-ai-act")},
    # checkpoint-region without firms and officials: the watchlist comes right before
    # sanctions, so the kin and households exchanges follow the same module
    "kin-households": ("checkpoint-region", ("firms", "officials"), ()),
    # all 31 modules at once (rongcheng with every module switched on)
    "every-module": (str(run.ROOT / "benchmarks" / "every-module.yaml"), (), ()),
    # western-fragmented with the landlord's tenants quick to complain and a regulator
    # quick to remove the camera: the threshold is the nation's tenants, a face is
    # searched among the nation's enrolled tenants
    "landlord-stress": ("western-fragmented", (), (
        "modules.surveillance.landlord.tenant_share=0.3",
        "modules.surveillance.landlord.join_rate=0.05",
        "modules.surveillance.landlord.regulator_days=3",
        "modules.surveillance.landlord.removal_probability=1.0",
        "modules.surveillance.face.base_fmr=1e-4")),
    # export watching every region, redeploying every 10 days, with many relatives
    # listed: checkpoints search the nation's watchlist, redeployment weighs every
    # region's records, kin and detainees' neighbours live across the cuts
    "export-stress": ("export", (), (
        "population.household_mean_size=8",
        "modules.surveillance.sensors.public_cameras.regions=all",
        "modules.surveillance.sensors.religious_site_cameras.regions=all",
        "modules.surveillance.sensors.informants.regions=all",
        "modules.surveillance.checkpoints.region_checkpoints.regions=all",
        "modules.surveillance.deployment.period_days=10",
        "modules.watchlist.acts=[religious_practice,home_prayer,rail_trip]",
        "modules.watchlist.target_groups=[]")),
    # baseline with no record naming anyone but its actor: no records exchange
    "baseline-exact": ("baseline", (),
                       tuple(f"sources.{s}.{k}=0" for s in ("court", "enforcement",
                                                            "tax_office", "bank")
                             for k in ("misattribution", "fabrication_rate"))),
    # rongcheng with many wrong records — fabricated by two sources (each day's batch
    # shuffled), misattributed — and fast debt cycles (judgment refusals within weeks):
    # to exercise the exchanges at small sizes and short runs
    "rongcheng-stress": ("rongcheng", (),
                         ("sources.court.fabrication_rate=1e-4",
                          "sources.traffic_police.fabrication_rate=5e-5",
                          "sources.court.misattribution=0.05",
                          # misattributed records of a source that also misclassifies
                          "sources.enforcement.misattribution=0.2",
                          "modules.debts.loan_term=20",
                          "modules.debts.judgment_deadline=10",
                          "modules.debts.recheck_days=5",
                          # a source that sees acts of two modules (behaviour's borrowing,
                          # debts' repayments and defaults): its day in appender order
                          "sources.bank.sees=[borrow,loan_default,loan_repaid]",
                          # public naming of grade C too (not only D): named neighbours
                          # within weeks
                          "modules.sanctions.matrix.city.public_naming=[grade_c,grade_d]",
                          # officials' discretionary evaluations, half aimed at expression
                          "modules.evaluations.enabled=true", "modules.evaluations.rate=1e-3",
                          "modules.evaluations.target_expression=0.5",
                          # regions rewarded on reported compliance against the national
                          # mean rate; an official suspended at the first detection
                          "modules.officials.reward_weight=1.0",
                          "modules.officials.suspension_score=90",
                          "modules.officials.lending_pressure=2.0",
                          "modules.officials.transparency=true",
                          "modules.officials.corruption_intercept=4.0",
                          # firms' loans mature within the run: the corporate score's AUCs
                          "modules.firms.loan_term=30",
                          "modules.firms.black_threshold=92",  # firms listed
                          "modules.firms.misconduct_horizon_days=20",
                          "modules.firms.auc_interval_days=10",
                          # buyers check the public score by the market-wide beliefs, and
                          # complaints weigh on a firm's corporate score (the whole table:
                          # a dotted override of one entry would replace it)
                          "modules.market.screening=institution",
                          "modules.firms.points={tax: 10, environment: 15, product_safety: "
                          "15, labour: 5, loan_default: 20, judgment: 10, complaint: 2}",
                          # sellers buying fake reviews, buyers complaining maliciously
                          "modules.market.gaming_share=0.3",
                          "modules.market.malicious_complaint_probability=0.005")),
    # national-blacklist with big households listed often and briefly: the households a
    # region boundary cuts have listed members within days (school restriction reaches
    # their housemates in the other partition, in the apparatus and in harm's shadow E)
    "blacklist-households": ("national-blacklist", (),
                             ("population.household_mean_size=15",
                              "modules.lists.lists.court_debtors.acts=[rail_trip,fraud]",
                              "modules.lists.lists.court_debtors.duration_days=5")),
}
#: the variants that are builtin scenarios unmodified (and every module at once): what
#: the benchmark runs by default
BUILTINS = ["baseline", "rongcheng", "national-blacklist", "corporate", "calibrated",
            "transparent-officials", "credit-bureau", "checkpoint-region", "export",
            "western-fragmented", "eu-ai-act", "every-module"]
#: the per-person arrays compared, those of them a variant has
PERSON_ARRAYS = ("people.perceived_detection", "people.perceived_day", "people.informed",
                 "people.perceived_sanction", "people.file_lost", "people.score",
                 "people.grade", "people.listed", "people.list_until", "people.bans",
                 "people.debt", "people.debt_stage", "people.debt_due", "people.debt_able",
                 "people.approval", "people.institutional_trust", "people.attitude_events",
                 "people.seller", "people.market_reviews", "people.market_flags",
                 "people.credit_file", "people.credit_opened", "people.credit_accounts",
                 "people.credit_ontime", "people.credit_late", "people.credit_balance",
                 "people.credit_last_new", "people.credit_error", "people.credit_score",
                 "people.credit_offer", "people.loan_terms", "people.watchlisted",
                 "people.watchlist_until", "people.detained_until", "people.false_alarms",
                 "people.tenant", "people.complaint_day")
#: of them, those with a row per list and a column per person (compared transposed)
LIST_MAJOR = ("people.list_until",)
#: per kind of thing owned by the partition holding its region: its region array and
#: the arrays compared, each one's from the partition owning it
#: (and the module whose view says which regions are the partition's own); the firms'
#: arrays are every partition's alike, their market figures only the owner's
OWNED = {"officials": ("officials", "officials.region",
                       ("officials.score", "officials.suspended_until")),
         "firms": ("firms", "firms.region",
                   ("firms.cscore", "firms.listed", "firms.loan_due", "firms.loan_amount",
                    "firms.loan_day", "firms.last_violation", "firms.complaints")),
         "firms_market": ("market_complaints", "firms.region",
                          ("firms.market_reviews", "firms.market_flags"))}
#: where the benchmark writes its figures
RESULTS = run.ROOT / "benchmarks" / "results-partitioned-builtin.md"
#: a day's exchanges, in the order they come
EXCHANGES = ("national", "officials", "market", "records", "surveillance", "kin",
             "households", "listings", "network", "shadows")


def scenario(people: int, days: int, variant: str = "baseline") -> Scenario:
    """The variant's builtin scenario with its modules off and its settings changed;
    misattribution, fabrication, lost files and network learning as in the builtins."""
    name, off, crossing = VARIANTS[variant]
    overrides = [f"modules.{m}.enabled=false" for m in off] + list(crossing)
    return load_scenario(name, overrides, people=people, days=days, burn_in=0)


class Partition:
    """One partition's Sim, stepped around the day's exchanges (a Dask actor on its
    worker, or a plain object in process). ``regions`` None: everyone, no exchange.

    A day is a round per exchange in ``points`` and a last one: each :meth:`advance`
    hands in what the previous exchange gathered and runs the day to the next exchange
    (or to its end), returning this partition's part of it."""

    def __init__(self, people: int, days: int, regions: Sequence[int] | None,
                 variant: str = "baseline") -> None:
        sc = scenario(people, days, variant)
        pop = synthesise(sc.population, sc.seed, 0)
        if regions is None:
            self.uids = np.arange(people, dtype=np.int64)
            self.sim = Sim(sc, population=pop)
        else:
            self.uids = np.flatnonzero(np.isin(pop.arrays["people.region"], list(regions)))
            self.sim = Sim(sc, population=restrict(pop, self.uids), uids=self.uids,
                           national=national_figures(sc, pop))
        names = [m.name for m in self.sim.modules]
        at = {name: names.index(name) for name in names}
        module = {name: self.sim.modules[at[name]] for name in names}
        self.module = module
        self.sources, self.learning = module["sources"], module["learning"]
        self.views = {name: self.sim.views[at[name]] for name in names}
        officials = module.get("officials")
        before_learning = self.sim.modules[at["learning"] - 1] if at["learning"] else None
        sanctions, harm = module.get("sanctions"), module.get("harm")
        surveillance, watchlist = module.get("surveillance"), module.get("watchlist")
        attitudes = module.get("attitudes")
        #: attitudes moves the neighbours of the day's detainees, who may live elsewhere
        detains = (attitudes is not None and surveillance is not None
                   and regions is not None)
        nobody = np.zeros(0, dtype=np.int64)
        shares_households = (sanctions is not None and regions is not None
                             and sanctions.housemates is not None)
        #: who takes the day's listings: learning (neighbours' sanctions), attitudes
        #: (neighbours' public namings), where they see them
        takers = [m for m in self.sim.modules
                  if getattr(m, "sees_listings", False) or getattr(m, "sees_named", False)]
        #: per exchange: whether it is on, the module after whose step it comes (None: the
        #: day's start), what this partition gives, and how it takes everyone's
        table: dict[str, tuple[bool, Module | None, Callable[[], Any], Callable[..., None]]] = {
            "national": (surveillance is not None and regions is not None
                         and surveillance.counts_nationally, None,
                         lambda: surveillance.national_counts(self.views["surveillance"]),
                         lambda counts: surveillance.receive_national_counts(counts)),
            "officials": (officials is not None and regions is not None, officials,
                          self._officials_figures, self._receive_officials_figures),
            "market": ("market" in module and regions is not None,
                       module.get("market_complaints", module.get("market")),
                       self._market_figures, self._receive_market_figures),
            "records": (self.sources.routes, self.sources, lambda: self.sources.outbox,
                        lambda routed: self.sources.receive(self.views["sources"],
                                                            self.sim.day, routed)),
            "surveillance": (surveillance is not None and surveillance.deferred,
                             surveillance,
                             lambda: surveillance.day_figures(self.views["surveillance"],
                                                              self.sim.day),
                             lambda figures: surveillance.receive_day_figures(
                                 self.views["surveillance"], self.sim.day, figures)),
            "kin": (watchlist is not None and watchlist.housemates is not None, watchlist,
                    lambda: watchlist.kin_entries(self.views["watchlist"]),
                    lambda parts: watchlist.receive_kin(self.views["watchlist"],
                                                        self.sim.day, parts)),
            "households": (shares_households,
                           self.sim.modules[at["sanctions"] - 1] if shares_households else None,
                           lambda: sanctions.housemates_listed(self.views["sanctions"]),
                           lambda parts: sanctions.receive_housemates(self.views["sanctions"],
                                                                      parts)),
            "listings": ((bool(takers) and regions is not None) or detains, before_learning,
                         lambda: (*(self.learning.listings(self.views["learning"]) if takers
                                    else (nobody, nobody)),
                                  attitudes.detained(self.views["attitudes"]) if detains
                                  else nobody),
                         lambda three: self._receive_listings(takers, attitudes, detains,
                                                              three)),
            "network": (regions is not None and self.learning.params.network_rate > 0,
                        self.learning, lambda: self.learning.outbox,
                        lambda events: self.learning.push(self.views["learning"],
                                                          self.sim.day, *events)),
            "shadows": (harm is not None and harm.waits_for_housemates, harm,
                        lambda: harm.housemates_listed(self.views["harm"]),
                        lambda parts: harm.receive_housemates(self.views["harm"],
                                                              self.sim.day, parts)),
        }
        self.exchanges = {name: table[name][1:] for name in EXCHANGES if table[name][0]}
        places = [-1 if after is None else self.sim.modules.index(after)
                  for after, _, _ in self.exchanges.values()]
        if places != sorted(places):
            raise ValueError(f"exchanges {list(self.exchanges)} must come in the day's "
                             f"order (after modules {places})")
        self.rest: Iterator[Module] | None = None
        #: the module stepped last today (two exchanges may follow the same module)
        self.stepped: Module | None = None

    @property
    def points(self) -> list[str]:
        """The day's exchanges that are on, in order (a property, so that a Dask actor of
        this class answers it)."""
        return list(self.exchanges)

    def advance(self, handed: tuple[str, Any] | None, to: str | None) -> Any:
        """Hand in what the exchange ``handed[0]`` gathered, then run today to the
        exchange ``to`` (None: to the day's end); this partition's part of it."""
        if self.rest is None:
            self.rest, self.stepped = self.sim.day_steps(), None
        if handed is not None:
            self.exchanges[handed[0]][2](handed[1])
        if to is None:
            for _ in self.rest:
                pass
            self.rest = None
            return None
        after, give, _ = self.exchanges[to]
        if after is not None and self.stepped is not after:
            for module in self.rest:
                self.stepped = module
                if module is after:
                    break
            else:
                raise RuntimeError(f"exchange {to!r}: the day ended without {after.name}'s "
                                   "step (already past it)")
        part = give()
        if to in SUMMED:  # a figure's part: mostly the others' zeros, sent as nonzeros
            return {name: Nonzeros.of(values) for name, values in part.items()}
        return part

    @staticmethod
    def _receive_listings(takers: list[Module], attitudes: Module | None, detains: bool,
                          three: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
        """Every partition's listings and namings to the modules that see them; its
        detainees to attitudes."""
        for taker in takers:
            taker.receive_listings(*three[:2])
        if detains:
            attitudes.receive_detentions(three[2])

    def run(self) -> None:
        """The whole population: no exchange, plain days."""
        self.sim.run()

    def _officials_figures(self) -> dict[str, np.ndarray]:
        """This partition's part of the officials exchange: its regions' reported
        violations (for the central authority) and what its officials did to firms
        (lending pressure, records dropped), 0 for the others' regions and firms."""
        officials = self.views["officials"]
        out = self.module["officials"].firm_figures(officials)
        if "central_authority" in self.module:
            out["regions.reported_violations"] = self.module["central_authority"].reports(
                self.views["central_authority"])
        return out

    def _receive_officials_figures(self, figures: dict[str, np.ndarray]) -> None:
        self.module["officials"].receive_firm_figures(self.views["officials"], figures)
        if "central_authority" in self.module:
            self.module["central_authority"].receive_reports(
                figures["regions.reported_violations"])

    def _market_figures(self) -> dict[str, np.ndarray]:
        """This partition's part of the market exchange: its day's counts for the
        market-wide beliefs and its own firms' complaints (0 for the others' firms)."""
        out = {"market.counts": self.module["market"].day_counts()}
        if "market_complaints" in self.module:
            out.update(self.module["market_complaints"].firm_complaints(
                self.views["market_complaints"]))
        return out

    def _receive_market_figures(self, figures: dict[str, np.ndarray]) -> None:
        self.module["market"].receive_day_counts(self.views["market"],
                                                 figures["market.counts"])
        if "market_complaints" in self.module:
            self.module["market_complaints"].receive_firm_complaints(
                self.views["market_complaints"],
                {k: v for k, v in figures.items() if k != "market.counts"})

    def state(self) -> dict[str, np.ndarray]:
        arrays = self.sim.world.arrays
        out = {name: arrays[name].T if name in LIST_MAJOR else arrays[name]
               for name in PERSON_ARRAYS if name in arrays}
        out["uids"] = self.uids
        out["counters"] = self.sim.world.counters.history
        for kind, (viewer, region, names) in OWNED.items():
            if viewer in self.views and arrays[region].size:
                own_regions = self.views[viewer].own_regions()
                out[f"{kind}.ids"] = np.flatnonzero(own_regions[arrays[region]])
                for name in names:
                    out[name] = arrays[name][out[f"{kind}.ids"]]
        return out


def in_order(events: list[tuple[np.ndarray, ...]]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The partitions' events (actor uid, venue, outcome, appending module and its two
    order keys) in the whole run's order: by the module that appended the act, then by
    its order keys (the actor's uid; the market's queue), each actor's in its own order
    (partitions hold disjoint people, each in that order: a stable sort)."""
    uid, slot, target, rank, first, second = (np.concatenate(col)
                                              for col in zip(*events, strict=True))
    order = np.lexsort((second, first, rank))
    return uid[order], slot[order], target[order]


def routed(records: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Every partition's records naming people elsewhere, column by column (each
    receiver keeps those naming its people and puts them in order)."""
    return {name: np.concatenate([r[name] for r in records]) for name in records[0]}


def columns(parts: list[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Every partition's part, one array per column: members of households cut by a
    region boundary (household, uid, list membership), kin entries (household, uid), the
    day's listings, namings and detentions (uids). Each receiver keeps what concerns it."""
    return tuple(np.concatenate(col) for col in zip(*parts, strict=True))


@dataclass(frozen=True)
class Nonzeros:
    """What a partition sends of a figure it owns some entries of: the positions and
    values of its nonzero entries (a figure over every region or firm is mostly the
    other partitions' zeros: with P partitions, dense parts would send P times the
    figure a day, these about once), and the figure's shape and the dtype of its sum."""

    shape: tuple[int, ...]
    sum_dtype: np.dtype
    at: np.ndarray
    values: np.ndarray

    @classmethod
    def of(cls, figure: np.ndarray) -> Nonzeros:
        figure = np.asarray(figure)
        at = np.flatnonzero(figure)
        sum_dtype = np.sum(np.zeros((1, 1), dtype=figure.dtype), axis=0).dtype
        return cls(figure.shape, sum_dtype, at, figure.reshape(-1)[at])


def summed(figures: list[dict[str, Nonzeros]]) -> dict[str, Any]:
    """Every region's and firm's figures: each partition's own regions' and firms'
    (0 elsewhere), added up — the bits of ``np.sum`` over the dense parts (adding 0
    changes nothing, and a sum of zeros is the same +0 from either). An entry that
    several partitions add to must be an integer: a float's bits would hang on the order
    of the additions (``np.sum`` adds pairwise from 8 parts on), and would not be the
    whole run's anyway, which never splits its sums by partition."""
    out: dict[str, Any] = {}
    for name, first in figures[0].items():
        parts = [figure[name] for figure in figures]
        if any(part.shape != first.shape for part in parts):
            raise ValueError(f"summed figure {name!r}: the partitions' shapes differ")
        dtype = np.result_type(*(part.sum_dtype for part in parts))
        if dtype.kind == "f" and len(parts) > 1:
            at = np.concatenate([part.at for part in parts])
            if at.size != np.unique(at).size:
                raise ValueError(f"summed figure {name!r}: a float entry added to by "
                                 "several partitions (its bits would hang on their order)")
        total = np.zeros(int(np.prod(first.shape)), dtype=dtype)
        for part in parts:
            total[part.at] += part.values
        out[name] = total.reshape(first.shape)[()]  # a scalar figure as a scalar
    return out


#: how the partitions' parts of each exchange are put together
GATHER: dict[str, Callable[[list[Any]], Any]] = {
    "national": summed, "officials": summed, "market": summed, "records": routed,
    "surveillance": summed, "kin": columns, "households": columns, "listings": columns,
    "network": in_order, "shadows": columns}
#: the exchanges whose parts are figures added up (sent as :class:`Nonzeros`)
SUMMED = tuple(name for name, gather in GATHER.items() if gather is summed)


def size(name: str, part: Any) -> int:
    """Entries in a partition's part of an exchange (what it sends to each other one)."""
    if name in SUMMED:  # each nonzero entry's position and value
        return sum(2 * int(figure.at.size) for figure in part.values())
    if name == "listings":  # uids listed, named, detained
        return sum(int(np.size(column)) for column in part)
    return int(part["subject"].size if name == "records" else part[0].size)


def merge(states: list[dict[str, np.ndarray]], people: int) -> dict[str, np.ndarray]:
    """:func:`benchmarks.partitioned.run.merge` of the per-person arrays compared, and
    each official's and firm's arrays from the partition owning it (each once)."""
    merged = run.merge(states, people, [name for name in PERSON_ARRAYS if name in states[0]])
    for kind, (_, _, names) in OWNED.items():
        if f"{kind}.ids" not in states[0]:
            continue
        ids = np.concatenate([s[f"{kind}.ids"] for s in states])
        order = np.argsort(ids, kind="stable")
        if not np.array_equal(ids[order], np.arange(ids.size)):
            raise ValueError(f"every one of the {kind} must be owned by exactly one partition")
        for name in names:
            merged[name] = np.concatenate([s[name] for s in states])[order]
    return merged


def run_whole(people: int, days: int, variant: str = "baseline") -> dict[str, np.ndarray]:
    p = Partition(people, days, None, variant)
    p.run()
    return merge([p.state()], people)


def run_in_process(people: int, days: int, blocks: Sequence[Sequence[int]],
                   exchange: bool = True, variant: str = "baseline",
                   only: Sequence[str] = EXCHANGES) -> tuple[dict[str, np.ndarray], int]:
    """Partitions in this process, day by day. ``exchange=False`` hands each partition
    only its own part of each exchange in ``only`` (the ablation). Returns the merged
    state and the entries sent to other partitions."""
    check_blocks(blocks, people, days, variant)
    parts = [Partition(people, days, b, variant) for b in blocks]
    sent = run_days(parts, days, exchange, only)
    return merge([p.state() for p in parts], people), sent


def check_blocks(blocks: Sequence[Sequence[int]], people: int, days: int,
                 variant: str) -> None:
    """Before building: every region of the variant's scenario in exactly one block."""
    run.check_blocks(blocks, scenario(people, days, variant).population.regions)


def run_days(parts: Sequence[Partition], days: int, exchange: bool = True,
             only: Sequence[str] = EXCHANGES, by_exchange: dict[str, int] | None = None
             ) -> int:
    """Step partitions in this process through ``days`` days with the day's exchanges
    (``exchange=False``: each handed only its own part of those in ``only``); the
    entries sent to other partitions (and, into ``by_exchange``, by exchange)."""
    others = len(parts) - 1
    sent = 0
    for _ in range(days):
        handed: list[tuple[str, Any] | None] = [None] * len(parts)
        for point in parts[0].points:
            got = [p.advance(h, point) for p, h in zip(parts, handed, strict=True)]
            entries = sum(size(point, g) for g in got) * others
            sent += entries
            if by_exchange is not None:
                by_exchange[point] = by_exchange.get(point, 0) + entries
            if exchange or point not in only:
                handed = [(point, GATHER[point](got))] * len(parts)
            else:
                handed = [(point, GATHER[point]([g])) for g in got]
        for p, h in zip(parts, handed, strict=True):
            p.advance(h, None)
    return sent


def exchange_volumes(people: int, days: int, blocks: Sequence[Sequence[int]],
                     variant: str) -> dict[str, float]:
    """Entries each exchange that is on sends to other partitions, per day (partitions
    in this process; :func:`size`: uids and records one entry each, a summed figure's
    nonzero entries two each — position and value)."""
    parts = [Partition(people, days, b, variant) for b in blocks]
    by_exchange: dict[str, int] = {}
    run_days(parts, days, by_exchange=by_exchange)
    return {name: n / days for name, n in by_exchange.items()}


def run_on_dask(client: Any, people: int, days: int, blocks: Sequence[Sequence[int]],
                variant: str = "baseline") -> dict[str, np.ndarray]:
    """One partition per Dask worker (an actor), a round per exchange that is on and a
    last one a day: each hands in the last exchange and runs to the next."""
    check_blocks(blocks, people, days, variant)
    workers = run.worker_per_block(client, blocks)
    futures = [client.submit(Partition, people, days, list(b), variant, actor=True,
                             workers=[w], pure=False)
               for b, w in zip(blocks, workers, strict=True)]
    actors = [f.result() for f in futures]
    points = actors[0].points
    for _ in range(days):
        handed = None
        for point in points:
            got = [c.result() for c in [a.advance(handed, point) for a in actors]]
            handed = (point, GATHER[point](got))
        for c in [a.advance(handed, None) for a in actors]:
            c.result()
    return merge([a.state().result() for a in actors], people)


def main(argv: list[str] | None = None) -> int:
    """Whole run against 2 Dask actors, build included, and whether they are identical;
    writes ``benchmarks/results-partitioned-builtin.md``."""
    import argparse
    import os
    import time

    from dask.distributed import Client

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--people", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--variant", choices=sorted(VARIANTS), nargs="+", default=BUILTINS)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    rows = []
    with run.local_cluster(2) as cluster, Client(cluster) as client:
        for variant in args.variant:
            run_whole(2000, 3, variant)  # compile (cached) before timing
            client.run(lambda v=variant: run_whole(2000, 3, v))
            for n in args.people:
                t0 = time.perf_counter()
                whole = run_whole(n, args.days, variant)
                t1 = time.perf_counter()
                split = run_on_dask(client, n, args.days, ([0, 1], [2, 3]), variant)
                t2 = time.perf_counter()
                rows.append((variant, n, run.identical(whole, split), t1 - t0, t2 - t1))
                print(f"{variant}, {n:,} people x {args.days} days: whole {t1 - t0:.1f} s, "
                      f"2 Dask actors {t2 - t1:.1f} s, bit-identical: "
                      f"{'yes' if rows[-1][2] else 'NO'}")
    lines = [
        "# Builtin scenarios split by region over 2 Dask workers",
        "",
        run.provenance(f"python -m benchmarks.partitioned.builtin --variant "
                       f"{' '.join(args.variant)} --people "
                       f"{' '.join(map(str, args.people))} --days {args.days}", load),
        "",
        "Variants and exchanges: `benchmarks/partitioned/builtin.py` (each builtin "
        "scenario unmodified, burn-in 0; every-module: all 31 modules on). Whole: one "
        "process, "
        "the whole population (both threads). 2 Dask actors: regions [0, 1] and [2, 3], one actor each on a "
        "LocalCluster of 2 worker processes (one thread each), the day's exchanges as "
        "rounds. One run each, build included.",
        "",
        "| variant | people | bit-identical | whole (s) | 2 Dask actors (s) |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {v} | {n:,} | {'yes' if same else 'NO'} | {a:.1f} | {b:.1f} |"
              for v, n, same, a, b in rows]
    n = min(args.people)
    volumes = {v: exchange_volumes(n, args.days, ([0, 1], [2, 3]), v) for v in args.variant}
    lines += ["", f"## What crosses, by exchange ({n:,} people × {args.days} days, 2 "
              "partitions in process)", "",
              "Entries sent to the other partition per day, mean over the run (a uid, a "
              "record: one entry each; a summed figure's nonzero entry: two, its position "
              "and value; — the exchange is off in that scenario). "
              "Exchanges: `EXCHANGES` in `benchmarks/partitioned/builtin.py`.", "",
              "| variant | " + " | ".join(EXCHANGES) + " |",
              "|---|" + "---:|" * len(EXCHANGES)]
    lines += [f"| {v} | " + " | ".join(f"{volumes[v][e]:,.1f}" if e in volumes[v] else "—"
                                        for e in EXCHANGES) + " |" for v in args.variant]
    lines += ["", "Bit-identical: every counter of every cell and day, and every person's and "
              "official's and firm's compared arrays (`PERSON_ARRAYS`, `OWNED`), byte for "
              "byte.", ""]
    args.out.write_text("\n".join(lines))
    return 0 if all(r[2] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())

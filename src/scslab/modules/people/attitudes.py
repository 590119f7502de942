"""Attitudes: approval of the scoring system and trust in institutions, moved by experience.

Each person holds ``a_i`` — the chance they say they approve of the system when asked (a
survey's expected share is the mean of ``a``) — and ``t_i``, trust in institutions. At day 0

    logit t_i = logit(trust_mean) + trust_sd · z₁ + trust_carried
    logit a_i = logit(approval_median) + income_slope · z_income,i
                + trust_slope · trust_sd · z₁ + approval_sd · z₂

(z standard normal from the module's own stream; z_income the person's standardised log
income): approval is higher among the wealthier and the trusting (Kostka 2019; Liu).
Afterwards both move in logit units, event by event (``docs/model.md``, Attitudes):

* put on a list that sanctions: ``wrong_sanction_shift`` if the person committed no act
  the apparatus punishes in the last ``offence_memory_days`` (they know their own conduct:
  truth, which people may read), else ``right_sanction_shift``; trust moves by
  ``wrong_trust_shift`` after a wrong sanction;
* put on a redlist (a listing whose measures reward): ``reward_shift``;
* a network neighbour publicly named: ``named_neighbour_shift``; detained by the
  surveillance: ``detained_neighbour_shift``;
* reached by a publicity campaign (``learning.campaigns``) with ``framing`` ``state``
  (the benefits) or ``balanced`` (pros and cons): ``state_framing_shift`` /
  ``balanced_framing_shift``.

Each region's mean approval is published as ``regions.approval`` (from the tallies, at
the end of the day): informants' reporting reads it (``surveillance``, legitimacy →
reporting). Outputs: ``approval`` and ``institutional_trust`` (means over person-days, by group and
region — tallied per cell as people change, no daily pass), and at the end who approves:
among the informed, by income quintile and by experience.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field

from scslab.core.apparatus import ListParams, SanctionParams, SanctionRule, ScoringParams
from scslab.core.layouts import INFORMED_CAMPAIGN, code_table
from scslab.core.metrics import FinalMetricDef, MetricDef
from scslab.core.module import ArraySpec, CounterSpec, Module, Phase, Role
from scslab.core.population import cut_refusal, log_income_moments, log_incomes
from scslab.core.scenario_schema import ModuleParams
from scslab.modules.people.learning import LearningParams
from scslab.numerics.csr import gather
from scslab.numerics.logistic import logit, sigmoid, sigmoid_in_place
from scslab.numerics.rng import SlotLayout, StreamSpec
from scslab.numerics.sets import unique

Prob = Annotated[float, Field(gt=0.0, lt=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
LAYOUT = SlotLayout((("purpose", 8),))
P_TRUST, P_APPROVAL = 1, 2
NEVER = 0xFFFF
#: experience bits (``people.attitude_events``)
RIGHT, WRONG, NAMED_NEIGHBOUR, REWARDED, DETAINED_NEIGHBOUR, STATE, BALANCED = (
    1, 2, 4, 8, 16, 32, 64)


class AttitudeParams(ModuleParams):
    enabled: bool = False
    approval_median: Prob = 0.866  # calibrated: day-0 mean approval 0.80 (Kostka 2019 [V])
    approval_sd: NonNeg = 1.0  # logit
    income_slope: float = 0.3  # logit per sd of log income (direction: Kostka 2019 [V])
    trust_mean: Prob = 0.6
    trust_sd: NonNeg = 1.0
    #: logit shift of everyone's day-0 trust carried from earlier periods of a world
    #: (``docs/adoption.md``); ``trust_mean`` stays the reference of approval and of the
    #: legitimacy link
    trust_carried: float = 0.0
    trust_slope: float = 1.0  # logit approval per logit trust (direction: Liu [V])
    offence_memory_days: Annotated[int, Field(ge=1)] = 730
    wrong_sanction_shift: float = -2.0
    right_sanction_shift: float = -0.5
    wrong_trust_shift: float = -1.0
    reward_shift: float = 0.5
    named_neighbour_shift: float = 0.05
    detained_neighbour_shift: float = -0.3
    state_framing_shift: float = 0.5
    #: calibrated: MERICS 2020, 53 % → 29 % once pros and cons were told (fitted on the
    #: model's spread of approval: tests/test_attitudes.py::test_merics_framing_reproduced)
    balanced_framing_shift: float = -1.4


def _shift(p: np.ndarray, delta) -> np.ndarray:
    """σ(logit p + Δ), in float32 like the arrays. An attitude saturated in float32 (0 or
    1) has logit ∓∞ and stays where it is, exactly, without a divide-by-zero warning."""
    with np.errstate(divide="ignore"):
        return sigmoid(logit(p.astype(np.float64)) + delta).astype(np.float32)




class Attitudes(Module):
    name = "attitudes"
    role = Role.BEHAVIOUR
    phase = Phase.LEARN
    Params = AttitudeParams
    doc = "Approval of the system and trust in institutions, moved by experience."
    owns: ClassVar = (
        ArraySpec("people.approval", "prob", "people", True,
                  "chance of saying one approves of the system"),
        ArraySpec("people.institutional_trust", "prob", "people", True,
                  "trust in institutions"),
        ArraySpec("people.last_offence_day", "day_u16", "people", True,
                  "last day the person committed an act the apparatus punishes", fill=NEVER),
        ArraySpec("people.attitude_events", "code", "people", True,
                  "experience bits: sanctioned rightly, wrongly, named or detained "
                  "neighbour, rewarded, campaigns"),
        ArraySpec("regions.approval", "prob", "regions", True,
                  "mean approval of the region's people (from the tallies, end of day)"),
    )
    reads = ("acts", "people.income", "people.cell", "people.net_offsets", "links.neighbour",
             "list_changes?", "detentions?", "informed?", "people.informed?")
    streams = (StreamSpec("attitudes", LAYOUT, "initial approval and trust"),)
    #: draws keyed by uid; income's log moments are national; each region's mean approval
    #: needs the whole region; named neighbours elsewhere are handed in
    #: (:meth:`receive_listings`); end-of-run figures are over everyone (none here)
    partitionable = True
    national_keys = ("attitudes.log_income_mean", "attitudes.log_income_sd")
    counters = (
        CounterSpec("approval_sum", "Σ approval over people, by cell, each day", real=True),
        CounterSpec("trust_sum", "Σ institutional trust over people, by cell, each day",
                    real=True),
        CounterSpec("attitude_events_wrong", "wrong sanctions felt (approval events)"),
        CounterSpec("attitude_events_right", "deserved sanctions felt (approval events)"),
    )
    metrics = (
        MetricDef("approval", "approval_sum", "person_days",
                  "mean chance of saying one approves (a survey's expected share)",
                  theme="acceptance", unit="approval sum per person-days"),
        MetricDef("institutional_trust", "trust_sum", "person_days",
                  "mean trust in institutions",
                  theme="acceptance", unit="trust sum per person-days"),
    )

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        return cut_refusal(split, "people.region",
                           "each region's mean approval is over the whole region")

    @classmethod
    def national_figures(cls, scenario, population) -> dict[str, float]:
        if not cls.enabled_in(scenario):
            return {}
        mean, sd = log_income_moments(log_incomes(population.arrays["people.income"]))
        return {"attitudes.log_income_mean": mean, "attitudes.log_income_sd": sd}

    def setup(self, world) -> None:
        p = self.params
        people = world.uids
        st = world.stream("attitudes")
        z_t = st.normal(0, LAYOUT.pack(purpose=P_TRUST), people)
        z_a = st.normal(0, LAYOUT.pack(purpose=P_APPROVAL), people)
        del people
        # the equations below, computed in place (IEEE + and × commute, so each value is
        # the same bits): at 10^8 people their float64 temporaries made the build's peak
        z_y = log_incomes(world.array("people.income"))
        if world.partitioned:  # the moments of everyone's, not of this partition's
            log_mean = world.national("attitudes.log_income_mean")
            log_sd = world.national("attitudes.log_income_sd")
        else:
            log_mean, log_sd = log_income_moments(z_y)
        z_y -= log_mean
        z_y /= log_sd
        lt = z_t
        lt *= p.trust_sd
        lt += logit(p.trust_mean)  # lt = logit(trust mean) + trust_sd · z_t
        la = z_y
        la *= p.income_slope
        la += logit(p.approval_median)
        tmp = lt - logit(p.trust_mean)
        tmp *= p.trust_slope
        la += tmp
        z_a *= p.approval_sd
        la += z_a  # la = logit(approval median) + slope_y z_y + slope_t (lt − ·) + sd z_a
        del tmp, z_a
        trust = world.array("people.institutional_trust")
        approval = world.array("people.approval")
        lt += p.trust_carried
        trust[:] = sigmoid_in_place(lt)
        approval[:] = sigmoid_in_place(la)
        del lt, la, z_y
        cell = world.array("people.cell")
        n_cells = world.counters.n_cells
        world.state["approval_tally"] = np.bincount(cell, weights=approval, minlength=n_cells)
        world.state["trust_tally"] = np.bincount(cell, weights=trust, minlength=n_cells)
        R = world.n_regions
        self.region_size = np.maximum(np.bincount(np.arange(n_cells) % R, minlength=R,
                                                  weights=np.bincount(cell, minlength=n_cells)),
                                      1.0)
        self._publish_regions(world)
        cat = world.catalogue
        lists = world.scenario.module_params("lists", ListParams)
        sanctions = world.scenario.module_params("sanctions", SanctionParams)
        scoring = world.scenario.module_params("scoring", ScoringParams)
        rule = SanctionRule.compile(sanctions, lists, cat)
        naming = sum(1 << m.bit for m in sanctions.measures.values()
                     if m.avoided_by_counterparties)
        self.sanctioning = rule.sanctioning.copy()
        rewarding = ((rule.own_bits & ~rule.punitive_mask()) != 0)
        self.rewarding = rewarding & ~self.sanctioning
        self.named = (rule.own_bits & np.uint16(naming)) != 0
        #: on a partition where neighbours' public namings move approval: every
        #: partition's namings of the day (uids), handed in before this module's step
        self.partitioned = world.partitioned
        self.sees_named = (lists.enabled and p.named_neighbour_shift != 0
                           and bool(self.named.any()))
        self.named_in: np.ndarray | None = None
        #: on a partition beside surveillance (the writer of detentions): every
        #: partition's detainees of the day (uids), handed in before this module's step
        #: (:meth:`receive_detentions`)
        self.sees_detained = (self.partitioned and p.detained_neighbour_shift != 0
                              and bool(world.scenario.modules.get("surveillance", {})
                                       .get("enabled", False)))
        self.detained_in: np.ndarray | None = None
        offences = {a for s in lists.lists.values() for a in s.acts}
        if scoring.enabled:
            offences |= {r.act for r in scoring.rules.values()
                         if r.act is not None and r.points < 0}
        self.offence = code_table(np.array([cat.code[cat.position(a)] for a in offences],
                                           dtype=np.int64))
        learning = world.scenario.module_params("learning", LearningParams)
        #: framing shift by informed channel: campaign k's, where it frames approval
        self.framing = {INFORMED_CAMPAIGN + k: c.framing
                        for k, c in enumerate(learning.campaigns.values())
                        if c.framing != "none"}

    def _move(self, world, people: np.ndarray, approval_shift, trust_shift=0.0) -> None:
        """Shift approval (and trust) of ``people`` (unique) in logit units; keep tallies."""
        if people.size == 0:
            return
        cell = world.array("people.cell")[people]
        n_cells = world.counters.n_cells
        for name, tally, delta in (("people.approval", "approval_tally", approval_shift),
                                   ("people.institutional_trust", "trust_tally",
                                    trust_shift)):
            if np.all(np.asarray(delta) == 0):
                continue
            arr = world.array(name)
            old = arr[people]
            new = _shift(old, delta)
            arr[people] = new
            world.state[tally] += np.bincount(
                cell, weights=new.astype(np.float64) - old.astype(np.float64),
                minlength=n_cells)

    def receive_listings(self, listed: np.ndarray, named: np.ndarray) -> None:
        """On a partition, before this module's step: every partition's public namings
        of the day (uids; ``Learning.listings`` concatenated — sanctioning listings are
        not read here). Their order does not matter: k namings move a neighbour k·shift."""
        self.named_in = np.asarray(named, dtype=np.int64)

    def detained(self, world) -> np.ndarray:
        """On a partition, before this module's step: today's detainees here (uids), which
        the driver hands to every partition."""
        detentions = world.events("detentions")
        return world.uid_of(detentions["person"].astype(np.int64))

    def receive_detentions(self, detained: np.ndarray) -> None:
        """On a partition, before this module's step: every partition's detainees of the
        day (uids, :meth:`detained` concatenated; k detentions move a neighbour k·shift,
        in any order)."""
        self.detained_in = np.asarray(detained, dtype=np.int64)

    def step(self, world, day: int) -> None:
        p = self.params
        if self.partitioned and self.sees_named and self.named_in is None:
            raise RuntimeError("attitudes on a partition: today's public namings of every "
                               "partition were not handed in (Attitudes.receive_listings)")
        named_everywhere, self.named_in = self.named_in, None
        events = world.array("people.attitude_events")
        acts = world.events("acts")
        if len(acts):
            did = acts["actor"][self.offence[acts["act"]]]
            world.array("people.last_offence_day")[did] = day
        changes = world.events("list_changes")
        if len(changes):
            entered = changes["entered"]
            code = changes["list"]
            person = changes["person"].astype(np.int64)
            hit = unique(person[entered & self.sanctioning[code]])
            if hit.size:
                last = world.array("people.last_offence_day")[hit].astype(np.int64)
                deserved = (last != NEVER) & (day - last <= p.offence_memory_days)
                right, wrong = hit[deserved], hit[~deserved]
                self._move(world, right, p.right_sanction_shift)
                self._move(world, wrong, p.wrong_sanction_shift, p.wrong_trust_shift)
                events[right] |= RIGHT
                events[wrong] |= WRONG
                cell = world.array("people.cell")
                world.counters.add_cells("attitude_events_right", cell[right])
                world.counters.add_cells("attitude_events_wrong", cell[wrong])
            rewarded = unique(person[entered & self.rewarding[code]])
            self._move(world, rewarded, p.reward_shift)
            events[rewarded] |= REWARDED
            if named_everywhere is None:
                self._neighbours(world, person[entered & self.named[code]],
                                 p.named_neighbour_shift, NAMED_NEIGHBOUR)
        if named_everywhere is not None:  # on a partition: the namings of every partition
            self._neighbours(world, named_everywhere, p.named_neighbour_shift,
                             NAMED_NEIGHBOUR, by_uid=True)
        detentions = world.events("detentions")
        detained_everywhere, self.detained_in = self.detained_in, None
        if detained_everywhere is None and world.partitioned and (
                self.sees_detained or len(detentions)):
            raise RuntimeError("attitudes on a partition: today's detainees of every "
                               "partition were not handed in (Attitudes.receive_detentions)")
        if detained_everywhere is not None:  # on a partition: every partition's
            self._neighbours(world, detained_everywhere, p.detained_neighbour_shift,
                             DETAINED_NEIGHBOUR, by_uid=True)
        elif len(detentions):
            self._neighbours(world, detentions["person"].astype(np.int64),
                             p.detained_neighbour_shift, DETAINED_NEIGHBOUR)
        informed = world.events("informed")
        if self.framing and len(informed):
            self._framed(world, informed)
        c = world.counters
        c.add_vector("approval_sum", world.state["approval_tally"])
        c.add_vector("trust_sum", world.state["trust_tally"])
        self._publish_regions(world)

    def _publish_regions(self, world) -> None:
        """``regions.approval``: each region's mean approval, from the per-cell tallies
        (cells are group × regions + region) — what informants' reporting reads."""
        R = world.n_regions
        tally = world.state["approval_tally"]
        by_region = np.bincount(np.arange(tally.size) % R, weights=tally, minlength=R)
        world.array("regions.approval")[:] = by_region / self.region_size

    final_metric_defs = (
        FinalMetricDef("approval_informed", "mean approval among the people who know of the system, at the end",
                       theme="acceptance", unit="mean approval (0–1)"),
        *(FinalMetricDef(f"approval[income_quintile={q}]",
                         f"mean approval at the end in income quintile {q} (1 poorest)",
                         theme="fairness", unit="mean approval (0–1)") for q in range(1, 6)),
        FinalMetricDef("approval[sanctioned=wrongly]", "mean approval at the end of those ever wrongly sanctioned",
                       theme="fairness", unit="mean approval (0–1)"),
        FinalMetricDef("approval[sanctioned=rightly]", "mean approval at the end of those rightly and never wrongly sanctioned",
                       theme="fairness", unit="mean approval (0–1)"),
        FinalMetricDef("approval[untouched]", "mean approval at the end of those no sanction touched",
                       theme="fairness", unit="mean approval (0–1)"),
    )

    def final_metrics(self, world) -> dict[str, float | None]:
        """Who approves at the end: the informed (what a survey of those who know the
        system asks), by income quintile, and by what happened to them — none on a
        partition, whose people are not everyone (the quintiles are national)."""
        if self.partitioned:
            return {}
        # no float64 copy of everyone's approval nor int64 quintile per person: only the
        # people of each mask are widened (the same values, so the same means)
        approval = world.array("people.approval")
        income = world.array("people.income")
        events = world.array("people.attitude_events")
        out: dict[str, float | None] = {}

        def mean(mask) -> float | None:
            return float(approval[mask].astype(np.float64).mean()) if mask.any() else None

        informed = world.optional("people.informed")
        if informed is not None:
            out["approval_informed"] = mean(informed)
        # quintile q + 1 is searchsorted(edges, income, side="right") == q: the edges
        # (float64 scalars, so compared in float64) at or below the income number q
        edges = np.quantile(income, [0.2, 0.4, 0.6, 0.8])
        for q in range(5):
            mask = income >= edges[q - 1] if q else np.ones(income.size, dtype=bool)
            if q < 4:
                mask &= income < edges[q]
            out[f"approval[income_quintile={q + 1}]"] = mean(mask)
        out["approval[sanctioned=wrongly]"] = mean((events & WRONG) != 0)
        out["approval[sanctioned=rightly]"] = mean(((events & RIGHT) != 0)
                                                   & ((events & WRONG) == 0))
        out["approval[untouched]"] = mean(events == 0)
        return out

    def _neighbours(self, world, people: np.ndarray, shift: float, bit: int,
                    by_uid: bool = False) -> None:
        """Network neighbours of ``people`` move by ``shift`` per event (k events: k·shift).
        ``by_uid``: ``people`` are uids anywhere, and the neighbours those who live here
        (a partition's reverse neighbour index)."""
        if people.size == 0 or shift == 0:
            return
        if by_uid:
            seen, _ = gather(*world.reverse_neighbours(), people)
        else:
            seen, _ = gather(world.array("people.net_offsets"),
                             world.array("links.neighbour"), people)
        who, times = np.unique(seen, return_counts=True)
        self._move(world, who, shift * times)
        world.array("people.attitude_events")[who] |= bit

    def _framed(self, world, informed) -> None:
        """Those a framed campaign informed today move as its framing says."""
        p = self.params
        for channel, framing in self.framing.items():
            told = informed["person"][informed["channel"] == channel].astype(np.int64)
            if told.size == 0:
                continue
            state = framing == "state"
            self._move(world, told, p.state_framing_shift if state else p.balanced_framing_shift)
            world.array("people.attitude_events")[told] |= STATE if state else BALANCED

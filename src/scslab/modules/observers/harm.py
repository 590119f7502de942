"""Harm metrics (observer): sanctions classified exactly by their but-for cause.

The observer runs two *shadow* apparatuses — the same scoring and list rules
(``apparatus.py``) on the same days — fed with filtered record streams:

* **E**: every record except erroneous ones (misattributed, fabricated, misclassified);
* **L**: E without records of lawful conduct (correct records of acts lawful under the
  reference norm, evaluations with no act, records spread to kin).

A sanction-day of the real apparatus (A) is a **false** sanction-day when the person
would not be sanctioned in E ("had erroneous records been removed and the rules
re-applied that day"), a **lawful-conduct** sanction-day when sanctioned in E but not in
L, and a correct one otherwise. Household spillover is a sanction for a relative's
conduct: false if the relative's listing is, otherwise lawful-conduct (L counts only a
person's own listings). Per day the observer touches only the people under sanction (one byte
scan of the bans array finds them); person-level figures are flags set at events.
Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from scslab.core.apparatus import (
    ListBook,
    ListParams,
    SanctionParams,
    SanctionRule,
    ScoreBook,
    ScoringParams,
)
from scslab.core.housemates import (
    Housemates,
    ReachesHousemates,
    bans_where_moved,
    inside_cut_problem,
    spills,
)
from scslab.core.layouts import (
    RECORD_KIND_EVALUATION,
    RECORD_KIND_KIN,
    RECORD_KIND_OBSERVATION,
)
from scslab.core.metrics import FinalMetricDef, MetricDef
from scslab.core.module import CounterSpec, Module, Phase, Role
from scslab.numerics.sets import unique

SHADOWS = ("E", "L")
#: person-level flags (measured period), packed into one byte per person
EVER_SANCTIONED, EVER_FALSE, COMMITTED = 1, 2, 4


@nb.njit(cache=True)
def _day_counts(cell, listed, black_mask, debtor_mask, able, bans, punitive, reward_of_bans,
                cost_of_bans, e_bans, l_member, own_table, income, stage,
                flags, out):  # pragma: no cover - compiled
    """One pass over everyone for the day's listed and sanctioned person-days, adding into
    the counters' accumulators in uid order (the sums of a ``bincount`` over uids). ``out``
    rows: listed, debtor listed, listed unable, rewards, sanctions, false, lawful, income
    lost false, income lost true, post-compliance, people sanctioned, people false
    sanctioned. ``able``, ``bans``, ``stage`` are empty where no module provides them."""
    has_able = able.shape[0] > 0
    has_stage = stage.shape[0] > 0
    has_bans = bans.shape[0] > 0
    for i in range(listed.shape[0]):
        c = cell[i]
        li = listed[i]
        if li & black_mask:
            out[0, c] += 1.0
            if li & debtor_mask:
                out[1, c] += 1.0
                if has_able and not able[i]:
                    out[2, c] += 1.0
        if not has_bans:
            continue
        b = bans[i]
        # without a branch: a third of people may hold a reward, at random, so the branch
        # was mispredicted (2.9 → 1.5 ms at 10^6 late in a run); the table is +0.0 where
        # ``b`` holds no reward, and x + 0.0 is x, so the sums keep their bits
        out[3, c] += reward_of_bans[b]
        if b & punitive:
            true = (e_bans[i] & punitive) != 0
            # a sanction for a relative's conduct is one for lawful conduct
            unlawful = (own_table[l_member[i]] & punitive) != 0
            out[4, c] += 1.0
            if not true:
                out[5, c] += 1.0
            elif not unlawful:
                out[6, c] += 1.0
            lost = cost_of_bans[b] * np.float64(income[i])
            if not true:
                out[7, c] += lost
            else:
                out[8, c] += lost
            if has_stage and (li & debtor_mask) and stage[i] == 0:
                out[9, c] += 1.0
            if (flags[i] & EVER_SANCTIONED) == 0:
                flags[i] |= EVER_SANCTIONED
                out[10, c] += 1.0
            if not true and (flags[i] & EVER_FALSE) == 0:
                flags[i] |= EVER_FALSE
                out[11, c] += 1.0


#: Counters of :func:`_day_counts`, by row of its ``out``.
DAY_COUNTERS = ("listed_days", "debtor_listed_days", "listed_unable_days", "rewards_received",
                "sanction_days", "false_sanction_days", "lawful_sanction_days",
                "income_lost_false", "income_lost_true", "post_compliance_sanction_days",
                "people_sanctioned", "people_false_sanctioned")


def gini(x: np.ndarray, shift: float = 0.0) -> float | None:
    """Gini coefficient of the non-negative values ``x − shift`` (None for an empty or
    all-zero vector). Over everyone it is a final metric that must not be the run's
    memory peak: one float64 copy, sorted and shifted in place (a constant shift keeps
    the order, and the integer scores shift exactly), and one weight vector."""
    x = np.array(x, dtype=np.float64)
    x.sort()
    if shift:
        x -= shift
    if x.size == 0 or x.sum() <= 0:
        return None
    n = x.size
    weight = np.arange(1, n + 1, dtype=np.float64)  # 2i − n − 1, exact in float64
    weight *= 2.0
    weight -= n
    weight -= 1
    return float(weight.dot(x) / (n * x.sum()))


class Harm(ReachesHousemates, Module):
    name = "harm"
    role = Role.OBSERVER
    phase = Phase.OBSERVE
    doc = "Listing, sanction-days, false and lawful-conduct sanctions, income lost, appeals."
    reads = ("dossier", "truth", "acts", "people.cell", "people.household",
             "people.income", "people.group", "people.region", "people.bans?",
             "people.listed?", "people.score?", "people.debt_stage?", "people.debt_able?")
    #: draws nothing and counts by its own people's cells; its shadow E spreads household
    #: measures as sanctions does — on a partition that cuts households, a day's counts
    #: wait for the E membership of housemates held elsewhere (``shadows`` exchange,
    #: :meth:`receive_housemates`); the end-of-run Gini is over everyone — a partition
    #: reports none (the driver gathers the scores)
    partitionable = True
    counters = (
        CounterSpec("listed_days", "person-days on a blacklist"),
        CounterSpec("sanction_days", "person-days under at least one punitive measure"),
        CounterSpec("false_sanction_days", "sanction-days that vanish without erroneous records"),
        CounterSpec("lawful_sanction_days", "sanction-days caused by records of lawful conduct"),
        CounterSpec("post_compliance_sanction_days", "sanction-days on a debtor list after paying"),
        CounterSpec("debtor_listed_days", "person-days on a debtor list (one with exit acts)"),
        CounterSpec("listed_unable_days", "debtor-list person-days while unable to pay"),
        CounterSpec("income_lost_true", "income lost to sanctions that survive removing errors",
                    real=True),
        CounterSpec("income_lost_false", "income lost to false sanction-days", real=True),
        CounterSpec("rewards_received", "money received from redlist measures", real=True),
        CounterSpec("people_sanctioned", "people with a sanction-day (measured period)"),
        CounterSpec("people_false_sanctioned", "people with a false sanction-day"),
        CounterSpec("people_no_act", "people with no sanctionable act (counted at the end)"),
        CounterSpec("people_sanctioned_no_act", "of them, people sanctioned (at the end)"),
    )
    metrics = (
        MetricDef("listed_share", "listed_days", "person_days",
                  "share of person-days on a blacklist", disparity=True,
                  theme="governance", unit="share of people listed"),
        MetricDef("sanction_days", "sanction_days", None, "sanction-days (count)",
                  theme="governance", unit="sanction-days per person"),
        MetricDef("sanction_day_share", "sanction_days", "person_days",
                  "share of person-days under sanction", disparity=True,
                  theme="governance", unit="share"),
        MetricDef("false_sanction_rate", "people_false_sanctioned", "people_sanctioned",
                  "among people with a sanction-day, share with a false one (but-for)",
                  disparity=True,
                  theme="harm", unit="share of sanctions on people who did not offend"),
        MetricDef("false_sanction_fpr", "people_sanctioned_no_act", "people_no_act",
                  "among people with no sanctionable act, share sanctioned", disparity=True,
                  theme="harm", unit="people sanctioned no act per people no act"),
        MetricDef("lawful_conduct_sanction_rate", "lawful_sanction_days", "sanction_days",
                  "share of sanction-days caused by correct records of lawful conduct",
                  theme="harm", unit="lawful sanction days per sanction days"),
        MetricDef("false_sanction_days", "false_sanction_days", None,
                  "false sanction-days (count)",
                  theme="harm", unit="false sanction days per day"),
        MetricDef("post_compliance_sanction_days", "post_compliance_sanction_days", None,
                  "sanction-days on a debtor list after the debt was paid (count)",
                  theme="harm", unit="post compliance sanction days per day"),
        MetricDef("income_lost_true", "income_lost_true", None,
                  "income lost to sanctions that survive removing errors (money)",
                  theme="economy", unit="median daily incomes per person"),
        MetricDef("income_lost_false", "income_lost_false", None,
                  "income lost to false sanctions (money)",
                  theme="harm", unit="median daily incomes per person"),
        MetricDef("listed_unable_to_pay_share", "listed_unable_days", "debtor_listed_days",
                  "share of debtor-list person-days while unable to pay",
                  theme="governance", unit="share"),
        MetricDef("blocked_trips", "blocked_trips", None, "trips blocked by bans (count)",
                  theme="harm", unit="blocked trips per day"),
        MetricDef("appeals_filed", "appeals_filed", None, "appeals filed (count)",
                  theme="governance", unit="appeals filed per day"),
        MetricDef("appeals_won", "appeals_won", None, "appeals won (count)",
                  theme="governance", unit="appeals won per day"),
    )

    @classmethod
    def partition_problem(cls, params, scenario, split) -> str | None:
        return inside_cut_problem(split, "household measures reach housemates (harm's "
                                  "shadow E)") if spills(scenario) else None

    def setup(self, world) -> None:
        sc = world.scenario
        self.partitioned = world.partitioned
        self.scoring = sc.module_params("scoring", ScoringParams)
        self.lists = sc.module_params("lists", ListParams)
        sanctions = sc.module_params("sanctions", SanctionParams)
        cat = world.catalogue
        n = world.counts["people"]
        self.active = self.lists.enabled
        self.rule = SanctionRule.compile(sanctions, self.lists, cat)
        self.punitive = self.rule.punitive_mask()
        # income share lost and reward per bans value: a gather instead of a pass over the
        # 16 bits of each sanctioned (rewarded) person a day
        every = np.arange(1 << 16, dtype=np.uint16)
        self.cost_of_bans = self.rule.daily_cost(every)
        self.reward_of_bans = self.rule.daily_reward(every & ~self.punitive)
        # +0.0 exactly where no reward is held: _day_counts adds it without a test
        self.reward_of_bans[(every & ~self.punitive) == 0] = 0.0
        self.hh_offsets, self.hh_members = world.index("people.household")
        #: on a partition with household measures: the housemates held elsewhere, whose
        #: E membership comes after this module's step; the day's counts wait for it
        self.housemates = Housemates(world, self.hh_offsets, self.hh_members) \
            if world.partitioned and self.active and spills(sc) else None
        self.grade_names = sorted(self.scoring.grades, key=self.scoring.grades.get)
        black = [s for s in self.lists.lists.values() if s.kind == "black"]
        self.black_mask = np.uint8(sum(1 << s.code for s in black))
        debtor = [s for s in black if s.exit_acts]
        self.debtor_mask = np.uint8(sum(1 << s.code for s in debtor))
        sanctionable = np.zeros(256, dtype=bool)
        for rule in self.scoring.rules.values():
            if rule.act is not None and rule.points < 0 and self.scoring.enabled:
                sanctionable[cat.code[cat.position(rule.act)]] = True
        for s in black:
            for a in s.acts:
                sanctionable[cat.code[cat.position(a)]] = True
        self.sanctionable = sanctionable
        st = world.state
        for name in SHADOWS:
            st[name] = {
                "score": np.full(n, self.scoring.base, dtype=np.int32),
                "restore": np.full(n, 0xFFFF, dtype=np.uint16),
                "counts": np.zeros((n, max(sum(r.max_per_year is not None
                                               for r in self.scoring.rules.values()), 1)),
                                   dtype=np.uint8),
                "year": [0],
                "member": np.zeros(n, dtype=np.uint8),
                "until": np.full((self.lists.slots(), n), 0xFFFF, dtype=np.uint16),
                "restore_due": {},  # the books' calendars of due days
                "until_due": {},
            }
        # E's bans with household spillover, kept up to date at E's list changes (as the
        # sanctions module keeps people.bans) instead of recomputed for everyone sanctioned
        st["E"]["bans"] = np.zeros(n, dtype=np.uint16)
        st["flags"] = np.zeros(n, dtype=np.uint8)
        self.books: dict[str, tuple[ScoreBook, ListBook]] = {}
        self.last_day = world.scenario.time.burn_in + world.scenario.time.days - 1
        self.burn_in = world.scenario.time.burn_in

    def _books(self, world, name):
        """The shadow's books, built once (their compiled tables), bound to today's arrays
        (a snapshot restore replaces them)."""
        s = world.state[name]
        if name not in self.books:
            self.books[name] = (
                ScoreBook(self.scoring, world.catalogue, s["score"], s["restore"], s["counts"],
                          s["year"], s["restore_due"]),
                ListBook(self.lists, world.catalogue, s["member"], s["until"], s["until_due"]))
        score, lists = self.books[name]
        score.score, score.restore_day, score.counts, score.year, score.due = (
            s["score"], s["restore"], s["counts"], s["year"], s["restore_due"])
        lists.member, lists.until, lists.due = s["member"], s["until"], s["until_due"]
        return score, lists

    def step(self, world, day: int) -> None:
        if self.housemates is not None and day > 0:
            self.housemates.require_handed(self.name, "shadows (the previous day's)")
        st = world.state
        flags = st["flags"]
        if day == self.burn_in:
            flags[:] = 0
        acts = world.events("acts")
        if len(acts):
            hit = self.sanctionable[acts["act"]]
            flags[acts["actor"][hit]] |= COMMITTED
        if self.active:
            self._feed_shadows(world, day)
        if self.housemates is None:
            self._close_day(world, day)

    @property
    def waits_for_housemates(self) -> bool:
        """Whether a day's counts wait for :meth:`receive_housemates` (a partition with
        household measures)."""
        return self.housemates is not None

    def exchange_due(self) -> str | None:
        """The day's counts come with its ``shadows`` exchange (:meth:`receive_housemates`)."""
        if self.housemates is not None and not self.housemates.handed:
            return "shadows exchange was not handed in (Harm.receive_housemates)"
        return None

    def housemates_listed(self, world) -> tuple[np.ndarray, ...]:
        """This partition's part of the ``shadows`` exchange (after this module): the E
        membership of its members of households it shares with other partitions."""
        return self.housemates.members(world, world.state["E"]["member"])

    def receive_housemates(self, world, day: int, parts: tuple[np.ndarray, ...]) -> None:
        """Every partition's part: E's bans of housemates of people held elsewhere, then
        the day's counts (as the whole run counts them at the end of its step)."""
        self.housemates.receive(world, self.rule, parts)
        if self.housemates.moved.size:
            self._household_bans(world, world.state["E"]["member"], [])
        self._close_day(world, day)

    def _close_day(self, world, day: int) -> None:
        """The day's counts; on the last day the end-of-run counts, and the shadow books
        released."""
        if self.active:
            self._count_days(world, day)
        if day == self.last_day:
            self._final(world)
            # the shadow books serve the daily counts only: released once the last day is
            # counted, so that the end-of-run metrics (which copy and weigh everyone's
            # score) do not stack on them — 39 B per person, the run's peak otherwise
            for name in SHADOWS:
                del world.state[name]
            self.books.clear()

    def _feed_shadows(self, world, day) -> None:
        chunk, live = world.dossier.day_records(day)
        if len(chunk):
            subj = chunk["subject"][live]
            act = chunk["act"][live]
            kind = chunk["kind"][live]
            ref = world.dossier.obs_refs(day, chunk)[live]
            actor, lawful, true_act = world.truth.lookup_all(ref)
            obs = kind == RECORD_KIND_OBSERVATION
            # fabricated: no true actor (-1), so never the subject
            erroneous = obs & ((actor < 0) | (actor != subj) | (true_act != act))
            lawful_conduct = (kind == RECORD_KIND_EVALUATION) | (kind == RECORD_KIND_KIN) | (
                obs & ~erroneous & lawful)
            keep = {"E": ~erroneous, "L": ~erroneous & ~lawful_conduct}
        for name in SHADOWS:  # the same order as the apparatus: points, restoration, lists
            score, lists = self._books(world, name)
            changed = []
            if len(chunk):
                k = keep[name]
                if self.scoring.enabled:
                    _, people = score.apply(day, subj[k], act[k], kind[k])
                    changed.append(people)
            changed.append(score.restore(day))
            moved = lists.expire(day)  # (people, list code) whose membership changed
            if len(chunk):
                entered, exited = lists.apply_records(day, subj[k], act[k], kind[k])
                moved += entered + exited
            people = unique(np.concatenate(changed))
            if people.size and self.scoring.enabled:
                entered, exited = lists.apply_grades(day, people, score.grade_of(people),
                                                     self.grade_names)
                moved += entered + exited
            if name == "E":
                self._household_bans(world, lists.member, [p for p, _ in moved])

    def _household_bans(self, world, member, moved) -> None:
        """Recompute E's bans in the households of people whose E membership changed."""
        people, bans = bans_where_moved(world, self.rule, member, self.hh_offsets,
                                        self.hh_members,
                                        np.concatenate([np.zeros(0, np.int64), *moved]),
                                        self.housemates)
        world.state["E"]["bans"][people] = bans

    def _count_days(self, world, day) -> None:
        listed = world.optional("people.listed")
        if listed is None:
            return
        c = world.counters
        able = world.optional("people.debt_able")
        bans = world.optional("people.bans")
        stage = world.optional("people.debt_stage")
        none_u8 = np.zeros(0, dtype=np.uint8)
        none_u16 = np.zeros(0, dtype=np.uint16)
        out = np.zeros((len(DAY_COUNTERS), c.n_cells))
        _day_counts(world.array("people.cell"), listed, self.black_mask, self.debtor_mask,
                    able if able is not None else np.zeros(0, dtype=bool),
                    bans if bans is not None else none_u16, self.punitive,
                    self.reward_of_bans, self.cost_of_bans,
                    world.state["E"]["bans"] if bans is not None else none_u16,
                    world.state["L"]["member"] if bans is not None else none_u8,
                    self.rule.own_table,
                    world.array("people.income"),
                    stage if stage is not None else none_u8, world.state["flags"], out)
        for name, per_cell in zip(DAY_COUNTERS, out, strict=True):
            c.add_vector(name, per_cell)

    def _final(self, world) -> None:
        flags = world.state["flags"]
        c = world.counters
        cell = world.array("people.cell")
        no_act = (flags & COMMITTED) == 0
        c.add_cells("people_no_act", cell[no_act])
        c.add_cells("people_sanctioned_no_act", cell[no_act & ((flags & EVER_SANCTIONED) != 0)])

    final_metric_defs = (
        FinalMetricDef("score_gini", "inequality (Gini) of scores at the end of the run; by group and region",
                       theme="fairness", unit="Gini coefficient of scores (0–1)", breakdown=True),
    )

    def final_metrics(self, world) -> dict[str, float | None]:
        """Score inequality at the end of the run (overall, by group and region); none on a
        partition, whose people are not everyone."""
        score = world.optional("people.score")
        if score is None or not self.scoring.enabled or self.partitioned:
            return {}
        low = min(0.0, float(score.min()))  # scores shifted to be non-negative
        out = {"score_gini": gini(score, low)}
        group = world.array("people.group")
        region = world.array("people.region")
        for g, name in enumerate(world.group_names):
            out[f"score_gini[group={name}]"] = gini(score[group == g], low)
        for r in range(world.n_regions):
            out[f"score_gini[region={r}]"] = gini(score[region == r], low)
        return out

"""The rules of a scoring apparatus as pure state machines, so they can run three times.

The system modules (scoring, lists, sanctions) run a :class:`ScoreBook`, a
:class:`ListBook` and a :class:`SanctionRule` on the records they are given. The harm
observer runs *shadow* copies of the same books on filtered record streams — without
erroneous records, and without records of lawful conduct — so that a sanction-day is
classified exactly by its but-for cause ("would it have happened had erroneous records
been removed and the rules re-applied that day?"). The books hold no truth; the
observer decides which records to feed them.

Scenario parameters (pydantic models) live here too, because both the system modules
and the observer need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

import numba as nb
import numpy as np
from pydantic import Field, model_validator

from scslab.core.layouts import code_table
from scslab.core.scenario_schema import ModuleParams, Strict
from scslab.numerics.sets import unique

NEVER = 0xFFFF
MAX_LISTS = 8
MAX_MEASURES = 16

# ---------------------------------------------------------------------------- params


class PointRule(Strict):
    """Points for a record: of an act, or of a record kind (``evaluation``, ``kin``)."""

    act: str | None = None
    record_kind: Literal["evaluation"] | None = None
    points: Annotated[int, Field(ge=-10_000, le=10_000)]
    max_per_year: Annotated[int, Field(ge=1, le=255)] | None = None
    score_cap: int | None = None  # e.g. drunk driving → automatic grade C: score ≤ cap
    applies_to_kin: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> PointRule:
        if (self.act is None) == (self.record_kind is None):
            raise ValueError("a rule names exactly one of 'act' or 'record_kind'")
        return self


class ScoringParams(ModuleParams):
    enabled: bool = False
    base: int = 1000
    rules: dict[str, PointRule] = Field(default_factory=dict)
    #: grade name → lowest score of the grade (any order; sorted internally)
    grades: dict[str, int] = Field(default_factory=lambda: {
        "AAA": 1050, "AA": 1030, "A": 960, "B": 850, "C": 600, "D": -1_000_000})
    restoration_days: Annotated[int, Field(ge=1)] | None = 365
    point_value: Annotated[float, Field(ge=0.0)] = 0.2  # money per point, for perceptions


class ListSpec(Strict):
    kind: Literal["black", "red"] = "black"
    code: Annotated[int, Field(ge=0, lt=MAX_LISTS)]
    entry: Literal["record", "grade"]
    acts: list[str] = Field(default_factory=list)  # entry by record of these acts
    grades: list[str] = Field(default_factory=list)  # entry by grade
    duration_days: Annotated[int, Field(ge=1)] = 730
    exit_acts: list[str] = Field(default_factory=list)  # compliance recorded → exit
    exit_delay_days: Annotated[int, Field(ge=0)] = 3
    include_kin: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ListSpec:
        if self.entry == "record" and not self.acts:
            raise ValueError("acts: a list entered by record names the acts that list")
        if self.entry == "grade" and not self.grades:
            raise ValueError("grades: a list entered by grade names the grades")
        return self


class ListParams(ModuleParams):
    enabled: bool = False
    lists: dict[str, ListSpec] = Field(default_factory=dict)

    def first_code(self) -> int:
        """The lowest list code (0 without lists): per-list arrays keep rows from it, so
        a society whose lists are codes 1–3 (code 0 left for the national court list it
        may be combined with) keeps no row for code 0 (2 B per person and per row)."""
        return min((s.code for s in self.lists.values()), default=0)

    def slots(self) -> int:
        """Rows of per-list arrays: one per code from :meth:`first_code` to the highest
        (at least 1); code ``c`` is row ``c − first_code()``."""
        return max((s.code for s in self.lists.values()), default=0) - self.first_code() + 1


class MeasureSpec(Strict):
    bit: Annotated[int, Field(ge=0, lt=MAX_MEASURES)]
    blocks: list[str] = Field(default_factory=list)  # acts the measure blocks
    income_cost: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0  # share of daily income lost
    reward: Annotated[float, Field(ge=0.0)] = 0.0  # money per day gained (redlist benefits)
    household: bool = False  # spills over to the household (not the person)
    #: public naming: counterparties learn of it (neighbours' perceived sanction and
    #: awareness, ``learning``) and market buyers avoid the named (``market``)
    avoided_by_counterparties: bool = False

    @model_validator(mode="after")
    def _does_something(self) -> MeasureSpec:
        if not (self.blocks or self.income_cost > 0 or self.reward > 0
                or self.avoided_by_counterparties):
            raise ValueError("a measure needs a cost: blocks, income_cost, reward or "
                             "avoided_by_counterparties")
        return self


class SanctionParams(ModuleParams):
    enabled: bool = False
    measures: dict[str, MeasureSpec] = Field(default_factory=dict)
    #: the joint sanction matrix: agency → measure → lists on which it applies the measure
    matrix: dict[str, dict[str, list[str]]] = Field(default_factory=dict)
    discount_per_day: Annotated[float, Field(gt=0.0, le=1.0)] = 0.999


def check_apparatus(scoring: ScoringParams, lists: ListParams, sanctions: SanctionParams,
                    scenario) -> None:
    """Cross-references: acts, grades, lists and measures named in rules must exist."""
    acts = scenario.acts
    for name, rule in scoring.rules.items():
        if rule.act is not None and rule.act not in acts:
            raise ValueError(f"rules.{name}.act: unknown act {rule.act!r}")
    codes = [s.code for s in lists.lists.values()]
    if len(set(codes)) != len(codes):
        raise ValueError("lists: list codes repeat")
    for name, spec in lists.lists.items():
        for field_name in ("acts", "exit_acts"):
            for act in getattr(spec, field_name):
                if act not in acts:
                    raise ValueError(f"lists.{name}.{field_name}: unknown act {act!r}")
        for g in spec.grades:
            if g not in scoring.grades:
                raise ValueError(f"lists.{name}.grades: unknown grade {g!r}")
    bits = [m.bit for m in sanctions.measures.values()]
    if len(set(bits)) != len(bits):
        raise ValueError("measures: measure bits repeat")
    for name, m in sanctions.measures.items():
        for act in m.blocks:
            if act not in acts:
                raise ValueError(f"measures.{name}.blocks: unknown act {act!r}")
    for agency, row in sanctions.matrix.items():
        for measure, on_lists in row.items():
            if measure not in sanctions.measures:
                raise ValueError(f"matrix.{agency}.{measure}: unknown measure")
            for lst in on_lists:
                if lst not in lists.lists:
                    raise ValueError(f"matrix.{agency}.{measure}: unknown list {lst!r}")


# ---------------------------------------------------------------------------- due days

_NO_ONE = np.empty(0, dtype=np.int64)


def _note_due(calendar: dict, key, people: np.ndarray) -> None:
    """Remember that a day was written for ``people`` under ``key`` (a day, or a list code
    and a day), so that on that day a book looks only at them instead of scanning
    everyone. Every write of a day must be noted; an entry whose day was written again
    since is harmless (``_take_due`` re-checks the stored day)."""
    if people.size:
        calendar.setdefault(key, []).append(people.astype(np.int32))


def _take_due(calendar: dict, key, days: np.ndarray, day: int) -> np.ndarray:
    """People whose stored day in ``days`` is ``day``, ascending — what
    ``np.flatnonzero(days == day)`` gives, from the people noted under ``key``."""
    noted = calendar.pop(key, None)
    if noted is None:
        return _NO_ONE
    people = unique(noted[0] if len(noted) == 1 else np.concatenate(noted)).astype(np.int64)
    return people[days[people] == day]


# ---------------------------------------------------------------------------- scores


@nb.njit(cache=True)
def _apply_points(day, subject, points, rule, cap_rule, caps, score_caps, counts, score,
                  restore_day, restore_after, applied):  # pragma: no cover - compiled
    for k in range(subject.shape[0]):
        i = subject[k]
        p = points[k]
        r = rule[k]
        if r >= 0 and cap_rule[r] >= 0:
            c = cap_rule[r]
            if counts[i, c] >= caps[r]:
                p = 0
            else:
                counts[i, c] += 1
        applied[k] = p
        score[i] += p
        if r >= 0 and score_caps[r] != np.iinfo(np.int32).max:
            if score[i] > score_caps[r]:
                score[i] = score_caps[r]
        if p < 0 and restore_after > 0:
            d = day + restore_after
            restore_day[i] = NEVER if d >= NEVER else d


@dataclass
class ScoreBook:
    """Scores: base + points of records, restoration after a clean period, grades."""

    params: ScoringParams
    catalogue: object
    score: np.ndarray
    restore_day: np.ndarray
    counts: np.ndarray  # (n, capped rules) uint8, reset each year
    year: list = field(default_factory=lambda: [0])
    #: restore day → people noted (see ``_note_due``); keep it with ``restore_day``
    due: dict = field(default_factory=dict)

    @classmethod
    def new(cls, params: ScoringParams, catalogue, n: int, score=None, restore_day=None):
        capped = [r for r in params.rules.values() if r.max_per_year is not None]
        return cls(
            params, catalogue,
            score if score is not None else np.full(n, params.base, dtype=np.int32),
            restore_day if restore_day is not None else np.full(n, NEVER, dtype=np.uint16),
            np.zeros((n, max(len(capped), 1)), dtype=np.uint8),
        )

    def __post_init__(self) -> None:
        p = self.params
        names = list(p.rules)
        self.rule_by_act = np.full(256, -1, dtype=np.int64)
        self.rule_by_kind = {}
        capped = 0
        self.cap_rule = np.full(max(len(names), 1), -1, dtype=np.int64)
        self.caps = np.zeros(max(len(names), 1), dtype=np.int64)
        self.score_caps = np.full(max(len(names), 1), np.iinfo(np.int32).max, dtype=np.int64)
        self.points = np.zeros(max(len(names), 1), dtype=np.int64)
        self.kin_ok = np.zeros(max(len(names), 1), dtype=bool)
        for r, name in enumerate(names):
            rule = p.rules[name]
            self.points[r] = rule.points
            self.kin_ok[r] = rule.applies_to_kin
            if rule.max_per_year is not None:
                self.cap_rule[r] = capped
                self.caps[r] = rule.max_per_year
                capped += 1
            if rule.score_cap is not None:
                self.score_caps[r] = rule.score_cap
            if rule.act is not None:
                self.rule_by_act[self.catalogue.code[self.catalogue.position(rule.act)]] = r
            else:
                self.rule_by_kind[1] = r  # evaluation
        order = sorted(p.grades.items(), key=lambda kv: kv[1])
        self.grade_names = [g for g, _ in order]
        self.grade_floor = np.array([v for _, v in order], dtype=np.int64)

    def rules_for(self, act: np.ndarray, kind: np.ndarray) -> np.ndarray:
        rule = np.where(kind == 0, self.rule_by_act[act], -1)
        kin = kind == 2
        if kin.any():
            r = self.rule_by_act[act[kin]]
            rule[kin] = np.where((r >= 0) & self.kin_ok[np.maximum(r, 0)], r, -1)
        if 1 in self.rule_by_kind:
            rule[kind == 1] = self.rule_by_kind[1]
        return rule

    def apply(self, day: int, subject: np.ndarray, act: np.ndarray, kind: np.ndarray):
        """Apply records in order; returns (points applied per record, changed people)."""
        year = day // 365
        if year != self.year[0]:
            self.counts[:] = 0
            self.year[0] = year
        rule = self.rules_for(act, kind)
        hit = rule >= 0
        applied = np.zeros(subject.size, dtype=np.int16)
        if hit.any():
            sub = subject[hit].astype(np.int64)
            r = rule[hit]
            out = np.zeros(sub.size, dtype=np.int64)
            after = self.params.restoration_days or 0
            _apply_points(np.int64(day), sub, self.points[r], r, self.cap_rule, self.caps,
                          self.score_caps, self.counts, self.score, self.restore_day,
                          np.int64(after), out)
            if after > 0 and day + after < NEVER:  # the kernel's restore_day writes
                _note_due(self.due, int(day + after), sub[out < 0])
            applied[hit] = out
            return applied, unique(sub)
        return applied, np.empty(0, dtype=np.int64)

    def reverse(self, subject: np.ndarray, applied: np.ndarray) -> np.ndarray:
        np.subtract.at(self.score, subject, applied.astype(np.int32))
        return unique(subject[applied != 0])

    def restore(self, day: int) -> np.ndarray:
        """A clean period has passed: scores below base come back to base."""
        due = _take_due(self.due, int(day), self.restore_day, day)
        if due.size:
            self.restore_day[due] = NEVER
            low = due[self.score[due] < self.params.base]
            self.score[low] = self.params.base
            return low
        return due

    def grade_of(self, people: np.ndarray) -> np.ndarray:
        return (np.searchsorted(self.grade_floor, self.score[people], side="right") - 1).astype(
            np.int64)

    def grade_index(self, name: str) -> int:
        return self.grade_names.index(name)


# ---------------------------------------------------------------------------- lists


@dataclass
class ListBook:
    """List membership: entry by record or grade, duration, exit on compliance."""

    params: ListParams
    catalogue: object
    member: np.ndarray  # uint8 bits by list code
    until: np.ndarray  # (list slots, n) uint16: one row per list code, from the first
    #: (list code, end day) → people noted (see ``_note_due``); keep it with ``until``
    due: dict = field(default_factory=dict)

    @classmethod
    def new(cls, params: ListParams, catalogue, n: int, member=None, until=None):
        return cls(
            params, catalogue,
            member if member is not None else np.zeros(n, dtype=np.uint8),
            until if until is not None else np.full((params.slots(), n), NEVER, dtype=np.uint16),
        )

    def __post_init__(self) -> None:
        cat = self.catalogue
        self.specs = sorted(self.params.lists.items(), key=lambda kv: kv[1].code)
        self.first = self.params.first_code()  # code c's row in ``until``: c − first
        self.entry_codes = {s.code: np.array([cat.code[cat.position(a)] for a in s.acts],
                                             dtype=np.uint8) for _, s in self.specs}
        self.exit_codes = {s.code: np.array([cat.code[cat.position(a)] for a in s.exit_acts],
                                            dtype=np.uint8) for _, s in self.specs}
        # by act code: does a record of it enter (exit) the list — a gather instead of isin
        self.enters = {code: code_table(codes) for code, codes in self.entry_codes.items()}
        self.exits = {code: code_table(codes) for code, codes in self.exit_codes.items()}

    def _enter(self, day, people, code, duration):
        """List (or extend the listing of) ``people``; returns those newly listed."""
        bit = np.uint8(1 << code)
        end = min(day + duration, NEVER - 1)
        inside = (self.member[people] & bit) != 0
        row = self.until[code - self.first]
        cur = row[people]
        row[people] = np.where(inside & (cur != NEVER), np.maximum(cur, end), end)
        _note_due(self.due, (code, int(end)), people)
        self.member[people] |= bit
        return people[~inside]

    def _exit(self, people, code):
        bit = np.uint8(1 << code)
        was = people[(self.member[people] & bit) != 0]
        self.member[was] &= np.uint8(~bit & 0xFF)
        self.until[code - self.first, was] = NEVER
        return was

    def apply_records(self, day, subject, act, kind):
        """Entry by record; compliance schedules exit. Returns (entered, exited) pairs."""
        entered, exited = [], []
        for _, s in self.specs:
            ok_kind = (kind == 0) | ((kind == 2) & s.include_kin)
            hit = ok_kind & self.enters[s.code][act]
            if hit.any():
                people = unique(subject[hit].astype(np.int64))
                entered.append((self._enter(day, people, s.code, s.duration_days), s.code))
            if self.exit_codes[s.code].size:
                comply = (kind == 0) & self.exits[s.code][act]
                if comply.any():
                    people = unique(subject[comply].astype(np.int64))
                    bit = np.uint8(1 << s.code)
                    listed = people[(self.member[people] & bit) != 0]
                    end = min(day + s.exit_delay_days, NEVER - 1)
                    if s.exit_delay_days == 0:
                        exited.append((self._exit(listed, s.code), s.code))
                    else:
                        row = self.until[s.code - self.first]
                        row[listed] = np.minimum(row[listed], end)
                        _note_due(self.due, (s.code, int(end)), listed)
        return entered, exited

    def apply_grades(self, day, people, grade, grade_names):
        """Grade lists: membership follows the grade of people whose score changed."""
        entered, exited = [], []
        if people.size == 0:
            return entered, exited
        for _, s in self.specs:
            if s.entry != "grade":
                continue
            qualifies = np.zeros(people.size, dtype=bool)
            for g in s.grades:  # a few grades; isin costs ~20 µs a call
                qualifies |= grade == grade_names.index(g)
            bit = np.uint8(1 << s.code)
            inside = (self.member[people] & bit) != 0
            new = people[qualifies & ~inside]
            if new.size:
                entered.append((self._enter(day, new, s.code, s.duration_days), s.code))
            gone = people[~qualifies & inside]
            if gone.size:
                exited.append((self._exit(gone, s.code), s.code))
        return entered, exited

    def expire(self, day):
        exited = []
        for _, s in self.specs:
            due = _take_due(self.due, (s.code, int(day)), self.until[s.code - self.first], day)
            if due.size:
                exited.append((self._exit(due, s.code), s.code))
        return exited

    def reconsider(self, day, subject, act, dossier):
        """Records were removed (appeals won): re-apply the record rules to each affected
        listing — it ends unless another live record of a listing act, recent enough to
        list the person until now, remains in the subject's file."""
        exited = []
        for _, s in self.specs:
            if s.entry != "record":
                continue
            bit = np.uint8(1 << s.code)
            hit = self.enters[s.code][act]
            people = unique(subject[hit].astype(np.int64))
            people = people[(self.member[people] & bit) != 0]
            gone = []
            for i in people:  # the few people who won an appeal today
                refs = dossier.records_of(int(i))
                acts, kinds = dossier.columns(refs, "act", "kind")
                ok = self.enters[s.code][acts] & ((kinds == 0) | (
                    (kinds == 2) & s.include_kin))
                days = refs[ok] >> 32
                live_until = days + s.duration_days
                if days.size and live_until.max() > day:
                    end = min(int(live_until.max()), NEVER - 1)
                    self.until[s.code - self.first, i] = end
                    _note_due(self.due, (s.code, end), np.array([i]))
                else:
                    gone.append(i)
            if gone:
                exited.append((self._exit(np.array(gone, dtype=np.int64), s.code), s.code))
        return exited


# ---------------------------------------------------------------------------- sanctions


@dataclass
class SanctionRule:
    """The joint sanction matrix compiled to bits: list code → measure bits."""

    own_bits: np.ndarray  # uint16 per list code: measures applied to the listed person
    spill_bits: np.ndarray  # uint16 per list code: measures applied to the household
    sanctioning: np.ndarray  # bool per list code: any non-reward measure applies
    income_cost: np.ndarray  # per measure bit
    reward: np.ndarray  # per measure bit
    blocked_by: np.ndarray  # uint16 per act position: bits that block it

    @classmethod
    def compile(cls, sanctions: SanctionParams, lists: ListParams, catalogue) -> SanctionRule:
        own = np.zeros(MAX_LISTS, dtype=np.uint16)
        spill = np.zeros(MAX_LISTS, dtype=np.uint16)
        cost = np.zeros(MAX_MEASURES)
        reward = np.zeros(MAX_MEASURES)
        blocked = np.zeros(len(catalogue), dtype=np.uint16)
        for m in sanctions.measures.values():
            cost[m.bit] = m.income_cost
            reward[m.bit] = m.reward
            for act in m.blocks:
                blocked[catalogue.position(act)] |= np.uint16(1 << m.bit)
        if sanctions.enabled:
            for row in sanctions.matrix.values():
                for measure, on_lists in row.items():
                    m = sanctions.measures[measure]
                    for lst in on_lists:
                        code = lists.lists[lst].code
                        if m.household:
                            spill[code] |= np.uint16(1 << m.bit)
                        else:
                            own[code] |= np.uint16(1 << m.bit)
        # a measure is punitive unless it is a reward (bans, costs, naming)
        punitive = np.uint16(sum(1 << b for b in range(MAX_MEASURES) if reward[b] == 0))
        sanctioning = ((own | spill) & punitive) != 0
        return cls(own, spill, sanctioning, cost, reward, blocked)

    def __post_init__(self) -> None:
        # measure bits by membership byte: a listing's bits are one gather, not 8 passes
        member = np.arange(1 << MAX_LISTS)
        self.own_table = np.zeros(member.size, dtype=np.uint16)
        self.spill_table = np.zeros(member.size, dtype=np.uint16)
        for code in range(MAX_LISTS):
            on = (member & (1 << code)) != 0
            self.own_table[on] |= self.own_bits[code]
            self.spill_table[on] |= self.spill_bits[code]

    def bits_of(self, member: np.ndarray) -> np.ndarray:
        """Own measure bits for membership bitmasks."""
        return self.own_table[member]

    def punitive_mask(self) -> np.uint16:
        bits = [b for b in range(MAX_MEASURES) if self.reward[b] == 0]
        return np.uint16(sum(1 << b for b in bits))

    def daily_cost(self, bits: np.ndarray) -> np.ndarray:
        return _sum_over_bits(bits, self.income_cost)

    def daily_reward(self, bits: np.ndarray) -> np.ndarray:
        return _sum_over_bits(bits, self.reward)


def forgone_per_bit(sanctions: SanctionParams, catalogue) -> np.ndarray:
    """Money per day a measure bit costs through the acts it blocks: Σ rate × gain over
    the blocked acts (the gains of the opportunities forgone)."""
    forgone = np.zeros(MAX_MEASURES)
    for m in sanctions.measures.values():
        for act in m.blocks:
            a = catalogue.position(act)
            forgone[m.bit] += catalogue.rate[a] * max(catalogue.gain[a], 0.0)
    return forgone


def listing_cost_tables(sanctions: SanctionParams, lists: ListParams, catalogue,
                        exit_act: str) -> tuple[np.ndarray, np.ndarray, int]:
    """What staying on the lists that ``exit_act`` ends costs a day, by membership byte:
    (share of daily income lost, money of blocked gains forgone, mask of those lists).

    Only punitive measures count (a reward is not lost by paying), on the person or
    spilling to the household; household income costs are valued at the person's own
    income — an assumption (housemates' incomes are correlated)."""
    rule = SanctionRule.compile(sanctions, lists, catalogue)
    forgone = forgone_per_bit(sanctions, catalogue)
    mask = 0
    for spec in lists.lists.values():
        if spec.kind == "black" and exit_act in spec.exit_acts:
            mask |= 1 << spec.code
    member = np.arange(1 << MAX_LISTS)
    bits = ((rule.own_table[member & mask] | rule.spill_table[member & mask])
            & rule.punitive_mask()).astype(np.uint16)
    income_share = _sum_over_bits(bits, rule.income_cost)
    forgone_money = _sum_over_bits(bits, forgone)
    return income_share, forgone_money, mask


@nb.njit(cache=True)
def _sum_over_bits(bits, per_bit):  # pragma: no cover - compiled
    """Σ per_bit[b] over the set bits b of each entry, in bit order (16 array passes in
    NumPy)."""
    out = np.zeros(bits.shape[0])
    for j in range(bits.shape[0]):
        total = 0.0
        for b in range(per_bit.shape[0]):
            if per_bit[b] != 0.0 and (bits[j] >> b) & 1:
                total += per_bit[b]
        out[j] = total
    return out


@nb.njit(cache=True)
def _household_bans(own_table, spill_table, member, hh_offsets, hh_members, household,
                    people, away):  # pragma: no cover - compiled
    """One pass over the people and their housemates (thousands a day), no temporaries;
    ``away``: each one's bits spilling from housemates in other partitions (or empty)."""
    out = np.empty(people.shape[0], dtype=np.uint16)
    for j in range(people.shape[0]):
        i = people[j]
        bits = own_table[member[i]]
        if away.shape[0]:
            bits |= away[j]
        h = household[i]
        for k in range(hh_offsets[h], hh_offsets[h + 1]):
            mate = hh_members[k]
            if mate != i:
                bits |= spill_table[member[mate]]
        out[j] = bits
    return out


def household_bans(rule: SanctionRule, member: np.ndarray, hh_offsets: np.ndarray,
                   hh_members: np.ndarray, household: np.ndarray,
                   people: np.ndarray, away: np.ndarray | None = None) -> np.ndarray:
    """Bans of ``people``: own measures plus measures spilling from other household
    members — those this World holds, and ``away`` (per person: the bits spilling from
    housemates in other partitions, ``core.housemates``)."""
    if member.flags.writeable:  # read only, as the sanctions' view of the lists is: one
        member = member.view()  # compiled version for both (a second: a kernel load more)
        member.flags.writeable = False
    return _household_bans(rule.own_table, rule.spill_table, member, hh_offsets, hh_members,
                           household, np.asarray(people, dtype=np.int64),
                           np.zeros(0, dtype=np.uint16) if away is None else away)

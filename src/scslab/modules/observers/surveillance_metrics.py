"""Surveillance metrics (observer): detentions classified by their basis, false alarms,
their concentration on look-alikes, blocked movement and expression, exposure, coverage.

A detention is classified by reading truth (observers may):

* ``detentions_false_match`` — the person was not on the watchlist: a false match;
* ``detentions_unlawful_basis`` — a correct match on an entry by a *correct* record of an
  act unlawful under the reference norm;
* ``detentions_lawful_basis`` — a correct match on an entry whose cause is lawful: a
  correct record of lawful conduct (religious practice), a relative, group membership;
* ``detentions_erroneous_basis`` — a correct match on an entry made by an erroneous record
  (misattributed, fabricated, misclassified) and nothing else.

The four add up to ``detentions``. Most counters are added by the sensing module as the
events happen; definitions: ``docs/surveillance.md``.
"""

from __future__ import annotations

import math

import numpy as np

from scslab.core.metrics import FinalMetricDef, MetricDef
from scslab.core.module import CounterSpec, Module, Phase, Role
from scslab.modules.sensing.watchlist import CAUSE_GROUP, CAUSE_KIN, CAUSE_RECORD

PER_1000_PERSON_YEARS = 365_000.0
TOP_SHARE = 0.01  # the most-stopped 1 %
#: verdict bits of a record (from truth): it names the real actor and act; the act is lawful
VERDICT_CORRECT, VERDICT_LAWFUL = 1, 2


def concentration(counts: np.ndarray, top: float = TOP_SHARE) -> float | None:
    """Share of all events falling on the top ``top`` of people with at least one."""
    x = np.asarray(counts, dtype=np.int64)
    x = x[x > 0]
    if x.size == 0:
        return None
    k = max(1, math.ceil(top * x.size))
    return float(np.sort(x)[-k:].sum() / x.sum())


class SurveillanceMetrics(Module):
    name = "surveillance_metrics"
    switched_by = "surveillance"
    role = Role.OBSERVER
    phase = Phase.OBSERVE
    doc = "Detentions by basis, false alarms, blocked movement and expression, exposure."
    reads = ("people.cell", "people.group", "people.region", "detentions",
             "people.false_alarms", "dossier", "truth")
    #: draws nothing, counts by its own people's cells and judges its own records; the
    #: end-of-run concentration is over everyone — a partition reports none
    partitionable = True
    counters = (
        CounterSpec("detentions", "detentions, by detainee's cell"),
        CounterSpec("detentions_false_match", "detentions of people not on the watchlist"),
        CounterSpec("detentions_lawful_basis", "correct matches on entries for lawful causes"),
        CounterSpec("detentions_unlawful_basis", "correct matches on entries for unlawful acts"),
        CounterSpec("detentions_erroneous_basis", "correct matches on entries made by errors"),
    )
    metrics = (
        MetricDef("false_alarm_rate", "false_alarms", "screenings_unlisted",
                  "false alarms per screening of people not on the watchlist", disparity=True,
                  theme="harm", unit="false alarms per screenings unlisted"),
        MetricDef("false_alarms", "false_alarms", None, "false alarms (count)",
                  theme="harm", unit="false alarms per day"),
        MetricDef("screenings", "screenings", None, "checkpoint screenings (count)",
                  theme="privacy", unit="screenings per day"),
        MetricDef("detentions", "detentions", None, "detentions (count)",
                  theme="harm", unit="detentions per day"),
        MetricDef("detentions_false_match", "detentions_false_match", None,
                  "detentions on a false match (count)",
                  theme="harm", unit="detentions false match per day"),
        MetricDef("detentions_lawful_basis", "detentions_lawful_basis", None,
                  "detentions on a correct match to an entry for lawful conduct (count)",
                  theme="harm", unit="detentions lawful basis per day"),
        MetricDef("detentions_unlawful_basis", "detentions_unlawful_basis", None,
                  "detentions on a correct match to an entry for an unlawful act (count)",
                  theme="harm", unit="detentions unlawful basis per day"),
        MetricDef("detentions_erroneous_basis", "detentions_erroneous_basis", None,
                  "detentions on a correct match to an entry made by an erroneous record",
                  theme="harm", unit="detentions erroneous basis per day"),
        MetricDef("detention_rate", "detentions", "person_days",
                  "detentions per 1000 person-years", scale=PER_1000_PERSON_YEARS,
                  disparity=True,
                  theme="harm", unit="PER_1000_PERSON_YEARS × detentions per person-days"),
        MetricDef("false_match_detention_rate", "detentions_false_match", "person_days",
                  "false-match detentions per 1000 person-years",
                  scale=PER_1000_PERSON_YEARS, disparity=True,
                  theme="harm",
                  unit="PER_1000_PERSON_YEARS × detentions false match per person-days"),
        MetricDef("lawful_basis_detention_rate", "detentions_lawful_basis", "person_days",
                  "lawful-basis detentions per 1000 person-years",
                  scale=PER_1000_PERSON_YEARS, disparity=True,
                  theme="governance",
                  unit="PER_1000_PERSON_YEARS × detentions lawful basis per person-days"),
        MetricDef("blocked_movement", "blocked_movement", None,
                  "trips blocked by an alarm or a detention (count)",
                  theme="harm", unit="blocked movement per day"),
        MetricDef("blocked_movement_rate", "blocked_movement", "movement_acts",
                  "share of trips blocked by an alarm or a detention", disparity=True,
                  theme="harm", unit="blocked movement per movement acts"),
        MetricDef("blocked_expression", "blocked_expression_all", None,
                  "expression acts prevented by bans or detention (count)",
                  theme="harm", unit="blocked expression all per day"),
        MetricDef("blocked_expression_rate", "blocked_expression_all", "person_days",
                  "expression acts prevented by bans or detention per person-year",
                  scale=365.0, disparity=True,
                  theme="harm", unit="365 × blocked expression all per person-days"),
        MetricDef("exposure", "exposure", "person_days",
                  "Σ records × parties with access × venue sensitivity, per person-year",
                  scale=365.0, disparity=True,
                  theme="privacy", unit="sensitivity-weighted records per person"),
        MetricDef("share_of_acts_recorded", "acts_recorded", "acts_all",
                  "share of acts captured by a source or a sensor", disparity=True,
                  theme="privacy", unit="acts recorded per acts all"),
        MetricDef("coverage", "coverage_person_days", "person_days",
                  "population-weighted mean sensor coverage (per region: the region's)",
                  theme="privacy", unit="coverage person-days per person-days"),
        MetricDef("informant_false_reports", "informant_false_reports", None,
                  "informants' reports of acts that never happened (count)",
                  theme="harm", unit="informant false reports per day"),
        MetricDef("landlord_camera_active", "tenant_days_watched", "tenant_days",
                  "share of tenant-days under the landlord's camera",
                  theme="governance", unit="tenant days watched per tenant days"),
        MetricDef("guests_captured", "guests_captured", None,
                  "guests' visits captured without consent (count)",
                  theme="privacy", unit="guests captured per day"),
        MetricDef("tenant_entry_denied", "tenant_entry_denied", None,
                  "tenants turned away because the camera did not recognise them (count)",
                  theme="governance", unit="tenant entry denied per day"),
        MetricDef("private_sanctions", "private_sanctions", None,
                  "the landlord's fines, with no appeal (count)",
                  theme="harm", unit="private sanctions per day"),
        MetricDef("private_sanction_false_share", "private_sanctions_false",
                  "private_sanctions", "share of the landlord's fines naming the wrong tenant",
                  theme="harm", unit="share"),
    )

    def setup(self, world) -> None:
        sc = world.scenario
        st = world.state
        st["first_row"] = np.full(sc.time.burn_in + sc.time.days, -1, dtype=np.int64)
        st["verdicts"] = np.zeros(1 << 16, dtype=np.uint8)
        st["used"] = [0]
        self.partitioned = world.partitioned

    def _judge_records(self, world, day: int) -> None:
        """Verdict bits of today's records (truth of an act is final on its day): one
        lookup per day, so a detention's basis is a gather instead of a walk over the days
        its records were filed on."""
        chunk, _ = world.dossier.day_records(day)
        n = len(chunk)
        if n == 0:
            return
        st = world.state
        actor, lawful, true_act = world.truth.lookup_all(world.dossier.obs_refs(day, chunk))
        correct = (actor >= 0) & (actor == chunk["subject"]) & (true_act == chunk["act"])
        used = st["used"][0]
        if used + n > st["verdicts"].size:
            grown = np.zeros(max(2 * st["verdicts"].size, used + n), dtype=np.uint8)
            grown[:used] = st["verdicts"][:used]
            st["verdicts"] = grown
        st["verdicts"][used:used + n] = correct * VERDICT_CORRECT | lawful * VERDICT_LAWFUL
        st["first_row"][day] = used
        st["used"][0] = used + n

    def step(self, world, day: int) -> None:
        self._judge_records(world, day)
        held = world.events("detentions")
        if len(held) == 0:
            return
        # a person detained by two sensors today counts once, on the later detention
        last = held["person"].size - 1 - np.unique(held["person"][::-1], return_index=True)[1]
        who = held["person"][last].astype(np.int64)
        cause = held["cause"][last]
        rec = held["record"][last]
        false = cause == 0
        by_record = (cause & CAUSE_RECORD) != 0
        correct = np.zeros(who.size, dtype=bool)
        lawful = np.zeros(who.size, dtype=bool)
        # records dropped by retention no longer show a basis
        sel = np.flatnonzero(by_record & (rec >= 0) & ((rec >> 32) >= world.dossier.first_kept_day))
        if sel.size:
            st = world.state
            refs = rec[sel]
            verdict = st["verdicts"][st["first_row"][refs >> 32] + (refs & 0xFFFFFFFF)]
            correct[sel] = (verdict & VERDICT_CORRECT) != 0
            lawful[sel] = (verdict & VERDICT_LAWFUL) != 0
        unlawful = ~false & by_record & correct & ~lawful
        lawful_basis = ~false & ~unlawful & (
            ((cause & (CAUSE_KIN | CAUSE_GROUP)) != 0) | (by_record & correct & lawful))
        erroneous = ~false & ~unlawful & ~lawful_basis
        cells = world.array("people.cell")[who]
        c = world.counters
        c.add_cells("detentions", cells)
        c.add_cells("detentions_false_match", cells[false])
        c.add_cells("detentions_unlawful_basis", cells[unlawful])
        c.add_cells("detentions_lawful_basis", cells[lawful_basis])
        c.add_cells("detentions_erroneous_basis", cells[erroneous])

    final_metric_defs = (
        FinalMetricDef("repeat_stop_concentration", "share of false alarms since the burn-in falling on the most-stopped 1 % of people with at least one; by group and region",
                       theme="fairness", unit="share of false alarms", breakdown=True),
    )

    def final_metrics(self, world) -> dict[str, float | None]:
        """repeat_stop_concentration: share of false alarms (since the burn-in) falling on
        the most-stopped 1 % of the people with at least one; overall, by group, region.
        None on a partition, whose people are not everyone."""
        if self.partitioned:
            return {}
        fa = world.array("people.false_alarms")
        out = {"repeat_stop_concentration": concentration(fa)}
        group = world.array("people.group")
        for g, name in enumerate(world.group_names):
            out[f"repeat_stop_concentration[group={name}]"] = concentration(fa[group == g])
        region = world.array("people.region")
        for r in range(world.n_regions):
            out[f"repeat_stop_concentration[region={r}]"] = concentration(fa[region == r])
        return out

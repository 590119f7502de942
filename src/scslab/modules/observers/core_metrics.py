"""Core metrics (observer): acts, detection and records, from the day's event batches.

Reads truth (acts, the observation sidecar) — observers may. Counters are added per
cell (group × region) from event batches; no pass over the population.
"""

from __future__ import annotations

import numpy as np

from scslab.core.acts import ACT_CLASSES, CLASS_CODE, ActCatalogue
from scslab.core.layouts import (
    ACT_ELSEWHERE,
    NO_REF,
    RECORD_KIND_EVALUATION,
    RECORD_KIND_KIN,
    RECORD_KIND_OBSERVATION,
)
from scslab.core.metrics import MetricDef
from scslab.core.module import CounterSpec, Module, Phase, Role
from scslab.numerics.sets import unique


class CoreMetrics(Module):
    name = "core_metrics"
    role = Role.OBSERVER
    phase = Phase.OBSERVE
    doc = "Counts acts by class, detections, records, erroneous records."
    reads = ("people.cell", "acts", "observations", "observation_truth", "dossier",
             "truth")
    partitionable = True  # counts by the cells of its own people; draws nothing
    counters = (
        CounterSpec("person_days", "people alive × days, by cell"),
        CounterSpec("violations", "violation acts, by actor's cell"),
        CounterSpec("violations_detected", "violation acts observed by at least one source"),
        CounterSpec("expression_acts", "lawful expression acts, by actor's cell"),
        CounterSpec("prosocial_acts", "prosocial acts, by actor's cell"),
        CounterSpec("movement_acts", "movement acts, by actor's cell"),
        CounterSpec("records", "records filed, by subject's cell"),
        CounterSpec("records_fabricated", "records with no act behind them, by subject's cell"),
        CounterSpec("records_misattributed", "records naming someone who did not act"),
        CounterSpec("records_misclassified", "records of a real act reported as another act"),
        CounterSpec("records_evaluation", "evaluations: records with no act, by discretion"),
        CounterSpec("records_kin", "records spread to kin"),
    )
    metrics = (
        MetricDef("violation_rate", "violations", "person_days", "violations per person-day",
                  theme="compliance", unit="violations per person-day"),
        MetricDef("detection_rate", "violations_detected", "violations",
                  "share of violations observed by at least one source",
                  theme="compliance", unit="share of violations observed"),
        MetricDef("expression_rate", "expression_acts", "person_days",
                  "lawful expression acts per person-day",
                  theme="privacy", unit="lawful-expression acts per person-day"),
        MetricDef("prosocial_rate", "prosocial_acts", "person_days",
                  "prosocial acts per person-day",
                  theme="compliance", unit="prosocial acts per person-day"),
        MetricDef("records_per_person_day", "records", "person_days",
                  "records filed per person-day",
                  theme="privacy", unit="records per person-day"),
        MetricDef("fabricated_record_share", "records_fabricated", "records",
                  "share of records with no act behind them",
                  theme="harm", unit="share of records (no act behind them)"),
        MetricDef("misattributed_record_share", "records_misattributed", "records",
                  "share of records naming someone other than the actor",
                  theme="harm", unit="share of records (wrong person)"),
        MetricDef("misclassified_record_share", "records_misclassified", "records",
                  "share of records reporting a real act as another act",
                  theme="harm", unit="share"),
        MetricDef("evaluation_record_share", "records_evaluation", "records",
                  "share of records that are discretionary evaluations (no act)",
                  theme="privacy", unit="share"),
        MetricDef("kin_record_share", "records_kin", "records",
                  "share of records spread to kin",
                  theme="harm", unit="share"),
        MetricDef("chilled_expression", "expression_taken", "expression_shadow",
                  "1 − expression taken / shadow (no watching): the direct chilling effect",
                  complement=True,
                  theme="privacy",
                  unit="share of lawful expression forgone (1 − taken / unwatched)"),
        MetricDef("blocked_by_lost_file_rate", "blocked_by_lost_file", "person_days",
                  "job changes and pension claims blocked by a lost file, per person-day",
                  theme="harm", unit="blocked by lost file per person-days"),
        MetricDef("own_learning_shift", "learning_shift_own", "learning_events_own",
                  "mean |Δ perceived detection| per own-record learning event",
                  theme="compliance", unit="learning shift own per learning events own"),
    )

    def __init__(self, params, scenario) -> None:
        super().__init__(params, scenario)
        self.catalogue = ActCatalogue.from_scenario(scenario)

    def setup(self, world) -> None:
        cell = world.array("people.cell")
        n_cells = len(world.group_names) * world.n_regions
        self.cell_sizes = np.bincount(cell, minlength=n_cells).astype(np.float64)

    def step(self, world, day: int) -> None:
        c = world.counters
        cell = world.array("people.cell")
        c.add_vector("person_days", self.cell_sizes)
        acts = world.events("acts")
        if len(acts):
            # acts by (class, actor's cell) in one bincount
            cat = self.catalogue
            n_cells = self.cell_sizes.size
            act_class = cat.act_class[cat.position_of_code[acts["act"]]].astype(np.int64)
            by_class = np.bincount(act_class * n_cells + cell[acts["actor"]],
                                   minlength=len(ACT_CLASSES) * n_cells).reshape(-1, n_cells)
            for cls, counter in (("violation", "violations"), ("expression", "expression_acts"),
                                 ("prosocial", "prosocial_acts"), ("movement", "movement_acts")):
                c.add_vector(counter, by_class[CLASS_CODE[cls]])
        chunk, live = world.dossier.day_records(day)
        if len(chunk):
            subject = chunk["subject"][live]
            kind = chunk["kind"][live]
            c.add_cells("records", cell[subject])
            observed = kind == RECORD_KIND_OBSERVATION
            obs_ref = world.dossier.obs_refs(day, chunk)[live]
            act_ref = np.full(obs_ref.size, -1, dtype=np.int64)  # the act each record saw
            act_ref[observed] = world.truth.act_refs(obs_ref[observed])
            fabricated = observed & (act_ref == NO_REF)
            c.add_cells("records_fabricated", cell[subject[fabricated]])
            of_act = observed & (act_ref != NO_REF)  # an act here, or (routed) elsewhere
            with_ref = subject[of_act]
            true_actor, _ = world.truth.lookup(obs_ref[of_act])
            c.add_cells("records_misattributed", cell[with_ref[true_actor != with_ref]])
            real = of_act & ((act_ref >> 32) == day)
            rows = (act_ref[real] & 0xFFFFFFFF).astype(np.int64)
            wrong_kind = chunk["act"][live][real] != acts["act"][rows]
            c.add_cells("records_misclassified", cell[subject[real][wrong_kind]])
            routed = observed & (act_ref == ACT_ELSEWHERE)  # of today's acts elsewhere
            if routed.any():
                _, _, true_act = world.truth.lookup_all(obs_ref[routed])
                wrong_kind = chunk["act"][live][routed] != true_act
                c.add_cells("records_misclassified", cell[subject[routed][wrong_kind]])
            c.add_cells("records_evaluation", cell[subject[kind == RECORD_KIND_EVALUATION]])
            c.add_cells("records_kin", cell[subject[kind == RECORD_KIND_KIN]])
        obs = world.events("observations")
        if len(obs):
            seen_ref = world.events("observation_truth")["act_ref"]  # row for row with obs
            refs = seen_ref[seen_ref >= 0]
            if refs.size and (refs >> 32).min() == day == (refs >> 32).max():
                seen = np.zeros(len(acts), dtype=bool)  # today's acts: a mark, not a sort
                seen[refs & 0xFFFFFFFF] = True
                rows = np.flatnonzero(seen)
            else:
                rows = (unique(refs) & 0xFFFFFFFF).astype(np.int64)
            viol = self.catalogue.is_class(acts["act"][rows], "violation")
            c.add_cells("violations_detected", cell[acts["actor"][rows[viol]]])

"""Scoring: point rules turn records into a score and a grade.

Reads records only (never truth). Each live record of an act with a rule moves the
subject's score by the rule's points (per-rule yearly caps; a rule may cap the score,
e.g. drunk driving → grade C); a negative record starts a clean period after which a
score below base returns to base (restoration); a record removed on appeal has its
points reversed. Grades are bands of the score. People whose score changed are passed
to the lists module through the ``score_changes`` table.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from scslab.core.apparatus import NEVER, ScoreBook, ScoringParams
from scslab.core.incentives import present_value
from scslab.core.layouts import SCORE_CHANGE_LAYOUT, Table, dtype
from scslab.core.module import ArraySpec, Module, Phase, Role
from scslab.numerics.sets import unique


class Scoring(Module):
    name = "scoring"
    role = Role.SYSTEM
    phase = Phase.SCORE
    Params = ScoringParams
    doc = "Point rules, caps, restoration after a clean period, grades."
    owns: ClassVar = (
        ArraySpec("people.score", "score", "people", False, "citizen score"),
        ArraySpec("people.score_restore_day", "day_u16", "people", False,
                  "day a clean period ends (restoration)", fill=NEVER),
        ArraySpec("people.grade", "code", "people", False, "grade index (lowest = 0)"),
    )
    reads = ("dossier", "dossier_removals@prev")
    appends = ("score_changes",)
    partitionable = True  # draws nothing; a person's score moves with their own records

    @classmethod
    def check_params(cls, params, scenario):
        from scslab.core.apparatus import ListParams, SanctionParams, check_apparatus

        lists = scenario.module_params("lists", ListParams)
        sanctions = scenario.module_params("sanctions", SanctionParams)
        check_apparatus(params, lists, sanctions, scenario)
        return params

    @classmethod
    def consequences(cls, scenario, catalogue):
        """Aware people value a lost point at ``point_value`` and a gained one likewise,
        for as long as the clean period lasts (discounted)."""
        p = scenario.module_params("scoring", ScoringParams)
        if not p.enabled:
            return None
        sanction = np.zeros(len(catalogue))
        reward = np.zeros(len(catalogue))
        days = p.restoration_days or 3650
        for rule in p.rules.values():
            if rule.act is None:
                continue
            a = catalogue.position(rule.act)
            per_day = abs(rule.points) * p.point_value / 365.0
            value = present_value(per_day, days, 0.999)
            if rule.points < 0:
                sanction[a] += value
            else:
                reward[a] += value
        return {"sanction": sanction, "reward": reward}

    def setup(self, world) -> None:
        n = world.counts["people"]
        score = world.array("people.score")
        score[:] = self.params.base
        self.book = ScoreBook.new(self.params, world.catalogue, n, score=score,
                                  restore_day=world.array("people.score_restore_day"))
        # everyone starts at the base score, so at its grade
        if n:
            world.array("people.grade")[:] = self.book.grade_of(np.zeros(1, dtype=np.int64))[0]
        world.state["cursor"] = 0
        world.state["applied"] = {}  # day → points applied per record row
        world.state["counts"] = self.book.counts
        world.state["year"] = self.book.year
        world.state["restore_due"] = self.book.due

    def step(self, world, day: int) -> None:
        book = self.book
        book.counts = world.state["counts"]  # restored after a snapshot
        book.year = world.state["year"]
        book.due = world.state["restore_due"]
        book.score = world.array("people.score")
        book.restore_day = world.array("people.score_restore_day")
        d = world.dossier
        changed = []
        refs, world.state["cursor"] = d.removals_since(world.state["cursor"])
        if refs.size:
            days, rows = refs >> 32, refs & 0xFFFFFFFF
            for dd in unique(days):
                applied = world.state["applied"].get(int(dd))
                if applied is None:
                    continue
                r = rows[days == dd]
                subj = d.chunks[int(dd)]["subject"][r].astype(np.int64)
                changed.append(book.reverse(subj, applied[r]))
                applied[r] = 0
        chunk, live = d.day_records(day)
        if len(chunk):
            applied, people = book.apply(day, chunk["subject"][live], chunk["act"][live],
                                         chunk["kind"][live])
            full = np.zeros(len(chunk), dtype=np.int16)
            full[live] = applied
            if full.any():
                world.state["applied"][day] = full
            changed.append(people)
        changed.append(book.restore(day))
        people = unique(np.concatenate(changed)) if changed else np.empty(0, np.int64)
        if people.size:
            world.array("people.grade")[people] = book.grade_of(people)
            world.append("score_changes", Table.from_columns(
                SCORE_CHANGE_LAYOUT, person=people.astype(dtype("uid"))))

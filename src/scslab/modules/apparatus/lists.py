"""Lists: black- and redlists, entered by record or by grade.

Reads records and grades (never truth). A record of a listing act (e.g. the court's
record of a debtor who can pay and refuses) lists the subject for ``duration_days``; a
record of a compliance act (the judgment paid) ends the listing after
``exit_delay_days``; grade lists follow the grade of people whose score changed; a record
removed on appeal ends the listing unless another live listing record remains. Entries
and exits are published in ``list_changes``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from scslab.core.apparatus import NEVER, ListBook, ListParams, ScoringParams
from scslab.core.layouts import LIST_CHANGE_LAYOUT, Table, dtype
from scslab.core.module import ArraySpec, Module, Phase, Role


def publish(world, entered, exited) -> None:
    """Append the day's entries and exits to ``list_changes``."""
    parts = [(p, c, True) for p, c in entered if p.size] + [
        (p, c, False) for p, c in exited if p.size]
    if not parts:
        return
    if len(parts) == 1:  # the common day: one list's entries, or its exits
        p, c, e = parts[0]
        world.append("list_changes", Table.from_columns(
            LIST_CHANGE_LAYOUT, person=p, list=np.full(p.size, c, dtype=dtype("code")),
            entered=np.full(p.size, e)))
        return
    world.append("list_changes", Table.from_columns(
        LIST_CHANGE_LAYOUT,
        person=np.concatenate([p for p, _, _ in parts]).astype(dtype("uid")),
        list=np.concatenate([np.full(p.size, c) for p, c, _ in parts]).astype(dtype("code")),
        entered=np.concatenate([np.full(p.size, e) for p, _, e in parts]),
    ))


class Lists(Module):
    name = "lists"
    role = Role.SYSTEM
    phase = Phase.LIST
    Params = ListParams
    doc = "Black- and redlists by record or grade; duration; exit on compliance."
    owns: ClassVar = (
        ArraySpec("people.listed", "code", "people", False, "list membership bits by list code"),
        ArraySpec("people.list_until", "day_u16", "lists×people", False,
                  "day each listing ends", fill=NEVER),
    )
    reads = ("dossier", "dossier_removals@prev", "score_changes?", "people.grade?")
    appends = ("list_changes",)
    partitionable = True  # draws nothing; a person's listings follow their own records

    def setup(self, world) -> None:
        n = world.counts["people"]
        self.book = ListBook.new(self.params, world.catalogue, n,
                                 member=world.array("people.listed"),
                                 until=world.array("people.list_until"))
        scoring = world.scenario.module_params("scoring", ScoringParams)
        self.grade_names = sorted(scoring.grades, key=scoring.grades.get)
        world.state["cursor"] = 0
        world.state["until_due"] = self.book.due

    def step(self, world, day: int) -> None:
        book = self.book
        book.member = world.array("people.listed")
        book.until = world.array("people.list_until")
        book.due = world.state["until_due"]  # restored with list_until after a snapshot
        d = world.dossier
        entered, exited = [], []
        exited += book.expire(day)
        refs, world.state["cursor"] = d.removals_since(world.state["cursor"])
        if refs.size:
            exited += book.reconsider(day, *d.columns(refs, "subject", "act"), d)
        chunk, live = d.day_records(day)
        if len(chunk):
            e, x = book.apply_records(day, chunk["subject"][live], chunk["act"][live],
                                      chunk["kind"][live])
            entered += e
            exited += x
        grade = world.optional("people.grade")
        if grade is not None:
            people = world.events("score_changes")["person"].astype(np.int64)
            e, x = book.apply_grades(day, people, grade[people].astype(np.int64),
                                     self.grade_names)
            entered += e
            exited += x
        publish(world, entered, exited)


"""The dossier (Dang'an): an append-only record log in per-day chunks.

* Records are addressed by ``record ref = day << 32 | row`` (see :func:`schema.pack_ref`).
* A per-subject index threads each subject's records through ``prev`` (newest first),
  with ``head[subject]`` the newest, so one subject's file is read without scanning
  the log. The heads and the ``prev`` links are 32-bit *record numbers* (records
  numbered in filing order, each day's a contiguous run) while the run's records fit —
  half the 8 bytes of a ``ref``, per person and per record (a long run holds ~55 records
  a person); past 2^31 records, or if a day were filed out of order, both widen to refs
  for good.
* A day's chunk keeps its records' ``obs_ref`` by place when record i saw observation i
  of the day, every one (the dossier files the day's observations first, in order: every
  day of every builtin but a few with kin records or evaluations) — no column —, else as
  32-bit rows of that day's observations (``obs_row``) when every one is of that day or
  none, else as refs; :meth:`Dossier.obs_refs` reads them however they are kept.
* Removal (appeals, bribes) sets a tombstone; the row stays, so references stay valid.
* Retention drops whole chunks older than the retention window.
* Nothing here holds truth: a record names the observation it records (``obs_ref``, an
  opaque reference that looks the same for a fabricated observation), and metrics join its
  truth on that in the truth store.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from scslab.core.layouts import (
    NO_REF,
    NUMBERED_RECORD_LAYOUT,
    PLACED_OBS_NUMBERED_RECORD_LAYOUT,
    PLACED_OBS_RECORD_LAYOUT,
    RECORD_LAYOUT,
    ROW_OBS_NUMBERED_RECORD_LAYOUT,
    ROW_OBS_RECORD_LAYOUT,
    Table,
    compact_refs,
    dtype,
    pack_ref,
    refs_of,
    rows_in_place,
    unpack_ref,
)
from scslab.numerics.sets import unique

#: how a chunk keeps its records' observations, narrowest first: by place (record i saw
#: observation i of the day: no column), as rows of the day (``obs_row``), as refs
PLACED, ROWS, REFS = 0, 1, 2
#: a chunk's layout by (prev links numbered, how it keeps the observations)
LAYOUTS = {(True, PLACED): PLACED_OBS_NUMBERED_RECORD_LAYOUT,
           (True, ROWS): ROW_OBS_NUMBERED_RECORD_LAYOUT, (True, REFS): NUMBERED_RECORD_LAYOUT,
           (False, PLACED): PLACED_OBS_RECORD_LAYOUT, (False, ROWS): ROW_OBS_RECORD_LAYOUT,
           (False, REFS): RECORD_LAYOUT}


def _kept_as(chunk: Table) -> int:
    return ROWS if "obs_row" in chunk.columns else REFS if "obs_ref" in chunk.columns else PLACED


def _observations(day: int, chunk: Table, start: int = 0) -> np.ndarray:
    """The refs of the observations ``chunk``'s records saw (its first row is row
    ``start`` of the day's records)."""
    kept = _kept_as(chunk)
    if kept == ROWS:
        return refs_of(day, chunk["obs_row"])
    if kept == REFS:
        return chunk["obs_ref"]
    return pack_ref(day, np.arange(start, start + len(chunk)))


def _kept(day: int, chunk: Table, kept: int, start: int = 0) -> Table:
    """``chunk`` keeping its observations as ``kept`` (no narrower than it does)."""
    if _kept_as(chunk) == kept:
        return chunk
    refs = _observations(day, chunk, start)
    numbered = chunk["prev"].dtype == np.int32
    columns = {k: v for k, v in chunk.columns.items() if k not in ("obs_row", "obs_ref")}
    if kept == ROWS:
        columns["obs_row"] = compact_refs(day, refs)
    else:
        columns["obs_ref"] = refs
    layout = LAYOUTS[numbered, kept]
    return Table(layout, {k: columns[k] for k in layout})


@nb.njit(cache=True)
def _thread(subject, refs, prev, head, live_count):  # pragma: no cover - compiled
    """Thread today's records, in row order, onto the per-subject index: each record's
    ``prev`` is its subject's head so far, and becomes the head; counts the live
    records. One pass, no sort. False (nothing changed) if a subject is out of range."""
    for r in range(subject.shape[0]):
        if subject[r] < 0 or subject[r] >= head.shape[0]:
            return False
    for r in range(subject.shape[0]):
        s = subject[r]
        prev[r] = head[s]
        head[s] = refs[r]
        live_count[s] += 1
    return True


@nb.njit(cache=True)
def _ref_of(number, starts, days):  # pragma: no cover - compiled
    """The ref of record ``number`` (-1 for none): the day whose run of numbers holds it."""
    if number < 0:
        return np.int64(-1)
    i = np.searchsorted(starts, number, side="right") - 1
    return (days[i] << np.int64(32)) | (np.int64(number) - starts[i])


@nb.njit(cache=True)
def _thread_numbered(subject, first, prev, head, live_count):  # pragma: no cover - compiled
    """``_thread`` for numbered records: today's records are numbers ``first``,
    ``first + 1``, …; each record's ``prev`` is its subject's head so far (a number)."""
    for r in range(subject.shape[0]):
        if subject[r] < 0 or subject[r] >= head.shape[0]:
            return False
    for r in range(subject.shape[0]):
        s = subject[r]
        prev[r] = head[s]
        head[s] = first + r
        live_count[s] += 1
    return True


@nb.njit(cache=True)
def _refs_of(numbers, starts, days):  # pragma: no cover - compiled
    """``_ref_of`` for an array of record numbers."""
    out = np.empty(numbers.shape[0], dtype=np.int64)
    for i in range(numbers.shape[0]):
        out[i] = _ref_of(numbers[i], starts, days)
    return out


@nb.njit(cache=True)
def _uncount(live_count, subject):  # pragma: no cover - compiled
    """live_count[subject] -= 1 for each entry (np.add.at, without its overhead)."""
    for r in range(subject.shape[0]):
        live_count[subject[r]] -= 1


class Dossier:
    def __init__(self, n_subjects: int) -> None:
        self.n_subjects = n_subjects
        self.chunks: dict[int, Table] = {}
        self.tombstones: dict[int, np.ndarray] = {}
        #: newest record of each subject: a record number (int32) or, once widened, a ref
        self.head = np.full(n_subjects, NO_REF, dtype=np.int32)
        #: the record numbers' days: day ``days[i]``'s rows are numbers ``starts[i]`` on
        self.starts = np.zeros(0, dtype=np.int64)
        self.days = np.zeros(0, dtype=np.int64)
        self.numbered = 0  # records numbered so far
        self.live_count = np.zeros(n_subjects, dtype=dtype("count"))
        self.first_kept_day = 0
        #: removals in order: (day, refs) — consumers keep their own cursor
        self.removal_log: list[tuple[int, np.ndarray]] = []

    # ------------------------------------------------------------------ writing

    def append(
        self,
        day: int,
        subject: np.ndarray,
        act: np.ndarray,
        source: np.ndarray,
        kind: np.ndarray,
        obs_ref: np.ndarray,
    ) -> np.ndarray:
        """Append today's records (in the given order); returns their record refs."""
        subject = np.asarray(subject, dtype=dtype("uid"))
        n = subject.size
        if n == 0:
            return np.empty(0, dtype=dtype("ref"))
        old = self.chunks.get(day)
        start = 0 if old is None else len(old)
        refs = pack_ref(day, np.arange(start, start + n))
        if self.head.dtype == np.int32 and not self._number(day, start, n):
            self._widen()
            old = self.chunks.get(day)
        numbered = self.head.dtype == np.int32
        if numbered:
            prev = np.empty(n, dtype=np.int32)
            ok = _thread_numbered(subject, self.numbered - n, prev, self.head, self.live_count)
        else:
            prev = np.empty(n, dtype=dtype("ref"))
            ok = _thread(subject, refs, prev, self.head, self.live_count)
        if not ok:
            raise ValueError("record subject out of range")
        obs = compact_refs(day, np.asarray(obs_ref, dtype=dtype("ref")))
        kept = REFS if obs.dtype != np.uint32 else ROWS if not rows_in_place(obs, start) else PLACED
        columns = {"obs_ref": obs} if kept == REFS else {"obs_row": obs} if kept == ROWS else {}
        new = Table.from_columns(LAYOUTS[numbered, kept], subject=subject, act=act,
                                 source=source, kind=kind, prev=prev, **columns)
        if old is None:
            self.chunks[day] = new
            self.tombstones[day] = np.zeros(n, dtype=bool)
        else:
            kept = max(kept, _kept_as(old))  # the narrowest way that keeps both
            old, new = _kept(day, old, kept), _kept(day, new, kept, start)
            self.chunks[day] = Table.concat(new.layout, [old, new])
            self.tombstones[day] = np.concatenate([self.tombstones[day], np.zeros(n, bool)])
        return refs

    def _number(self, day: int, start: int, n: int) -> bool:
        """Number ``n`` records filed on ``day`` from row ``start`` on; False (nothing
        numbered) if they cannot continue the numbering: an earlier day than the newest,
        or past 2^31 − 1 records."""
        if self.numbered + n > np.iinfo(np.int32).max:
            return False
        if self.days.size and day == self.days[-1]:
            if start != self.numbered - self.starts[-1]:
                return False
        elif (self.days.size and day < self.days[-1]) or start != 0:
            return False
        else:
            self.starts = np.append(self.starts, np.int64(self.numbered))
            self.days = np.append(self.days, np.int64(day))
        self.numbered += n
        return True

    def _widen(self) -> None:
        """The heads and every chunk's ``prev`` links from record numbers to refs (once,
        for good: a day filed out of order, or past 2^31 records)."""
        self.head = _refs_of(self.head, self.starts, self.days)
        for day, chunk in self.chunks.items():
            columns = dict(chunk.columns)
            columns["prev"] = _refs_of(chunk["prev"], self.starts, self.days)
            self.chunks[day] = Table(LAYOUTS[False, _kept_as(chunk)], columns)

    def remove(self, refs: np.ndarray, day: int = -1) -> int:
        """Tombstone records; returns how many were live. Unknown refs are ignored.
        Removed refs are appended to ``removal_log`` (with ``day``)."""
        days, rows = unpack_ref(np.asarray(refs, dtype=np.int64))
        removed = 0
        done = []
        for d in unique(days):
            ts = self.tombstones.get(int(d))
            if ts is None:
                continue
            r = rows[days == d]
            r = r[r < ts.size]
            live = r[~ts[r]]
            live = unique(live)
            ts[live] = True
            _uncount(self.live_count, self.chunks[int(d)]["subject"][live])
            removed += live.size
            done.append((np.int64(d) << 32) | live.astype(np.int64))
        if done:
            self.removal_log.append((day, np.concatenate(done)))
        return removed

    def removals_since(self, cursor: int) -> tuple[np.ndarray, int]:
        """Refs removed since a consumer's cursor, and the new cursor."""
        new = self.removal_log[cursor:]
        refs = np.concatenate([r for _, r in new]) if new else np.empty(0, dtype=np.int64)
        return refs, len(self.removal_log)

    def drop_before(self, day: int) -> None:
        """Retention: drop chunks older than ``day`` (their refs become dangling)."""
        for d in sorted(k for k in self.chunks if k < day):
            chunk = self.chunks.pop(d)
            ts = self.tombstones.pop(d)
            _uncount(self.live_count, chunk["subject"][~ts])
        self.first_kept_day = max(self.first_kept_day, day)

    # ------------------------------------------------------------------ reading

    def day_records(self, day: int) -> tuple[Table, np.ndarray]:
        """The records filed on one day and their live mask. Their observations are read
        through :meth:`obs_refs` (a chunk may keep them as rows of the day)."""
        chunk = self.chunks.get(day)
        if chunk is None:
            return Table.empty(RECORD_LAYOUT), np.empty(0, dtype=bool)
        return chunk, ~self.tombstones[day]

    @staticmethod
    def obs_refs(day: int, chunk: Table) -> np.ndarray:
        """The ``obs_ref`` of each record of ``day``'s ``chunk`` (from :meth:`day_records`),
        however the chunk keeps them: as refs, as rows of the day (``obs_row``), or by
        place (record i saw observation i)."""
        return _observations(day, chunk)

    def records_of(self, subject: int, include_removed: bool = False) -> np.ndarray:
        """Record refs of one subject, newest first, by walking the per-subject index."""
        out = []
        ref = self._as_ref(self.head[subject])
        while ref != NO_REF:
            d, r = ref >> 32, ref & 0xFFFFFFFF
            chunk = self.chunks.get(d)
            if chunk is None:  # dropped by retention: everything older is gone too
                break
            if include_removed or not self.tombstones[d][r]:
                out.append(ref)
            ref = self._as_ref(chunk["prev"][r])
        return np.asarray(out, dtype=dtype("ref"))

    def _as_ref(self, link: np.integer) -> int:
        """A head or ``prev`` link as a ref: a 32-bit record number is looked up by day."""
        return int(_ref_of(link, self.starts, self.days) if link.dtype == np.int32 else link)

    def fields(self, refs: np.ndarray, name: str) -> np.ndarray:
        return self.columns(refs, name)[0]

    def columns(self, refs: np.ndarray, *names: str) -> tuple[np.ndarray, ...]:
        """Fields of records, one array per name, in the order of ``refs``: one pass over
        the days the refs fall on (grouped by a sort, not one scan of the refs per day)."""
        days, rows = unpack_ref(np.asarray(refs, dtype=np.int64))
        out = tuple(np.empty(days.size, dtype=dtype(RECORD_LAYOUT[name])) for name in names)
        if days.size == 0:
            return out
        order = np.argsort(days, kind="stable")
        cuts = np.flatnonzero(days[order][1:] != days[order][:-1]) + 1
        for at in np.split(order, cuts):
            day = int(days[at[0]])
            chunk = self.chunks[day]
            r = rows[at]
            for column, name in zip(out, names, strict=True):
                column[at] = (self.obs_refs(day, chunk) if name == "obs_ref" else chunk[name])[r]
        return out

    def total_records(self) -> int:
        return sum(len(c) for c in self.chunks.values())

    def nbytes(self) -> int:
        return sum(c.nbytes() + self.tombstones[d].nbytes for d, c in self.chunks.items())

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> dict:
        return {
            "chunks": {d: Table(c.layout, {k: v.copy() for k, v in c.columns.items()})
                       for d, c in self.chunks.items()},
            "tombstones": {d: t.copy() for d, t in self.tombstones.items()},
            "head": self.head.copy(),
            "starts": self.starts.copy(),
            "days": self.days.copy(),
            "numbered": self.numbered,
            "live_count": self.live_count.copy(),
            "first_kept_day": self.first_kept_day,
            "removal_log": [(d, r.copy()) for d, r in self.removal_log],
        }

    def restore(self, snap: dict) -> None:
        self.chunks = {d: Table(c.layout, {k: v.copy() for k, v in c.columns.items()})
                       for d, c in snap["chunks"].items()}
        self.tombstones = {d: t.copy() for d, t in snap["tombstones"].items()}
        self.head = snap["head"].copy()
        self.starts = snap["starts"].copy()
        self.days = snap["days"].copy()
        self.numbered = snap["numbered"]
        self.live_count = snap["live_count"].copy()
        self.first_kept_day = snap["first_kept_day"]
        self.removal_log = [(d, r.copy()) for d, r in snap["removal_log"]]

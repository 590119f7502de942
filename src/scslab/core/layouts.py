"""The dtype table and the columnar layouts of acts, observations and records.

One table fixes the dtype of every kind of quantity so that modules agree on memory
layout and Numba kernels compile once. Layouts are plain ``name -> dtype`` mappings;
:class:`Table` holds one batch as a structure of arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

#: The dtype table: every per-agent array and event column takes its dtype from here.
DTYPES: dict[str, np.dtype] = {
    "uid": np.dtype(np.int32),  # person / firm / official index; -1 = none
    "offset": np.dtype(np.int64),  # CSR offsets, global record and act references
    "link_offset": np.dtype(np.int32),  # network CSR offsets (people × degree < 2^31)
    "ref": np.dtype(np.int64),  # observation, act or record reference: day << 32 | row
    "record_number": np.dtype(np.int32),  # a record in filing order (the dossier's index)
    "row": np.dtype(np.uint32),  # a row of a batch whose day is implied (NO_ROW: none)
    "points": np.dtype(np.int16),  # score points
    "score": np.dtype(np.int32),  # accumulated scores
    "bureau_score": np.dtype(np.int16),  # credit bureau scores: 300–850, or a negative code
    "prob": np.dtype(np.float32),  # probabilities and traits in [0, 1]
    "threshold": np.dtype(np.uint32),  # Bernoulli thresholds (rng.probability_to_threshold)
    "money": np.dtype(np.float32),  # money in units of the median daily income
    "code": np.dtype(np.uint8),  # catalogue codes: act, venue, source, group, sex, region
    "sensor": np.dtype(np.uint16),  # sensor codes
    "cell": np.dtype(np.uint16),  # metric cell: group × n_regions + region
    "ban_bits": np.dtype(np.uint16),  # sanction measure bits in force
    "day": np.dtype(np.int16),  # days since start; -1 = never
    "day_u16": np.dtype(np.uint16),  # scheduled days; 0xFFFF = never
    "flag": np.dtype(np.bool_),
    "count": np.dtype(np.int32),  # small per-agent counters
    "accumulator": np.dtype(np.int64),  # metric counters
    "real_accumulator": np.dtype(np.float64),  # metric sums of real quantities
    "ratio": np.dtype(np.float64),  # multiplicative factors (1 = unchanged)
}


def dtype(kind: str) -> np.dtype:
    """The dtype of a kind of quantity; unknown kinds are an error, not a guess."""
    try:
        return DTYPES[kind]
    except KeyError:
        raise KeyError(f"unknown dtype kind {kind!r}; known: {sorted(DTYPES)}") from None


#: Acts happen whether or not anyone sees them (truth only).
ACT_LAYOUT: dict[str, str] = {
    "actor": "uid",
    "act": "code",
    "venue": "code",
    "counterparty": "uid",  # -1 if none
    "ordinal": "code",  # the act's repeat index within the actor's day
}

#: What a source or sensor reports. ``ref`` is the observation's own reference, given by the
#: world when the observation is appended (day << 32 | its row in the day's observations): it
#: says nothing of the act behind it, nor whether there was one (the truth sidecar does).
#: A sensing module leaves it :data:`UNFILED`.
OBSERVATION_LAYOUT: dict[str, str] = {
    "ref": "ref",
    "subject": "uid",  # whom the observation is attributed to (elsewhere(uid): see below)
    "act": "code",  # the act type as the source reports it
    "source": "code",
    "sensor": "sensor",
}

#: Ground truth of an observation, row for row with the observations appended with it; filed
#: in the truth store under the observation's ``ref``. Truth: never visible to the system.
OBSERVATION_TRUTH_LAYOUT: dict[str, str] = {
    "act_ref": "ref",  # the act observed: day << 32 | row in that day's acts; -1 fabricated;
    # ACT_ELSEWHERE: an act of another partition's (a record routed here)
    "true_actor": "uid",  # -1 for fabricated; elsewhere(uid) for another partition's person
    "true_act": "code",  # the act that happened (0 for fabricated)
    "erroneous": "flag",  # misattributed or fabricated
    "lawful": "flag",  # lawful under the reference norm (lawful_ref)
}

#: A dossier record. ``kind`` 0 = record of an observation, 1 = evaluation (no act).
RECORD_LAYOUT: dict[str, str] = {
    "subject": "uid",
    "act": "code",
    "source": "code",
    "kind": "code",
    "obs_ref": "ref",  # the observation it records (its truth is in the truth store); -1 none
    "prev": "ref",  # previous record of the same subject (per-subject index), -1 = none
}

#: The dossier's chunks while its records are numbered (``record_log``): ``prev`` is the
#: previous record's 32-bit number, half a ref — 4 B of the ~44 a record holds.
NUMBERED_RECORD_LAYOUT: dict[str, str] = {**RECORD_LAYOUT, "prev": "record_number"}


def _with_obs_row(layout: dict[str, str]) -> dict[str, str]:
    return {("obs_row" if k == "obs_ref" else k): ("row" if k == "obs_ref" else v)
            for k, v in layout.items()}


#: The same, for a day whose records all record observations of that day or none (what
#: sensors and sources file): ``obs_row`` is the observation's row of the day, half a ref
#: (``compact_refs``; read through ``Dossier.obs_refs``).
ROW_OBS_RECORD_LAYOUT: dict[str, str] = _with_obs_row(RECORD_LAYOUT)
ROW_OBS_NUMBERED_RECORD_LAYOUT: dict[str, str] = _with_obs_row(NUMBERED_RECORD_LAYOUT)
#: And for a day whose record in row i records observation i of that day, every one (the
#: dossier files the day's observations first, in order): no column at all.
PLACED_OBS_RECORD_LAYOUT: dict[str, str] = {
    k: v for k, v in RECORD_LAYOUT.items() if k != "obs_ref"}
PLACED_OBS_NUMBERED_RECORD_LAYOUT: dict[str, str] = {
    k: v for k, v in NUMBERED_RECORD_LAYOUT.items() if k != "obs_ref"}

#: People whose score changed today (scoring → lists).
SCORE_CHANGE_LAYOUT: dict[str, str] = {"person": "uid"}

#: List entries (entered = 1) and exits (entered = 0) today (lists → sanctions, learning).
LIST_CHANGE_LAYOUT: dict[str, str] = {"person": "uid", "list": "code", "entered": "flag"}

#: Trades today (market → complaints; truth: who was defrauded). ``seller`` is a person
#: uid, or N + f for firm f.
TRADE_LAYOUT: dict[str, str] = {"buyer": "uid", "seller": "uid", "fraud": "flag"}

#: Detentions today (surveillance → its metrics): the watchlist cause bits that raised the
#: alarm (0 = a false match) and the record behind a watchlisting (-1 = none).
DETENTION_LAYOUT: dict[str, str] = {"person": "uid", "cause": "code", "record": "ref"}

#: People who learned of the system today (learning → attitudes; private knowledge):
#: ``channel`` 1 their own listing, 2 a neighbour's sanctioning listing (named or
#: not), 8 + k campaign k.
INFORMED_LAYOUT: dict[str, str] = {"person": "uid", "channel": "code"}
INFORMED_LISTING, INFORMED_NEIGHBOUR, INFORMED_CAMPAIGN = 1, 2, 8

#: Appeals filed today: what the subject submits. ``evidence`` is the subject's case —
#: true when they can show the record is wrong (they know their own conduct).
APPEAL_LAYOUT: dict[str, str] = {"subject": "uid", "record": "ref", "evidence": "flag"}

RECORD_KIND_OBSERVATION = 0
RECORD_KIND_EVALUATION = 1
RECORD_KIND_KIN = 2
NO_REF = -1


def code_table(codes) -> np.ndarray:
    """Boolean table over the 256 codes of a uint8 ``code`` field, True at ``codes``: a
    gather ``table[codes_of_rows]`` answers "is this one of them?" faster than ``np.isin``."""
    table = np.zeros(256, dtype=bool)
    table[np.asarray(codes, dtype=np.int64)] = True
    return table


#: an observation's ``ref`` before the world files it
UNFILED = -1


#: On a partition of the population (``Sim(uids=...)``, ``docs/scaling.md``), a record
#: can name a person who lives in another partition, or be routed in from one: its act is
#: in that partition's acts (``act_ref``) and its actor or subject is :func:`elsewhere`.
ACT_ELSEWHERE = -2


def elsewhere(uid: np.ndarray) -> np.ndarray:
    """A person of another partition, by global uid, in a ``uid`` column: negative, so
    never a local row, and below −1 (−1 is "nobody": a fabricated record's actor)."""
    return -2 - np.asarray(uid, dtype=np.int64)


def unfiled(n: int) -> np.ndarray:
    """The ``ref`` column of ``n`` observations not yet appended (the world fills it)."""
    return np.full(n, UNFILED, dtype=np.int64)


def pack_ref(day: int | np.ndarray, row: int | np.ndarray) -> np.ndarray:
    """Global reference to a row of a per-day batch: day << 32 | row (bit fields)."""
    return (np.asarray(day, dtype=np.int64) << 32) | np.asarray(row, dtype=np.int64)


def unpack_ref(ref: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref = np.asarray(ref, dtype=np.int64)
    return ref >> 32, ref & 0xFFFFFFFF


#: a compact ref's "none" (``compact_refs``)
NO_ROW = np.uint32(0xFFFFFFFF)


def compact_refs(day: int, refs: np.ndarray) -> np.ndarray:
    """``refs`` as uint32 rows of ``day``'s batch (``NO_ROW`` for -1) if every one is a
    row of that day or none — half the bytes, where the day is the holder's; unchanged
    (int64 refs) otherwise. :func:`refs_of` reverses it."""
    days, rows = unpack_ref(refs)
    none = refs == -1
    if not np.all(none | ((days == day) & (rows != NO_ROW))):
        return refs
    return np.where(none, NO_ROW, rows).astype(np.uint32)


def rows_in_place(rows: np.ndarray, start: int = 0) -> bool:
    """``rows`` are ``start, start + 1, …`` — each the row of its own position, so a
    holder can leave them implicit (the dossier's observations, the truth store's rows)."""
    return np.array_equal(rows, np.arange(start, start + rows.size, dtype=rows.dtype))


def refs_of(day: int, column: np.ndarray) -> np.ndarray:
    """The refs of a column kept by :func:`compact_refs`, compact or not."""
    if column.dtype != np.uint32:
        return column
    return np.where(column == NO_ROW, np.int64(-1), pack_ref(day, column))


_RESOLVED: dict[int, tuple[Mapping[str, str], tuple[tuple[str, np.dtype], ...]]] = {}


def _resolved(layout: Mapping[str, str]) -> tuple[tuple[str, np.dtype], ...]:
    """(column, dtype) pairs of a layout, looked up once per layout object (tables are
    built hundreds of times a day from a handful of module-level layouts)."""
    hit = _RESOLVED.get(id(layout))
    if hit is None or hit[0] is not layout:
        hit = (layout, tuple((name, dtype(kind)) for name, kind in layout.items()))
        _RESOLVED[id(layout)] = hit
    return hit[1]


@dataclass
class Table:
    """A columnar batch with a fixed layout (structure of arrays)."""

    layout: Mapping[str, str]
    columns: dict[str, np.ndarray]

    @classmethod
    def empty(cls, layout: Mapping[str, str], n: int = 0) -> Table:
        return cls(layout, {name: np.empty(n, dtype(kind)) for name, kind in layout.items()})

    @classmethod
    def from_columns(cls, layout: Mapping[str, str], **columns: np.ndarray) -> Table:
        if columns.keys() != layout.keys():
            missing = set(layout) - set(columns)
            extra = set(columns) - set(layout)
            raise ValueError(f"columns do not match layout: missing {missing}, extra {extra}")
        out = {}
        n = -1
        same = True
        for name, dt in _resolved(layout):
            col = columns[name]
            if type(col) is not np.ndarray or col.dtype != dt:
                col = np.asarray(col, dtype=dt)
            out[name] = col
            if n < 0:
                n = col.shape[0]
            elif col.shape[0] != n:
                same = False
        if not same:
            lengths = {v.shape[0] for v in out.values()}
            raise ValueError(f"columns have different lengths: {lengths}")
        return cls(layout, out)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @staticmethod
    def concat(layout: Mapping[str, str], tables: list[Table]) -> Table:
        if not tables:
            return Table.empty(layout)
        return Table(
            layout,
            {name: np.concatenate([t.columns[name] for t in tables]) for name in layout},
        )

    def take(self, index: np.ndarray) -> Table:
        return Table(self.layout, {k: v[index] for k, v in self.columns.items()})

    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.columns.values())

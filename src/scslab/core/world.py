"""The World: per-agent arrays, the day's event tables, logs, counters — and the views
through which modules see it.

The truth firewall is enforced here. A :class:`SystemView` has no path to truth arrays,
the ``acts`` table, or the truth sidecar of observations: asking for them raises
:class:`TruthFirewallError`. Every view hands out read-only arrays except those the module
owns, so the single-writer rule holds at run time too.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numba as nb
import numpy as np

from scslab.core.declarations import ArraySpec, Role
from scslab.core.layouts import (
    ACT_LAYOUT,
    APPEAL_LAYOUT,
    DETENTION_LAYOUT,
    INFORMED_LAYOUT,
    LIST_CHANGE_LAYOUT,
    OBSERVATION_LAYOUT,
    OBSERVATION_TRUTH_LAYOUT,
    SCORE_CHANGE_LAYOUT,
    TRADE_LAYOUT,
    Table,
    compact_refs,
    dtype,
    pack_ref,
    refs_of,
    rows_in_place,
)
from scslab.core.metrics import Counters
from scslab.core.population import OWNER as POPULATION
from scslab.core.population import REGION_SIZES
from scslab.core.record_log import Dossier
from scslab.numerics.csr import group_index
from scslab.numerics.rng import Stream
from scslab.numerics.sets import unique

if TYPE_CHECKING:
    from scslab.core.scenario_schema import Scenario

#: Event tables that exist every day; those marked True are truth.
EVENT_TABLES: dict[str, tuple[dict[str, str], bool]] = {
    "acts": (ACT_LAYOUT, True),
    "observations": (OBSERVATION_LAYOUT, False),
    "observation_truth": (OBSERVATION_TRUTH_LAYOUT, True),
    "score_changes": (SCORE_CHANGE_LAYOUT, False),
    "list_changes": (LIST_CHANGE_LAYOUT, False),
    "appeals": (APPEAL_LAYOUT, False),
    "trades": (TRADE_LAYOUT, True),
    "detentions": (DETENTION_LAYOUT, False),
    "informed": (INFORMED_LAYOUT, True),
}


_EMPTY_EVENTS = {name: Table.empty(layout) for name, (layout, _) in EVENT_TABLES.items()}


class TruthFirewallError(PermissionError):
    """A system module asked for the truth."""


@nb.njit(cache=True)
def _strictly_increasing(a):  # pragma: no cover - compiled
    for i in range(1, a.shape[0]):
        if a[i] <= a[i - 1]:
            return False
    return True


class TruthStore:
    """Ground truth of every observation, per day, keyed by the observation's ``ref``
    (metrics only): the true actor, lawfulness, the act that happened, and the act observed
    (``act_ref``; -1 for a fabricated observation). The system sees only the ``ref``, which is
    the same kind of number for a fabricated observation as for any other. A day's chunk
    keys its rows by the ref's row only (``row``, uint32: the day is the chunk's), 4 bytes
    a row less than the 8-byte ref, in a store that grows with the days — and by nothing
    when it holds rows 0, 1, …, k − 1, every observation of its day (as the engine files
    them), each at its own position; and for the same reason keeps ``act_ref`` as uint32
    rows of the chunk's day (``NO_ROW`` for none) when every act it holds happened that
    day — what sensors and sources file — and as refs otherwise
    (:func:`~scslab.core.layouts.compact_refs`)."""

    COLUMNS = ("true_actor", "lawful", "true_act", "act_ref")

    def __init__(self) -> None:
        self.chunks: dict[int, dict[str, np.ndarray]] = {}

    def add(self, day: int, refs: np.ndarray, truth: Table) -> None:
        if len(refs) == 0:
            return
        if np.any((refs >> 32) != day):
            raise ValueError(f"truth filed on day {day} for observations of another day")
        rows = (refs & 0xFFFFFFFF).astype(np.uint32)
        if _strictly_increasing(rows):  # the usual case: one append's rows, in order
            # (event tables are never changed in place, so keeping them uncopied is safe)
            chunk = {"row": rows}
            for name in self.COLUMNS:
                chunk[name] = truth[name]
        else:
            order = np.argsort(rows, kind="stable")
            chunk = {"row": rows[order]}
            for name in self.COLUMNS:
                chunk[name] = truth[name][order]
        prev = self.chunks.get(day)
        if prev is not None:
            prev = dict(prev, act_ref=refs_of(day, prev["act_ref"]), row=self._rows(prev))
            merged = {k: np.concatenate([prev[k], chunk[k]]) for k in chunk}
            if not _strictly_increasing(merged["row"]):
                o = np.argsort(merged["row"], kind="stable")
                merged = {k: v[o] for k, v in merged.items()}
            chunk = merged
        chunk["act_ref"] = compact_refs(day, chunk["act_ref"])
        if rows_in_place(chunk["row"]):
            del chunk["row"]  # every observation of the day so far, in order: row = position
        self.chunks[day] = chunk

    @staticmethod
    def _rows(chunk: dict[str, np.ndarray]) -> np.ndarray:
        """The observation rows a chunk holds (implicit when they are 0, 1, …, k − 1)."""
        if "row" in chunk:
            return chunk["row"]
        return np.arange(chunk["true_actor"].size, dtype=np.uint32)

    def _matches(self, refs: np.ndarray):
        """For each day's chunk: (day, chunk, positions in refs, positions in the chunk)
        of the refs that are in the store."""
        if refs.size == 0:
            return
        days = refs >> 32
        lo, hi = days.min(), days.max()
        if lo == hi and lo >= 0:  # the usual case: today's records
            groups = [(lo, None)]
        else:
            groups = [(d, np.flatnonzero(days == d)) for d in unique(days[refs >= 0])]
        for d, sel in groups:
            chunk = self.chunks.get(int(d))
            if chunk is None:
                continue
            some = ((refs if sel is None else refs[sel]) & 0xFFFFFFFF).astype(np.uint32)
            if "row" in chunk:
                pos = np.minimum(np.searchsorted(chunk["row"], some), chunk["row"].size - 1)
                hit = chunk["row"][pos] == some
            else:  # the chunk holds rows 0 … k − 1 (and refs are non-negative here)
                hit = some < chunk["true_actor"].size
                pos = some.astype(np.int64)
            if sel is None:
                sel = np.arange(refs.size)
            yield int(d), chunk, sel[hit], pos[hit]

    def lookup(self, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """True actor (-1 for fabricated or unknown) and lawfulness of observations."""
        actor = np.full(refs.size, -1, dtype=dtype("uid"))
        lawful = np.zeros(refs.size, dtype=bool)
        for _, chunk, at, pos in self._matches(refs):
            actor[at] = chunk["true_actor"][pos]
            lawful[at] = chunk["lawful"][pos]
        return actor, lawful

    def lookup_all(self, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """True actor, lawfulness and the act that really happened (0 where fabricated or
        unknown) of observations, in one search."""
        actor = np.full(refs.size, -1, dtype=dtype("uid"))
        lawful = np.zeros(refs.size, dtype=bool)
        act = np.zeros(refs.size, dtype=dtype("code"))
        for _, chunk, at, pos in self._matches(refs):
            actor[at] = chunk["true_actor"][pos]
            lawful[at] = chunk["lawful"][pos]
            act[at] = chunk["true_act"][pos]
        return actor, lawful, act

    def act_refs(self, refs: np.ndarray) -> np.ndarray:
        """The act each observation saw (day << 32 | row in that day's acts); -1 where it
        was fabricated or is unknown."""
        out = np.full(refs.size, -1, dtype=dtype("ref"))
        for day, chunk, at, pos in self._matches(refs):
            out[at] = refs_of(day, chunk["act_ref"][pos])
        return out

    def drop_before(self, day: int) -> None:
        """Drop the truth of observations filed before ``day`` (with the records they back)."""
        for d in [d for d in self.chunks if d < day]:
            del self.chunks[d]


class World:
    """All state of one replicate of one scenario."""

    def __init__(self, scenario: Scenario, replicate: int, counts: dict[str, int]) -> None:
        self.scenario = scenario
        self.replicate = replicate
        self.seed = scenario.seed
        self.counts = dict(counts)
        self.specs: dict[str, ArraySpec] = {}
        self.arrays: dict[str, np.ndarray] = {}
        self.owner: dict[str, str] = {}
        self.events: dict[str, Table] = {}
        self.pending: dict[str, list[Table]] = {}
        self.dossier = Dossier(counts["people"])
        self.truth = TruthStore()
        self.state: dict[str, Any] = {}
        #: group indexes of population arrays, built once and shared (``View.index``)
        self.indexes: dict[str, tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = {}
        self.catalogue: Any = None  # the ActCatalogue, set by the engine
        self.consequences: Any = None  # incentives.Consequences, set by the engine
        self.streams: dict[str, Stream] = {}
        #: each local person's global uid when this world holds a partition of the
        #: population (``Sim(uids=...)``); None: the whole population, uid = index
        self.uids: np.ndarray | None = None
        #: on a partition: each module's place in the day (``Sim`` sets it), and for each
        #: of today's event tables the place of the module that appended each row — the
        #: whole run's order of a table is by appender, then by what each appends in
        self.append_rank: dict[str, int] = {}
        self.appenders: dict[str, np.ndarray] = {}
        #: on a partition: for each row of today's acts, its place among its appender's
        #: (two sortable keys: the actor's uid and 0, unless the appender gives its own)
        self.act_order: tuple[np.ndarray, np.ndarray] | None = None
        #: on a partition: figures over the whole population that modules need (``Sim``'s
        #: ``national``), and the reverse neighbour index, built on first use
        self.national: dict[str, Any] = {}
        self.reverse_neighbours: tuple[np.ndarray, np.ndarray] | None = None
        self.day = 0
        self.group_names = list(scenario.population.groups)
        self.n_regions = scenario.population.regions
        self.counters = Counters(
            len(self.group_names), self.n_regions, scenario.time.burn_in + scenario.time.days
        )
        self.reset_events()

    # ------------------------------------------------------------------ arrays

    def allocate(self, spec: ArraySpec, owner: str, values: np.ndarray | None = None) -> None:
        if spec.name in self.specs:
            raise ValueError(
                f"array {spec.name!r} is owned by both {self.owner[spec.name]!r} and {owner!r}"
            )
        shape = self.entity_shape(spec.entity)
        if values is None:
            values = np.full(shape, spec.fill, dtype=dtype(spec.kind))
        else:
            values = np.asarray(values)
            if values.dtype != dtype(spec.kind):
                raise TypeError(f"{spec.name}: dtype {values.dtype}, table says {dtype(spec.kind)}")
            if values.shape != shape:
                raise ValueError(f"{spec.name}: shape {values.shape}, entity has {shape}")
        if owner == POPULATION:  # drawn once, never written: snapshots share them
            values = values.view()
            values.flags.writeable = False
        self.specs[spec.name] = spec
        self.arrays[spec.name] = values
        self.owner[spec.name] = owner

    def entity_shape(self, entity: str) -> tuple[int, ...]:
        """``people`` → (n,); ``people+1`` → (n + 1,); ``people×acts`` → (n, n_acts);
        ``lists×people`` → (n_lists, n)."""
        return tuple(self.entity_size(part) for part in entity.split("×"))

    def entity_size(self, entity: str) -> int:
        base, plus, extra = entity.partition("+")
        if base not in self.counts:
            raise KeyError(f"unknown entity {base!r}; known: {sorted(self.counts)}")
        return self.counts[base] + (int(extra) if plus else 0)

    def stream(self, name: str) -> Stream:
        return self.streams[name]

    # ------------------------------------------------------------------ events

    def reset_events(self) -> None:
        self.events = dict(_EMPTY_EVENTS)  # tables are never changed in place
        self.pending = {name: [] for name in EVENT_TABLES}
        self.appenders = {}
        self.act_order = None

    def append_event(self, name: str, table: Table, module: str | None = None,
                     order: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        if name == "observations":  # each observation gets its reference here
            table = self._file_observations(table)
        if self.uids is not None:
            rank = np.full(len(table), self.append_rank.get(module, -1), dtype=np.int16)
            before = self.appenders.get(name)
            self.appenders[name] = rank if before is None else np.concatenate([before, rank])
            if name == "acts":
                if order is None:  # by the actor's uid
                    order = (self.uids[table["actor"].astype(np.int64)].astype(np.uint64),
                             np.zeros(len(table), dtype=np.int64))
                keys = (np.asarray(order[0], dtype=np.uint64),
                        np.asarray(order[1], dtype=np.int64))
                if self.act_order is not None:
                    keys = (np.concatenate([self.act_order[0], keys[0]]),
                            np.concatenate([self.act_order[1], keys[1]]))
                self.act_order = keys
        self.pending[name].append(table)
        if len(self.events[name]) == 0:
            self.events[name] = table  # the common case: the first (often only) writer
        else:
            self.events[name] = Table.concat(EVENT_TABLES[name][0], [self.events[name], table])

    def _file_observations(self, table: Table) -> Table:
        """The observations with their ``ref``: day << 32 | row in the day's observations,
        whatever they saw or did not (the act they saw is in the truth sidecar)."""
        start = len(self.events["observations"])
        cols = dict(table.columns)
        cols["ref"] = pack_ref(self.day, np.arange(start, start + len(table)))
        return Table.from_columns(OBSERVATION_LAYOUT, **cols)

    def withdraw_events(self, name: str, keep: np.ndarray) -> None:
        """Today's ``name`` table without the rows where ``keep`` is false (a new table;
        the old one is not changed, so whoever kept it keeps what it saw)."""
        table = self.events[name].take(np.flatnonzero(keep))
        self.events[name] = table
        self.pending[name] = [table]
        if name in self.appenders:
            self.appenders[name] = self.appenders[name][keep]
        if name == "acts" and self.act_order is not None:
            self.act_order = (self.act_order[0][keep], self.act_order[1][keep])

    # ------------------------------------------------------------------ snapshots

    def _evolving_copy(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """A copy of each array that can change; the population's own (traits, network:
        never written after synthesis) are shared, not copied — a snapshot of a run with
        the population mapped from disk keeps it there — and kept read-only (a snapshot
        pickled and loaded comes back writable). A snapshot may come from another Sim,
        with arrays this World does not have: those are copied."""
        out = {}
        for k, v in arrays.items():
            if self.owner.get(k) == POPULATION:
                if v.flags.writeable:
                    v = v.view()
                    v.flags.writeable = False
                out[k] = v
            else:
                out[k] = v.copy()
        return out

    def snapshot(self) -> dict:
        """A deep copy of all evolving state (arrays, logs, counters, module state). The
        population's arrays are shared, not copied: they are read-only (``allocate``)."""
        return {
            "day": self.day,
            "arrays": self._evolving_copy(self.arrays),
            "dossier": self.dossier.snapshot(),
            "truth": copy.deepcopy(self.truth.chunks),
            "state": copy.deepcopy(self.state),
            "counters": self.counters.snapshot(),
        }

    def restore(self, snap: dict) -> None:
        self.day = snap["day"]
        self.arrays = self._evolving_copy(snap["arrays"])
        self.dossier.restore(snap["dossier"])
        self.truth.chunks = copy.deepcopy(snap["truth"])
        self.state = copy.deepcopy(snap["state"])
        self.counters.restore(snap["counters"])
        self.reset_events()


class CounterView:
    """A module's access to the metric counters, declared like its array reads: it adds
    only to the counters it declares (``Module.counters``) and reads only those it declares
    as ``counters.NAME`` reads; a system module reads none (counters are observers' tallies
    of the truth: a count of fabricated records would tell which records are fabricated)."""

    __slots__ = ("counters", "_module", "_writes", "_reads", "_strict", "_may_read")

    def __init__(self, counters: Counters, module: str, writes: frozenset[str],
                 reads: frozenset[str], strict: bool, may_read: bool) -> None:
        self.counters = counters
        self._module = module
        self._writes = writes
        self._reads = reads
        self._strict = strict
        self._may_read = may_read

    @property
    def n_cells(self) -> int:
        return self.counters.n_cells

    def _write(self, name: str) -> None:
        if self._strict and name not in self._writes:
            raise PermissionError(f"{self._module} adds to counter {name!r} without declaring it")

    def _read(self, name: str) -> None:
        if not self._may_read:
            raise TruthFirewallError(
                f"system module {self._module} may not read counters ({name})")
        if self._strict and name not in self._reads:
            raise PermissionError(f"{self._module} reads counter {name!r} without declaring "
                                  f"it (reads: 'counters.{name}')")

    def slot(self, name: str) -> np.ndarray:
        self._write(name)
        return self.counters.slot(name)

    def add_cells(self, name: str, cells: np.ndarray, weights: np.ndarray | None = None) -> None:
        self._write(name)
        self.counters.add_cells(name, cells, weights)

    def add_vector(self, name: str, per_cell: np.ndarray) -> None:
        self._write(name)
        self.counters.add_vector(name, per_cell)

    def has(self, name: str) -> bool:
        """Whether some module of this run counts ``name`` (for an optional read)."""
        return name in self.counters.index

    def today(self, name: str) -> np.ndarray:
        """Today's (chunk, cell) tally of a declared counter read, read-only."""
        self._read(name)
        out = self.counters.slot(name).view()
        out.flags.writeable = False
        return out

    def totals(self, name: str, days: slice) -> np.ndarray:
        self._read(name)
        return self.counters.totals(name, days)

    def daily(self, name: str, days: slice) -> np.ndarray:
        self._read(name)
        return self.counters.daily(name, days)


def owned_part(values: np.ndarray, own: np.ndarray) -> np.ndarray:
    """A partition's part of a figure it owns some entries of (its regions', officials',
    firms'): its own entries, 0 for the others' — summed over partitions, every entry
    from the partition owning it."""
    return np.where(own, values, 0)


def from_owners(values: np.ndarray, summed: np.ndarray, own: np.ndarray) -> None:
    """Replace, in place, this partition's own reckoning of the entries it does not own
    with the owners' (``summed``: every partition's :func:`owned_part`, added up)."""
    values[~own] = np.asarray(summed)[~own].astype(values.dtype)


def in_append_order(rank: np.ndarray, first: np.ndarray, second: np.ndarray) -> bool:
    """Whether rows are by appender (``rank``, :meth:`View.appended_by`), then by their
    order keys within each appender (:meth:`View.act_order`) — then every partition's
    rows are the whole run's restricted to its people, and partitions' rows merged by
    (appender, keys) are the whole run's, provided each appender emits in that order
    there too."""
    order = np.lexsort((second, first, rank))
    return bool((order == np.arange(order.size)).all())


class View:
    """What a module sees of the World: declared reads (read-only) and owned arrays."""

    __slots__ = ("_world", "_module", "_writable", "_readable", "_appends", "_strict",
                 "_handed", "_events_ok", "_withdraws", "_counted", "_counters")

    #: may read counters (a system module may not: counters tally the truth)
    _reads_counters = True

    def __init__(
        self,
        world: World,
        module: str,
        owned: Iterable[str],
        reads: Iterable[str],
        appends: Iterable[str],
        strict: bool = True,
        withdraws: Iterable[str] = (),
        counted: Iterable[str] = (),
    ) -> None:
        self._world = world
        self._counted = frozenset(counted)
        self._counters: CounterView | None = None
        self._module = module
        self._writable = frozenset(owned)
        self._readable = frozenset(r.rstrip("?").split("@")[0] for r in reads) | self._writable
        self._appends = frozenset(appends)
        self._withdraws = frozenset(withdraws)
        self._strict = strict
        self._handed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._events_ok: set[str] = set()

    # arrays --------------------------------------------------------------
    def array(self, name: str) -> np.ndarray:
        w = self._world
        handed = self._handed.get(name)  # checked once per array (until a restore)
        if handed is not None and handed[0] is w.arrays.get(name):
            return handed[1]
        if name not in w.arrays:
            raise KeyError(f"{self._module}: no array {name!r}")
        self._guard(name, w.specs[name].truth)
        if self._strict and name not in self._readable:
            raise PermissionError(f"{self._module} reads {name!r} without declaring it")
        arr = w.arrays[name]
        if name in self._writable:
            self._handed[name] = (arr, arr)
            return arr
        ro = arr.view()
        ro.flags.writeable = False
        self._handed[name] = (arr, ro)
        return ro

    def index(self, name: str, n_values: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The people grouped by the value of a population array (a declared read), as a
        read-only CSR in int32: (offsets by value, positions sorted by value, ascending
        within a value). Built once per world and shared by every module that asks —
        e.g. ``index("people.household")`` (household members) or ``index("people.region")``
        (``members[offsets[r]:offsets[r + 1]]`` is ``np.flatnonzero(region == r)``). The
        offsets cover at least ``n_values`` values (0 … n_values − 1)."""
        arr = self.array(name)
        w = self._world
        if w.owner[name] != POPULATION:
            raise ValueError(f"{self._module}: index({name!r}) — only the population's "
                             "arrays are fixed for the whole run")
        hit = w.indexes.get(name)
        if hit is None or hit[0] is not w.arrays[name] or hit[1][0].size < n_values + 1:
            offsets, members = group_index(arr, np.int32, n_values)
            offsets.flags.writeable = False
            members.flags.writeable = False
            hit = (w.arrays[name], (offsets, members))
            w.indexes[name] = hit
        return hit[1]

    def has(self, name: str) -> bool:
        return name in self._world.arrays

    def optional(self, name: str) -> np.ndarray | None:
        """A declared optional read (``name?``): the array, or None when no module owns it."""
        return self.array(name) if name in self._world.arrays else None

    # events ---------------------------------------------------------------
    def events(self, name: str) -> Table:
        if name not in self._events_ok:  # checked once per table
            self._guard(name, EVENT_TABLES[name][1])
            if self._strict and name not in self._readable and name not in self._appends:
                raise PermissionError(
                    f"{self._module} reads events {name!r} without declaring it")
            self._events_ok.add(name)
        return self._world.events[name]

    def append(self, name: str, table: Table,
               order: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Append to today's ``name`` table. ``order``, for acts on a partition: each
        row's place among this module's acts of the day in the whole run, as two
        sortable keys (default: the actor's uid), so that partitions' acts merge into
        the whole run's order (:meth:`act_order`)."""
        if name not in self._appends:
            raise PermissionError(f"{self._module} appends to {name!r} without declaring it")
        self._world.append_event(name, table, self._module, order)

    def withdraw(self, name: str, keep: np.ndarray) -> None:
        """Keep only the rows of today's ``name`` table where ``keep`` is true (a gate)."""
        if name not in self._withdraws:
            raise PermissionError(f"{self._module} withdraws from {name!r} without declaring it")
        if keep.shape != (len(self._world.events[name]),):
            raise ValueError(f"{self._module}: keep mask does not match today's {name!r}")
        if not keep.all():
            self._world.withdraw_events(name, keep)

    # logs, counters, state, streams ------------------------------------------
    @property
    def dossier(self) -> Dossier:
        if self._strict and not ({"dossier", "dossier_removals"}
                                 & (self._readable | self._appends)):
            raise PermissionError(f"{self._module} uses the dossier without declaring it")
        return self._world.dossier

    @property
    def truth(self) -> TruthStore:
        self._guard("truth", True)
        return self._world.truth

    @property
    def counters(self) -> CounterView:
        """The counters as this module may use them: add to those it declares
        (``counters``), read those it declares as ``counters.NAME`` reads."""
        view = self._counters
        if view is None or view.counters is not self._world.counters:
            view = CounterView(self._world.counters, self._module, self._counted,
                               frozenset(r.removeprefix("counters.") for r in self._readable
                                         if r.startswith("counters.")),
                               self._strict, self._reads_counters)
            self._counters = view
        return view

    @property
    def state(self) -> dict[str, Any]:
        return self._world.state.setdefault(self._module, {})

    def stream(self, name: str) -> Stream:
        return self._world.streams[f"{self._module}.{name}"]

    @property
    def scenario(self) -> Scenario:
        return self._world.scenario

    @property
    def catalogue(self):
        """The act catalogue (public: what acts exist and what the law says of them)."""
        return self._world.catalogue

    @property
    def consequences(self):
        """Nominal per-act consequences of the scenario's rules (public)."""
        return self._world.consequences

    @property
    def counts(self) -> dict[str, int]:
        return dict(self._world.counts)

    @property
    def partitioned(self) -> bool:
        """This World holds a partition of the population (``Sim(uids=...)``)."""
        return self._world.uids is not None

    def uid_of(self, rows: np.ndarray) -> np.ndarray:
        """The uids that key these rows' draws: the rows themselves outside a partition."""
        w = self._world
        return rows if w.uids is None else w.uids[rows]

    def rows_here(self, uids: np.ndarray) -> np.ndarray:
        """The local rows of those of ``uids`` (increasing global uids) who live in this
        partition, in their order — for draws made over the whole population, of which
        each partition keeps its own people's. Outside a partition, ``uids`` themselves."""
        rows, here = self.locate(uids)
        return rows[here]

    def reverse_neighbours(self) -> tuple[np.ndarray, np.ndarray]:
        """On a partition: the local people who list each uid as a neighbour —
        ``rows[offsets[u]:offsets[u + 1]]``, as often as ``u`` appears among their
        neighbours (by the network's symmetry, as often as they appear among ``u``'s).
        Built once per partition (8 B per person of the population for the offsets)."""
        w = self._world
        if w.uids is None:
            raise RuntimeError("reverse_neighbours: for a partition only")
        if w.reverse_neighbours is None:
            off = self.array("people.net_offsets")
            offsets, entries = group_index(self.array("links.neighbour"),
                                           n_keys=self.scenario.population.people)
            rows = np.repeat(np.arange(off.size - 1, dtype=np.int64), np.diff(off))[entries]
            w.reverse_neighbours = (offsets, rows)
        return w.reverse_neighbours

    def national(self, key: str) -> Any:
        """A figure over the whole population that this partition cannot compute from its
        own people (``Module.national_keys``; ``Sim(national=...)``)."""
        try:
            return self._world.national[key]
        except KeyError:
            raise KeyError(f"national figure {key!r} not given to this partition "
                           "(Sim(national=run.engine.national_figures(...)))") from None

    def own_regions(self) -> np.ndarray:
        """The regions whose officials, firms and figures this World runs for the record
        and counts: every region in an ordinary run; on a partition of whole regions,
        those of its people — and the regions with no one at all go with the partition
        that holds uid 0 (the national figure ``regions.size``)."""
        w = self._world
        if w.uids is None:
            return np.ones(w.n_regions, dtype=bool)
        here = np.bincount(self.array("people.region"), minlength=w.n_regions) > 0
        first = bool(w.uids.size) and int(w.uids[0]) == 0
        return here | ((self.national(REGION_SIZES) == 0) & first)

    def region_sizes(self) -> np.ndarray:
        """Every region's number of people (float64): in an ordinary run counted here, on
        a partition the national figure ``regions.size`` (a module reading it takes
        ``core.module.RunsRegions``)."""
        if self._world.uids is not None:
            return np.array(self.national(REGION_SIZES), dtype=np.float64)
        return np.bincount(self.array("people.region"),
                           minlength=self._world.n_regions).astype(np.float64)

    def act_order(self) -> tuple[np.ndarray, np.ndarray]:
        """On a partition: each of today's acts' place among its appender's acts in the
        whole run, as two sortable keys (uint64, int64) — the actor's uid and 0, or
        what the appender gave (``append(..., order=...)``)."""
        w = self._world
        if w.uids is None:
            raise RuntimeError("act_order: kept on a partition only")
        self.events("acts")  # the declared-read check
        if w.act_order is None:
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        return w.act_order

    def appended_by(self, name: str) -> np.ndarray:
        """On a partition: for each row of today's ``name`` table, the place in the day
        of the module that appended it (the whole run's table is in that order, then in
        each module's own). Not kept outside a partition."""
        w = self._world
        if w.uids is None:
            raise RuntimeError("appended_by: kept on a partition only")
        self.events(name)  # the declared-read check
        return w.appenders.get(name, np.zeros(0, dtype=np.int16))

    def locate(self, uids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where these global uids (any order) live: each one's local row (0 where it is
        not here) and whether it lives here. Outside a partition: the uids, all here."""
        w = self._world
        if w.uids is None:
            return uids, np.ones(uids.size, dtype=bool)
        at = np.searchsorted(w.uids, uids)
        here = at < w.uids.size
        here[here] = w.uids[at[here]] == uids[here]
        at[~here] = 0
        return at, here

    @property
    def uids(self) -> np.ndarray:
        """Each local person's global uid, what keyed draws take: ``0 … n − 1`` for the
        whole population; a partition of it (``Sim(uids=...)``) keeps the global numbers,
        so its draws are the whole run's (``docs/scaling.md``). Read-only; for the whole
        population a new array each call (8 B per person): take it once, in ``setup``."""
        w = self._world
        return w.uids if w.uids is not None else np.arange(w.counts["people"], dtype=np.int64)

    @property
    def group_names(self) -> list[str]:
        return list(self._world.group_names)

    @property
    def n_regions(self) -> int:
        return self._world.n_regions

    def _guard(self, name: str, is_truth: bool) -> None:
        pass


class SystemView(View):
    """The scoring apparatus's view: no truth, by construction."""

    __slots__ = ()
    _reads_counters = False

    def _guard(self, name: str, is_truth: bool) -> None:
        if is_truth:
            raise TruthFirewallError(f"system module {self._module} may not read truth ({name})")


def make_view(world: World, module: Any, strict: bool = True) -> View:
    cls = SystemView if module.role is Role.SYSTEM else View
    return cls(
        world,
        module.name,
        [s.name for s in module.owns],
        module.reads,
        module.appends,
        strict=strict,
        withdraws=getattr(module, "withdraws", ()),
        counted=[c.name for c in getattr(module, "counters", ())],
    )

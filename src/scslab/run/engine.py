"""The day loop: builds the World, checks module declarations, runs modules in order.

Day order (fixed; see ``docs/engine.md``): modules run by :class:`~scslab.core.module.Phase`
(decide → sense → record → score → list → sanction → appeal → learn → observe), within a
phase by declared dependencies, then by name. At start-up the engine checks that

* every array has exactly one writer (its owner) and every declared read exists;
* a module reading an array or event table runs after its writers (unless the read is
  declared ``name@prev``, yesterday's value);
* roles match phases (only ``system`` modules in the apparatus phases, ...);
* ``system`` modules declare no truth reads;
* a gate (``withdraws``) runs after the producers of the table it gates and before
  every other reader of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from scslab.core.acts import ActCatalogue
from scslab.core.apparatus import ListParams
from scslab.core.incentives import nominal_consequences
from scslab.core.module import PHASE_ROLES, Module, Role
from scslab.core.population import ALL_ARRAYS, GROUPINGS, OWNER, check_uids, synthesise
from scslab.core.scenario_schema import Scenario
from scslab.core.world import EVENT_TABLES, World, make_view
from scslab.modules.registry import module_classes
from scslab.numerics.numba_start import start_numba_without_blas_probe
from scslab.numerics.rng import Stream
from scslab.run.mapped import map_from_file
from scslab.run.results import Results

#: Logs. ``dossier_removals`` is the dossier's tombstone log: appeals append to it late in
#: the day, so scoring and lists read it as ``dossier_removals@prev``.
LOGS = ("dossier", "dossier_removals", "truth")
TRUTH_LOGS = ("truth",)
#: Event tables a gate may withdraw rows from (not those with a truth sidecar, whose rows
#: must stay aligned with it).
WITHDRAWABLE = frozenset(EVENT_TABLES) - {"observations", "observation_truth"}
#: below this many people a run keeps its parallel kernels on the calling thread: a day's
#: parallel regions are too small to gain from a second thread, whose OpenMP workers then
#: only spin — and on a busy machine (a second run, a test suite) spin against the other
#: work: rongcheng at 1000 people, 47 ms a day on two threads beside another process
#: against 4.4 ms on one. Idle machine, ms a day on one and two threads: 10^4 7.7, 7.8;
#: 3·10^4 10.2, 9.5; 10^5 19.9, 16.4. Results do not depend on the thread count (tested).
PARALLEL_FROM = 20_000


def read_base(read: str) -> str:
    """``people.x@prev?`` → ``people.x``."""
    return read.rstrip("?").split("@")[0]


class EngineError(RuntimeError):
    """Module declarations are inconsistent (a programming error in a module set)."""


def default_module_classes(scenario: Scenario) -> list[type[Module]]:
    return [cls for cls in module_classes().values() if cls.enabled_in(scenario)]


def order_modules(classes: Sequence[type[Module]]) -> list[type[Module]]:
    """Sort by phase, then dependencies inside the phase, then name; check everything."""
    names = [c.name for c in classes]
    if len(set(names)) != len(names):
        raise EngineError(f"module names repeat: {names}")
    for c in classes:
        if c.role not in PHASE_ROLES[c.phase]:
            raise EngineError(f"module {c.name}: role {c.role} may not run in phase {c.phase.name}")
    writers: dict[str, str] = {s.name: OWNER for s in ALL_ARRAYS}
    for c in classes:
        for s in c.owns:
            if s.name in writers:
                raise EngineError(
                    f"array {s.name!r} has two writers: {writers[s.name]!r} and {c.name!r}"
                )
            writers[s.name] = c.name
    appenders: dict[str, list[str]] = {}
    for c in classes:
        for t in c.appends:
            if t not in EVENT_TABLES and t not in LOGS:
                raise EngineError(f"module {c.name} appends to unknown table {t!r}")
            appenders.setdefault(t, []).append(c.name)
    withdrawers: dict[str, list[str]] = {}
    readers: dict[str, set[str]] = {}
    for c in classes:
        for r in c.reads:
            if "@prev" not in r:
                readers.setdefault(read_base(r), set()).add(c.name)
    for c in classes:
        for t in c.withdraws:
            if t not in WITHDRAWABLE:
                raise EngineError(f"module {c.name} withdraws from {t!r}; only "
                                  f"{sorted(WITHDRAWABLE)} can be gated")
            if c.name not in readers.get(t, set()):
                raise EngineError(f"module {c.name} withdraws from {t!r} without reading it")
            withdrawers.setdefault(t, []).append(c.name)
    truth_arrays = {s.name for s in ALL_ARRAYS if s.truth} | {
        s.name for c in classes for s in c.owns if s.truth
    }
    counted = {f"counters.{k.name}" for c in classes for k in c.counters}
    for c in classes:
        for r in c.reads:
            base = read_base(r)
            if base.startswith("counters."):  # a counter read: declared, never by the system
                if base not in counted and not r.endswith("?"):
                    raise EngineError(f"module {c.name} reads {base!r}, which nothing counts")
                if c.role is Role.SYSTEM:
                    raise EngineError(f"system module {c.name} declares a counter read: "
                                      f"{base!r} (counters tally the truth)")
                continue
            provided = base in writers or base in EVENT_TABLES or base in LOGS
            if not provided and not r.endswith("?"):
                raise EngineError(f"module {c.name} reads {base!r}, which nothing provides")
            if c.role is Role.SYSTEM and (
                base in truth_arrays
                or (base in EVENT_TABLES and EVENT_TABLES[base][1])
                or base in TRUTH_LOGS
            ):
                raise EngineError(f"system module {c.name} declares a truth read: {base!r}")

    by_name = {c.name: c for c in classes}

    def deps(c: type[Module]) -> set[str]:
        out: set[str] = set()
        for r in c.reads:
            if "@prev" in r:
                continue
            base = read_base(r)
            if base in writers and writers[base] != OWNER:
                out.add(writers[base])
            if base in c.withdraws:  # a gate waits for the producers only
                out.update(a for a in appenders.get(base, [])
                           if a not in readers.get(base, set()))
            else:
                out.update(appenders.get(base, []))
                out.update(withdrawers.get(base, []))
        out.discard(c.name)
        return out

    ordered: list[type[Module]] = []
    remaining = sorted(classes, key=lambda c: (c.phase, c.name))
    done: set[str] = set()
    while remaining:
        for c in remaining:
            unmet = {d for d in deps(c) if d not in done}
            if not unmet:
                ordered.append(c)
                done.add(c.name)
                remaining.remove(c)
                break
        else:
            c = remaining[0]
            unmet = sorted(d for d in deps(c) if d not in done)
            raise EngineError(
                f"module {c.name} reads what {unmet} write, but they cannot run before it "
                "(declare the read as 'name@prev' to read yesterday's value)"
            )
    for c in ordered:  # a dependency may not run in a later phase than its reader
        for d in deps(c):
            if by_name[d].phase > c.phase:
                raise EngineError(
                    f"module {c.name} ({c.phase.name}) reads what {d} "
                    f"({by_name[d].phase.name}) writes later in the day; use '@prev'"
                )
    return ordered


def national_figures(scenario: Scenario, population: Any,
                     classes: Sequence[type[Module]] | None = None) -> dict[str, Any]:
    """The figures over the whole population that the modules of a run need on a
    partition (``Module.national_keys``), from the whole synthesised population — for
    every partition's ``Sim(national=...)``."""
    out: dict[str, Any] = {}
    for cls in classes if classes is not None else default_module_classes(scenario):
        out.update(cls.national_figures(scenario, population))
    return out


class Sim:
    """One replicate of one scenario.

    >>> sim = Sim(load_scenario("baseline", people=1000, days=30, burn_in=0))
    >>> sim.run(until=10); sim.run()          # same as one sim.run()
    >>> sim.results().summary["violation_rate"]

    ``population_on_disk``: a directory; the population's arrays (traits, network) are
    written there and mapped back, so the OS can page them out — same results, for runs
    bigger than memory (``run/mapped.py``).

    ``uids``: with ``population`` a partition of the scenario's population (some of its
    people, their rows in uid order), the global uid of each; modules that key draws by
    ``View.uids`` then draw what the whole run draws for the same people.
    """

    def __init__(
        self,
        scenario: Scenario,
        replicate: int = 0,
        modules: Sequence[type[Module]] | None = None,
        population: Any = None,
        strict_views: bool = True,
        population_on_disk: Path | None = None,
        uids: np.ndarray | None = None,
        national: dict[str, Any] | None = None,
    ) -> None:
        t0 = time.perf_counter()
        start_numba_without_blas_probe()  # before the first kernel loads: -120 ms
        self.scenario = scenario
        self.replicate = replicate
        classes = list(modules) if modules is not None else default_module_classes(scenario)
        self.module_classes = order_modules(classes)
        pop = population or synthesise(scenario.population, scenario.seed, replicate)
        counts = dict(pop.counts)
        split = dict(pop.split)
        drawn = dict(pop.arrays)  # released array by array below, so none outlives the build
        del pop
        counts["acts"] = len(scenario.acts)
        counts["regions"] = scenario.population.regions
        catalogue = ActCatalogue.from_scenario(scenario)
        venues, _ = catalogue.perception_venues()
        counts["perceived_venues"] = len(venues)  # perceived detection is held per venue
        counts["lists"] = scenario.module_params("lists", ListParams).slots()
        self.world = World(scenario, replicate, counts)
        self.world.national = dict(national or {})
        if uids is not None:
            self.world.uids = check_uids(uids, scenario.population.people)
            if self.world.uids.size != counts["people"]:
                raise ValueError(f"uids: one per person of the partition "
                                 f"({counts['people']:,}), got {self.world.uids.size:,}")
            if missing := [name for name in GROUPINGS if name not in split]:
                raise ValueError(f"population: a partition's population must say how many "
                                 f"{', '.join(missing)} groups it cuts (Population.split: "
                                 f"core.population.restrict records it)")
            refused = [f"{c.name}: {problem}" for c in self.module_classes
                       if (problem := c.partition_problem(
                           scenario.module_params(c.name, c.Params), scenario, split))]
            refused += [f"{c.name}: needs the national figure {key!r} (Sim(national="
                        "national_figures(...)))" for c in self.module_classes
                        for key in c.national_keys if key not in (national or {})]
            if refused:
                raise EngineError("cannot run on a partition — " + "; ".join(refused))
        # population arrays no module reads are not kept (a trait no mechanism uses costs
        # memory only); they are drawn by attribute slot, so leaving one out shifts nothing.
        # With ``population_on_disk`` the kept ones — never written after synthesis — are
        # mapped from files there, so the OS can page them out (``run/mapped.py``)
        read = {read_base(r) for cls in self.module_classes for r in cls.reads}
        for spec in ALL_ARRAYS:
            values = drawn.pop(spec.name)
            if spec.name in read:
                if population_on_disk is not None:
                    values = map_from_file(values, population_on_disk)
                self.world.allocate(spec, OWNER, values)
            del values
        del drawn
        self.modules: list[Module] = []
        for cls in self.module_classes:
            params = scenario.module_params(cls.name, cls.Params)
            module = cls(params, scenario)
            for spec in cls.owns:
                self.world.allocate(spec, cls.name)
            for st in cls.streams:
                key = f"{cls.name}.{st.name}"
                self.world.streams[key] = Stream(scenario.seed, key, replicate, st.slots)
            for counter in cls.counters:
                self.world.counters.register(counter)
            self.modules.append(module)
        self.world.catalogue = catalogue
        self.world.consequences = nominal_consequences(
            scenario, self.world.catalogue, self.module_classes
        )
        self.world.append_rank = {m.name: k for k, m in enumerate(self.modules)}
        self.views = [make_view(self.world, m, strict=strict_views) for m in self.modules]
        for module, view in zip(self.modules, self.views, strict=True):
            module.setup(view)
        self.total_days = scenario.time.burn_in + scenario.time.days
        self.build_seconds = time.perf_counter() - t0
        self.run_seconds = 0.0
        #: end-of-run figures from modules (``final_metrics``), set on the last day
        self.final_metrics: dict[str, float | None] = {}

    @property
    def day(self) -> int:
        return self.world.day

    def step(self) -> None:
        """Advance one day."""
        for _ in self.day_steps():
            pass

    def day_steps(self) -> Iterator[Module]:
        """The day, module by module: yields each module after its step, so that a driver
        can act between two modules (a partitioned run exchanges what crosses partitions
        there); exhausting it completes the day exactly as :meth:`step` does."""
        w = self.world
        day = w.day
        w.reset_events()
        for module, view in zip(self.modules, self.views, strict=True):
            module.step(view, day)
            if module.role is Role.SENSING and w.pending["observations"]:
                self._file_truth(day)
            yield module
            if w.pending["observations"]:  # appended by the driver between two modules
                self._file_truth(day)  # (records routed into a partition: Sources.receive)
        # truth rows go with the records they back: the dossier's retention drops a day's
        # records, the truth of that day's observations goes too (metrics only read truth
        # through records still kept, or today's observations)
        w.truth.drop_before(w.dossier.first_kept_day)
        w.counters.close_day(day)
        w.day = day + 1
        if w.day == self.total_days:
            if w.uids is not None:  # a partition
                self._require_exchanged()
            for module, view in zip(self.modules, self.views, strict=True):
                hook = getattr(module, "final_metrics", None)
                if hook is not None:
                    got = hook(view)
                    undeclared = set(got) - set(module.final_metric_names(self.scenario))
                    if undeclared:
                        raise EngineError(f"module {module.name} reports final metrics it "
                                          f"does not declare in `final_metric_defs`: {sorted(undeclared)}")
                    self.final_metrics.update(got)

    def _require_exchanged(self) -> None:
        """A partition's last day: stop unless every exchange of the day was handed in
        (each module checks the previous day's at its step; no step follows the last)."""
        for module in self.modules:
            due = module.exchange_due()
            if due is not None:
                raise EngineError(f"{module.name} on a partition: the last day's {due}")

    def _file_truth(self, day: int) -> None:
        w = self.world
        new = w.pending["observation_truth"]
        obs = w.pending["observations"]
        for o, t in zip(obs, new, strict=True):
            w.truth.add(day, o["ref"], t)
        w.pending["observation_truth"] = []
        w.pending["observations"] = []

    def run(self, until: int | None = None, progress: Callable[[int], None] | None = None) -> Sim:
        """Run to day ``until`` (exclusive; default: the end). Continuing later gives the
        same result as one run, because every draw is keyed by day."""
        import numba as nb

        end = self.total_days if until is None else min(int(until), self.total_days)
        threads = nb.get_num_threads()
        if self.world.counts["people"] < PARALLEL_FROM:
            nb.set_num_threads(1)  # this thread's parallel regions only; restored below
        t0 = time.perf_counter()
        try:
            while self.world.day < end:
                self.step()
                if progress is not None:
                    progress(self.world.day)
        finally:
            nb.set_num_threads(threads)
        self.run_seconds += time.perf_counter() - t0
        return self

    def snapshot(self) -> dict:
        return self.world.snapshot()

    def restore(self, snap: dict) -> None:
        self.world.restore(snap)

    def metric_defs(self) -> list:
        return [m for cls in self.module_classes for m in getattr(cls, "metrics", ())]

    def results(self) -> Results:
        return Results.from_sim(self)

    def bytes_per_person(self, owner: str | None = None) -> float:
        w = self.world
        n = w.counts["people"]
        total = sum(
            a.nbytes
            for name, a in w.arrays.items()
            if set(w.specs[name].entity.split("×")) & {"people", "people+1", "links"}
            and (owner is None or w.owner[name] == owner)
        )
        return total / n


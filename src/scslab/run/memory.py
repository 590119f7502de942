"""Memory a run will need, estimated from the resolved scenario before anything is built.

A run that cannot fit should be refused in a second with the estimate, not die with a
``MemoryError`` after minutes. The estimate has two phases, and a replicate needs the
larger of them:

* **synthesis** — drawing the population and its network. Measured (peak traced NumPy
  memory of ``synthesise``, rongcheng at 10^5 people, degree 10, 20 and 40: 147, 267 and
  507 B per person): ``SYNTH_PER_PERSON + SYNTH_PER_LINK × degree`` bytes per person (one
  int64 code per directed link end, sorted in place, dominates);
* **running** — every array the switched-on modules declare (``owns``) and the population
  arrays they read, priced by dtype and entity as the World allocates them; the counter
  history (days × the modules' declared counters × cells × 8 bytes); the records the
  dossier and truth store keep, ``RECORDS_PER_PERSON_DAY`` × ``BYTES_PER_RECORD`` per
  person and day; and ``PRIVATE_PER_PERSON`` for what modules hold outside the World's
  arrays (the shared household and region indexes, the dossier's per-person heads, the
  harm observer's shadow books).

Calibrated against measured resident memory (``python -m benchmarks.memory``,
``benchmarks/results-memory.md``): at the builtins' full horizon (730 + 1825 days) the
records are most of a run's memory — rongcheng at 10^5 people holds ~2,041 B per person
after the run, of which ~1,207 are its ~55 records per person (0.0215 a day: the
dossier's columns, ``prev`` links, tombstones and kinds and the truth rows, 22 B each
since the links are 32-bit record numbers, the truth's act refs 32-bit rows, its rows
and the records' observations implicit by place, 42 before; 29 with what grows beside
them: the points applied per record, the due calendars, allocator slack; 4 more where
records out of place — evaluations, copies to kin — make a day keep its records'
observation rows, ``OUT_OF_PLACE_BYTES``). The rate is the highest measured among the builtins
(rongcheng and every module on: 0.0214–0.0224; baseline 0.0142, corporate
0.0135–0.0156), so scenarios that file fewer records are over-estimated at long
horizons. That is the lesser error: an estimate below the need lets a run start that
the operating system kills at its end, when the records peak, after hours of work; a
refusal costs a second and names ``SCSLAB_NO_MEMORY_CHECK=1``. Estimate / measured peak:
see ``ESTIMATE_CHECKS`` in ``tests/test_fail_early.py`` and
``benchmarks/results-memory.md``.

With ``--population-on-disk`` the population's arrays the modules read (traits and the
network: 65 B per person in rongcheng) are mapped from files (``run/mapped.py``): the OS
keeps them in its page cache while there is room and drops them under pressure, so they
are left out of ``running``; synthesis still draws them in memory.

With worker processes each runs its own replicate, so the need is multiplied by
``min(workers, runs)`` (:func:`concurrent_runs`; a run's runs are its replicates, a
comparison's one per scenario, twin and replicate, an explanation's one per cause, the
base and all causes at once, and replicate). A comparison also holds, in the process that gathers the
replicates, every replicate's daily series and their tidy frame (one row per scenario ×
replicate × metric × day): ``SERIES_ROW_BYTES`` per row (measured: 10 scenarios × 10
replicates × 406 series × 1825 days, 7.4·10^7 rows, 4.6 GB above the replicates'
arrays while the frame is built, 62 B a row, plus the 8-byte value each replicate keeps);
``held`` adds it.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scslab.core.scenario_schema import Scenario

SYNTH_PER_PERSON = 27
SYNTH_PER_LINK = 12
PRIVATE_PER_PERSON = 110  # rongcheng 10^6 × 30: held 287 − arrays 152 − records 28 = 107
RECORDS_PER_PERSON_DAY = 0.022  # the highest measured among the builtins (see above)
# per record, fitted to rongcheng at 2555 days: the dossier and truth store's 22, plus what
# grows beside them (the points applied per record, the due calendars, allocator slack)
BYTES_PER_RECORD = 29
# where evaluations or copies to kin file records out of their observations' place, most
# days keep the records' observation rows (every module on at 2555 days: 25 B a record)
OUT_OF_PLACE_BYTES = 4
INTERPRETER = 180 * 2**20  # Python, NumPy, Numba and the compiled kernels: 182-183 MiB
SERIES_ROW_BYTES = 70  # a comparison's series: per scenario × replicate × metric × day


def series_bytes(series: int, days: int, replicates: int) -> int:
    """What a comparison's gathering process holds for one scenario's daily series:
    ``series`` metric series (overall, per group, per region) over ``days`` (burn-in
    included, as the series are) in each of ``replicates`` replicates."""
    return series * days * replicates * SERIES_ROW_BYTES


def _counts(scenario: Scenario) -> dict[str, int]:
    from scslab.core.acts import ActCatalogue
    from scslab.core.apparatus import ListParams

    pop = scenario.population
    n = int(pop.people)
    return {
        "people": n,
        "links": n * int(pop.network.degree),
        "firms": int(round(n * pop.firms_per_1000 / 1000.0)),
        "officials": int(pop.regions) * int(pop.officials_per_region),
        "regions": int(pop.regions),
        "groups": len(pop.groups),
        "acts": len(scenario.acts),
        "lists": scenario.module_params("lists", ListParams).slots(),
        "perceived_venues": len(ActCatalogue.from_scenario(scenario).perception_venues()[0]),
    }


def _entity_size(entity: str, counts: dict[str, int]) -> int:
    size = 1
    for part in entity.split("×"):
        base, plus, extra = part.partition("+")
        size *= counts.get(base, 0) + (int(extra) if plus else 0)
    return size


def _files_out_of_place(scenario: Scenario, classes: list) -> bool:
    """Some records will not sit in their observations' place in the dossier: negative
    evaluations (no observation), or records copied to kin."""
    by_name = {c.name: c for c in classes}
    if "evaluations" in by_name:
        return True
    dossier = by_name.get("dossier")
    if dossier is None:
        return False
    params = scenario.module_params("dossier", dossier.Params)
    return bool(params.kin_spread_acts) and params.kin_spread_probability > 0


def estimate_bytes(scenario: Scenario, population_on_disk: bool = False) -> dict[str, int]:
    """``{"synthesis": B, "running": B, "need": B, "population": B}`` for one replicate
    (``need`` includes the interpreter; ``population``: the population arrays the modules
    read, which ``population_on_disk`` maps from files and leaves out of ``running``)."""
    import numpy as np

    from scslab.core.layouts import dtype
    from scslab.core.population import ALL_ARRAYS
    from scslab.modules.registry import module_classes

    counts = _counts(scenario)
    n = counts["people"]
    classes = [c for c in module_classes().values() if c.enabled_in(scenario)]
    reads = {r.rstrip("?").split("@")[0] for c in classes for r in c.reads}

    def size(specs) -> int:
        return sum(_entity_size(s.entity, counts) * np.dtype(dtype(s.kind)).itemsize
                   for s in specs)

    population = size(s for s in ALL_ARRAYS if s.name in reads)
    arrays = size(s for c in classes for s in c.owns) + (0 if population_on_disk else population)
    days = int(scenario.time.burn_in) + int(scenario.time.days)
    cells = counts["groups"] * counts["regions"]
    counters = days * sum(len(c.counters) for c in classes) * cells * 8
    per_record = BYTES_PER_RECORD + OUT_OF_PLACE_BYTES * _files_out_of_place(scenario, classes)
    records = int(n * days * RECORDS_PER_PERSON_DAY * per_record)
    synthesis = n * (SYNTH_PER_PERSON + SYNTH_PER_LINK * int(scenario.population.network.degree))
    running = arrays + counters + records + n * PRIVATE_PER_PERSON
    return {"synthesis": synthesis, "running": running,
            "need": max(synthesis, running) + INTERPRETER, "population": population}


def available_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (Linux); None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def gigabytes(b: float) -> str:
    return f"{b / 1e9:.1f} GB" if b >= 1e8 else f"{math.ceil(b / 1e6)} MB"


def concurrent_runs(workers: int, runs: int) -> int:
    """Runs a command has in memory at once: one per worker process, at most one per run."""
    return max(1, min(workers, runs))


def memory_problem(scenario: Scenario, workers: int = 1, replicates: int = 1,
                   held: int = 0, population_on_disk: bool = False,
                   offer_population_on_disk: bool = False, runs: int | None = None,
                   ) -> str | None:
    """Why the run will not fit (one line), or None. ``held``: bytes the gathering process
    keeps besides the runs (a comparison's series, :func:`series_bytes`). ``runs``: how
    many runs the command makes in all (default ``replicates``: a comparison makes one per
    scenario and replicate), of which ``min(workers, runs)`` run at once.
    ``population_on_disk``: the population's arrays will be mapped from files (not
    counted); ``offer_population_on_disk``: the command has ``--population-on-disk``, so
    a refusal without it says whether it would fit with it.
    ``SCSLAB_NO_MEMORY_CHECK=1`` skips."""
    if os.environ.get("SCSLAB_NO_MEMORY_CHECK"):
        return None
    available = available_bytes()
    if available is None:
        return None
    est = estimate_bytes(scenario, population_on_disk=population_on_disk)
    parallel = concurrent_runs(workers, replicates if runs is None else runs)
    need = est["need"] * parallel + held
    if need <= available:
        return None
    skip = "(SCSLAB_NO_MEMORY_CHECK=1 skips this check)"
    if held > est["need"] * parallel:
        return (f"replicates={replicates:,}: the comparison needs about {gigabytes(need)} "
                f"of memory — mostly every replicate's daily series, gathered — and "
                f"{gigabytes(available)} is available; use fewer replicates, scenarios or "
                f"days {skip}")
    phase = ("drawing the population and its network" if est["synthesis"] >= est["running"]
             else "the model's arrays and records")
    per = f" ({parallel} worker processes)" if parallel > 1 else ""
    hint = ""
    if offer_population_on_disk and not population_on_disk:
        mapped = estimate_bytes(scenario, population_on_disk=True)["need"] * parallel + held
        if mapped <= available:
            hint = (f" or --population-on-disk DIR (about {gigabytes(mapped)} then, the "
                    f"population's {gigabytes(est['population'] * parallel)} in files)")
    return (f"population.people={scenario.population.people:,}: needs about "
            f"{gigabytes(need)} of memory{per} — mostly {phase} — and "
            f"{gigabytes(available)} is available; use fewer people"
            f"{' or workers' if parallel > 1 else ''}{hint} {skip}")

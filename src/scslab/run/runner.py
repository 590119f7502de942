"""Run replicates of a scenario (optionally in worker processes) into :class:`Results`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from scslab.run.pool import spawn_pool
from scslab.run.results import PendingManifest, ReplicateResult, Results, replicate_result
from scslab.scenario import Scenario, resolved_dict, scenario_from_dict

ProgressFn = Callable[[int, int], None]  # (replicate, day)


def run_replicate(
    scenario: Scenario, replicate: int, progress: ProgressFn | None = None,
    population_on_disk: Path | None = None,
) -> ReplicateResult:
    from scslab.run.engine import Sim

    sim = Sim(scenario, replicate=replicate, population_on_disk=population_on_disk)
    sim.run(progress=None if progress is None else (lambda d: progress(replicate, d)))
    return replicate_result(sim)


def _worker(resolved: dict, replicate: int, population_on_disk: Path | None) -> ReplicateResult:
    os.environ.setdefault("NUMBA_NUM_THREADS", "1")
    return run_replicate(scenario_from_dict(resolved), replicate,
                         population_on_disk=population_on_disk)


def run_scenario(
    scenario: Scenario,
    replicates: int = 1,
    workers: int = 1,
    progress: ProgressFn | None = None,
    command: list[str] | None = None,
    population_on_disk: Path | None = None,
) -> Results:
    """Run ``replicates`` replicates (replicate r draws population r) and collect them.
    ``population_on_disk``: a directory to map the population's arrays from (``Sim``)."""
    t0 = time.perf_counter()
    resolved = resolved_dict(scenario)
    if workers <= 1 or replicates <= 1:
        reps = [run_replicate(scenario, r, progress, population_on_disk)
                for r in range(replicates)]
    else:
        with spawn_pool(workers) as pool:
            futures = [pool.submit(_worker, resolved, r, population_on_disk) for r in range(replicates)]
            reps = []
            for f in futures:
                reps.append(f.result())
                if progress is not None:
                    progress(reps[-1].replicate, scenario.time.burn_in + scenario.time.days)
    wall = time.perf_counter() - t0
    manifest = PendingManifest(  # made when read: a run that writes no folder needs none
        resolved, replicates, wall, command,
        extra={"timing": {"build_seconds": [round(r.build_seconds, 3) for r in reps],
                          "run_seconds": [round(r.run_seconds, 3) for r in reps]}},
    )
    return Results(resolved, reps, manifest)

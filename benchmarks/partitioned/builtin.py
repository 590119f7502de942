"""The builtin modules that run on a partition, split by region: ``baseline`` with what
crosses partitions switched off, run whole and as partitions (in process or on Dask
workers) — the first step of ``docs/scaling.md``'s plan for the builtin scenarios.

Partitionable today (``Module.partitionable``, each refusing the settings whose effects
cross partitions in ``partition_problem``): behaviour (the opportunity clock walked over
the whole population, each partition keeping its own people), sources (no
misattribution, no fabrication), dossier (no lost files, no kin spreading), learning (no
network learning; neighbours' listings only where no lists run) and core_metrics. With
those switched off nothing crosses a partition, so the partitions run without exchange
and their counters (cells include the region) add up to the whole run's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from scslab.core.population import restrict, synthesise
from scslab.core.scenario_schema import Scenario
from scslab.run.engine import Sim
from scslab.scenario import load_scenario

#: baseline's modules that cannot run on a partition yet
OFF = ("market", "firms", "officials", "attitudes", "debts", "harm")
#: what crosses partitions in the modules that can, switched off
CROSSING = ("modules.learning.network_rate=0", "modules.dossier.file_loss_rate=0",
            "sources.court.fabrication_rate=0")
PERSON_ARRAYS = ("people.perceived_detection", "people.perceived_day", "people.informed",
                 "people.perceived_sanction")


def scenario(people: int, days: int) -> Scenario:
    """``baseline`` with OFF off and CROSSING set (every source's misattribution 0)."""
    base = load_scenario("baseline")
    overrides = [f"modules.{m}.enabled=false" for m in OFF] + list(CROSSING) + [
        f"sources.{name}.misattribution=0" for name in base.sources]
    return load_scenario("baseline", overrides, people=people, days=days, burn_in=0)


def run_part(people: int, days: int, regions: Sequence[int] | None) -> dict[str, Any]:
    """Run the partition living in ``regions`` (None: everyone) to the end; its uids,
    counters and per-person arrays."""
    sc = scenario(people, days)
    pop = synthesise(sc.population, sc.seed, 0)
    if regions is None:
        sim = Sim(sc, population=pop)
        uids = np.arange(people, dtype=np.int64)
    else:
        uids = np.flatnonzero(np.isin(pop.arrays["people.region"], list(regions)))
        sim = Sim(sc, population=restrict(pop, uids), uids=uids)
    sim.run()
    out = {name: sim.world.arrays[name] for name in PERSON_ARRAYS}
    out["uids"] = uids
    out["counters"] = sim.world.counters.history
    return out


def merge(parts: list[dict[str, Any]], people: int) -> dict[str, np.ndarray]:
    """Counters added (disjoint cells), per-person arrays put back at their uids."""
    merged = {"counters": sum(p["counters"] for p in parts)}
    for name in PERSON_ARRAYS:
        first = parts[0][name]
        whole = np.empty((people, *first.shape[1:]), dtype=first.dtype)
        for p in parts:
            whole[p["uids"]] = p[name]
        merged[name] = whole
    return merged


def run_on_dask(client: Any, people: int, days: int,
                blocks: Sequence[Sequence[int]]) -> dict[str, np.ndarray]:
    """One partition per Dask worker, each run to the end (nothing to exchange)."""
    workers = sorted(client.scheduler_info()["workers"])
    futures = [client.submit(run_part, people, days, list(b), workers=[w], pure=False)
               for b, w in zip(blocks, workers, strict=False)]
    return merge(client.gather(futures), people)

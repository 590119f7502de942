"""The builtin modules that run on a partition, split by region: builtin scenarios with
the modules that cannot run on one yet switched off, run whole and as partitions (in process or as
Dask actors) — the steps of ``docs/scaling.md``'s plan for the builtin scenarios.

Partitionable today (``Module.partitionable``, each refusing in ``partition_problem``
the settings whose effects cross partitions and are not exchanged): behaviour (the
opportunity clock walked over the whole population, each partition keeping its own
people), sources (no misattribution, no fabrication), dossier (lost files drawn over
everyone, each partition keeping its own; kin spreading only without cut households),
learning, core_metrics; and the apparatus — scoring, lists, sanctions (household
measures only without cut households), appeals filing and the appeals boards (whole
regions), harm.

Two variants (``VARIANTS``): ``baseline`` (behaviour, sources, dossier, learning,
core_metrics) and ``rongcheng`` (those and the point score, its lists, joint sanctions,
appeals and the harm observer).

What crosses, exchanged each day:

* neighbours' listings (rongcheng): a sanctioning listing moves the perceived sanction of
  the listed person's neighbours and may inform them, public naming moves it again —
  neighbours who may live in another partition. Each partition runs its day up to
  learning and hands over its people's listings and namings of the day (uids); every
  partition gets them all and counts, for each of its people, the listed neighbours
  (``Learning.receive_listings``: the steps compose, so their order does not matter).
* learning's network step: each violation's outcome steps the perceived detection of the
  actor's neighbours, in the whole run's order. After learning, every partition's events
  (actor uid, venue, outcome) are gathered, put in the whole run's order (stable by uid)
  and pushed to every partition (``Learning.push``), which steps its own people; then the
  day is finished.

Counters (cells include the region) add up to the whole run's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from benchmarks.partitioned import run

from scslab.core.module import Module
from scslab.core.population import restrict, synthesise
from scslab.core.scenario_schema import Scenario
from scslab.run.engine import Sim
from scslab.scenario import load_scenario

#: per variant: the builtin scenario, its modules that cannot run on a partition yet
#: (switched off), and what crosses partitions and is not exchanged yet (set to 0; every
#: source's misattribution is set to 0 too)
VARIANTS = {
    "baseline": ("baseline", ("market", "firms", "officials", "attitudes", "debts", "harm"),
                 ("sources.court.fabrication_rate=0",)),
    "rongcheng": ("rongcheng", ("market", "firms", "officials", "attitudes", "debts"),
                  ("sources.court.fabrication_rate=0",)),
}
#: the per-person arrays compared, those of them a variant has
PERSON_ARRAYS = ("people.perceived_detection", "people.perceived_day", "people.informed",
                 "people.perceived_sanction", "people.file_lost", "people.score",
                 "people.grade", "people.listed", "people.list_until", "people.bans")
#: of them, those with a row per list and a column per person (compared transposed)
LIST_MAJOR = ("people.list_until",)
EMPTY = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))


def scenario(people: int, days: int, variant: str = "baseline") -> Scenario:
    """The variant's builtin scenario with its modules off and its crossing settings at
    0 (every source's misattribution too); network learning on, as in the builtins."""
    name, off, crossing = VARIANTS[variant]
    base = load_scenario(name)
    overrides = [f"modules.{m}.enabled=false" for m in off] + list(crossing) + [
        f"sources.{source}.misattribution=0" for source in base.sources]
    return load_scenario(name, overrides, people=people, days=days, burn_in=0)


class Partition:
    """One partition's Sim, stepped around the day's exchanges (a Dask actor on its
    worker, or a plain object in process). ``regions`` None: everyone, no exchange.

    A day: :meth:`until_listings` (only where neighbours' listings are seen, which
    ``sees_listings`` says) runs it up to learning and returns its people's listings;
    :meth:`until_exchange` hands learning every partition's, runs it and returns its
    network events; :meth:`finish` pushes every partition's events and ends the day."""

    def __init__(self, people: int, days: int, regions: Sequence[int] | None,
                 variant: str = "baseline") -> None:
        sc = scenario(people, days, variant)
        pop = synthesise(sc.population, sc.seed, 0)
        if regions is None:
            self.uids = np.arange(people, dtype=np.int64)
            self.sim = Sim(sc, population=pop)
        else:
            self.uids = np.flatnonzero(np.isin(pop.arrays["people.region"], list(regions)))
            self.sim = Sim(sc, population=restrict(pop, self.uids), uids=self.uids)
        at = [m.name for m in self.sim.modules].index("learning")
        self.learning: Module = self.sim.modules[at]
        self.before_learning: Module | None = self.sim.modules[at - 1] if at else None
        self.learning_view = self.sim.views[at]
        self.exchanges = regions is not None and self.learning.params.network_rate > 0
        self.partitioned = regions is not None
        self.rest: Iterator[Module] | None = None

    @property
    def sees_listings(self) -> bool:
        """Neighbours' listings are exchanged each day (a property, so that a Dask actor
        of this class answers it)."""
        return self.partitioned and self.learning.sees_listings

    def until_listings(self) -> tuple[np.ndarray, np.ndarray]:
        """Run today up to learning (not included); its people's sanctioning listings
        and public namings of the day (uids)."""
        self.rest = self.sim.day_steps()
        if self.before_learning is not None:
            for module in self.rest:
                if module is self.before_learning:
                    break
        return self.learning.listings(self.learning_view)

    def until_exchange(self, listed: np.ndarray = EMPTY[0], named: np.ndarray = EMPTY[0]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Hand learning every partition's listings of the day (after
        :meth:`until_listings`), run today through learning; its network events (empty
        without any)."""
        if self.rest is None:
            if self.sees_listings:
                raise RuntimeError("neighbours' listings are seen: run until_listings first")
            self.rest = self.sim.day_steps()
        if self.sees_listings:
            self.learning.receive_listings(listed, named)
        for module in self.rest:
            if module is self.learning:
                break
        return self.learning.outbox if self.learning.outbox is not None else EMPTY

    def finish(self, uid: np.ndarray, slot: np.ndarray, target: np.ndarray) -> None:
        """Push every partition's events (whole-run order), then finish the day."""
        if self.exchanges:
            self.learning.push(self.learning_view, self.sim.day, uid, slot, target)
        for _ in self.rest:
            pass
        self.rest = None

    def run(self) -> None:
        """The whole population: no exchange, plain days."""
        self.sim.run()

    def state(self) -> dict[str, np.ndarray]:
        arrays = self.sim.world.arrays
        out = {name: arrays[name].T if name in LIST_MAJOR else arrays[name]
               for name in PERSON_ARRAYS if name in arrays}
        out["uids"] = self.uids
        out["counters"] = self.sim.world.counters.history
        return out


def in_order(events: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The partitions' events in the whole run's order: by actor uid, each actor's in
    its own order (partitions hold disjoint uids, each in uid order: a stable sort)."""
    uid, slot, target = (np.concatenate(col) for col in zip(*events, strict=True))
    order = np.argsort(uid, kind="stable")
    return uid[order], slot[order], target[order]


def together(listings: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Every partition's listings and namings of the day, one array each (a neighbour's
    listings are counted, not sequenced: their order does not matter)."""
    listed, named = (np.concatenate(col) for col in zip(*listings, strict=True))
    return listed, named


def merge(states: list[dict[str, np.ndarray]], people: int) -> dict[str, np.ndarray]:
    """:func:`benchmarks.partitioned.run.merge` of the per-person arrays compared."""
    return run.merge(states, people, [name for name in PERSON_ARRAYS if name in states[0]])


def run_whole(people: int, days: int, variant: str = "baseline") -> dict[str, np.ndarray]:
    p = Partition(people, days, None, variant)
    p.run()
    return merge([p.state()], people)


def run_in_process(people: int, days: int, blocks: Sequence[Sequence[int]],
                   exchange: bool = True, variant: str = "baseline"
                   ) -> tuple[dict[str, np.ndarray], int]:
    """Partitions in this process, day by day; ``exchange=False`` hands each partition
    only its own listings and events (the ablation). Returns the merged state and the
    entries (listings, network events) sent to other partitions."""
    parts = [Partition(people, days, b, variant) for b in blocks]
    others = len(parts) - 1
    sent = 0
    for _ in range(days):
        handed = [EMPTY[:1] * 2] * len(parts)
        if parts[0].sees_listings:
            got = [p.until_listings() for p in parts]
            sent += sum(listed.size + named.size for listed, named in got) * others
            handed = [together(got)] * len(parts) if exchange else got
        events = [p.until_exchange(*h) for p, h in zip(parts, handed, strict=True)]
        sent += sum(e[0].size for e in events) * others
        if exchange:
            merged = in_order(events)
            for p in parts:
                p.finish(*merged)
        else:
            for p, e in zip(parts, events, strict=True):
                p.finish(*e)
    return merge([p.state() for p in parts], people), sent


def run_on_dask(client: Any, people: int, days: int, blocks: Sequence[Sequence[int]],
                variant: str = "baseline") -> dict[str, np.ndarray]:
    """One partition per Dask worker (an actor), two rounds a day — up to the network
    exchange, then the push and the rest of the day — and a first round for the
    listings where neighbours' listings are seen."""
    workers = sorted(client.scheduler_info()["workers"])
    futures = [client.submit(Partition, people, days, list(b), variant, actor=True,
                             workers=[w], pure=False) for b, w in zip(blocks, workers, strict=False)]
    actors = [f.result() for f in futures]
    listings = actors[0].sees_listings
    for _ in range(days):
        handed = EMPTY[:1] * 2
        if listings:
            handed = together([c.result() for c in [a.until_listings() for a in actors]])
        merged = in_order([c.result() for c in [a.until_exchange(*handed) for a in actors]])
        for c in [a.finish(*merged) for a in actors]:
            c.result()
    return merge([a.state().result() for a in actors], people)


def main(argv: list[str] | None = None) -> int:
    """Whole run against 2 Dask actors, build included, and whether they are identical."""
    import argparse
    import time

    from dask.distributed import Client

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--people", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--variant", choices=sorted(VARIANTS), default="baseline")
    args = ap.parse_args(argv)
    variant = args.variant
    run_whole(2000, 3, variant)  # compile (cached) before timing
    ok = True
    with run.local_cluster(2) as cluster, Client(cluster) as client:
        client.run(lambda: run_whole(2000, 3, variant))
        for n in args.people:
            t0 = time.perf_counter()
            whole = run_whole(n, args.days, variant)
            t1 = time.perf_counter()
            split = run_on_dask(client, n, args.days, ([0, 1], [2, 3]), variant)
            t2 = time.perf_counter()
            same = run.identical(whole, split)
            ok &= same
            print(f"{variant}, {n:,} people x {args.days} days: whole {t1 - t0:.1f} s, "
                  f"2 Dask actors {t2 - t1:.1f} s, bit-identical: {'yes' if same else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""One simulation split by region over Dask workers, checked against the single-process
run bit for bit, with the cost of the day's barrier measured (issue #21).

    python -m benchmarks.partitioned.run --people 100000 --days 200

Each Dask worker holds one partition (a block of regions) as a Dask *actor*: a
:class:`Partition` wrapping a ``Sim`` of its people. A simulated day is one round: the
driver sends each partition the global uids the *other* partitions listed the day before
(its ``inbox``), every partition runs its day, and returns the uids it listed today
(``outbox``). That is the whole exchange of this model (``model.py``): learning reads
whether a neighbour was listed yesterday. At the end the counters (whose cells include
the region, so partitions' counters are disjoint) are added, and every per-person array
is put back in uid order. Writes ``benchmarks/results-partitioned.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from benchmarks.partitioned import model

from scslab.run.engine import Sim

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results-partitioned.md"
#: the two partitions of the prototype: regions 0–1 and 2–3
BLOCKS = ([0, 1], [2, 3])
PERSON_ARRAYS = ("people.pd_anchor", "people.pd_day", "people.points", "people.listed_until")


def check_blocks(blocks: Sequence[Sequence[int]], regions: int = model.REGIONS) -> None:
    """Every region in exactly one block: else people would be run twice or not at all."""
    held = sorted(r for b in blocks for r in b)
    if held != list(range(regions)) or any(not b for b in blocks):
        raise ValueError(f"blocks {[list(b) for b in blocks]}: each of the {regions} "
                         "regions must be in exactly one non-empty block")


def worker_per_block(client: Any, blocks: Sequence[Sequence[int]]) -> list[str]:
    """A Dask worker for each block's partition (an actor each), or a ValueError: two
    partitions on one worker would take turns, and a block left without one would be
    left out of the run."""
    workers = sorted(client.scheduler_info()["workers"])
    if len(workers) < len(blocks):
        raise ValueError(f"{len(blocks)} partitions need as many Dask workers; "
                         f"the cluster has {len(workers)}")
    return workers[:len(blocks)]


class Partition:
    """One partition's Sim (a Dask actor on its worker, or a plain object in process)."""

    def __init__(self, people: int, days: int, regions: list[int] | None, seed: int) -> None:
        self.sim: Sim = model.build(people, days, regions, seed)
        self.learn = next(m for m in self.sim.modules if isinstance(m, model.Learn))

    def step(self, inbox: np.ndarray) -> np.ndarray:
        """Run one day with ``inbox`` (the other partitions' listings of yesterday)."""
        self.learn.inbox = inbox
        self.sim.step()
        return self.learn.outbox

    def state(self) -> dict[str, np.ndarray]:
        w = self.sim.world
        out = {name: w.arrays[name] for name in PERSON_ARRAYS}
        out["uids"] = self.learn.uids
        out["counters"] = w.counters.history
        return out


def merge(states: list[dict[str, np.ndarray]], people: int,
          names: Sequence[str] = PERSON_ARRAYS) -> dict[str, np.ndarray]:
    """Counters added (disjoint cells), the per-person arrays ``names`` (a row per person)
    put back at their global uids — which must be everyone's, each once (a partition
    missing or run twice would leave rows unset or overwritten)."""
    uids = np.sort(np.concatenate([s["uids"] for s in states]))
    if not np.array_equal(uids, np.arange(people)):
        raise ValueError(f"the partitions hold {uids.size:,} people, {np.unique(uids).size:,} "
                         f"distinct: they must hold each of the {people:,} once")
    merged = {"counters": sum(s["counters"] for s in states)}
    for name in names:
        first = states[0][name]
        whole = np.empty((people, *first.shape[1:]), dtype=first.dtype)
        for s in states:
            whole[s["uids"]] = s[name]
        merged[name] = whole
    return merged


def run_single(people: int, days: int, seed: int = 20261127
               ) -> tuple[dict[str, np.ndarray], float]:
    """The whole population in one Sim; returns its state and the days' wall seconds."""
    p = Partition(people, days, None, seed)
    empty = np.empty(0, dtype=np.int64)
    t0 = time.perf_counter()
    for _ in range(days):
        p.step(empty)
    return merge([p.state()], people), time.perf_counter() - t0


def inboxes(outboxes: list[np.ndarray], exchange: bool) -> list[np.ndarray]:
    """Each partition's inbox: the other partitions' outboxes (nothing without exchange)."""
    empty = np.empty(0, dtype=np.int64)
    return [np.concatenate([o for q, o in enumerate(outboxes) if q != p] or [empty])
            if exchange else empty for p in range(len(outboxes))]


def run_in_process(people: int, days: int, blocks: Sequence[Sequence[int]] = BLOCKS,
                   seed: int = 20261127, exchange: bool = True
                   ) -> tuple[dict[str, np.ndarray], int]:
    """The partitioned run with every partition in this process, one after another.
    ``exchange=False`` drops the inboxes (the ablation: then the run differs).
    Returns the merged state and the number of uids exchanged."""
    check_blocks(blocks)
    parts = [Partition(people, days, list(b), seed) for b in blocks]
    outboxes = [np.empty(0, dtype=np.int64)] * len(parts)
    sent = 0
    for _ in range(days):
        outboxes = [p.step(i) for p, i in zip(parts, inboxes(outboxes, exchange), strict=True)]
        sent += sum(o.size for o in outboxes) * (len(parts) - 1)
    return merge([p.state() for p in parts], people), sent


def run_on_dask(client: Any, people: int, days: int,
                blocks: Sequence[Sequence[int]] = BLOCKS, seed: int = 20261127
                ) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """The partitioned run with one actor per Dask worker. Returns the merged state and
    timings: ``build_s`` (actors created, populations drawn), ``days_s`` (all days'
    rounds), ``sent`` (uids exchanged)."""
    check_blocks(blocks)
    workers = worker_per_block(client, blocks)
    t0 = time.perf_counter()
    futures = [client.submit(Partition, people, days, list(b), seed, actor=True,
                             workers=[w], pure=False) for b, w in zip(blocks, workers, strict=True)]
    actors = [f.result() for f in futures]
    t1 = time.perf_counter()
    outboxes = [np.empty(0, dtype=np.int64)] * len(actors)
    sent = 0
    for _ in range(days):
        calls = [a.step(i) for a, i in zip(actors, inboxes(outboxes, True), strict=True)]
        outboxes = [c.result() for c in calls]
        sent += sum(o.size for o in outboxes) * (len(actors) - 1)
    t2 = time.perf_counter()
    merged = merge([a.state().result() for a in actors], people)
    return merged, {"build_s": t1 - t0, "days_s": t2 - t1, "sent": sent}


def identical(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a)


def provenance(command: str, load_before: float) -> str:
    """The line a results file opens with: the command, when, on what machine, and the
    load average before (``load_before``, taken before measuring) and now."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"Produced by `{command}`; measured {when} on {platform.machine()}, "
            f"{os.cpu_count()} logical CPUs, Python {platform.python_version()}; load "
            f"average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}.")


@contextmanager
def local_cluster(n_workers: int) -> Iterator[Any]:
    """A LocalCluster of worker processes, one thread each, that can import
    ``benchmarks``: the repository root is on PYTHONPATH while the cluster runs (workers
    inherit it when spawned), then PYTHONPATH is put back."""
    from dask.distributed import LocalCluster

    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + before if before else "")
    try:
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster:
            yield cluster
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


def measure(client: Any, people: int, days: int, repeats: int) -> dict[str, Any]:
    """Single-process and Dask runs of one size, alternately; medians and ranges."""
    single_day, dask_day, build, same, sent = [], [], [], [], 0
    for _ in range(repeats):
        single, seconds = run_single(people, days)
        single_day.append(1e3 * seconds / days)
        merged, timing = run_on_dask(client, people, days)
        dask_day.append(1e3 * timing["days_s"] / days)
        build.append(timing["build_s"])
        same.append(identical(merged, single))
        sent = timing["sent"]
    return {"people": people, "single": single_day, "dask": dask_day, "build": build,
            "identical": all(same), "sent": sent}


def span(values: list[float]) -> str:
    return f"{np.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main(argv: list[str] | None = None) -> int:
    from dask.distributed import Client

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--people", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    load = os.getloadavg()[0]
    model.build(2000, 3).run()  # compile (cached) before timing
    with local_cluster(len(BLOCKS)) as cluster, Client(cluster) as client:
        client.run(lambda: model.build(2000, 3).run())  # load the kernels on the workers
        rows = [measure(client, n, args.days, args.repeats) for n in args.people]
    ok = all(r["identical"] for r in rows)
    lines = [
        "# Partitioned prototype: one simulation split by region over 2 Dask workers",
        "",
        provenance(f"python -m benchmarks.partitioned.run --people "
                   f"{' '.join(map(str, args.people))} --days {args.days} "
                   f"--repeats {args.repeats}", load),
        "",
        f"Model: `benchmarks/partitioned/model.py` ({model.REGIONS} regions, network degree "
        f"{model.DEGREE}, {args.days} days); partitions = regions {BLOCKS[0]} and "
        f"{BLOCKS[1]}, one Dask actor each on a LocalCluster of 2 worker processes (one "
        "thread each). Single process: the whole population in one Sim, one thread. "
        f"Median of {args.repeats} runs of each, alternately (range in brackets).",
        "",
        "| people | bit-identical | single process, ms per day | 2 Dask workers, ms per day "
        "| Dask build (s) | uids exchanged over the run (bytes per day) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['people']:,} | {'yes' if r['identical'] else 'NO'} | {span(r['single'])} | "
            f"{span(r['dask'])} | {span(r['build'])} | {r['sent']:,} "
            f"({8 * r['sent'] / args.days:,.0f}) |")
    lines += [
        "",
        "Bit-identical: the counters of every cell and day, and every person's pd, day of "
        "last update, points and listing, equal byte for byte to the single-process run.",
        "A day costs the Dask run one round (an actor call to each worker, waited for): "
        "the difference between the two columns, less half the single process's day, is "
        "roughly that round's cost.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

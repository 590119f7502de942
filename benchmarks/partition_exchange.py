"""What a region-partitioned run would exchange each day, and what that costs over Dask.

Runs a builtin scenario with the real engine, regions assigned to partitions in
contiguous blocks, and counts each day the data that would cross partitions for every
flow that reads or writes across network links (issue #21, docs/scaling.md):

* market ``_screen``: buyers read their neighbours' memories of bad sellers — a PULL of a
  ``bad`` row per cross-partition neighbour (naive), per (row, partition) (deduplicated),
  and the rows that changed since the previous day (a cached halo, pushed on change);
* learning ``_apply_network``: an actor's outcome steps each neighbour's π — a PUSH of
  (neighbour uid 4 B, venue 1 B, outcome 1 B, global order 4 B) per cross link end;
* learning's and attitudes' ``gather`` over neighbours (listed / named / detained
  neighbours: ψ, awareness, approval) — a PUSH of (uid 4 B, kind 1 B).

Counting does not change the model: the module-level kernels are wrapped, as a profiler
would, and restored afterwards. Then times a day's exchange round on a Dask LocalCluster
of 2 worker processes (each partition's buffer moved to the other worker and consumed
there; both waited for: the day barrier). Writes ``benchmarks/results-partition-exchange.md``.

    python -m benchmarks.partition_exchange --people 100000 1000000 --days 30 rongcheng
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("results-partition-exchange.md")
EVENT_BYTES = 4 + 1 + 1 + 4  # neighbour uid, venue, outcome, global order of the event
GATHER_BYTES = 4 + 1  # uid, kind of event (listed / named / detained)
UID_BYTES = 4
FLOWS = ("market pull, per link", "market pull, per row", "market rows changed",
         "learning push, per link", "learning push, per event",
         "listing/naming push (learning), per link", "listing/naming push (learning), per person",
         "naming/detention push (attitudes), per link",
         "naming/detention push (attitudes), per person")
SCHEMES = {
    "naive (one message per link end)": (0, 3, 5, 7),
    "deduplicated (per row / event / person and partition)": (1, 4, 6, 8),
    "cached halo (changed rows; events deduplicated)": (2, 4, 6, 8),
}


@dataclass
class Tally:
    """Per day and flow: messages and bytes sent, by sending partition."""

    days: int
    parts: int
    msgs: np.ndarray = field(init=False)
    nbytes: np.ndarray = field(init=False)
    useful: np.ndarray = field(init=False)  # cross memory entries that could match

    def __post_init__(self) -> None:
        self.msgs = np.zeros((self.days, len(FLOWS)), dtype=np.int64)
        self.nbytes = np.zeros((self.days, len(FLOWS), self.parts), dtype=np.int64)
        self.useful = np.zeros(self.days, dtype=np.int64)

    def add(self, day: int, flow: int, sender: np.ndarray, size: int) -> None:
        self.msgs[day, flow] += sender.size
        self.nbytes[day, flow] += np.bincount(sender, minlength=self.parts) * size


def _cross(off: np.ndarray, nb: np.ndarray, part: np.ndarray, rows: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """(row, neighbour) of the link ends of ``rows`` that join different partitions."""
    from scslab.numerics.csr import gather

    seen, sizes = gather(off, nb, rows)
    src = np.repeat(np.asarray(rows, dtype=np.int64), sizes)
    seen = seen.astype(np.int64)
    x = part[seen] != part[src]
    return src[x], seen[x]


def _distinct(who: np.ndarray, dest: np.ndarray, parts: int) -> np.ndarray:
    """The distinct (who, destination partition) pairs, as ``who``."""
    return np.unique(who * parts + dest) // parts


@contextlib.contextmanager
def counting(sim, part: np.ndarray, tally: Tally) -> Iterator[None]:
    """Wrap the kernels that cross network links while the block runs (measurement only:
    the private kernels are reached by attribute on their module objects, called with the
    same arguments, and put back on exit)."""
    import scslab.modules.economy.market as market_module
    import scslab.modules.people.attitudes as attitudes_module
    import scslab.modules.people.learning as learning_module

    P = tally.parts
    w = sim.world
    off = w.arrays["people.net_offsets"]
    nb = w.arrays["links.neighbour"]
    # per person: how many other partitions hold a neighbour (a cached halo's fan-out)
    src, seen = _cross(off, nb, part, np.arange(part.size))
    fanout = np.bincount(_distinct(src, part[seen], P), minlength=part.size)
    state: dict = {}
    orig_screen = market_module._screen
    orig_apply = learning_module._apply_network
    orig_l_gather = learning_module.gather
    orig_a_gather = attitudes_module.gather

    def screen(*args):
        day, buyers, buyer_region, pool_off = int(args[2]), args[3], args[5], args[6]
        if int(args[7]) >= 1:  # screening reads the memories
            bad = args[9].view(f"int{int(args[10])}")  # the memories, in their lanes
            row = bad.shape[1] * bad.itemsize + UID_BYTES
            b, o = _cross(off, nb, part, buyers)
            tally.add(day, 0, part[o], row)
            tally.add(day, 1, part[_distinct(o, part[b], P)], row)
            prev = state.setdefault("bad", bad.copy())
            changed = np.flatnonzero((bad != prev).any(axis=1))
            tally.add(day, 2, np.repeat(part[changed], fanout[changed]), row)
            prev[...] = bad
            # entries of the pulled rows in the buyer's candidate pool (could match)
            reg = np.repeat(np.searchsorted(buyers, b), bad.shape[1])
            ent = bad[o].reshape(-1).astype(np.int64)
            r = np.searchsorted(pool_off, ent, side="right") - 1
            tally.useful[day] += int(np.sum((ent >= 0) & (r == buyer_region[reg])))
        return orig_screen(*args)

    def apply_network(*args):
        day, actor = int(args[0]), args[1]
        from scslab.numerics.csr import gather

        seen, sizes = gather(off, nb, actor)
        j = np.repeat(np.arange(actor.size), sizes)  # the event behind each link end
        x = part[seen] != part[actor[j]]
        tally.add(day, 3, part[actor[j[x]]], EVENT_BYTES)
        e = _distinct(j[x], part[seen[x]], P)
        tally.add(day, 4, part[actor[e]], EVENT_BYTES)
        return orig_apply(*args)

    def wrap_gather(orig, per_link: int):
        def g(offsets, values, rows):
            a, o = _cross(offsets, values, part, rows)
            tally.add(sim.world.day, per_link, part[a], GATHER_BYTES)
            tally.add(sim.world.day, per_link + 1, part[_distinct(a, part[o], P)],
                      GATHER_BYTES)
            return orig(offsets, values, rows)
        return g

    market_module._screen = screen
    learning_module._apply_network = apply_network
    learning_module.gather = wrap_gather(orig_l_gather, 5)
    attitudes_module.gather = wrap_gather(orig_a_gather, 7)
    try:
        yield
    finally:
        market_module._screen = orig_screen
        learning_module._apply_network = orig_apply
        learning_module.gather = orig_l_gather
        attitudes_module.gather = orig_a_gather


def partition_of(region: np.ndarray, n_regions: int, parts: int) -> np.ndarray:
    """Contiguous blocks of regions: region r → partition r·P // R."""
    return ((np.arange(n_regions) * parts) // n_regions)[region.astype(np.int64)]


def count(name: str, people: int, days: int, parts: int) -> tuple[Tally, dict]:
    """Run the scenario counting the day's crossings; also static facts and day time."""
    from scslab.run.engine import Sim
    from scslab.scenario import load_scenario

    sim = Sim(load_scenario(name, people=people, days=days, burn_in=0))
    w = sim.world
    part = partition_of(w.arrays["people.region"], w.n_regions, parts)
    off = w.arrays["people.net_offsets"]
    nb = w.arrays["links.neighbour"]
    owner = np.repeat(np.arange(part.size), np.diff(off))
    hh = w.arrays.get("people.household")
    hh = np.zeros(0, np.int64) if hh is None else hh.astype(np.int64)
    hp = np.unique(hh * parts + part[:hh.size]) // parts
    facts = {"links_cross": float(np.mean(part[owner] != part[nb])),
             "households_split": int(hp.size - np.unique(hh).size),
             "people_per_part": np.bincount(part, minlength=parts).tolist(),
             "regions": w.n_regions}
    tally = Tally(days, parts)
    t0 = time.perf_counter()
    with counting(sim, part, tally):
        sim.run()
    facts["wall_per_day_with_counting"] = (time.perf_counter() - t0) / days
    return tally, facts


def dask_rounds(sizes: dict[str, int], rounds: int) -> dict[str, tuple[float, float, float]]:
    """Median, min, max seconds of a day's exchange round between 2 worker processes."""
    from dask.distributed import Client, LocalCluster, wait

    def make(nbytes: int, fill: int) -> np.ndarray:
        return np.full(nbytes, fill, dtype=np.uint8)

    def consume(buf: np.ndarray) -> int:
        return int(buf.nbytes) + int(buf[:1].sum())

    out = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        ws = sorted(client.scheduler_info()["workers"])
        for label, nbytes in sizes.items():
            times = []
            for k in range(rounds + 2):
                bufs = [client.submit(make, nbytes, i, workers=[ws[i]], pure=False)
                        for i in range(2)]
                wait(bufs)
                t0 = time.perf_counter()
                done = [client.submit(consume, bufs[i], workers=[ws[1 - i]], pure=False)
                        for i in range(2)]
                wait(done)
                dt = time.perf_counter() - t0
                if k >= 2:  # two warm-up rounds
                    times.append(dt)
                del bufs, done
            t = np.array(times)
            out[label] = (float(np.median(t)), float(t.min()), float(t.max()))
    return out


def report(name: str, people: int, tally: Tally, facts: dict, skip: int) -> tuple[list[str], dict]:
    """Table of the per-flow means over days ≥ ``skip``; the schemes' bytes per partition."""
    m = tally.msgs[skip:].mean(axis=0)
    b = tally.nbytes[skip:].sum(axis=2).mean(axis=0)
    lines = [f"### {name}, {people:,} people, {tally.parts} partitions "
             f"(days {skip}–{tally.days - 1} averaged)", "",
             f"- {facts['regions']} regions; people per partition {facts['people_per_part']}; "
             f"{facts['links_cross']:.1%} of directed links join partitions; "
             f"{facts['households_split']} households split between partitions",
             f"- market memory entries pulled across partitions that lie in the buyer's "
             f"candidate pool (could ever match): {int(tally.useful.sum())} over all days",
             f"- day wall time with the counting (first-day compile included): {facts['wall_per_day_with_counting'] * 1e3:.0f} ms",
             "", "| flow | messages / day | bytes / day | bytes / person-day |",
             "|---|---:|---:|---:|"]
    for i, f in enumerate(FLOWS):
        lines.append(f"| {f} | {m[i]:,.0f} | {b[i]:,.0f} | {b[i] / people:.4f} |")
    per_part = tally.nbytes[skip:].mean(axis=0)  # flows × partitions
    schemes = {}
    lines.append("")
    for s, idx in SCHEMES.items():
        tot = float(b[list(idx)].sum())
        send = per_part[list(idx)].sum(axis=0)
        schemes[s] = int(send.max())
        lines.append(f"- **{s}**: {tot:,.0f} B/day in all ({tot / people:.3f} B per "
                     f"person-day); largest sender {send.max():,.0f} B/day")
    lines.append("")
    return lines, schemes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("scenario", nargs="?", default="rongcheng")
    ap.add_argument("--people", type=float, nargs="+", default=[1e5])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--skip", type=int, default=5, help="first days left out of the means")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    body: list[str] = ["## Volumes per flow", ""]
    sizes = {"empty buffer (fixed latency)": 0}
    for n in args.people:
        tally, facts = count(args.scenario, int(n), args.days, args.partitions)
        lines, schemes = report(args.scenario, int(n), tally, facts, args.skip)
        body += lines
        print("\n".join(lines), flush=True)
        for s, v in schemes.items():
            if not s.startswith("cached"):
                sizes[f"{int(n):,} people, {s.split(' (')[0]}: {v:,} B"] = v
    if not args.no_dask:
        body += ["## Dask exchange round (2 worker processes, 1 thread each)", "",
                 "Each partition's buffer (the largest sender's mean daily volume) is made on "
                 "its worker, then moved to the other worker and consumed there; the round is "
                 "timed from submit to both done (the day barrier). "
                 f"{args.rounds} rounds after 2 warm-up rounds.", "",
                 "| buffer per partition | median ms | min ms | max ms |", "|---|---:|---:|---:|"]
        for label, (med, lo, hi) in dask_rounds(sizes, args.rounds).items():
            body.append(f"| {label} | {med * 1e3:.2f} | {lo * 1e3:.2f} | {hi * 1e3:.2f} |")
            print(body[-1], flush=True)
        body.append("")
    load1 = os.getloadavg()
    head = [
        "# Partitioning by region: measured daily exchange", "",
        f"Measured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}; load average (1/5/15 min) "
        f"{load0[0]:.2f}/{load0[1]:.2f}/{load0[2]:.2f} before, "
        f"{load1[0]:.2f}/{load1[1]:.2f}/{load1[2]:.2f} after (machine shared with other work).",
        f"Reproduce: `python -m benchmarks.partition_exchange --people "
        f"{' '.join(str(int(n)) for n in args.people)} --days {args.days} "
        f"--partitions {args.partitions} {args.scenario}`.", "",
        f"Message sizes: a market memory row is the `bad` row plus a 4-byte uid; a learning "
        f"event {EVENT_BYTES} B (uid 4, venue 1, outcome 1, global order 4 — the receiver "
        f"must apply remote and local events in the single-process order); a listing/naming/"
        f"detention push {GATHER_BYTES} B (uid, kind).", "",
    ]
    from scslab.run.results import atomic_write_bytes

    atomic_write_bytes(args.out, "\n".join(head + body).encode())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

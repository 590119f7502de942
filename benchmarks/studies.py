"""Speed of studies: the overhead of the study machinery and the throughput of workers.

At 10^4 people × 365 days (no burn-in), an LHS design over two factors on two scenarios
(``--samples`` samples, one replicate: 2 × samples runs), measured one after another:

1. direct: the same runs as a plain loop of ``run_replicate`` (the simulations themselves);
2. ``Study.run`` with 1 worker (in this process): overhead = (study − direct) / direct,
   target ≤ 10 %;
3. ``Study.run`` with 2 local worker processes: throughput ×(1-worker time / this),
   target ≥ 1.7;
4. ``Study.run`` on a Dask LocalCluster of 2 workers: time / local-pool time, target
   ≤ 1.15.

Every configuration runs one Numba thread per worker (NUMBA_NUM_THREADS=1, set here
before Numba is imported), so "2 workers" is 2 cores against 1. Kernels are compiled and
cached by a warm-up run first; worker start-up (spawn, imports, loading cached kernels)
counts against 2 and 3, as a user would pay it. Writes ``benchmarks/studies.md``
(atomically) with the machine, the date and the load average, since the machine may be
shared.

    python -m benchmarks.studies                 # 12 samples: 24 runs per configuration
    python -m benchmarks.studies --repeats 2     # best of 2 alternating passes
    python -m benchmarks.studies --samples 4 --people 2000   # a quick look
"""

from __future__ import annotations

import os

os.environ["NUMBA_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

RESULTS = Path(__file__).with_name("studies.md")


def _study(samples: int, people: int, days: int) -> dict:
    return {
        "name": "bench", "scenarios": ["baseline", "national-blacklist"],
        "people": people, "days": days, "burn_in": 0, "replicates": 1,
        "design": {"method": "lhs", "samples": samples, "seed": 1},
        "factors": {"population.traits.awareness": {"low": 0.02, "high": 0.5},
                    "acts.fraud.rate": {"low": 0.001, "high": 0.004}},
        "outputs": ["violation_rate"], "contrasts": ["national-blacklist - baseline"],
    }


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (pool and Dask workers)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _load() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--samples", type=int, default=12)
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)

    import pandas as pd

    from scslab.analysis.compare import with_overrides
    from scslab.analysis.studies import Study
    from scslab.analysis.studies.design import design_matrix
    from scslab.analysis.studies.execution import plan
    from scslab.run.results import atomic_write_bytes
    from scslab.run.runner import run_replicate
    from scslab.scenario import scenario_from_dict

    data = _study(args.samples, args.people, args.days)
    study = Study.from_dict(data, "bench")
    jobs = plan(study.resolved, design_matrix(study.resolved))
    n = len(jobs)
    load_before = _load()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    # warm-up: compile or load every kernel of both scenarios
    for job in jobs[:2]:
        run_replicate(with_overrides(scenario_from_dict(job["base"]), job["overrides"]), 0)

    def direct(_out: Path) -> None:
        for job in jobs:
            sc = with_overrides(scenario_from_dict(job["base"]), job["overrides"])
            run_replicate(sc, job["replicate"])

    stamps: list[float] = []  # when each run of the current configuration finished

    def tick(done: int, total: int) -> None:
        stamps.append(time.perf_counter())

    configs = {
        "direct loop of `run_replicate`": direct,
        "`Study.run`, 1 worker": lambda out: study.run(out, workers=1, progress=tick),
        "`Study.run`, 2 local workers": lambda out: study.run(out, workers=2, progress=tick),
        "`Study.run`, Dask local:2": lambda out: study.run(out, dask="local:2",
                                                          progress=tick),
    }
    steady: dict[str, list[float]] = {k: [] for k in configs}
    walls: dict[str, list[float]] = {k: [] for k in configs}
    cpus: dict[str, list[float]] = {k: [] for k in configs}
    in_pass: list[float] = []
    tables: dict[str, pd.DataFrame] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):  # configurations alternate, so load drift spreads
            for i, (name, fn) in enumerate(configs.items()):
                out = Path(tmp) / f"{rep}-{i}"
                stamps.clear()
                c0, t0 = _cpu_seconds(), time.perf_counter()
                fn(out)
                walls[name].append(time.perf_counter() - t0)
                cpus[name].append(_cpu_seconds() - c0)
                # steady state: runs per second after the first result (the first tick is
                # the start, before any run); excludes worker start-up and the first run
                if len(stamps) > 2:
                    steady[name].append((len(stamps) - 2) / (stamps[-1] - stamps[1]))
                print(f"{name}: {walls[name][-1]:.1f} s", flush=True)
                if i > 0:
                    tables[name] = pd.read_parquet(out / "metrics.parquet")
                if i == 1:  # the machinery's own time in the same pass: wall − Σ runs
                    runs = pd.read_parquet(out / "runs.parquet")
                    sims = float(runs["duration_s"].sum())
                    in_pass.append((walls[name][-1] - sims) / sims)
    first = next(iter(tables.values()))
    identical = all(t.equals(first) for t in tables.values())
    best = {k: min(v) for k, v in walls.items()}
    names = list(configs)
    overhead = (best[names[1]] - best[names[0]]) / best[names[0]]
    cpu_overhead = (min(cpus[names[1]]) - min(cpus[names[0]])) / min(cpus[names[0]])
    speedup = best[names[1]] / best[names[2]]
    steady_best = {k: max(v) for k, v in steady.items() if v}
    steady_speedup = steady_best[names[2]] / steady_best[names[1]]
    steady_dask = steady_best[names[2]] / steady_best[names[3]]
    dask_ratio = best[names[3]] / best[names[2]]
    ok = {True: "met", False: "**not met**"}
    flags = "".join(f" --{k} {v}" for k, v, d in (
        ("samples", args.samples, 12), ("people", args.people, 10_000),
        ("days", args.days, 365), ("repeats", args.repeats, 1)) if v != d)
    lines = [
        "# Studies: overhead and throughput",
        "",
        f"Measured {started} by `python -m benchmarks.studies{flags}`.",
        "",
        f"Machine: {platform.platform()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} logical CPUs; load average (1/5/15 min) {load_before} before, "
        f"{_load()} after. **The machine was shared with other work** (a load above 2 means "
        "more runnable processes than cores): wall times are the best of "
        f"{args.repeats} alternating pass{'es' if args.repeats > 1 else ''}, and the worker "
        "comparisons move with what else ran.",
        "",
        f"Study: {args.people:,} people × {args.days} days (no burn-in), LHS with "
        f"{args.samples} samples over 2 factors, 2 scenarios, 1 replicate: {n} runs per "
        "configuration; one Numba thread per worker; worker start-up (spawn, imports, "
        "loading cached kernels) included.",
        "",
        "| configuration | wall s (best) | all passes | runs / min | CPU s / run |",
        "|---|---:|---|---:|---:|",
        *(f"| {k} | {best[k]:.1f} | {', '.join(f'{w:.1f}' for w in walls[k])} | "
          f"{60 * n / best[k]:.1f} | {min(cpus[k]) / n:.2f} |" for k in names),
        "",
        "CPU s / run counts this process and its worker processes (user + system, best "
        "pass): the work a run costs wherever it executes. With two idle cores the "
        "wall-clock speed-up of 2 workers is at most 2 × (1-worker CPU / run) / "
        "(2-worker CPU / run), less worker start-up.",
        "",
        "| target | measured | |",
        "|---|---:|---|",
        f"| study overhead on 1 worker ≤ 10 % of the simulations (wall, study vs direct) | "
        f"{overhead:+.1%} | {ok[overhead <= 0.10]} |",
        f"| … the same in CPU time | {cpu_overhead:+.1%} | "
        f"{ok[cpu_overhead <= 0.10]} |",
        f"| … within one pass: (wall − Σ run durations) / Σ run durations | "
        f"{min(in_pass):+.1%} | {ok[min(in_pass) <= 0.10]} |",
        f"| 2 local workers ≥ 1.7 × the throughput of 1 | {speedup:.2f} × | "
        f"{ok[speedup >= 1.7]} |",
        f"| … in steady state (runs / s after the first result: no start-up) | "
        f"{steady_speedup:.2f} × | {ok[steady_speedup >= 1.7]} |",
        f"| Dask LocalCluster (2) within 15 % of the local pool (2) | {dask_ratio:.2f} × "
        f"the pool's time | {ok[dask_ratio <= 1.15]} |",
        f"| … in steady state (pool's runs / s over Dask's) | {steady_dask:.2f} × | "
        f"{ok[steady_dask <= 1.15]} |",
        "",
        f"Metric tables identical across the three study configurations: {identical}.",
        "",
    ]
    atomic_write_bytes(args.out, "\n".join(lines).encode())
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

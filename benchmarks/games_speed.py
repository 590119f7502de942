"""Speed of the reputation game: N = 50, all ordered pairs, 10 000 generations.

Compile time is excluded (one warm-up run first). Runs on one core (one process, Numba
kernels are serial). Writes benchmarks/games_speed.md.

    python benchmarks/games_speed.py
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from scslab.games.reputation import ReputationConfig, run_replicate

CASES = {
    "private, Stern Judging, E=0, errors 0.02, mu=0.01 (Radzvilavicius et al. 2019 setting)": dict(
        assessment="private", execution_error=0.02, assessment_error=0.02, mutation=0.01,
        mutation_mode="single",
    ),
    "private, Stern Judging, E=0.5, errors 0.02, mu per individual 0.001": dict(
        assessment="private", empathy=0.5, execution_error=0.02, assessment_error=0.02,
        mutation=0.001,
    ),
    "institution Q=50, strictness 0.7, errors 0.02, mu=0.01": dict(
        assessment="institution", observers=50, strictness=0.7, execution_error=0.02,
        assessment_error=0.02, mutation=0.01, mutation_mode="single",
    ),
}


def main() -> None:
    rows = []
    for label, extra in CASES.items():
        cfg = ReputationConfig(population=50, norm="stern_judging", generations=10_000,
                               seed=1, **extra)
        run_replicate(cfg.model_copy(update={"generations": 10}), 0)  # compile / load cache
        times = []
        for r in range(3):
            t0 = time.perf_counter()
            run_replicate(cfg, r)
            times.append(time.perf_counter() - t0)
        rows.append((label, min(times), sum(times) / len(times)))
        print(f"{label}: best {min(times):.3f} s, mean {sum(times) / len(times):.3f} s")
    lines = [
        "# Reputation game speed",
        "",
        "N = 50 agents, every ordered pair interacts (2 450 interactions), 10 000 generations,",
        "one replicate, one core, compile time excluded (warm-up run first). Produced by",
        "`python benchmarks/games_speed.py`.",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}.",
        "",
        "| configuration | best of 3 (s) | mean of 3 (s) |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {best:.3f} | {mean:.3f} |" for label, best, mean in rows]
    lines.append("")
    lines.append("Target: under 1 s per replicate.")
    Path(__file__).with_name("games_speed.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

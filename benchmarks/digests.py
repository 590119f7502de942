"""Digests of whole runs: the check that a speed change left every output's bits alone.

Each case runs in a fresh process (its own Numba thread count) and hashes everything the
run holds at its end: the counter history (every daily series), the final metrics and
every World array, by name. The pinned outputs (``tests/test_pinned_outputs.py``) cover
the builtins small and short; these are larger and longer, on one and two threads, so a
change in a kernel's chunking or a reordering of float sums shows.

    python -m benchmarks.digests                          # print the digests
    python -m benchmarks.digests --baseline OTHER/src     # and compare: exit 1 if any differ

With ``--baseline SRC`` each case also runs with ``PYTHONPATH=SRC`` (another checkout's
source, e.g. main before a change) and the table says whether the digests agree.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

#: (scenario, people, days, burn-in, Numba threads): rongcheng long on one thread and
#: large on two, the builtins whose modules differ, every module on
CASES: tuple[tuple[str, int, int, int, int], ...] = (
    ("rongcheng", 20_000, 1500, 0, 1),  # long: rewards and records pile up
    ("rongcheng", 100_000, 300, 0, 2),
    ("national-blacklist", 30_000, 400, 0, 2),
    ("corporate", 30_000, 400, 0, 2),
    (str(Path(__file__).with_name("every-module.yaml")), 30_000, 400, 0, 2),
    ("credit-bureau", 30_000, 400, 0, 2),
    ("export", 20_000, 300, 0, 2),
    ("western-fragmented", 20_000, 300, 0, 2),
    ("eu-ai-act", 20_000, 300, 0, 2),
    ("checkpoint-region", 20_000, 300, 100, 2),
)

#: the child: run one case and print the digest of what it holds at the end
CHILD = """
import hashlib, sys
from scslab.run.engine import Sim
from scslab.scenario.loader import load_scenario
name, people, days, burn_in = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
sim = Sim(load_scenario(name, people=people, days=days, burn_in=burn_in)).run()
h = hashlib.sha256(sim.world.counters.history.tobytes())
h.update(repr(sorted(sim.final_metrics.items())).encode())
for key in sorted(sim.world.arrays):
    h.update(key.encode())
    h.update(sim.world.arrays[key].tobytes())
print(h.hexdigest()[:16])
"""


def digest(case: tuple[str, int, int, int, int], src: str | None = None) -> str:
    """The digest of one case, run in a fresh process (with ``PYTHONPATH=src`` if given)."""
    name, people, days, burn_in, threads = case
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    if src is not None:
        env["PYTHONPATH"] = src
    proc = subprocess.run([sys.executable, "-c", CHILD, name, str(people), str(days),
                           str(burn_in)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["(no message)"]
        raise RuntimeError(f"{name}: the run failed: {tail[0]}")
    return proc.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", default=None,
                    help="another checkout's src/: run each case there too and compare")
    a = ap.parse_args(argv)
    if a.baseline is not None and not (Path(a.baseline) / "scslab").is_dir():
        ap.error(f"--baseline: no scslab package in {a.baseline}")
    differ = 0
    for case in CASES:
        name, people, days, burn_in, threads = case
        here = digest(case)
        line = (f"{Path(name).name:26s} {people:>7,} people {days:>4} days "
                f"(burn-in {burn_in:>3}) {threads} thread{'s' if threads > 1 else ' '}  {here}")
        if a.baseline is not None:
            there = digest(case, a.baseline)
            same = here == there
            differ += not same
            line += "  same" if same else f"  DIFFERS from {there}"
        print(line, flush=True)
    if a.baseline is not None:
        print(f"{len(CASES) - differ} of {len(CASES)} cases the same as {a.baseline}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())

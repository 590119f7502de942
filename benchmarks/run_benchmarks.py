"""Speed of the reduced model: scslab against Mesa, Starsim and a hand-fused Numba kernel.

Every measurement runs in a fresh subprocess (``--worker``): import, compile (a warm-up
run on a tiny model) and build are timed separately and excluded from the run time; the
run is repeated (a fresh model each time) and the median is reported as agent-days per
second. Peak memory is ``ru_maxrss`` of the subprocess; per person it is
(peak − RSS after import and warm-up) / N. scslab and the reference run at 1 and 2 Numba
threads (NUMBA_NUM_THREADS); Mesa and Starsim with the machine's default.
A size is skipped for an implementation when the previous size predicts more than the
cap (default 120 s) for the run, or when the previous size hit the cap.

Writes benchmarks/results.md (atomically). Also, when available: the full ``rongcheng``
scenario at 10^6 people × 365 days, and a 10-replicate ``scslab compare`` of the builtin
scenarios at 10^5 people.

    python -m benchmarks.run_benchmarks --quick
    python -m benchmarks.run_benchmarks                    # 10^4, 10^5, 10^6
    python -m benchmarks.run_benchmarks --big              # ... and 10^7 (scslab, reference)
    python -m benchmarks.run_benchmarks --big --rounds 3   # the sweep three times

At each size the implementations run back to back (size by size, not implementation by
implementation), and ``--rounds R`` repeats the sweep with the implementations' order
rotated: a ratio is the median of the per-round ratios of rates measured minutes apart,
since this machine's speed drifts by up to 2× over tens of minutes. Use an odd R: a
rate table cell is the round with the median rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("results.md")
IMPLS = {  # name → (module, label, threaded)
    "scslab": ("scslab_model", "scslab (Module API)", True),
    "reference": ("numba_reference", "hand-fused Numba", True),
    "starsim": ("starsim_model", "Starsim", False),
    "mesa": ("mesa_model", "Mesa", False),
}
#: every measured (implementation, threads): the threaded ones on 1 and 2 Numba threads
COMBOS = [(impl, t) for impl, (_, _, threaded) in IMPLS.items()
          for t in ((1, 2) if threaded else (None,))]


# --------------------------------------------------------------------------- worker


def _rss_bytes() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def worker(impl: str, n: int, days: int, repeats: int) -> dict:
    t0 = time.perf_counter()
    import importlib

    mod = importlib.import_module(f"benchmarks.reduced.{IMPLS[impl][0]}")
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    mod.warm_up()
    t_compile = time.perf_counter() - t0
    rss0 = _rss_bytes()
    builds, runs = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        if impl == "scslab":
            model = mod.build(n, days)
            t1 = time.perf_counter()
            model.run()
        elif impl == "reference":
            model = mod.build(n)
            t1 = time.perf_counter()
            model.run(days)
        elif impl == "starsim":
            model = mod.build(n, days)
            t1 = time.perf_counter()
            model.run()
        else:
            model = mod.build(n)
            t1 = time.perf_counter()
            mod.run_days(model, days)
        t2 = time.perf_counter()
        builds.append(t1 - t0)
        runs.append(t2 - t1)
        del model
    peak = _rss_bytes()
    run = statistics.median(runs)
    return {
        "impl": impl, "n": n, "days": days, "repeats": repeats,
        "threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
        "import_s": t_import, "compile_s": t_compile, "build_s": statistics.median(builds),
        "run_s": run, "runs_s": runs, "agent_days_per_s": n * days / run,
        "peak_rss_bytes": peak, "bytes_per_person": (peak - rss0) / n,
    }


# --------------------------------------------------------------------------- driver


def measure(impl: str, n: int, days: int, repeats: int, threads: int | None, cap: float) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("STARSIM_INSTALL_FONTS", "0")
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    else:
        env.pop("NUMBA_NUM_THREADS", None)
    cmd = [sys.executable, "-m", "benchmarks.run_benchmarks", "--worker", impl, str(n),
           str(days), str(repeats)]
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=cap + 60)  # run cap plus import/compile/build slack
    except subprocess.TimeoutExpired:
        return {"impl": impl, "n": n, "threads": threads, "error": f"timed out (> {cap:.0f} s)"}
    if p.returncode != 0:
        return {"impl": impl, "n": n, "threads": threads,
                "error": f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1:]}"}
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["threads"] = threads
    res["wall_s"] = time.perf_counter() - t0
    return res


def bench(sizes: list[int], days: int, repeats: int, cap: float, big: int | None,
          rounds: int = 1) -> list[dict]:
    """Every (implementation, threads, size), size by size: at each size the
    implementations run back to back, so that a ratio compares runs minutes apart, not
    the two ends of the script (this machine's speed drifts by up to 2× over tens of
    minutes). With ``rounds`` > 1 the whole sweep is repeated, the implementations in a
    rotated order each round; every row carries its ``round``."""
    rows: list[dict] = []
    all_sizes = sorted(set(sizes + ([big] if big else [])))
    for rnd in range(rounds):
        prev: dict[tuple, dict] = {}
        order = COMBOS[rnd % len(COMBOS):] + COMBOS[:rnd % len(COMBOS)]
        for n in all_sizes:
            for impl, threads in order:
                threaded = IMPLS[impl][2]
                if n == big and n not in sizes and not threaded:
                    continue
                p = prev.get((impl, threads))
                row = {"impl": impl, "n": n, "threads": threads, "round": rnd}
                if p is not None and "error" not in p:
                    predicted = p["run_s"] * n / p["n"] * repeats
                    if predicted > cap:
                        prev[(impl, threads)] = {
                            **row, "error": f"skipped: predicted {predicted:.0f} s "
                                            f"for {repeats} run(s) > cap {cap:.0f} s"}
                        rows.append(prev[(impl, threads)])
                        continue
                elif p is not None:
                    rows.append({**row, "error": "skipped: a smaller size did not finish"})
                    continue
                label = IMPLS[impl][1]
                print(f"round {rnd + 1}/{rounds} {label:22s} threads={threads or 'default'} "
                      f"N={n:>9,d} ...", end=" ", flush=True)
                r = measure(impl, n, days, repeats, threads, cap)
                print(r.get("error") or f"{r['agent_days_per_s'] / 1e6:8.2f} M agent-days/s")
                r["round"] = rnd
                rows.append(r)
                prev[(impl, threads)] = r
    return rows


def combine(rows: list[dict]) -> list[dict]:
    """One row per (implementation, threads, size): the round with the median rate (the
    lower middle of an even count), its ``rates`` over the rounds; an error row where no
    round measured it."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["impl"], r["threads"], r["n"]), []).append(r)
    out = []
    for group in groups.values():
        ok = sorted((r for r in group if "error" not in r), key=lambda r: r["agent_days_per_s"])
        if not ok:
            out.append(group[0])
            continue
        out.append({**ok[(len(ok) - 1) // 2], "rates": [r["agent_days_per_s"] for r in ok]})
    return out


def paired_ratios(rows: list[dict], num: tuple, den: tuple) -> list[float]:
    """Per round, rate(num) / rate(den), for the rounds that measured both; ``num`` and
    ``den`` are (implementation, threads or ``"best"``, size) — ``"best"`` takes the
    faster thread count of that round."""
    def rate(rnd, key):
        impl, t, n = key
        vals = [r["agent_days_per_s"] for r in rows if r.get("round", 0) == rnd
                and r["impl"] == impl and r["n"] == n and "error" not in r
                and (t == "best" or r["threads"] == t)]
        return max(vals) if vals else None

    out = []
    for rnd in sorted({r.get("round", 0) for r in rows}):
        a, b = rate(rnd, num), rate(rnd, den)
        if a is not None and b is not None:
            out.append(a / b)
    return out


def _fmt_ratios(ratios: list[float]) -> str:
    """The median of per-round ratios, with their range when there are several."""
    if not ratios:
        return "—"
    mid = statistics.median(ratios)
    if len(ratios) == 1:
        return f"{mid:.2f}"
    return f"{mid:.2f} ({min(ratios):.2f}–{max(ratios):.2f})"


def scenario_runs(cap: float) -> list[str]:
    """The reserved sections: full rongcheng at 10^6 × 365, and a 10-replicate compare."""
    py = [sys.executable, "-m", "scslab"]
    out: list[str] = []
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")

    def call(args: list[str], timeout: float):
        return subprocess.run(py + args, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)

    def tail(p) -> str:
        lines = (p.stderr or p.stdout).strip().splitlines()
        return lines[-1] if lines else f"exit {p.returncode}"

    try:
        sc = call(["scenarios"], 120)
    except subprocess.TimeoutExpired:
        return ["`scslab scenarios` timed out; scenario sections skipped."]
    if sc.returncode != 0:
        return [f"`scslab scenarios` failed (`{tail(sc)}`); scenario sections skipped."]
    names = [w.strip().split()[0] for w in sc.stdout.splitlines() if w.strip()]
    builtins = [n for n in names if n.isidentifier() or n.replace("-", "_").isidentifier()]

    out.append("### Full scenario: rongcheng, 10^6 people × 365 days")
    if "rongcheng" not in names:
        out.append("Skipped: `scslab scenarios` does not list `rongcheng` yet.")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            try:
                p = call(["run", "rongcheng", "--people", "1000000", "--days", "365",
                          "--burn-in", "0", "--out", tmp], cap)
                wall = time.perf_counter() - t0
                out.append(f"wall {wall:.1f} s ({3.65e8 / wall / 1e6:.2f} M person-days/s, "
                           "including import, compile and build)" if p.returncode == 0
                           else f"failed: `{tail(p)}`")
            except subprocess.TimeoutExpired:
                out.append(f"did not finish within the cap ({cap:.0f} s).")
    out.append("")
    out.append("### Ensemble: 10-replicate compare of the builtin scenarios at 10^5 people")
    try:
        helpp = call(["compare", "--help"], 120)
    except subprocess.TimeoutExpired:
        helpp = None
    if helpp is None or helpp.returncode != 0:
        out.append("Skipped: the `scslab compare` command does not exist yet.")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            try:
                p = call(["compare", *builtins, "--replicates", "10", "--people", "100000",
                          "--out", tmp], cap)
                wall = time.perf_counter() - t0
                out.append(f"{len(builtins)} scenarios ({', '.join(builtins)}): wall {wall:.1f} s"
                           if p.returncode == 0 else f"failed: `{tail(p)}`")
            except subprocess.TimeoutExpired:
                out.append(f"did not finish within the cap ({cap:.0f} s).")
    return out


# --------------------------------------------------------------------------- report


def _fmt_rate(r: dict) -> str:
    return r["error"] if "error" in r else f"{r['agent_days_per_s'] / 1e6:.3g} M"


def report(all_rows: list[dict], args, extra: list[str], wall: float) -> str:
    import numba
    import numpy as np

    rows = combine(all_rows)
    rounds = len({r.get("round", 0) for r in all_rows})
    sizes = sorted({r["n"] for r in rows})
    by = {(r["impl"], r["threads"], r["n"]): r for r in rows}

    def label(impl, t):
        return IMPLS[impl][1] + ("" if t is None else f", {t} thr")

    versions = {"numpy": np.__version__, "numba": numba.__version__}
    for pkg in ("mesa", "starsim"):
        try:
            versions[pkg] = __import__(pkg).__version__
        except Exception:  # noqa: BLE001 - a version string only
            versions[pkg] = "not installed"
    lines = [
        "# Reduced-model benchmark",
        "",
        "Produced by `python -m benchmarks.run_benchmarks "
        + " ".join(sys.argv[1:]) + "`; see benchmarks/README.md.",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        f"Machine: {platform.machine()}, {os.cpu_count()} logical CPUs, Python "
        f"{platform.python_version()}, " + ", ".join(f"{k} {v}" for k, v in versions.items())
        + f". {args.days} days; median of {args.repeats} run(s) per measurement"
        + (f", median over {rounds} rounds (each size's implementations back to back, "
           "their order rotated each round)" if rounds > 1 else "")
        + f"; total wall {wall:.0f} s.",
        "",
        "## Agent-days per second (M = 10^6; compile, import and build excluded)",
        "",
        "| people | " + " | ".join(label(*c) for c in COMBOS) + " |",
        "|---|" + "---|" * len(COMBOS),
    ]
    for n in sizes:
        lines.append(f"| {n:,} | " + " | ".join(
            _fmt_rate(by[(c[0], c[1], n)]) if (c[0], c[1], n) in by else "—" for c in COMBOS) + " |")
    lines += ["", "## scslab / comparator (same size, same run of this script)", "",
              "Per round, the ratio of the two rates measured back to back; the median "
              "over rounds, with their range in parentheses." if rounds > 1 else "",
              "",
              "| people | scslab threads | × Mesa | × Starsim | × hand-fused Numba (same threads) |",
              "|---|---|---|---|---|"]
    for n in sizes:
        for t in (1, 2):
            s = by.get(("scslab", t, n))
            if not s or "error" in s:
                continue

            def ratio(key, t=t, n=n):
                return _fmt_ratios(paired_ratios(all_rows, ("scslab", t, n), key))

            lines.append(f"| {n:,} | {t} | {ratio(('mesa', None, n))} | "
                         f"{ratio(('starsim', None, n))} | {ratio(('reference', t, n))} |")
    lines += ["", "## Import, compile (warm-up) and build times; memory", "",
              "| implementation | people | import (s) | compile / warm-up (s) | build (s) | "
              "run, median (s) | peak RSS (MiB) | RSS per person (bytes) |",
              "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            continue
        lines.append(
            f"| {label(r['impl'], r['threads'])} | "
            f"{r['n']:,} | {r['import_s']:.2f} | {r['compile_s']:.2f} | {r['build_s']:.3f} | "
            f"{r['run_s']:.3f} | {r['peak_rss_bytes'] / 2**20:.0f} | {r['bytes_per_person']:.0f} |")
    lines += ["", "RSS per person = (peak RSS − RSS after import and warm-up) / people.", ""]
    lines += ["## Targets (2-core machine)", ""] + targets(all_rows) + [""]
    if extra:
        lines += ["## Full scenarios", ""] + extra + [""]
    hotspots = Path(__file__).with_name("hotspots.md")  # written by hand: before → after
    if hotspots.exists():
        lines += [hotspots.read_text().rstrip(), ""]
    return "\n".join(lines)


def targets(all_rows: list[dict]) -> list[str]:
    out = []

    def check(text, ratios, goal):
        if not ratios:
            out.append(f"- {text}: not measured")
            return
        x = statistics.median(ratios)
        spread = f" (rounds {min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
        out.append(f"- {text}: {x:.2f}×{spread} — {'met' if x >= goal else 'NOT met'}")

    check("reduced model ≥ 300× Mesa at 10^5",
          paired_ratios(all_rows, ("scslab", "best", 100_000), ("mesa", None, 100_000)), 300)
    for n in (100_000, 1_000_000):  # issue 21 (issue 9 asked 4× and 5×)
        check(f"≥ 10× Starsim at {n:,}",
              paired_ratios(all_rows, ("scslab", "best", n), ("starsim", None, n)), 10)
    for n in sorted({r["n"] for r in all_rows}):
        for t in (1, 2):
            ratios = paired_ratios(all_rows, ("scslab", t, n), ("reference", t, n))
            if ratios:
                check(f"scslab ≥ 50 % of the hand-fused kernel, {n:,} people, {t} thread(s)",
                      ratios, 0.5)
    out.append("")
    out.append("(best thread count for the comparisons with Mesa and Starsim, which run their "
               "own default threading)")
    return out


def atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        impl, n, days, repeats = argv[1], int(argv[2]), int(argv[3]), int(argv[4])
        print(json.dumps(worker(impl, n, days, repeats)))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=lambda s: [int(float(x)) for x in s.split(",")],
                    default=[10**4, 10**5, 10**6], help="comma-separated, e.g. 1e4,1e5")
    ap.add_argument("--quick", action="store_true", help="10^4 and 10^5 only, 1 repeat")
    ap.add_argument("--days", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the whole sweep; ratios are medians of per-round pairs")
    ap.add_argument("--big", action="store_true", help="also 10^7 people (scslab, reference)")
    ap.add_argument("--max-people", type=int, default=10**7, help="cap on --big's size")
    ap.add_argument("--cap", type=float, default=120.0, help="seconds per measurement")
    ap.add_argument("--no-scenarios", action="store_true", help="skip the full-scenario runs")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = [10**4, 10**5], 1
    args.sizes = [n for n in args.sizes if n <= args.max_people]
    big = min(10**7, args.max_people) if args.big and 10**7 not in args.sizes else None
    t0 = time.perf_counter()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    rows = bench(args.sizes, args.days, args.repeats, args.cap, big, args.rounds)
    extra = [] if args.no_scenarios else scenario_runs(args.cap)
    text = report(rows, args, extra, time.perf_counter() - t0)
    atomic_write(args.out, text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where a run's memory peaks: resident memory at each module's set-up and step.

``python -m benchmarks.memory_peaks rongcheng --people 10000000 --days 30`` builds and runs
one scenario (no burn-in) in this process and prints, in bytes per person above the
interpreter with its kernels loaded (a 2,000-person warm-up run comes first):

* the build: population synthesis and each module's ``setup`` — resident memory held
  after it and the high-water mark during it (``VmHWM``, reset through
  ``/proc/self/clear_refs`` before each), so a set-up whose temporaries make the build's
  peak stands out;
* the run: the ``--top`` highest high-water marks of single module steps and end-of-run
  metrics (day, module, held before the step, peak during it).

It answers "which step is the peak", which ``benchmarks.memory`` (the peaks of whole
phases, with the machine and date, written to ``results-memory.md``) does not.
At 10^6 people arrays of 1–8 MB stay in glibc's heap when freed; set
``MALLOC_MMAP_THRESHOLD_=1048576`` to see what a 10^8-person run would return to the
system. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse

from benchmarks.memory import reset_peak, resident


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--people", type=float, default=1e6)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args(argv)
    import scslab.run.engine as engine
    from scslab.scenario import load_scenario

    n = int(args.people)
    engine.Sim(load_scenario(args.scenario, people=2000, days=2, burn_in=0)).run()
    scenario = load_scenario(args.scenario, people=n, days=args.days, burn_in=0)
    base = resident()["VmRSS"]
    build: list[tuple[str, float, float]] = []

    def measured(name: str, call):
        reset_peak()
        out = call()
        now = resident()
        build.append((name, (now["VmRSS"] - base) / n, (now["VmHWM"] - base) / n))
        return out

    synthesise, setups = engine.synthesise, {}
    engine.synthesise = lambda *a, **k: measured("synthesis", lambda: synthesise(*a, **k))
    for cls in engine.default_module_classes(scenario):
        setups[cls] = cls.setup
        cls.setup = (lambda self, view, _s=cls.setup, _n=cls.name:
                     measured(f"setup {_n}", lambda: _s(self, view)))
    try:
        sim = engine.Sim(scenario)
    finally:
        engine.synthesise = synthesise
        for cls, setup in setups.items():
            cls.setup = setup
    steps: list[tuple[float, float, int, str]] = []

    def watched(name: str, call, day: int):
        before = resident()["VmRSS"]
        reset_peak()
        out = call()
        steps.append(((resident()["VmHWM"] - base) / n, (before - base) / n, day, name))
        return out

    for module in sim.modules:
        step = module.step
        module.step = (lambda view, day, _s=step, _n=module.name:
                       watched(_n, lambda: _s(view, day), day))
        final = getattr(module, "final_metrics", None)
        if final is not None:
            module.final_metrics = (lambda view, _f=final, _n=module.name:
                                    watched(f"{_n} (end-of-run metrics)", lambda: _f(view), -1))
    sim.run()
    print(f"{args.scenario}, {n:,} people × {args.days} days; B per person above the "
          f"interpreter ({base / 2**20:.0f} MiB)")
    print("build: step, held after, peak during")
    for name, held, peak in build:
        print(f"  {name:40s} {held:8.1f} {peak:8.1f}")
    print(f"run: the {args.top} highest step peaks (day −1: end of run): peak, held before")
    for peak, before, day, name in sorted(steps, reverse=True)[:args.top]:
        print(f"  day {day:4d} {name:40s} {peak:8.1f} {before:8.1f}")


if __name__ == "__main__":
    main()

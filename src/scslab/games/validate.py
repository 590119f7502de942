"""Validation suite: published results the games must reproduce.

Each :class:`Case` names its source (full citation), the published target, how our value
is computed, the tolerance and the comparison. ``run_validation(quick=True)`` runs the
subset marked ``quick`` (fits CI); :func:`write_table` writes Markdown and JSON atomically.
Every run uses fixed seeds, so the table is reproducible bit for bit.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

RSP2019 = (
    "Radzvilavicius AL, Stewart AJ, Plotkin JB (2019) Evolution of empathetic moral "
    "evaluation. eLife 8:e44269"
)
RKP2021 = (
    "Radzvilavicius AL, Kessinger TA, Plotkin JB (2021) Adherence to public institutions "
    "that foster cooperation. Nature Communications 12:3567"
)
OI2004 = (
    "Ohtsuki H, Iwasa Y (2004) How should we define goodness? Reputation dynamics in "
    "indirect reciprocity. Journal of Theoretical Biology 231:107-120"
)
NS1998 = (
    "Nowak MA, Sigmund K (1998) Evolution of indirect reciprocity by image scoring. "
    "Nature 393:573-577"
)
EPSTEIN2002 = (
    "Epstein JM (2002) Modeling civil violence: an agent-based computational approach. "
    "PNAS 99(suppl 3):7243-7250; defaults of Wilensky U (2004) NetLogo Rebellion model"
)

Op = Literal["approx", ">=", "<="]


@dataclass(frozen=True)
class Case:
    """A reproduction case: ``compute(quick)`` returns our value."""

    id: str
    source: str
    claim: str
    target: float
    tolerance: float
    op: Op
    compute: Callable[[bool], float]
    quick: bool = True


@dataclass
class CaseResult:
    id: str
    source: str
    claim: str
    target: float
    value: float
    tolerance: float
    op: str
    passed: bool
    seconds: float

    @property
    def target_text(self) -> str:
        if self.op == "approx":
            return f"{self.target:.4g} ± {self.tolerance:.2g}"
        return f"{self.op} {self.target:.4g}"


def _check(value: float, target: float, tol: float, op: str) -> bool:
    if not math.isfinite(value):
        return False
    if op == "approx":
        return abs(value - target) <= tol
    if op == ">=":
        return value >= target - tol
    return value <= target + tol


# --------------------------------------------------------------------------- cases


def _private_disc_good(norm: str, empathy: float, quick: bool) -> float:
    from scslab.games.reputation import simulate

    r = simulate(
        population=50, norm=norm, assessment="private", empathy=empathy,
        execution_error=0.02, assessment_error=0.02, strategies=["DISC"],
        generations=1000 if quick else 4000, burn_in=200, seed=2019,
    )
    return r.good


def _institution_target(q: int, s: float, e1: float, e2: float) -> float:
    """All-DISC cooperation under a Q-observer institution with Stern Judging: fixed point
    of g = P(Binomial(Q, p_G(g)) > sQ), p_G = g((1-e1)(1-e2) + e1 e2) + (1-g)(1-e2);
    cooperation = g (1 - e1)."""
    eps = (1 - e1) * (1 - e2) + e1 * e2
    g = 1.0
    for _ in range(1000):
        p = g * eps + (1 - g) * (1 - e2)
        g_new = sum(math.comb(q, k) * p**k * (1 - p) ** (q - k) for k in range(q + 1) if k > s * q)
        if abs(g_new - g) < 1e-14:
            break
        g = g_new
    return g * (1 - e1)


def _institution_coop(quick: bool) -> float:
    from scslab.games.reputation import simulate

    r = simulate(
        population=50, norm="stern_judging", assessment="institution", observers=10,
        strictness=0.7, execution_error=0.05, assessment_error=0.05, strategies=["DISC"],
        generations=1000 if quick else 4000, burn_in=100, seed=2021,
    )
    return r.cooperation


def _leading_eight_min(quick: bool) -> float:
    from scslab.games.reputation import simulate

    values = []
    for k in range(1, 9):
        r = simulate(
            population=40, norm=f"L{k}", assessment="public", strategies=["DISC"],
            execution_error=0.0, assessment_error=0.0, initial_image="random",
            generations=200, burn_in=20, seed=2004,
        )
        values.append(r.cooperation)
    return float(min(values))


def _evolution_collapse(empathy: float, assessment: str, quick: bool) -> float:
    from scslab.games.reputation import simulate

    r = simulate(
        population=50, benefit=5, cost=1, norm="stern_judging", assessment=assessment,
        empathy=empathy, observers=50, strictness=0.7, execution_error=0.02,
        assessment_error=0.02, initial={"DISC": 1.0}, mutation=0.01, mutation_mode="single",
        payoff="mean", generations=5000, burn_in=2500, replicates=2 if quick else 4, seed=7,
    )
    return r.cooperation


def _ns_discriminators(quick: bool) -> float:
    from scslab.games.reputation import simulate

    r = simulate(
        population=100, benefit=1, cost=0.1, norm="image_scoring", reputation="score",
        assessment="public", pairings=125, strategies=list(range(-5, 7)),
        update="proportional", generations=300, replicates=60 if quick else 200, seed=1998,
    )
    last = r.series["cooperation"][:, -50:].mean(axis=1)
    return float((last > 0.9).mean())


def ns_payoff_root(x_disc: float = 0.98, pairings: int = 1000, seed: int = 1998) -> float:
    """q at which discriminators (k=0) and defectors (k=6) earn the same, interpolated on
    a grid (no selection: strategies fixed at share ``x_disc`` of discriminators)."""
    from scslab.games.reputation import simulate

    grid = np.array([0.04, 0.07, 0.1, 0.13, 0.16, 0.2, 0.25])
    diffs = []
    for q in grid:
        r = simulate(
            population=100, benefit=1, cost=0.1, norm="image_scoring", reputation="score",
            assessment="public", pairings=pairings, strategies=[0, 6],
            initial={"k=0": x_disc, "k=6": 1 - x_disc}, knowledge=float(q), update="none",
            generations=200, seed=seed,
        )
        p = r.series["payoffs"][0]
        diffs.append(float(np.mean(p[:, 0] - p[:, 1])))
    d = np.array(diffs)
    idx = np.nonzero((d[:-1] < 0) & (d[1:] >= 0))[0]
    if idx.size == 0:
        return math.nan
    i = int(idx[0])
    return float(grid[i] - d[i] * (grid[i + 1] - grid[i]) / (d[i + 1] - d[i]))


def _cv_bursts(quick: bool) -> float:
    from scslab.games.civil_violence import simulate

    return float(simulate(ticks=300 if quick else 1000, seed=2002).bursts())


def _cv_vision_ratio(quick: bool) -> float:
    from scslab.games.civil_violence import simulate

    seeds = range(2 if quick else 5)
    near = np.mean([simulate(ticks=300, cop_vision=3, seed=s).mean_actives for s in seeds])
    far = np.mean([simulate(ticks=300, cop_vision=10, seed=s).mean_actives for s in seeds])
    return float(far / near)


CASES: list[Case] = [
    Case("rsp2019-sj-egocentric", RSP2019,
         "Stern Judging, private egocentric (E=0), all DISC, e1=e2=0.02: share good = 1/2",
         0.5, 0.03, "approx", lambda q: _private_disc_good("stern_judging", 0.0, q)),
    Case("rsp2019-sj-empathetic", RSP2019,
         "Stern Judging, private empathetic (E=1), all DISC, e1=e2=0.02: share good = "
         "(1-e2)/(2-eps-e2) = 0.9615",
         0.98 / (2 - (0.98 * 0.98 + 0.0004) - 0.02), 0.01, "approx",
         lambda q: _private_disc_good("stern_judging", 1.0, q)),
    Case("rsp2019-ss-egocentric", RSP2019,
         "Simple Standing, private egocentric (E=0), all DISC, e1=e2=0.02: share good from "
         "the paper's fixed-point equation",
         float("nan"), 0.03, "approx", lambda q: _private_disc_good("simple_standing", 0.0, q)),
    Case("rkp2021-institution-sj", RKP2021,
         "Institution Q=10, strictness 0.7, Stern Judging, all DISC, e1=e2=0.05: "
         "cooperation = g(1-e1), g = P(Bin(Q, p_G(g)) > sQ)",
         _institution_target(10, 0.7, 0.05, 0.05), 0.01, "approx", _institution_coop),
    Case("oi2004-leading-eight", OI2004,
         "Each leading-eight norm (L1..L8), public assessment, all DISC, no errors, random "
         "initial images: full cooperation restored (min over the eight)",
         0.9, 0.0, ">=", _leading_eight_min),
    Case("rsp2019-sj-private-collapse", RSP2019,
         "Evolution (ALLC/ALLD/DISC, b=5 c=1, mu=0.01) under Stern Judging, private "
         "egocentric, errors 0.02: cooperation collapses",
         0.1, 0.0, "<=", lambda q: _evolution_collapse(0.0, "private", q)),
    Case("rsp2019-sj-empathy-recovers", RSP2019,
         "Same evolution with empathy E=1: cooperation sustained",
         0.8, 0.0, ">=", lambda q: _evolution_collapse(1.0, "private", q)),
    Case("rkp2021-institution-sustains", RKP2021,
         "Same evolution under an institution (Q=50, strictness 0.7): cooperation sustained",
         0.8, 0.0, ">=", lambda q: _evolution_collapse(0.0, "institution", q)),
    Case("ns1998-discriminators", NS1998,
         "n=100, 125 pairings/generation, b=1 c=0.1, k in [-5,6], scores in [-5,5], offspring "
         "in proportion to payoff, no errors: share of runs in which cooperation establishes "
         "(> 0.9) clearly above the neutral 1/2",
         0.6, 0.0, ">=", _ns_discriminators),
    Case("ns1998-q-threshold", NS1998,
         "Discriminators resist defectors iff q > c/b = 0.1 (q = chance of knowing the "
         "recipient's image); our q where the payoffs are equal",
         0.1, 0.05, "approx", lambda q: ns_payoff_root(), quick=False),
    Case("epstein2002-bursts", EPSTEIN2002,
         "Floored arrest rule at NetLogo defaults: punctuated equilibrium, repeated "
         "outbursts of rebellion (count of bursts in the run)",
         3, 0.0, ">=", _cv_bursts),
    Case("epstein2002-cop-vision", EPSTEIN2002,
         "More cop vision (3 -> 10) means fewer actives (ratio of mean actives)",
         0.8, 0.0, "<=", _cv_vision_ratio, quick=False),
]


def _fill_targets() -> None:
    from scslab.games.reputation import analytic_good_private_disc

    for i, case in enumerate(CASES):
        if case.id == "rsp2019-ss-egocentric" and math.isnan(case.target):
            target = analytic_good_private_disc("simple_standing", 0.0, 0.02, 0.02)
            CASES[i] = Case(**{**case.__dict__, "target": target})


def run_validation(quick: bool = False, only: list[str] | None = None) -> list[CaseResult]:
    """Run the (quick) cases; returns one :class:`CaseResult` per case."""
    _fill_targets()
    results = []
    for case in CASES:
        if quick and not case.quick:
            continue
        if only and case.id not in only:
            continue
        t0 = time.perf_counter()
        value = float(case.compute(quick))
        seconds = time.perf_counter() - t0
        results.append(
            CaseResult(
                id=case.id, source=case.source, claim=case.claim, target=float(case.target),
                value=value, tolerance=case.tolerance, op=case.op,
                passed=_check(value, case.target, case.tolerance, case.op), seconds=seconds,
            )
        )
    return results


def to_markdown(results: list[CaseResult]) -> str:
    lines = [
        "| case | claim | target | ours | pass | s |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.id} | {r.claim} | {r.target_text} | {r.value:.4g} | "
            f"{'yes' if r.passed else '**NO**'} | {r.seconds:.1f} |"
        )
    sources = sorted({r.source for r in results})
    lines += ["", "Sources:", ""] + [f"- {s}" for s in sources]
    return "\n".join(lines) + "\n"


def _atomic_write(path: Path, text: str) -> None:
    from scslab.run.results import atomic_write_bytes

    atomic_write_bytes(path, text.encode("utf-8"))


def write_table(results: list[CaseResult], out: Path) -> tuple[Path, Path]:
    """Write ``out`` with suffixes .md and .json (each via a temp file and os.replace)."""
    out = Path(out)
    md, js = out.with_suffix(".md"), out.with_suffix(".json")
    _atomic_write(md, "# Validation\n\n" + to_markdown(results))
    payload = [asdict(r) | {"target_text": r.target_text} for r in results]
    _atomic_write(js, json.dumps(payload, indent=2) + "\n")
    return md, js


__all__ = ["Case", "CaseResult", "CASES", "run_validation", "write_table", "to_markdown"]

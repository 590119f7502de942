"""ABC-SMC posteriors of the free parameters (pyabc), on the same evaluation layer as the fit.

Approximate Bayesian computation by sequential Monte Carlo (Toni et al. 2009; the pyabc
library, Klinger et al. 2018, Schälte et al. 2022): a prior — uniform over each parameter's range in the
target file (log-uniform for a ``log`` parameter) — is moved through generations of
weighted particles; a particle is kept when its simulated fitted targets lie within ε of
the published ones, with the distance ``d(θ) = √S(θ)`` of the fit's objective (each
target scaled by its stated uncertainty), and ε shrinks from generation to generation
(pyabc's median epsilon). The last generation is the posterior sample.

Every particle is one point simulated by :class:`scslab.calibrate.evaluate.Evaluator`
(the study machinery, common random numbers) as a new row of ``DIR/state/abc/``; pyabc's
own history (SQLite) is ``DIR/state/abc.db``, so a rerun continues from the last finished
generation (a larger ``--generations`` adds generations). pyabc is imported only here,
inside the functions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scslab.calibrate.evaluate import Evaluator, build_study, check_targets
from scslab.calibrate.store import CalibrationState
from scslab.calibrate.targets import CalibrationError, ParameterSpec, TargetFile, resolve_targets

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: the posterior interval reported: 5 % and 95 % weighted quantiles (90 %)
INTERVAL = (0.05, 0.95)
#: the distance of a particle whose fitted target the run leaves undefined
UNDEFINED_DISTANCE = 1e3

Simulate = Callable[[dict[str, float]], dict[str, float]]  # point -> target means
Progress = Callable[[str, int, int], None]


@dataclass
class ParameterPosterior:
    path: str
    low: float
    high: float
    mean: float
    sd: float
    q05: float
    median: float
    q95: float
    #: the last generation: particle values and normalised weights
    values: list[float] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Posterior:
    name: str
    targets_file: str
    people: int
    population: int
    generations: int
    epsilons: list[float]
    evaluations: int
    parameters: list[ParameterPosterior]
    wall_seconds: float

    def as_dict(self) -> dict:
        return {"name": self.name, "targets_file": self.targets_file, "people": self.people,
                "method": "abc-smc (pyabc)", "population": self.population,
                "generations": self.generations, "epsilons": self.epsilons,
                "evaluations": self.evaluations, "interval": list(INTERVAL),
                "parameters": [p.as_dict() for p in self.parameters],
                "wall_seconds": round(self.wall_seconds, 3)}


def weighted_quantile(values: Any, weights: Any, q: float) -> float:
    """The q-quantile of a weighted sample (inverse of the weighted ECDF, midpoints)."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(v)
    v, w = v[order], w[order]
    c = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, c, v))


def run_abc(
    parameters: dict[str, ParameterSpec],
    simulate: Simulate,
    observed: dict[str, float],
    uncertainty: dict[str, float],
    db: str | Path,
    population: int = 20,
    generations: int = 4,
    seed: int = 0,
) -> tuple[list[ParameterPosterior], list[float], int]:
    """ABC-SMC over ``parameters`` (uniform or log-uniform priors on their ranges) with
    ``simulate(point) -> {target: mean}``; resumable through the SQLite file ``db``.
    Returns the posterior per parameter, ε per generation and the number of simulations."""
    import numpy as np
    import pyabc

    names = list(parameters)
    keys = {p: f"p{i}" for i, p in enumerate(names)}  # pyabc wants plain names
    prior = pyabc.Distribution(**{
        keys[p]: (pyabc.RV("loguniform", s.low, s.high) if s.log
                  else pyabc.RV("uniform", s.low, s.high - s.low))
        for p, s in parameters.items()})

    def model(par: dict) -> dict:
        return simulate({p: float(par[keys[p]]) for p in names})

    def distance(x: dict, x0: dict) -> float:
        total = 0.0
        for t, u in uncertainty.items():
            m = x.get(t, float("nan"))
            if not math.isfinite(m):
                return UNDEFINED_DISTANCE
            total += ((m - x0[t]) / u) ** 2
        return math.sqrt(total)

    import logging

    for name in ("ABC", "ABC.History", "ABC.Sampler", "ABC.Distance", "ABC.Epsilon"):
        logging.getLogger(name).setLevel(logging.WARNING)
    np.random.seed(seed % 2**32)  # pyabc draws from NumPy's global generator
    abc = pyabc.ABCSMC(model, prior, distance, population_size=population,
                       sampler=pyabc.sampler.SingleCoreSampler())
    db = Path(db)
    url = f"sqlite:///{db.resolve()}"
    if db.exists():
        history = abc.load(url, 1)
        done = history.n_populations
    else:
        history = abc.new(url, dict(observed))
        done = 0
    if generations > done:
        history = abc.run(max_nr_populations=generations - done)
    frame, w = history.get_distribution(m=0, t=history.max_t)
    w = np.asarray(w, dtype=float)
    w = w / w.sum()
    post = []
    for p in names:
        v = np.asarray(frame[keys[p]], dtype=float)
        mean = float((w * v).sum())
        sd = float(math.sqrt(max(0.0, (w * (v - mean) ** 2).sum())))
        s = parameters[p]
        post.append(ParameterPosterior(
            p, s.low, s.high, mean, sd, weighted_quantile(v, w, INTERVAL[0]),
            weighted_quantile(v, w, 0.5), weighted_quantile(v, w, INTERVAL[1]),
            [float(x) for x in v], [float(x) for x in w]))
    pops = history.get_all_populations()
    epsilons = [float(e) for t, e in zip(pops["t"], pops["epsilon"], strict=True) if t >= 0]
    evaluations = int(history.total_nr_simulations)
    return post, epsilons, evaluations


def abc_posterior(
    targets: str | Path | TargetFile | None,
    out: str | Path,
    population: int = 20,
    generations: int = 4,
    workers: int = 1,
    dask: str | None = None,
    people: int | None = None,
    fresh: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
) -> Posterior:
    """A posterior sample of the target file's free parameters given its fitted targets."""
    t0 = time.perf_counter()
    tf, where = resolve_targets(targets, people)
    if population < 2 or generations < 1:
        raise CalibrationError(where, None, "population must be ≥ 2, generations ≥ 1")
    check_targets(tf, where)
    fit_scenarios = tf.scenarios("fit")
    build_study(tf, where, fit_scenarios, "check")
    state = CalibrationState(out).open(tf, fresh=fresh)
    ev = Evaluator.open(tf, where, fit_scenarios, "abc", state.folder("abc"), workers, dask)
    fitted = tf.fitted()
    rows = ev.store.run_rows()
    counter = {"next": (max(int(r["sample"]) for r in rows) + 1) if rows else 0, "done": 0}

    def simulate(point: dict[str, float]) -> dict[str, float]:
        import numpy as np

        row = counter["next"]
        counter["next"] += 1
        ev.run([point], [row])
        out_means = {}
        table = ev.store.metrics_table()
        for t in fitted:
            v = ev.values(row, t, table)
            v = v[np.isfinite(v)]
            out_means[t.name] = float(v.mean()) if v.size else float("nan")
        counter["done"] += 1
        if progress is not None:
            progress("abc simulations", counter["done"], counter["done"])
        return out_means

    post, eps, evaluations = run_abc(
        dict(tf.parameters), simulate, {t.name: t.value for t in fitted},
        {t.name: t.uncertainty for t in fitted}, state.root / "abc.db",
        population=population, generations=generations, seed=seed)
    return Posterior(tf.name, where, tf.people, population, len(eps), eps, evaluations, post,
                     time.perf_counter() - t0)


def posterior_markdown(post: Posterior) -> str:
    lines = [f"# Posterior (ABC-SMC): {post.name}", "",
             f"Targets: `{post.targets_file}`, fitted targets only; {post.people} people per "
             f"run; pyabc ABC-SMC, {post.population} particles, {post.generations} "
             f"generations, {post.evaluations} simulations; ε by generation: "
             + ", ".join(f"{e:.3g}" for e in post.epsilons)
             + ". Prior: uniform over each parameter's range (log-uniform for a log "
             "parameter). Distance √S, S the fit's objective.", "",
             "| parameter | range | posterior mean | sd | median | 90 % interval |",
             "|---|---|---|---|---|---|"]
    for p in post.parameters:
        lines.append(f"| {p.path} | [{p.low:.4g}, {p.high:.4g}] | {p.mean:.4g} | {p.sd:.3g} "
                     f"| {p.median:.4g} | [{p.q05:.4g}, {p.q95:.4g}] |")
    lines += ["", "A posterior as wide as the range means the fitted targets do not pin the "
              "parameter down; with few particles and generations the interval is itself "
              "approximate.", ""]
    return "\n".join(lines)


def posterior_figure(post: Posterior) -> Figure:
    import numpy as np
    from matplotlib.figure import Figure

    n = max(1, len(post.parameters))
    fig = Figure(figsize=(4.2 * n, 3.2), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, p in zip(axes, post.parameters, strict=False):
        bins = np.linspace(p.low, p.high, 21)
        ax.hist(p.values, bins=bins, weights=p.weights, density=True, color="C0", alpha=0.7,
                label="posterior (last generation)")
        ax.axhline(1.0 / (p.high - p.low), color="grey", ls=":", lw=1, label="uniform prior")
        ax.axvline(p.mean, color="C3", lw=1, label="mean")
        ax.axvspan(p.q05, p.q95, color="C3", alpha=0.1, label="90 % interval")
        ax.set_xlabel(p.path.rsplit(".", 1)[-1])
        ax.set_ylabel("density")
        ax.legend(fontsize=7)
    return fig


def write_posterior(post: Posterior, folder: str | Path,
                    command: list[str] | None = None) -> Path:
    """Write ``posterior.json``, ``posterior.md`` and ``posterior.png`` whole."""
    import json

    from scslab.analysis.figures import figure_png
    from scslab.run.outfolder import OutFolder

    target = Path(folder)
    with OutFolder(target, force=True) as of:
        of.path("posterior.json").write_text(
            json.dumps(post.as_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        of.path("posterior.md").write_text(posterior_markdown(post), encoding="utf-8")
        of.path("posterior.png").write_bytes(figure_png(posterior_figure(post)))
        of.commit({"kind": "scslab-posterior", "name": post.name, "command": command or []})
    return target

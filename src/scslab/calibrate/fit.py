"""Fit free parameters to published targets by simulated moments (Optuna), then profile.

Objective (``docs/calibration.md``): the standardized squared distance
``S(θ) = Σ_fit ((m_t(θ) − v_t) / u_t)²``, m_t the mean over replicates of target t's
metric, v_t the published value and u_t its stated uncertainty. Optuna's TPE sampler
(seeded) proposes points in batches of a fixed size, so the trials do not depend on how
many workers simulate them; the scenario's own defaults are the first trial, so a fit
is never worse than the defaults it replaces.

After the search each parameter gets a **profile**: S over a 1-D grid across its range
with the other parameters at the optimum. The grid points with S ≤ S_min + 3.84 (χ²₁,
95 %) form its interval; a parameter whose interval reaches both ends of its range is
**not pinned down** by the targets. A profile point that fits better than the best trial
becomes a trial and the profiles are redone around it (``polish`` rounds at most; a
result still beaten by a profile point says "not converged"). Parameters the fitted
targets cannot tell apart are found from the profiles' sensitivities (:func:`ridges`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scslab.calibrate.evaluate import (
    Evaluator,
    TargetFit,
    build_study,
    check_targets,
    distance,
    target_fit,
)
from scslab.calibrate.store import CalibrationState, point_hash
from scslab.calibrate.targets import CalibrationError, TargetFile, resolve_targets

#: S_min + this is the edge of a parameter's interval (χ² with one degree of freedom, 95 %).
PROFILE_THRESHOLD = 3.84
#: A direction in parameter space along which the fitted targets move less than this
#: share of the most sensitive direction is a ridge (the targets cannot tell its
#: parameters apart); see :func:`ridges`.
RIDGE_RATIO = 0.1
#: A parameter whose column of the sensitivity matrix is below this share of the largest
#: column is left out of the ridge analysis (on its own it is "not pinned down").
INSENSITIVE_RATIO = 0.05
#: A parameter takes part in a ridge if its weight in the ridge's direction exceeds this.
RIDGE_LOADING = 0.3

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class ParameterFit:
    path: str
    low: float
    high: float
    default: float | None  # the scenario's value before fitting
    fitted: float
    grid: list[float] = field(default_factory=list)
    profile: list[float] = field(default_factory=list)  # S at each grid point
    interval: tuple[float, float] | None = None
    identified: str = "not profiled"  # pinned down | bounded on one side | not pinned down
    #: Δ(fitted target)/u across the parameter's range, per fitted target (from the profile)
    sensitivity: dict[str, float] = field(default_factory=dict)
    #: the other parameters it trades off with along a ridge (empty: none)
    ridge: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["interval"] = None if self.interval is None else list(self.interval)
        return d


@dataclass
class Calibration:
    """What a calibration found."""

    name: str
    targets_file: str
    people: int
    days: int
    burn_in: int | None
    replicates: int
    trials: int
    objective: float
    default_objective: float | None
    parameters: list[ParameterFit]
    fits: list[TargetFit]
    wall_seconds: float
    runs: int
    profile_minimum: float | None = None  # lowest S at any profile point
    #: groups of parameters the fitted targets cannot tell apart (see :func:`ridges`)
    ridges: list[dict] = field(default_factory=list)
    #: profile points that fitted better than the best trial, made trials (re-profiled)
    polish_rounds: int = 0

    @property
    def converged(self) -> bool:
        """No profile point fits better than the best trial (else: run more trials)."""
        return self.profile_minimum is None or self.profile_minimum >= self.objective - 1e-12

    @property
    def fitted(self) -> dict[str, float]:
        return {p.path: p.fitted for p in self.parameters}

    def as_dict(self) -> dict:
        return {"name": self.name, "targets_file": self.targets_file, "people": self.people,
                "days": self.days, "burn_in": self.burn_in, "replicates": self.replicates,
                "trials": self.trials, "objective": self.objective,
                "default_objective": self.default_objective,
                "profile_threshold": PROFILE_THRESHOLD,
                "fitted": self.fitted,
                "parameters": [p.as_dict() for p in self.parameters],
                "targets": [f.as_dict() for f in self.fits],
                "profile_minimum": self.profile_minimum, "converged": self.converged,
                "ridges": self.ridges, "polish_rounds": self.polish_rounds,
                "wall_seconds": round(self.wall_seconds, 3), "runs": self.runs}


def sensitivity_column(grid: list[float], means: list[dict[str, float]], targets: list,
                       log: bool = False) -> dict[str, float]:
    """How far each target moves, in its uncertainties, across a parameter's range: the
    least-squares slope of its mean over the profile grid (x scaled to [0, 1], on a log
    scale for a log parameter) divided by its uncertainty. Undefined means count 0."""
    import numpy as np

    x = np.log(np.asarray(grid)) if log else np.asarray(grid, dtype=float)
    x = (x - x[0]) / (x[-1] - x[0])
    out = {}
    for t in targets:
        y = np.array([m.get(t.name, float("nan")) for m in means], dtype=float)
        ok = np.isfinite(y)
        if ok.sum() < 2:
            out[t.name] = 0.0
            continue
        slope = float(np.polyfit(x[ok], y[ok], 1)[0])
        out[t.name] = slope / t.uncertainty
    return out


def ridges(params: list[ParameterFit], targets: list) -> list[dict]:
    """Groups of parameters the fitted targets cannot tell apart.

    J[t, p] is target t's move across parameter p's range, in uncertainties
    (``ParameterFit.sensitivity``). Parameters with a negligible column (below
    :data:`INSENSITIVE_RATIO` of the largest) are left out — alone they are "not pinned
    down". For the rest, every right singular vector of J whose singular value is below
    :data:`RIDGE_RATIO` of the largest (or that J, having fewer targets than parameters,
    cannot see at all) is a ridge: moving along it leaves the targets (nearly) unchanged.
    Its parameters are those weighing more than :data:`RIDGE_LOADING` in it. A slice
    profile cannot show this (each slice holds the others fixed), so it is checked here.
    """
    import numpy as np

    names = [p.path for p in params]
    if len(names) < 2 or not targets:
        return []
    J = np.array([[p.sensitivity.get(t.name, 0.0) for p in params] for t in targets])
    norms = np.linalg.norm(J, axis=0)
    if norms.max() <= 0:
        return []
    keep = [i for i in range(len(names)) if norms[i] >= INSENSITIVE_RATIO * norms.max()]
    if len(keep) < 2:
        return []
    Js = J[:, keep] / norms[keep]  # each column to unit length: the ratio is about direction
    _, sv, vt = np.linalg.svd(Js, full_matrices=True)
    svs = np.zeros(len(keep))
    svs[:sv.size] = sv
    out = []
    for k in range(len(keep)):
        ratio = float(svs[k] / svs[0])
        if ratio >= RIDGE_RATIO:
            continue
        v = vt[k]
        members = [j for j in range(len(keep)) if abs(v[j]) > RIDGE_LOADING]
        if len(members) < 2:
            continue
        out.append({"parameters": [names[keep[j]] for j in members],
                    "direction": [round(float(v[j]), 4) for j in members],
                    "ratio": round(ratio, 4)})
    return out


def _defaults(ev: Evaluator) -> dict[str, float]:
    """Each parameter's value in the first scenario that has it."""
    from scslab.core.calibration import scenario_value

    out = {}
    for name in ev.names:
        for label in ev.study.factor_scenarios.get(name, ev.study.labels):
            v = scenario_value(ev.study.scenarios[label], name)
            if v is not None:
                out[name] = float(v)
                break
    return out


def _means(ev: Evaluator, row: int, tf: TargetFile, table: Any = None) -> dict[str, float]:
    out = {}
    for t in tf.targets:
        if t.scenario in ev.study.labels:
            v = ev.values(row, t, table)
            finite = v[~(v != v)]
            out[t.name] = float(finite.mean()) if finite.size else float("nan")
    return out


def _profiles(tf: TargetFile, where: str, fit_scenarios: list[str], state: CalibrationState,
              workers: int, dask: str | None, best_point: dict[str, float], best_value: float,
              defaults: dict[str, float], profile_points: int, progress: Progress | None,
              trials: list[tuple[dict[str, float], float]] = (),
              ) -> tuple[list[ParameterFit], float | None, list[dict], dict[str, float] | None]:
    """S over a grid per parameter with the others at ``best_point``; intervals, flags and
    ridges. Returns the parameters, the lowest S at a profile point, the ridges, and the
    profile point that fits better than ``best_value`` (None if none does). Finished
    ``trials`` (point, S) that lie on a parameter's slice (the others at ``best_point``)
    count as points of its profile for the interval (e.g. the defaults, after a polish
    round moved the optimum along one parameter)."""
    fitted_targets = tf.fitted()
    params = [ParameterFit(p, s.low, s.high, defaults.get(p), best_point[p])
              for p, s in tf.parameters.items()]
    if profile_points < 2:
        return params, None, [], None
    import numpy as np

    prof = Evaluator.open(tf, where, fit_scenarios, "profile",
                          state.folder(f"profile-{point_hash(best_point)}"), workers, dask)
    points, rows = [], []
    for j, pf in enumerate(params):
        s = tf.parameters[pf.path]
        grid = (np.geomspace(s.low, s.high, profile_points) if s.log
                else np.linspace(s.low, s.high, profile_points))
        pf.grid = [float(g) for g in grid]
        for k, g in enumerate(pf.grid):
            points.append({**best_point, pf.path: g})
            rows.append(j * profile_points + k)
    if progress is not None:
        progress("profiles", 0, len(points))
    prof.run(points, rows)
    ptable = prof.store.metrics_table()
    for j, pf in enumerate(params):
        means = [_means(prof, j * profile_points + k, tf, ptable)
                 for k in range(profile_points)]
        pf.profile = [distance(m, fitted_targets) for m in means]
        pf.sensitivity = sensitivity_column(pf.grid, means, fitted_targets,
                                            tf.parameters[pf.path].log)
    profile_minimum = min(v for pf in params for v in pf.profile)
    for pf in params:
        on_slice = [(pt[pf.path], v) for pt, v in trials
                    if all(pt[q] == best_point[q] for q in best_point if q != pf.path)]
        xs = [*pf.grid, pf.fitted, *(x for x, _ in on_slice)]
        ys = [*pf.profile, best_value, *(v for _, v in on_slice)]
        low_s = min(ys)  # along this slice (a better profile point: see `converged`)
        inside = [x for x, y in zip(xs, ys, strict=True) if y <= low_s + PROFILE_THRESHOLD]
        lo, hi = (min(inside), max(inside)) if inside else (pf.fitted, pf.fitted)
        pf.interval = (lo, hi)
        at_low, at_high = lo <= pf.grid[0], hi >= pf.grid[-1]
        pf.identified = ("not pinned down" if at_low and at_high else
                         "bounded on one side" if at_low or at_high else "pinned down")
    found = ridges(params, fitted_targets)
    by_path = {pf.path: pf for pf in params}
    for r in found:
        for path in r["parameters"]:
            pf = by_path[path]
            pf.ridge = [q for q in r["parameters"] if q != path]
            if pf.identified != "not pinned down":
                others = ", ".join(q.rsplit(".", 1)[-1] for q in pf.ridge)
                pf.identified = f"not separately pinned down (ridge with {others})"
    if progress is not None:
        progress("profiles", len(points), len(points))
    better = None
    if profile_minimum < best_value - 1e-12:
        k = int(np.argmin([v for pf in params for v in pf.profile]))
        better = points[k]
    return params, profile_minimum, found, better


def calibrate(
    targets: str | Path | TargetFile | None,
    out: str | Path,
    trials: int = 20,
    batch: int = 4,
    workers: int = 1,
    dask: str | None = None,
    people: int | None = None,
    profile_points: int = 7,
    polish: int = 3,
    fresh: bool = False,
    seed: int = 0,
    progress: Progress | None = None,
) -> Calibration:
    """Fit the target file's parameters (resumable: a rerun continues the same folder)."""
    import optuna

    t0 = time.perf_counter()
    tf, where = resolve_targets(targets, people)
    if trials < 1 or batch < 1 or profile_points < 0 or polish < 0:
        raise CalibrationError(where, None, "trials and batch must be ≥ 1, profile points "
                               "and polish rounds ≥ 0")
    check_targets(tf, where)
    fit_scenarios = tf.scenarios("fit")
    check_only = [s for s in tf.scenarios() if s not in fit_scenarios]
    for scenarios in (fit_scenarios, check_only):  # every error before anything is written
        if scenarios:
            build_study(tf, where, scenarios, "check")
    state = CalibrationState(out).open(tf, fresh=fresh)
    ev = Evaluator.open(tf, where, fit_scenarios, "fit", state.folder("fit"), workers, dask)
    fitted_targets = tf.fitted()
    dists = {p: optuna.distributions.FloatDistribution(s.low, s.high, log=s.log)
             for p, s in tf.parameters.items()}
    defaults = _defaults(ev)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=max(2, min(10, trials // 3)))
    study = optuna.create_study(study_name=tf.name, storage=state.storage_url, sampler=sampler,
                                direction="minimize", load_if_exists=True)
    if not study.trials:
        start = {p: min(max(defaults.get(p, (s.low + s.high) / 2), s.low), s.high)
                 for p, s in tf.parameters.items()}
        study.enqueue_trial(start)
    states = optuna.trial.TrialState

    def search(until: int) -> None:
        """Ask, simulate and tell trials until ``until`` are done (queued ones first)."""
        while True:
            done = [t for t in study.trials if t.state in (states.COMPLETE, states.FAIL)]
            if progress is not None:
                progress("fit", min(len(done), until), until)
            stale = study.get_trials(deepcopy=False, states=(states.RUNNING,))
            if stale:  # asked by a run that was stopped: evaluate them now (finished runs skip)
                numbers = [t.number for t in stale]
                points = [dict(t.params) for t in stale]
            elif len(done) >= until:
                return
            else:
                asked = [study.ask(dists) for _ in range(min(batch, until - len(done)))]
                numbers = [t.number for t in asked]
                points = [dict(t.params) for t in asked]
            ev.run(points, numbers)
            table = ev.store.metrics_table()
            for n in numbers:
                study.tell(n, distance(_means(ev, n, tf, table), fitted_targets))

    search(trials)
    complete = [t for t in study.trials if t.state == states.COMPLETE]
    first = next((t for t in complete if t.number == 0), None)
    default_objective = None if first is None else float(first.value)

    # ---- profiles around the best trial; a profile point that fits better becomes a
    # trial and the profiles are redone around it (at most `polish` times)
    polished = 0
    while True:
        complete = [t for t in study.trials if t.state == states.COMPLETE]
        best = min(complete, key=lambda t: (t.value, t.number))
        best_point = {p: float(best.params[p]) for p in tf.parameters}
        params, profile_minimum, found, better = _profiles(
            tf, where, fit_scenarios, state, workers, dask, best_point, float(best.value),
            defaults, profile_points, progress,
            [({p: float(t.params[p]) for p in tf.parameters}, float(t.value))
             for t in complete])
        if better is None or polished >= polish:
            break
        polished += 1
        study.enqueue_trial(better)
        search(len([t for t in study.trials
                    if t.state in (states.COMPLETE, states.FAIL)]) + 1)
    best_means_table = ev.store.metrics_table()

    # ---- the fit on every target at the optimum (held-out-only scenarios run now)
    fits: list[TargetFit] = []
    chk = None
    if check_only:
        chk = Evaluator.open(tf, where, check_only, "check",
                             state.folder(f"check-{point_hash(best_point)}"), workers, dask)
        if progress is not None:
            progress("held out", 0, 1)
        chk.run([best_point], [0])
        ctable = chk.store.metrics_table()
    from scslab.core.calibration import given_outputs

    for t in tf.targets:
        if t.scenario in fit_scenarios:
            fit = target_fit(t, ev.values(best.number, t, best_means_table))
            resolved = ev.study.scenarios[t.scenario]
        else:
            assert chk is not None
            fit = target_fit(t, chk.values(0, t, ctable))
            resolved = chk.study.scenarios[t.scenario]
        given = given_outputs(resolved, [t.metric]).get(t.metric)
        fit.given_by = None if given is None else given.path
        fits.append(fit)
    if progress is not None and check_only:
        progress("held out", 1, 1)
    runs = len(ev.store.run_rows())
    return Calibration(
        name=tf.name, targets_file=where, people=tf.people, days=tf.days,
        burn_in=tf.burn_in, replicates=tf.replicates, trials=len(complete),
        objective=float(best.value), default_objective=default_objective, parameters=params,
        fits=fits, wall_seconds=time.perf_counter() - t0, runs=runs,
        profile_minimum=profile_minimum, ridges=found, polish_rounds=polished)

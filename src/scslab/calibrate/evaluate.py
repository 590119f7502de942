"""Evaluate targets at given parameter values, on the study machinery.

A set of parameter points is a study design: one row per point, the free parameters as
factors, the target scenarios as the study's scenarios. Runs go through
:func:`scslab.analysis.studies.execution.execute` (in this process, local processes or Dask) into
a study store (one Parquet part per run; a rerun skips finished runs). Every point and
scenario uses the target file's one seed and replicate r draws population r: common
random numbers, so two points differ by their parameters, not by luck.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scslab.calibrate.targets import CalibrationError, Target, TargetFile

if TYPE_CHECKING:
    import numpy as np

    from scslab.analysis.studies.spec import ResolvedStudy
    from scslab.analysis.studies.store import StudyStore

Progress = Any  # Callable[[int, int], None] | None

#: Standardized distance given to a point where a fitted target's metric is undefined.
UNDEFINED_PENALTY = 1e6


def check_targets(tf: TargetFile, where: str) -> None:
    """Every target's scenario loads and reports its metric (before anything runs)."""
    from scslab.analysis.compare import CompareError, load_specs, metric_names
    from scslab.scenario import ScenarioError

    for i, t in enumerate(tf.targets):
        try:
            _, (sc,) = load_specs([t.scenario], tf.set, people=tf.people, days=tf.days,
                                  burn_in=tf.burn_in, seed=tf.seed)
        except (ScenarioError, CompareError) as exc:
            raise CalibrationError(where, f"targets[{i}].scenario", str(exc)) from None
        if t.metric not in set(metric_names(sc, final=True)):
            raise CalibrationError(where, f"targets[{i}].metric",
                                   f"scenario {t.scenario!r} does not report {t.metric!r}")


def build_study(tf: TargetFile, where: str, scenarios: list[str], label: str) -> ResolvedStudy:
    """The study whose runs evaluate ``scenarios`` at parameter points (rows of x)."""
    from scslab.analysis.studies.spec import StudyError, parse_study

    data = {
        "name": f"{tf.name}-{label}", "scenarios": scenarios, "people": tf.people,
        "days": tf.days, "burn_in": tf.burn_in, "seed": tf.seed,
        "replicates": tf.replicates, "set": list(tf.set),
        "design": {"method": "lhs", "samples": 2},  # unused: points come from the fit
        "factors": {p: {"low": s.low, "high": s.high} for p, s in tf.parameters.items()},
        # the study's analysis is not used; its one output must be reported by every
        # scenario (the core metrics are): targets were checked by check_targets
        "outputs": ["violation_rate"],
    }
    try:
        study = parse_study(data, where)
    except StudyError as exc:
        field = exc.field
        if field and field.startswith("factors."):
            field = "parameters." + field.removeprefix("factors.")
        raise CalibrationError(where, field, exc.reason) from None
    return study


@dataclass
class Evaluator:
    """Runs points of one study into one store (resumable)."""

    study: ResolvedStudy
    store: StudyStore
    names: list[str]
    workers: int = 1
    dask: str | None = None

    @classmethod
    def open(cls, tf: TargetFile, where: str, scenarios: list[str], label: str,
             folder: str | Path, workers: int = 1, dask: str | None = None,
             fresh: bool = False) -> Evaluator:
        from scslab.analysis.studies.spec import StudyError
        from scslab.analysis.studies.store import StudyStore

        study = build_study(tf, where, scenarios, label)
        try:
            store = StudyStore.open_for(folder, study, fresh=fresh)
        except StudyError as exc:
            raise CalibrationError(exc.where, exc.field, exc.reason) from None
        return cls(study, store, list(tf.parameters), workers, dask)

    def run(self, points: list[dict[str, float]], rows: list[int],
            progress: Progress = None) -> None:
        """Simulate points[k] as design row rows[k] (rows not listed are not run)."""
        import numpy as np

        from scslab.analysis.studies.execution import execute
        from scslab.analysis.studies.store import RunKey

        n = max(rows) + 1
        x = np.empty((n, len(self.names)))
        for j, name in enumerate(self.names):
            x[:, j] = self.study.spec.factors[name].low
        for p, r in zip(points, rows, strict=True):
            x[r] = [p[name] for name in self.names]
        wanted = [RunKey(r, c, k) for r in rows for c in range(len(self.study.labels))
                  for k in range(self.study.spec.replicates)]
        execute(self.study, self.store, workers=self.workers, dask=self.dask,
                progress=progress, x=x, limit=wanted)

    def values(self, row: int, target: Target, table: Any = None) -> np.ndarray:
        """The target's metric in each replicate of design row ``row`` (NaN if undefined);
        ``table`` is the store's metrics table, if already read."""
        import numpy as np
        import pyarrow.compute as pc

        table = self.store.metrics_table() if table is None else table
        mask = pc.and_(pc.and_(pc.equal(table["sample"], row),
                               pc.equal(table["scenario"], target.scenario)),
                       pc.equal(table["metric"], target.metric))
        sub = table.filter(mask)
        return np.asarray(sub["value"].to_pylist(), dtype=float)


def distance(means: dict[str, float], targets: list[Target]) -> float:
    """Σ ((simulated − published) / uncertainty)² over ``targets``; an undefined metric
    counts :data:`UNDEFINED_PENALTY`."""
    total = 0.0
    for t in targets:
        m = means.get(t.name, float("nan"))
        total += UNDEFINED_PENALTY if not math.isfinite(m) else ((m - t.value) / t.uncertainty) ** 2
    return total


@dataclass
class TargetFit:
    """How well one target is reproduced at a parameter point."""

    name: str
    role: str
    metric: str
    scenario: str
    published: float
    uncertainty: float
    simulated: float | None  # mean over replicates
    low: float | None  # 95 % interval of the mean over replicates (t distribution)
    high: float | None
    replicates: list[float]
    z: float | None  # (simulated − published) / uncertainty
    within: bool  # |simulated − published| ≤ uncertainty
    source: str
    #: the calibrated input (scslab.core.calibration) that makes this output given in its
    #: scenario, if any: a held-out target that is given checks the register, not the model
    given_by: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def target_fit(t: Target, values: np.ndarray) -> TargetFit:
    """The replicate values of ``t``'s metric summarised against the published figure."""
    import numpy as np
    from scipy import stats

    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return TargetFit(t.name, t.role, t.metric, t.scenario, t.value, t.uncertainty, None,
                         None, None, [], None, False, t.source)
    m = float(finite.mean())
    if finite.size > 1:
        half = float(stats.t.ppf(0.975, finite.size - 1) * finite.std(ddof=1)
                     / math.sqrt(finite.size))
    else:
        half = float("nan")
    z = (m - t.value) / t.uncertainty
    low = None if math.isnan(half) else m - half
    high = None if math.isnan(half) else m + half
    return TargetFit(t.name, t.role, t.metric, t.scenario, t.value, t.uncertainty, m, low,
                     high, [float(v) for v in finite], z, abs(m - t.value) <= t.uncertainty,
                     t.source)

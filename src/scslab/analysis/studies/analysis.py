"""Analyse a study: sensitivity indices (SALib) and sign-robustness of contrasts.

Targets are each output in each scenario (``violation_rate @ baseline``) and each output
of each contrast (``violation_rate: national-blacklist - baseline``, the paired
difference per replicate, averaged over replicates). For a target:

* Morris: mu* (mean absolute elementary effect), mu, sigma, with the bootstrap 95 %
  interval SALib gives for mu*;
* Sobol: first-order S1 and total ST indices with bootstrap 95 % intervals;
* Sobol with ``second_order: true``: also S2 for each pair of factors (the factor column
  reads ``a × b``);
* Latin hypercube: first-order indices S1 by RBD-FAST (SALib ``rbd_fast``, Plischke 2010,
  ``RBD_FAST_HARMONICS`` harmonics) with bootstrap intervals — cheap, because they reuse
  the robustness runs, but rough below ~100 samples (a note says so);
* grid designs get no indices, only the robustness below.

Sign-robustness of a contrast (per output): over the design's samples, the share where
the mean paired difference has the sign of the overall mean (``share_same_sign``; where
the overall mean is exactly zero, the share of samples with no difference at all), and
the share where its 95 % t-interval over replicates lies entirely on that side of zero
(``share_excludes_zero``). The combined interval covers parameter and Monte Carlo
uncertainty: the 2.5 % and 97.5 % quantiles of the mixture, over samples, of normal
distributions centred on each sample's mean difference with its standard error.
Samples weigh equally; Morris trajectories and Saltelli matrices cover the space
roughly uniformly, Latin hypercube and grid designs exactly so in each margin.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from scslab.analysis.studies.spec import ResolvedStudy

BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95
#: Harmonics of RBD-FAST; few, because study outputs are mostly smooth in their factors.
RBD_FAST_HARMONICS = 4
#: Below this many Latin hypercube samples RBD-FAST indices carry a warning note.
RBD_FAST_FEW_SAMPLES = 100


@dataclass
class StudyAnalysis:
    """Tables of an analysed study (each a tidy DataFrame, written as Parquet)."""

    outputs: pd.DataFrame  # sample, scenario, output, mean, low, high, replicates
    effects: pd.DataFrame  # contrast, output, sample, mean, low, high, se, replicates
    sensitivity: pd.DataFrame  # target, kind, subject, output, factor, index, value, low, high
    robustness: pd.DataFrame  # contrast, output, samples, mean, sign, shares, low, high, ...
    notes: list[str] = field(default_factory=list)


def output_target(output: str, scenario: str) -> str:
    return f"{output} @ {scenario}"


def contrast_target(output: str, contrast: str) -> str:
    return f"{output}: {contrast}"


def _wide(metrics: pd.DataFrame, outputs: list[str]) -> pd.DataFrame:
    """Rows (sample, scenario, replicate), one column per output."""
    sel = metrics[metrics["metric"].isin(outputs)]
    return sel.pivot_table(index=["sample", "scenario", "replicate"], columns="metric",
                           values="value", aggfunc="first", dropna=False)


def _mean_interval(values: np.ndarray) -> tuple[float, float, float, float, int]:
    """Mean, 95 % t-interval, standard error and count of the finite values."""
    import numpy as np

    from scslab.run.results import mean_interval

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    m, iv = mean_interval(v)
    nan = float("nan")
    se = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else nan
    return (nan if m is None else m, nan if iv is None else iv[0],
            nan if iv is None else iv[1], se, int(v.size))


def per_sample_outputs(study: ResolvedStudy, metrics: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    wide = _wide(metrics, study.spec.outputs)
    rows = []
    for (sample, scenario), g in wide.groupby(level=["sample", "scenario"], sort=True):
        for out in study.spec.outputs:
            vals = g[out].to_numpy() if out in g else []
            m, lo, hi, _se, n = _mean_interval(vals)
            rows.append((int(sample), scenario, out, m, lo, hi, n))
    return pd.DataFrame(rows, columns=["sample", "scenario", "output", "mean", "low", "high",
                                       "replicates"])


def per_sample_effects(study: ResolvedStudy, metrics: pd.DataFrame) -> pd.DataFrame:
    """Paired difference of each contrast per sample: mean over replicates of
    ``x_r(minuend) − x_r(subtrahend)``, with its t-interval and standard error."""
    import numpy as np
    import pandas as pd

    wide = _wide(metrics, study.spec.outputs)
    rows = []
    if wide.empty:
        return pd.DataFrame(columns=["contrast", "output", "sample", "mean", "low", "high",
                                     "se", "replicates"])
    samples = sorted(wide.index.get_level_values("sample").unique())
    for c in study.contrasts:
        for out in study.spec.outputs:
            if out not in wide:
                continue
            col = wide[out]
            for s in samples:
                try:
                    a = col.xs((s, c.minuend), level=["sample", "scenario"])
                    b = col.xs((s, c.subtrahend), level=["sample", "scenario"])
                except KeyError:
                    continue
                both = a.index.intersection(b.index)
                d = a.loc[both].to_numpy() - b.loc[both].to_numpy()
                m, lo, hi, se, n = _mean_interval(d)
                if n == 0:
                    m = lo = hi = se = np.nan
                rows.append((c.text, out, int(s), m, lo, hi, se, n))
    return pd.DataFrame(rows, columns=["contrast", "output", "sample", "mean", "low", "high",
                                       "se", "replicates"])


def mixture_interval(means: np.ndarray, ses: np.ndarray, level: float = CONFIDENCE
                     ) -> tuple[float, float]:
    """Quantiles of the equal-weight mixture of N(mean_s, se_s²): parameter uncertainty
    (the spread of means over samples) and Monte Carlo uncertainty (each se) together."""
    import numpy as np
    from scipy.optimize import brentq
    from scipy.special import ndtr

    m = np.asarray(means, dtype=np.float64)
    se = np.asarray(ses, dtype=np.float64)
    keep = np.isfinite(m)
    m, se = m[keep], se[keep]
    if m.size == 0:
        return float("nan"), float("nan")
    se = np.where(np.isfinite(se), se, 0.0)
    alpha = (1.0 - level) / 2.0
    if not (se > 0).any():
        return float(np.quantile(m, alpha)), float(np.quantile(m, 1 - alpha))
    se = np.where(se > 0, se, se[se > 0].min() * 1e-6)

    def cdf(x: float) -> float:
        return float(ndtr((x - m) / se).mean())

    lo_b = float((m - 10 * se).min())
    hi_b = float((m + 10 * se).max())
    return (brentq(lambda x: cdf(x) - alpha, lo_b, hi_b, xtol=1e-15, rtol=1e-12),
            brentq(lambda x: cdf(x) - (1 - alpha), lo_b, hi_b, xtol=1e-15, rtol=1e-12))


def robustness_table(effects: pd.DataFrame) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    rows = []
    for (contrast, out), g in effects.groupby(["contrast", "output"], sort=False):
        m = g["mean"].to_numpy(dtype=np.float64)
        finite = np.isfinite(m)
        n = int(finite.sum())
        if n == 0:
            rows.append((contrast, out, 0, *[np.nan] * 8))
            continue
        overall = float(m[finite].mean())
        sign = float(np.sign(overall))
        lo_s, hi_s = g["low"].to_numpy(), g["high"].to_numpy()
        # with no overall effect (sign 0) "keeping the sign" means being exactly zero
        same = float((np.sign(m[finite]) == sign).mean())
        if sign > 0:
            excl, excl_other = (lo_s > 0), (hi_s < 0)
        elif sign < 0:
            excl, excl_other = (hi_s < 0), (lo_s > 0)
        else:
            excl = excl_other = np.zeros(len(g), dtype=bool)
        low, high = mixture_interval(m, g["se"].to_numpy())
        se = g["se"].to_numpy(dtype=np.float64)[finite]
        var_param = float(np.var(m[finite]))
        var_mc = float(np.nanmean(se**2)) if np.isfinite(se).any() else 0.0
        total = var_param + var_mc
        rows.append((contrast, out, n, overall, sign, same, float(excl[finite].mean()),
                     float(excl_other[finite].mean()), low, high,
                     var_param / total if total > 0 else np.nan))
    return pd.DataFrame(rows, columns=[
        "contrast", "output", "samples", "mean", "sign", "share_same_sign",
        "share_excludes_zero", "share_opposite_excludes_zero", "low", "high",
        "parameter_variance_share"])


def _targets(study: ResolvedStudy, outputs: pd.DataFrame, effects: pd.DataFrame,
             n_samples: int) -> list[tuple[str, str, str, str, np.ndarray | None]]:
    """(target, kind, subject, output, Y per sample or None when incomplete)."""
    import numpy as np

    out = []
    for label in study.labels:
        for o in study.spec.outputs:
            g = outputs[(outputs["scenario"] == label) & (outputs["output"] == o)]
            y = np.full(n_samples, np.nan)
            y[g["sample"].to_numpy()] = g["mean"].to_numpy()
            out.append((output_target(o, label), "output", label, o, y))
    for c in study.contrasts:
        for o in study.spec.outputs:
            g = effects[(effects["contrast"] == c.text) & (effects["output"] == o)]
            y = np.full(n_samples, np.nan)
            y[g["sample"].to_numpy()] = g["mean"].to_numpy()
            out.append((contrast_target(o, c.text), "contrast", c.text, o, y))
    return out


def sensitivity_table(study: ResolvedStudy, x: np.ndarray, outputs: pd.DataFrame,
                      effects: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    from scslab.analysis.studies.design import salib_problem

    cols = ["target", "kind", "subject", "output", "factor", "index", "value", "low", "high"]
    d = study.spec.design
    if d.method not in ("morris", "sobol", "lhs"):
        notes.append(f"{d.method} designs give no sensitivity indices here; see robustness")
        return pd.DataFrame(columns=cols)
    if d.method == "lhs" and x.shape[0] < RBD_FAST_FEW_SAMPLES:
        notes.append(f"RBD-FAST indices from {x.shape[0]} Latin hypercube samples are rough "
                     f"(use {RBD_FAST_FEW_SAMPLES} or more)")
    problem = salib_problem(study)
    rows = []
    for target, kind, subject, o, y in _targets(study, outputs, effects, x.shape[0]):
        if not np.isfinite(y).all():
            missing = int((~np.isfinite(y)).sum())
            notes.append(f"{target}: undefined or not yet run in {missing} of {len(y)} "
                         "samples; no indices")
            continue
        if d.method == "morris":
            from SALib.analyze import morris

            res = morris.analyze(problem, x, y, num_resamples=BOOTSTRAP_RESAMPLES,
                                 conf_level=CONFIDENCE, num_levels=d.levels, seed=d.seed)
            for j, f in enumerate(problem["names"]):
                ms, conf = float(res["mu_star"][j]), float(res["mu_star_conf"][j])
                rows.append((target, kind, subject, o, f, "mu_star", ms, ms - conf, ms + conf))
                rows.append((target, kind, subject, o, f, "mu", float(res["mu"][j]),
                             np.nan, np.nan))
                rows.append((target, kind, subject, o, f, "sigma", float(res["sigma"][j]),
                             np.nan, np.nan))
        elif d.method == "lhs":
            from SALib.analyze import rbd_fast

            if np.var(y) == 0:
                notes.append(f"{target}: constant over the samples; no indices")
                continue
            res = rbd_fast.analyze(problem, x, y, M=RBD_FAST_HARMONICS,
                                   num_resamples=BOOTSTRAP_RESAMPLES, conf_level=CONFIDENCE,
                                   seed=d.seed)
            for j, f in enumerate(problem["names"]):
                v, conf = float(res["S1"][j]), float(res["S1_conf"][j])
                rows.append((target, kind, subject, o, f, "S1", v, v - conf, v + conf))
        else:
            from SALib.analyze import sobol

            if np.var(y) == 0:
                notes.append(f"{target}: constant over the samples; no indices")
                continue
            res = sobol.analyze(problem, y, calc_second_order=d.second_order,
                                num_resamples=BOOTSTRAP_RESAMPLES, conf_level=CONFIDENCE,
                                seed=d.seed)
            for j, f in enumerate(problem["names"]):
                for idx in ("S1", "ST"):
                    v, conf = float(res[idx][j]), float(res[f"{idx}_conf"][j])
                    rows.append((target, kind, subject, o, f, idx, v, v - conf, v + conf))
            if d.second_order:
                names = problem["names"]
                for j, k in itertools.combinations(range(len(names)), 2):
                    v, conf = float(res["S2"][j, k]), float(res["S2_conf"][j, k])
                    rows.append((target, kind, subject, o, f"{names[j]} × {names[k]}", "S2",
                                 v, v - conf, v + conf))
    return pd.DataFrame(rows, columns=cols)


def analyze(study: ResolvedStudy, x: np.ndarray, metrics: pd.DataFrame) -> StudyAnalysis:
    """Every table of the analysis, from the design matrix and the tidy metric table."""
    import warnings

    notes: list[str] = []
    outputs = per_sample_outputs(study, metrics)
    effects = per_sample_effects(study, metrics)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sens = sensitivity_table(study, x, outputs, effects, notes)
    robust = robustness_table(effects)
    return StudyAnalysis(outputs=outputs, effects=effects, sensitivity=sens,
                         robustness=robust, notes=notes)

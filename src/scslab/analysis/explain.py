"""Why, not only what: decompose a group disparity by equalising one cause at a time.

The disparity of metric M between groups A and B is ``D = ln(M_A / M_B)`` (a log ratio, so
"A is 1.8 times B" and "B is 1.8 times A" are symmetric), or ``D = M_A − M_B`` when any run
has a zero value for either group (a log ratio is then undefined; the output says which).

For each registered cause c, the scenario is run again with c equalised between the groups
(group A given group B's value) on the same populations and random numbers (replicate r of
every run shares them), and the cause's share is

    share_c = (D_base − D_equalised_c) / D_base

per replicate, with a 95 % t-interval over replicates. A run with every cause equalised
together is reported too, and the residual ``1 − Σ share_c``. Shares need not add up:
causes interact (income matters more where exposure is higher), so one-at-a-time removals
overlap or leave gaps; the all-causes run shows how much the registered causes explain
jointly.

Causes are collected by :func:`all_causes`: the society's own causes (:data:`CAUSES`: income,
behaviour, exposure, plus any added with :func:`register_cause`), then the causes every
mechanism *declares* on its module class (``Module.causes``, a tuple of
:class:`scslab.core.module.CauseSpec`), in the registry's order, e.g. the surveillance module::

    causes = (CauseSpec("watchlisting", "watchlists: group A is listed by design as often "
                        "as group B", _equal_watchlisting),)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scslab.analysis.compare import (
    CompareError,
    JobProgress,
    base_manifest,
    load_spec,
    mean_stats,
    metric_names,
    read_result_manifest,
    run_jobs,
    summaries_frame,
    with_overrides,
)
from scslab.core.module import CauseSpec

if TYPE_CHECKING:
    import pandas as pd

    from scslab.scenario import Scenario

BASE_RUN = "base"
ALL_RUN = "all causes"
RESIDUAL = "residual"


#: a cause of group disparity and how to switch it off (the module contract's declaration)
Cause = CauseSpec

CAUSES: dict[str, Cause] = {}


def register_cause(cause: Cause) -> Cause:
    """Add (or replace) a cause; order of registration is the order of the report."""
    if cause.name in (BASE_RUN, ALL_RUN, RESIDUAL):
        raise ValueError(f"{cause.name!r} is reserved")
    CAUSES[cause.name] = cause
    return cause


def all_causes() -> dict[str, Cause]:
    """Every known cause: :data:`CAUSES`, then those the modules declare (registry order)."""
    from scslab.modules.registry import module_classes

    out = dict(CAUSES)
    for cls in module_classes().values():
        for cause in cls.causes:
            out.setdefault(cause.name, cause)
    return out


def _num(x: float) -> str:
    return repr(float(x))


def _equal_income(sc: Scenario, a: str, b: str) -> list[str]:
    gb = sc.population.groups[b]
    return [f"population.groups.{a}.income_multiplier={_num(gb.income_multiplier)}"]


def _equal_behaviour(sc: Scenario, a: str, b: str) -> list[str]:
    gb = sc.population.groups[b]
    h = gb.honesty_mean if gb.honesty_mean is not None else sc.population.traits.honesty_mean
    return [f"population.groups.{a}.honesty_mean={_num(h)}"]


def _equal_exposure(sc: Scenario, a: str, b: str) -> list[str]:
    gb = sc.population.groups[b]
    w = gb.region_weights if gb.region_weights is not None else [1.0] * sc.population.regions
    return [f"population.groups.{a}.region_weights=[{', '.join(_num(x) for x in w)}]"]


register_cause(Cause(
    "income", "income: group A gets group B's income multiplier", _equal_income))
register_cause(Cause(
    "behaviour", "behaviour: group A gets group B's mean honesty", _equal_behaviour))
register_cause(Cause(
    "exposure", "exposure: group A lives in the regions as group B does (region is where "
    "sources and sensors differ)", _equal_exposure))


def group_metric(metric: str, group: str) -> str:
    return f"{metric}[group={group}]"


@dataclass
class Explanation:
    """Runs of a scenario with causes equalised, and the disparity decomposition."""

    label: str
    metric: str
    group_a: str
    group_b: str
    runs: dict[str, list[str]]  # run name → overrides applied to the scenario
    descriptions: dict[str, str]
    summaries: pd.DataFrame  # scenario (= run), replicate, metric, value
    scenarios: dict[str, dict] = field(default_factory=dict)  # run → resolved
    manifest: dict = field(default_factory=dict)

    @property
    def replicates(self) -> int:
        return int(self.summaries["replicate"].nunique())

    @property
    def people(self) -> int:
        return int(self.scenarios[BASE_RUN]["population"]["people"])

    def values(self) -> pd.DataFrame:
        """Per run and replicate: value_a, value_b and the disparity."""
        import numpy as np
        import pandas as pd

        s = self.summaries
        ma, mb = group_metric(self.metric, self.group_a), group_metric(self.metric, self.group_b)
        wide = s[s["metric"].isin([ma, mb])].pivot_table(
            index=["scenario", "replicate"], columns="metric", values="value",
            aggfunc="first", dropna=False)
        rows = []
        for run in self.runs:
            for r in sorted(s["replicate"].unique()):
                key = (run, r)
                va = float(wide.loc[key, ma]) if key in wide.index and ma in wide else np.nan
                vb = float(wide.loc[key, mb]) if key in wide.index and mb in wide else np.nan
                rows.append((run, int(r), va, vb))
        df = pd.DataFrame(rows, columns=["run", "replicate", "value_a", "value_b"])
        log = self.measure == "log ratio"
        with np.errstate(divide="ignore", invalid="ignore"):
            df["disparity"] = (np.log(df["value_a"] / df["value_b"]) if log
                               else df["value_a"] - df["value_b"])
        return df

    @property
    def measure(self) -> str:
        """"log ratio" unless some value is zero or negative, then "difference"."""
        import numpy as np

        s = self.summaries
        ma, mb = group_metric(self.metric, self.group_a), group_metric(self.metric, self.group_b)
        v = s.loc[s["metric"].isin([ma, mb]), "value"].to_numpy(dtype=float)
        v = v[np.isfinite(v)]
        return "log ratio" if v.size and (v > 0).all() else "difference"

    def table(self) -> pd.DataFrame:
        """run, kind, description, overrides, mean value for A and B, disparity with its
        interval, share of the base disparity removed with its interval; then the
        all-causes run and the residual (1 − sum of the single-cause shares)."""
        import numpy as np
        import pandas as pd

        v = self.values()
        by = {run: g.sort_values("replicate") for run, g in v.groupby("run", sort=False)}
        d_base = by[BASE_RUN]["disparity"].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            safe = np.where(d_base != 0, d_base, np.nan)
        rows = []
        cause_shares = []
        for run in self.runs:
            g = by[run]
            d = g["disparity"].to_numpy()
            dm, dlo, dhi = mean_stats(d)
            kind = "base" if run == BASE_RUN else "all" if run == ALL_RUN else "cause"
            if kind == "base":
                share = (float("nan"),) * 3
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    per = (d_base - d) / safe
                share = mean_stats(per)
                if kind == "cause":
                    cause_shares.append(per)
            rows.append((run, kind, self.descriptions.get(run, ""), "; ".join(self.runs[run]),
                         mean_stats(g["value_a"].to_numpy())[0],
                         mean_stats(g["value_b"].to_numpy())[0], dm, dlo, dhi, *share))
        if cause_shares:
            resid = 1.0 - np.sum(cause_shares, axis=0)
            rows.append((RESIDUAL, "residual", "1 − sum of the single-cause shares "
                         "(interactions and causes not registered)", "", np.nan, np.nan,
                         np.nan, np.nan, np.nan, *mean_stats(resid)))
        df = pd.DataFrame(rows, columns=["run", "kind", "description", "overrides", "value_a",
                                         "value_b", "disparity", "disparity_low",
                                         "disparity_high", "share", "share_low", "share_high"])
        for c in df.columns[4:]:
            df[c] = df[c].astype(np.float64)
        return df

    def base_text(self) -> str:
        from scslab.analysis.summary import fmt

        t = self.table()
        b = t[t["kind"] == "base"].iloc[0]
        return (f"{fmt(b['disparity'])} [{fmt(b['disparity_low'])}, "
                f"{fmt(b['disparity_high'])}]")

    def unstable(self) -> bool:
        """True when the base disparity's interval includes 0: shares are then ratios of
        noise and should not be read."""
        t = self.table()
        b = t[t["kind"] == "base"].iloc[0]
        return not (b["disparity_low"] > 0 or b["disparity_high"] < 0)

    def to_pandas(self) -> pd.DataFrame:
        """Tidy per-replicate summaries of every run: scenario (= run), replicate, metric, value."""
        return self.summaries

    def plot(self, out: str | Path | None = None) -> dict[str, Any]:
        from scslab.analysis.figures import decomposition_figure, save_figures

        figs = {"decomposition": decomposition_figure(self)}
        if out is not None:
            save_figures(figs, Path(out))
        return figs

    def save(self, out: str | Path, figures: bool = True) -> Path:
        from scslab.analysis.report import write_explanation_files

        return write_explanation_files(self, Path(out), figures=figures)

    @classmethod
    def load(cls, out: str | Path) -> Explanation:
        import pandas as pd

        out = Path(out)
        m = read_result_manifest(out, "explain")
        s = pd.read_parquet(out / "replicates.parquet")
        s["scenario"] = s["scenario"].astype(str)
        s["metric"] = s["metric"].astype(str)
        return cls(label=m["label"], metric=m["metric"], group_a=m["group_a"],
                   group_b=m["group_b"], runs={k: list(v) for k, v in m["runs"].items()},
                   descriptions=dict(m["descriptions"]), summaries=s,
                   scenarios=dict(m["scenarios"]), manifest=m)


def explain(
    scenario: Any,
    metric: str,
    group_a: str,
    group_b: str,
    *,
    replicates: int = 5,
    people: int | None = None,
    days: int | None = None,
    burn_in: int | None = None,
    seed: int | None = None,
    sets: Sequence[str] = (),
    causes: Sequence[str] | None = None,
    workers: int = 1,
    progress: JobProgress | None = None,
    command: list[str] | None = None,
    population_on_disk: Path | None = None,
) -> Explanation:
    """Decompose the disparity of ``metric`` between ``group_a`` and ``group_b``.

    >>> e = explain("baseline:population.groups.minority.honesty_mean=0.6",
    ...             "violation_rate", "minority", "majority", replicates=6, people=3000,
    ...             days=60, burn_in=0)
    >>> e.table()[["run", "share", "share_low", "share_high"]]

    ``population_on_disk``: a directory each run maps its population from (``Sim``).
    """
    if replicates < 2:
        raise CompareError("replicates must be at least 2: shares need an interval over "
                           "replicates")
    label, sc = load_spec(scenario, sets, people=people, days=days, burn_in=burn_in, seed=seed)
    groups = list(sc.population.groups)
    for g in (group_a, group_b):
        if g not in groups:
            raise CompareError(f"unknown group {g!r}; groups of {label}: {', '.join(groups)}")
    if group_a == group_b:
        raise CompareError("--between needs two different groups")
    overall = [m for m in metric_names(sc) if "[" not in m]
    if "[" in metric:
        raise CompareError(f"give the metric without a breakdown ({metric.split('[')[0]!r}); "
                           "the groups come from --between")
    if metric not in overall:
        raise CompareError(f"unknown metric {metric!r}; known: {', '.join(overall)}")
    known = all_causes()
    names = list(known) if causes is None else [c.strip() for c in causes if c.strip()]
    for c in names:
        if c not in known:
            raise CompareError(f"unknown cause {c!r}; known: {', '.join(known)}")
    if not names:
        raise CompareError("no causes to equalise")

    runs: dict[str, list[str]] = {BASE_RUN: []}
    descriptions = {BASE_RUN: "the scenario as given"}
    for c in names:
        runs[c] = list(known[c].equalise(sc, group_a, group_b))
        descriptions[c] = known[c].description
    runs[ALL_RUN] = [o for c in names for o in runs[c]]
    descriptions[ALL_RUN] = "every cause above equalised at once"
    scenarios = {run: with_overrides(sc, ov, f"{run} equalised") for run, ov in runs.items()}
    t0 = time.perf_counter()
    reps = run_jobs(list(scenarios.values()), replicates, workers, progress, population_on_disk)
    wall = time.perf_counter() - t0
    import pandas as pd

    from scslab.scenario import resolved_dict

    summaries = pd.concat([summaries_frame(run, r) for run, r in zip(runs, reps, strict=True)],
                          ignore_index=True)
    resolved = {run: resolved_dict(s) for run, s in scenarios.items()}
    manifest = base_manifest("explain", wall, command)
    manifest.update({
        "label": label, "metric": metric, "group_a": group_a, "group_b": group_b,
        "runs": runs, "descriptions": descriptions, "replicates": replicates,
        "people": sc.population.people, "days": sc.time.days, "burn_in": sc.time.burn_in,
        "seed": sc.seed, "workers": workers, "scenarios": resolved,
    })
    return Explanation(label=label, metric=metric, group_a=group_a, group_b=group_b, runs=runs,
                       descriptions=descriptions, summaries=summaries, scenarios=resolved,
                       manifest=manifest)

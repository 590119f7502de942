"""Compare scenarios on common random numbers, with paired differences.

Replicate r of every scenario draws population r from ``(seed, r)`` and every random
number from counter-based streams keyed by meaning (``docs/randomness.md``), so with one
seed the scenarios of a comparison see the same people and the same dice: a difference
between them is the policy, not the luck of the draw. Differences are therefore *paired*
over replicates (a t-interval of the per-replicate differences), which is much tighter than
comparing two independent means. ``crn=False`` gives each scenario its own seed, to see
what common random numbers buy.

A scenario is a builtin name, a YAML path, a :class:`~scslab.scenario.Scenario`, or the
shorthand ``NAME:key=value,key=value`` for a variant (``baseline:sources.court.coverage=0.6``).

Heavy imports (NumPy, pandas, the engine) happen inside functions: the CLI imports this
module to build its help text, and spawned workers import it before Numba is configured.
"""

from __future__ import annotations

import json
import os
import sys
import time
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from scslab.run.results import ReplicateResult
    from scslab.scenario import Scenario

from scslab.analysis.tables import (
    DIRECT_CHILLING_METRIC,
    EXPRESSION_METRIC,
    THEME_ORDER,
    CompareError,
    base_metric,
    mean_stats,
    series_frame,
    series_frames,
    slug,
    summaries_frame,
    theme_of,
    unit_of,
)
from scslab.run.pool import spawn_pool

__all__ = [
    "DIRECT_CHILLING_METRIC", "EXPRESSION_METRIC", "THEME_ORDER", "CompareError",
    "base_metric", "mean_stats", "series_frame", "slug", "summaries_frame", "theme_of",
    "unit_of",
]

JobProgress = Callable[[int, int], None]  # (jobs done, jobs total)


# --------------------------------------------------------------------------- twin hook

#: Extra twin transformations registered at run time: name → function(scenario) → override
#: strings. The counterfactual "twin" of a scenario switches off surveillance of expression
#: venues and keeps everything else (and every random number) the same; mechanisms *declare*
#: their transformation on the module class (``Module.twin_transforms``, e.g.
#: :class:`scslab.modules.sensing.surveillance.Surveillance`) and :func:`twin_overrides` collects
#: them from the registry after the ones registered here.
TWIN_TRANSFORMS: dict[str, Callable[[Any], list[str]]] = {}


def register_twin_transform(name: str, fn: Callable[[Any], list[str]]) -> None:
    """Add a transformation that the twin of every scenario applies (by name, replaceable)."""
    TWIN_TRANSFORMS[name] = fn


def twin_overrides(scenario: Scenario) -> list[str]:
    """Overrides that turn ``scenario`` into its twin without expression-venue surveillance.

    Empty when no declared transformation applies (no surveillance switched on): then the
    twin equals the scenario and the total chilling effect is exactly zero, as it should be.
    """
    from scslab.modules.registry import module_classes

    out: list[str] = []
    for fn in TWIN_TRANSFORMS.values():
        out.extend(fn(scenario))
    for cls in module_classes().values():
        for fn in cls.twin_transforms:
            out.extend(fn(scenario))
    return out


TWIN_SUFFIX = " [twin]"


# --------------------------------------------------------------------------- specs


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets and braces (values may be YAML lists)."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_spec(spec: str) -> tuple[str, list[str]]:
    """``NAME:key=value,key=value`` → (``NAME``, [``key=value``, ...]); a plain name or
    path → (it, []). A comma inside ``[...]`` belongs to the value."""
    spec = spec.strip()
    name, sep, rest = spec.partition(":")
    if not sep or ("=" not in rest and rest.strip()):
        return spec, []  # a plain name or a path (C:\\... has no '=')
    if not name.strip():
        raise CompareError(f"{spec!r}: no scenario name before ':' (expected NAME:key=value,...)")
    if not rest.strip():
        raise CompareError(f"{spec!r}: nothing after ':' (expected NAME:key=value,...)")
    overrides: list[str] = []
    for part in _split_top(rest):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            overrides.append(part)
        elif overrides:  # "a=[x, y]" is already whole; "a=x,y" keeps y with a's value
            overrides[-1] += "," + part
        else:
            raise CompareError(f"{spec!r}: expected key=value after ':', got {part!r}")
    return name.strip(), overrides


def with_overrides(scenario: Scenario, overrides: Iterable[str], label: str = "--set") -> Scenario:
    """A validated copy of ``scenario`` with ``key=value`` overrides applied."""
    from scslab.scenario import resolved_dict
    from scslab.scenario.loader import apply_override, validate

    overrides = list(overrides)
    if not overrides:
        return scenario
    data = resolved_dict(scenario)
    data.pop("extends", None)
    provenance: dict = {}
    for a in overrides:
        data = apply_override(data, provenance, a)
    return validate(data, provenance, label)


def load_spec(
    spec: Any,
    sets: Sequence[str] = (),
    *,
    people: int | None = None,
    days: int | None = None,
    burn_in: int | None = None,
    seed: int | None = None,
) -> tuple[str, Scenario]:
    """(label, scenario) for a spec string or a Scenario; ``sets`` apply before the spec's
    own overrides, so the spec wins."""
    from scslab.scenario import Scenario, load_scenario

    shortcuts = [f"{k}={v}" for k, v in (("population.people", people), ("time.days", days),
                                         ("time.burn_in", burn_in), ("seed", seed))
                 if v is not None]
    if isinstance(spec, Scenario):
        return spec.name, with_overrides(spec, [*sets, *shortcuts])
    if not isinstance(spec, str):
        raise CompareError(f"a scenario must be a name, a path, a spec or a Scenario, not {spec!r}")
    name, own = parse_spec(spec)
    sc = load_scenario(name, [*sets, *own], people=people, days=days, burn_in=burn_in, seed=seed)
    return spec.strip(), sc


def load_specs(
    specs: Sequence[Any],
    sets: Sequence[str] = (),
    *,
    people: int | None = None,
    days: int | None = None,
    burn_in: int | None = None,
    seed: int | None = None,
    crn: bool = True,
) -> tuple[list[str], list[Scenario]]:
    """Labels and scenarios for a comparison; one seed for all (common random numbers) or,
    with ``crn=False``, seed + i for scenario i (independent random numbers)."""
    if not specs:
        raise CompareError("no scenarios to compare")
    labels, scenarios = [], []
    for spec in specs:
        label, sc = load_spec(spec, sets, people=people, days=days, burn_in=burn_in, seed=seed)
        if label in labels:
            raise CompareError(f"scenario {label!r} is given twice")
        labels.append(label)
        scenarios.append(sc)
    seed0 = scenarios[0].seed
    for i, sc in enumerate(scenarios):
        want = seed0 if crn else seed0 + i
        if sc.seed != want:
            scenarios[i] = with_overrides(sc, [f"seed={want}"], labels[i])
    return labels, scenarios


def metric_names(scenario: Scenario, final: bool = False) -> list[str]:
    """Every metric name a run of ``scenario`` reports (overall, per group, per region),
    known before running from the enabled modules' metric definitions; with ``final``,
    also the end-of-run metrics they declare (``Module.final_metric_defs``, read on the last day)."""
    from scslab.run.engine import default_module_classes

    groups = list(scenario.population.groups)
    out: list[str] = []
    classes = default_module_classes(scenario)
    for cls in classes:
        for m in getattr(cls, "metrics", ()):
            out.append(m.name)
            out.extend(f"{m.name}[group={g}]" for g in groups)
            out.extend(f"{m.name}[region={k}]" for k in range(scenario.population.regions))
    if final:
        for cls in classes:
            out.extend(n for n in cls.final_metric_names(scenario) if n not in out)
    return out


def select_metrics(
    available: Sequence[str], metrics: Sequence[str] | None, groups: bool = False
) -> list[str]:
    """The metrics to show: by default every overall metric; ``metrics`` picks base names
    or full names (``detection_rate[region=3]``); ``groups`` adds group breakdowns."""
    avail = list(dict.fromkeys(available))
    overall = [m for m in avail if "[" not in m]
    if metrics:
        wanted: list[str] = []
        for item in metrics:
            for m in (x.strip() for x in item.split(",")):
                if not m:
                    continue
                if m not in avail:
                    raise CompareError(
                        f"unknown metric {m!r}; known: {', '.join(overall)} "
                        "(or NAME[group=G], NAME[region=K])"
                    )
                wanted.append(m)
    else:
        wanted = overall
    out = list(dict.fromkeys(wanted))
    if groups:
        with_groups: list[str] = []
        for m in out:
            with_groups.append(m)
            if "[" not in m:
                with_groups.extend(x for x in avail if x.startswith(m + "[group="))
        out = list(dict.fromkeys(with_groups))
    return out


# --------------------------------------------------------------------------- running


def _init_worker() -> None:
    """Runs first in each spawned worker: one Numba thread per process (set before Numba
    is imported), so R parallel replicates do not oversubscribe the cores."""
    os.environ["NUMBA_NUM_THREADS"] = "1"


def _job(resolved: dict, replicate: int, population_on_disk: Path | None) -> ReplicateResult:
    from scslab.run.runner import run_replicate
    from scslab.scenario import scenario_from_dict

    return run_replicate(scenario_from_dict(resolved), replicate,
                         population_on_disk=population_on_disk)


def run_jobs(
    scenarios: Sequence[Scenario],
    replicates: int,
    workers: int = 1,
    progress: JobProgress | None = None,
    population_on_disk: Path | None = None,
) -> list[list[ReplicateResult]]:
    """Run every (scenario, replicate) job; identical scenarios run once. Returns, per
    scenario, its replicates in order. With ``workers > 1`` jobs run in spawned processes
    with one Numba thread each. ``population_on_disk``: each run maps its population from
    files there (``Sim``)."""
    from scslab.run.runner import run_replicate
    from scslab.scenario import resolved_dict

    resolved = [resolved_dict(s) for s in scenarios]
    keys = [json.dumps(r, sort_keys=True) for r in resolved]
    first = {k: i for i, k in reversed(list(enumerate(keys)))}
    unique = sorted(set(first.values()))
    jobs = [(i, r) for r in range(replicates) for i in unique]
    done: dict[tuple[int, int], ReplicateResult] = {}
    total = len(jobs)
    if workers <= 1 or total <= 1:
        for i, r in jobs:
            done[(i, r)] = run_replicate(scenarios[i], r, population_on_disk=population_on_disk)
            if progress is not None:
                progress(len(done), total)
    else:
        from concurrent.futures import as_completed

        with spawn_pool(min(workers, total), initializer=_init_worker) as pool:
            futures = {pool.submit(_job, resolved[i], r, population_on_disk): (i, r)
                       for i, r in jobs}
            for f in as_completed(futures):
                done[futures[f]] = f.result()
                if progress is not None:
                    progress(len(done), total)
    return [[done[(first[keys[i]], r)] for r in range(replicates)] for i in range(len(scenarios))]


def paired_stats(a: Any, b: Any) -> tuple[float, float, float]:
    """Mean and 95 % t-interval of ``a − b`` over replicates where both are finite
    (NaN where fewer than two pairs)."""
    import numpy as np

    from scslab.run.results import mean_interval

    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    m, iv = mean_interval(d)
    nan = float("nan")
    return (nan if m is None else m, nan if iv is None else iv[0], nan if iv is None else iv[1])


# --------------------------------------------------------------------------- result


@dataclass
class Comparison:
    """The replicates of several scenarios run on common random numbers.

    ``summaries``: tidy per-replicate summaries (scenario, replicate, metric, value);
    ``series``: tidy per-day series (scenario, replicate, day, metric, value). Twin runs
    appear under ``LABEL [twin]``. Everything else is derived, so a stored comparison
    rebuilds the same tables.
    """

    labels: list[str]
    scenarios: dict[str, dict]  # label → resolved scenario (twins included)
    summaries: pd.DataFrame
    series: pd.DataFrame
    metrics: list[str] | None = None  # the selection shown; None = default
    groups: bool = False
    twins: dict[str, str] = field(default_factory=dict)  # label → twin label
    manifest: dict = field(default_factory=dict)

    # ---------------------------------------------------------------- shape

    @property
    def replicates(self) -> int:
        return int(self.summaries["replicate"].nunique())

    @property
    def people(self) -> int:
        return int(self.scenarios[self.labels[0]]["population"]["people"])

    @property
    def confounds(self) -> list[dict]:
        """Society paths in which the scenarios differ: ``{"path", "values": {label: v}}``
        (see :mod:`scslab.analysis.confounds`); empty when only the systems differ."""
        return list(self.manifest.get("confounds", []))

    def available_metrics(self) -> list[str]:
        return list(dict.fromkeys(self.summaries["metric"]))

    def shown_metrics(self, metrics: Sequence[str] | None = None,
                      groups: bool | None = None) -> list[str]:
        """The selected metrics, ordered by theme (then as the modules define them)."""
        sel = select_metrics(self.available_metrics(), metrics or self.metrics,
                             self.groups if groups is None else groups)
        return sorted(sel, key=lambda m: THEME_ORDER.index(theme_of(m)))

    def _wide(self) -> pd.DataFrame:
        """value indexed by (scenario, metric) × replicate."""
        return self.summaries.pivot_table(index=["scenario", "metric"], columns="replicate",
                                          values="value", aggfunc="first", dropna=False)

    # ---------------------------------------------------------------- tables

    def table(self, metrics: Sequence[str] | None = None,
              groups: bool | None = None) -> pd.DataFrame:
        """theme, metric, scenario, mean, low, high, diff, diff_low, diff_high: means with
        95 % intervals over replicates, and the paired difference against the first
        scenario (NaN for the first itself)."""
        import numpy as np
        import pandas as pd

        wide = self._wide()
        ref = self.labels[0]
        rows = []
        nan = float("nan")
        for m in self.shown_metrics(metrics, groups):
            base = _row(wide, ref, m)
            for label in self.labels:
                v = _row(wide, label, m)
                mean, low, high = mean_stats(v, m)
                if label == ref:
                    diff = (nan, nan, nan)
                else:
                    diff = paired_stats(v, base)
                rows.append((theme_of(m), m, label, mean, low, high, *diff))
        df = pd.DataFrame(rows, columns=["theme", "metric", "scenario", "mean", "low", "high",
                                         "diff", "diff_low", "diff_high"])
        for c in ("mean", "low", "high", "diff", "diff_low", "diff_high"):
            df[c] = df[c].astype(np.float64)
        return df

    def twin_table(self, metrics: Sequence[str] | None = None) -> pd.DataFrame:
        """Per scenario with a twin: metric, value, twin value, and the paired effect of
        expression-venue surveillance (scenario − twin) with its interval."""
        import pandas as pd

        wide = self._wide()
        rows = []
        for label, twin in self.twins.items():
            for m in self.shown_metrics(metrics, False):
                v, t = _row(wide, label, m), _row(wide, twin, m)
                rows.append((theme_of(m), m, label, mean_stats(v)[0], mean_stats(t)[0],
                             *paired_stats(v, t)))
        return pd.DataFrame(rows, columns=["theme", "metric", "scenario", "mean", "twin_mean",
                                           "effect", "effect_low", "effect_high"])

    def chilling(self) -> pd.DataFrame:
        """Total chilling effect (twin's expression rate − the scenario's, paired) beside
        the direct one (the ``chilled_expression`` metric, NaN where no module reports it)."""
        import pandas as pd

        wide = self._wide()
        rows = []
        for label, twin in self.twins.items():
            total = paired_stats(_row(wide, twin, EXPRESSION_METRIC),
                                 _row(wide, label, EXPRESSION_METRIC))
            direct = mean_stats(_row(wide, label, DIRECT_CHILLING_METRIC))
            changes = self.manifest.get("twin_overrides", {}).get(twin, [])
            rows.append((label, *total, *direct,
                         "; ".join(changes) if changes else "none registered"))
        return pd.DataFrame(rows, columns=["scenario", "total", "total_low", "total_high",
                                           "direct", "direct_low", "direct_high",
                                           "twin_overrides"])

    def to_pandas(self) -> pd.DataFrame:
        """The tidy per-day series of every replicate: scenario, replicate, day, metric, value."""
        return self.series

    # ---------------------------------------------------------------- output

    def plot(self, out: str | Path | None = None) -> dict[str, Any]:
        """Figures (matplotlib) keyed by name; with ``out``, also written there as PNG."""
        from scslab.analysis.figures import comparison_figures, save_figures

        figs = comparison_figures(self)
        if out is not None:
            save_figures(figs, Path(out))
        return figs

    def save(self, out: str | Path, figures: bool = True) -> Path:
        """Write the tidy Parquet files, resolved scenarios, figures, report and (last) the
        manifest into ``out``."""
        from scslab.analysis.report import write_comparison_files

        return write_comparison_files(self, Path(out), figures=figures)

    @classmethod
    def load(cls, out: str | Path) -> Comparison:
        """Read a directory written by :meth:`save` (no re-running)."""
        import pandas as pd

        out = Path(out)
        manifest = read_result_manifest(out, "compare")
        summaries = pd.read_parquet(out / "replicates.parquet")
        series = pd.read_parquet(out / "series.parquet")
        for df in (summaries, series):
            df["scenario"] = df["scenario"].astype(str)
            df["metric"] = df["metric"].astype(str)
        return cls(labels=list(manifest["labels"]), scenarios=dict(manifest["scenarios"]),
                   summaries=summaries, series=series, metrics=manifest.get("metrics"),
                   groups=bool(manifest.get("groups", False)),
                   twins=dict(manifest.get("twins", {})), manifest=manifest)


def _row(wide: Any, label: str, metric: str) -> Any:
    import numpy as np

    try:
        return wide.loc[(label, metric)].to_numpy(dtype=np.float64)
    except KeyError:
        return np.full(wide.shape[1], np.nan)


def read_result_manifest(out: Path, kind: str) -> dict:
    """The manifest of a ``kind`` folder, every file checked against its checksums."""
    from scslab.run.outfolder import DERIVED, OutFolderError, read_manifest, verify_folder

    path = out / "manifest.json"
    try:
        manifest = read_manifest(path) if path.is_file() else None
        if manifest is not None and manifest.get("kind") != kind:
            got = manifest.get("kind")
            raise CompareError(f"{path}: a {got or 'run'} manifest, not a {kind} manifest")
        return verify_folder(out, regenerated=DERIVED)
    except OutFolderError as exc:
        raise CompareError(str(exc)) from None


def base_manifest(kind: str, wall: float, command: list[str] | None) -> dict:
    """Versions, revision, environment and command: what every output directory records."""
    from scslab.run.provenance import provenance

    return {"kind": kind, **provenance(), "wall_seconds": round(wall, 3), "command": command}


def compare(
    scenarios: Sequence[Any],
    *,
    replicates: int = 5,
    people: int | None = None,
    days: int | None = None,
    burn_in: int | None = None,
    seed: int | None = None,
    sets: Sequence[str] = (),
    workers: int = 1,
    metrics: Sequence[str] | None = None,
    groups: bool = False,
    twin: bool = False,
    crn: bool = True,
    strict: bool = False,
    progress: JobProgress | None = None,
    command: list[str] | None = None,
    population_on_disk: Path | None = None,
) -> Comparison:
    """Run ``replicates`` replicates of each scenario on common random numbers.

    >>> c = compare(["baseline", "baseline:sources.court.coverage=0.6"], replicates=8,
    ...             people=3000, days=60, burn_in=0)
    >>> c.table()            # theme, metric, scenario, mean, low, high, diff, ...

    Where the scenarios differ outside the system compared (``scslab.analysis.confounds``), the
    differing society paths are recorded as ``c.confounds``; ``strict=True`` refuses to run.
    ``population_on_disk``: a directory each run maps its population from (``Sim``).
    """
    if replicates < 2:
        raise CompareError("replicates must be at least 2: intervals and paired differences "
                           "need two or more")
    if workers < 1:
        raise CompareError("workers must be at least 1")
    labels, scs = load_specs(scenarios, sets, people=people, days=days, burn_in=burn_in,
                             seed=seed, crn=crn)
    available = metric_names(scs[0])
    for sc in scs[1:]:
        available += [m for m in metric_names(sc) if m not in available]
    select_metrics(available, metrics, groups)  # fail before running
    from scslab.analysis.confounds import confound_records, confound_summary, confounds

    found = confounds(scs, labels)
    if strict and found:
        raise CompareError(f"the scenarios differ outside the system compared (--strict): "
                           f"{confound_summary(found)}")
    twins: dict[str, str] = {}
    all_labels, all_scs = list(labels), list(scs)
    if twin:
        for label, sc in zip(labels, scs, strict=True):
            tw = with_overrides(sc, twin_overrides(sc), f"twin of {label}")
            twins[label] = label + TWIN_SUFFIX
            all_labels.append(twins[label])
            all_scs.append(tw)
    t0 = time.perf_counter()
    reps = run_jobs(all_scs, replicates, workers, progress, population_on_disk)
    wall = time.perf_counter() - t0
    import pandas as pd

    from scslab.scenario import resolved_dict

    summaries = pd.concat([summaries_frame(lab, r) for lab, r in zip(all_labels, reps,
                                                                       strict=True)],
                          ignore_index=True)
    series = series_frames(list(zip(all_labels, reps, strict=True)))
    resolved = {lab: resolved_dict(sc) for lab, sc in zip(all_labels, all_scs, strict=True)}
    manifest = base_manifest("compare", wall, command)
    manifest.update({
        "labels": labels, "specs": [s if isinstance(s, str) else s.name for s in scenarios],
        "twins": twins, "twin_overrides": {twins[lab]: twin_overrides(sc)
                                           for lab, sc in zip(labels, scs, strict=True)
                                           if lab in twins},
        "replicates": replicates, "crn": crn,
        "seeds": {lab: sc.seed for lab, sc in zip(all_labels, all_scs, strict=True)},
        "people": scs[0].population.people, "days": scs[0].time.days,
        "burn_in": scs[0].time.burn_in, "metrics": list(metrics) if metrics else None,
        "groups": groups, "workers": workers, "confounds": confound_records(found),
        "timing": {"run_seconds": {lab: [round(x.run_seconds, 3) for x in r]
                                   for lab, r in zip(all_labels, reps, strict=True)}},
        "scenarios": resolved,
    })
    return Comparison(labels=labels, scenarios=resolved, summaries=summaries, series=series,
                      metrics=list(metrics) if metrics else None, groups=groups, twins=twins,
                      manifest=manifest)


class _CallableModule(types.ModuleType):
    """``scslab.analysis.compare`` is both this module and the function: once the submodule is
    imported, Python binds the *module* to the package attribute ``scslab.analysis.compare``, which
    would shadow the lazily exported function. Calling the module calls :func:`compare`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Comparison:
        return compare(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

"""Attribution by ablation: which component of a system causes its effect.

A scenario S differs from a reference R (by default ``baseline``) in its system: sources,
the score, lists, joint-punishment measures, appeals, surveillance, ... Each such
**component** c is switched off in turn — set back to what R has, expressed as ``--set``
overrides — and S − c is run on the same populations and random numbers as S and R
(replicate r of every run shares them, ``docs/randomness.md``). Per replicate r and metric:

    total_r    = Y_r(S) − Y_r(R)
    effect_c,r = Y_r(S) − Y_r(S − c)            (what removing c takes away)
    residual_r = total_r − Σ_c effect_c,r       (interactions, and anything no component holds)

Effects, total and residual are means over replicates with 95 % Student-t intervals of the
paired per-replicate values. A component's share is ``mean(effect_c) / mean(total)``, so
the shares and the residual's share add up to 1 exactly; their 95 % intervals are
percentile bootstrap intervals over replicates (indicative with few replicates). When the
total's interval includes 0 the shares are ratios of noise: the result says so and the
absolute effects are what to read.

Components are derived from the scenario (:func:`components`): each source the scenario
adds or changes, the score (scoring module), each list, each measure of the sanction
matrix, and every other system module (``scslab.analysis.confounds.part_of``) whose block differs
from the reference. A component whose removal the scenario schema or the engine refuses
(another module depends on it) is reported as "cannot be removed alone: needed by …".
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scslab.analysis.compare import (
    CompareError,
    JobProgress,
    base_manifest,
    load_specs,
    mean_stats,
    metric_names,
    run_jobs,
    select_metrics,
    slug,
    with_overrides,
)
from scslab.analysis.confounds import (
    SYSTEM,
    SYSTEM_PATHS,
    confound_records,
    confounds,
    diff_paths,
    module_part,
)

if TYPE_CHECKING:
    import pandas as pd

    from scslab.scenario import Scenario

FULL_RUN = "full"
REFERENCE_RUN = "reference"
TOTAL = "total"
RESIDUAL = "interaction residual"
DEFAULT_METRICS = ("violation_rate",)
BOOTSTRAP_DRAWS = 2000

#: Modules broken down into finer components (each list, each measure, each sensor and
#: checkpoint) rather than switched off whole.
BROKEN_DOWN = ("lists", "sanctions", "surveillance")

#: Catalogues of the surveillance module whose entries are components: key → label.
SURVEILLANCE_CATALOGUES = {"sensors": "sensor", "checkpoints": "checkpoint"}


@dataclass(frozen=True)
class Component:
    """A part of a scenario's system and the overrides that switch it off."""

    name: str  # "source:traffic_police", "score", "list:grade_d", "measure:public_naming", ...
    kind: str  # source, score, list, measure, module
    description: str
    overrides: tuple[str, ...]


# --------------------------------------------------------------------------- components


def _flow(value: Any) -> str:
    """A value as an override's right-hand side: JSON, which is YAML flow style."""
    import json

    return json.dumps(value)


def _revert(prefix: str, mine: Mapping, theirs: Mapping | None) -> list[str]:
    """Overrides that set the differing leaves under ``prefix`` back to ``theirs``."""
    out: list[str] = []
    for path, (_, ref) in diff_paths([mine, theirs or {}]).items():
        if ref == "<absent>":
            mine_value = _get(mine, path)
            out.append(f"{prefix}.{path}=null" if isinstance(mine_value, Mapping) else "")
        else:
            out.append(f"{prefix}.{path}={_flow(ref)}")
    return [o for o in out if o]


def _get(d: Mapping, path: str) -> Any:
    for p in path.split("."):
        d = d[p]
    return d


def _matrix_without(matrix: Mapping, *, lst: str | None = None,
                    measure: str | None = None) -> list[str]:
    """Overrides rewriting the sanction matrix without a list or a measure: an agency
    touched is deleted (``null``) and set again with what remains."""
    out: list[str] = []
    for agency, cells in matrix.items():
        new = {m: [x for x in lists if x != lst] for m, lists in cells.items() if m != measure}
        new = {m: lists for m, lists in new.items() if lists}
        if new == dict(cells):
            continue
        out.append(f"modules.sanctions.matrix.{agency}=null")
        if new:
            out.append(f"modules.sanctions.matrix.{agency}={_flow(new)}")
    return out


def _module_on(name: str, resolved: Mapping) -> bool:
    from scslab.modules.registry import module_classes

    cls = module_classes().get(name)
    block = resolved.get("modules", {}).get(name, {})
    default = cls.Params.model_fields["enabled"].default if cls is not None else False
    return bool(block.get("enabled", default))


def components(scenario: Scenario, reference: Scenario | None = None) -> list[Component]:
    """The components of ``scenario``'s system that differ from ``reference`` (every
    enabled one when ``reference`` is None), each with the overrides that switch it off
    (set it back to the reference)."""
    from scslab.scenario import resolved_dict

    s = resolved_dict(scenario)
    r = resolved_dict(reference) if reference is not None else None
    out: list[Component] = []
    ref_sources = (r or {}).get("sources", {})
    for name, src in s["sources"].items():
        if name in ref_sources:
            ov = _revert(f"sources.{name}", src, ref_sources[name])
            if ov:
                out.append(Component(f"source:{name}", "source",
                                     f"source {name} as in the reference", tuple(ov)))
        elif src["coverage"] > 0 or src["fabrication_rate"] > 0:
            out.append(Component(f"source:{name}", "source", f"source {name} records nothing",
                                 (f"sources.{name}.coverage=0", f"sources.{name}.fabrication_rate=0")))
    ref_modules = (r or {}).get("modules", {})
    for name, block in s["modules"].items():
        if module_part(name) != SYSTEM or not _module_on(name, s):
            continue
        ref_block = ref_modules.get(name) if r is not None else None
        ref_on = r is not None and _module_on(name, r)
        if ref_on and not diff_paths([block, ref_block]):
            continue
        if name in BROKEN_DOWN:
            out.extend(_broken_down(name, s, r))
            continue
        label = "score" if name == "scoring" else name
        kind = "score" if name == "scoring" else "module"
        if ref_on:
            ov = tuple(_revert(f"modules.{name}", block, ref_block))
            desc = f"{name} as in the reference"
        else:
            ov = (f"modules.{name}.enabled=false",)
            desc = f"{name} switched off"
        out.append(Component(label, kind, desc, ov))
    out.extend(_setting_components(s, r))
    return out


def _setting_components(s: Mapping, r: Mapping | None) -> list[Component]:
    """The system's settings inside behaviour modules (:data:`SYSTEM_PATHS`: the market's
    screening, the firms' score and blacklist, the officials' audits and reward): one
    component per setting that differs from the reference's (from the module's default
    where the reference does not run the module, or there is no reference), switched off
    by setting it to that value."""
    from scslab.modules.registry import module_classes

    out: list[Component] = []
    for path in SYSTEM_PATHS:
        _, module, key = path.split(".", 2)
        cls = module_classes().get(module)
        if cls is None or key not in cls.Params.model_fields or not _module_on(module, s):
            continue
        default = cls.Params.model_fields[key].get_default(call_default_factory=True)
        mine = s["modules"].get(module, {}).get(key, default)
        theirs = default
        if r is not None and _module_on(module, r):
            theirs = r["modules"].get(module, {}).get(key, default)
        if mine == theirs:
            continue
        out.append(Component(f"setting:{module}.{key}", "setting",
                             f"{module}.{key} as in the reference ({_flow(theirs)})",
                             (f"{path}={_flow(theirs)}",)))
    return out


def _broken_down(name: str, s: Mapping, r: Mapping | None) -> list[Component]:
    """Lists: each list the reference lacks (or has otherwise); sanctions: each measure;
    surveillance: each sensor and checkpoint (its other settings act through them)."""
    matrix = s["modules"]["sanctions"].get("matrix", {})
    ref_block = (r or {}).get("modules", {}).get(name, {}) if r is not None else {}
    ref_on = r is not None and _module_on(name, r)
    out: list[Component] = []
    if name == "surveillance":
        for key, label in SURVEILLANCE_CATALOGUES.items():
            ref_entries = ref_block.get(key, {}) if ref_on else {}
            for entry, spec in s["modules"]["surveillance"].get(key, {}).items():
                if ref_entries.get(entry) != spec:
                    out.append(Component(f"{label}:{entry}", label, f"{label} {entry} removed",
                                         (f"modules.surveillance.{key}.{entry}=null",)))
        if ref_on:  # the reference watches too: its other settings are one component
            mine = {k: v for k, v in s["modules"]["surveillance"].items()
                    if k not in SURVEILLANCE_CATALOGUES}
            theirs = {k: v for k, v in ref_block.items() if k not in SURVEILLANCE_CATALOGUES}
            ov = _revert("modules.surveillance", mine, theirs)
            if ov:
                out.append(Component("surveillance:settings", "module",
                                     "surveillance settings as in the reference", tuple(ov)))
    elif name == "lists":
        ref_lists = ref_block.get("lists", {}) if ref_on else {}
        for lst, spec in s["modules"]["lists"].get("lists", {}).items():
            if ref_lists.get(lst) == spec:
                continue
            ov = (f"modules.lists.lists.{lst}=null", *_matrix_without(matrix, lst=lst))
            out.append(Component(f"list:{lst}", "list",
                                 f"list {lst} removed (and from the sanction matrix)", ov))
    else:
        ref_measures = ref_block.get("measures", {}) if ref_on else {}
        ref_matrix = ref_block.get("matrix", {}) if ref_on else {}
        for measure, spec in s["modules"]["sanctions"].get("measures", {}).items():
            cells = {a: c.get(measure) for a, c in matrix.items() if measure in c}
            ref_cells = {a: c.get(measure) for a, c in ref_matrix.items() if measure in c}
            if ref_measures.get(measure) == spec and cells == ref_cells:
                continue
            ov = (*_matrix_without(matrix, measure=measure),
                  f"modules.sanctions.measures.{measure}=null")
            out.append(Component(f"measure:{measure}", "measure",
                                 f"measure {measure} removed (and from the sanction matrix)",
                                 ov))
    return out


_NEEDED_BY = re.compile(r"module (\S+) reads")
_NEEDS = re.compile(r"cannot switch \S+ off: (.+?) needs? ")


def check_removable(scenario: Scenario, comp: Component) -> tuple[Scenario | None, str]:
    """(S − c, "") when the schema and the engine accept the switch-off, else
    (None, "cannot be removed alone: needed by …")."""
    from scslab.run.engine import EngineError, default_module_classes, order_modules
    from scslab.scenario import ScenarioError

    try:
        ablated = with_overrides(scenario, comp.overrides, f"without {comp.name}")
        order_modules(default_module_classes(ablated))
    except EngineError as exc:
        m = _NEEDED_BY.search(str(exc))
        who = m.group(1) if m else "another module"
        return None, f"cannot be removed alone: needed by {who} ({exc})"
    except (ScenarioError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        # the loader names who needs it: "cannot switch X off: Y (reads …) needs X; …"
        need = _NEEDS.search(reason)
        if need:
            return None, f"cannot be removed alone: needed by {need.group(1)}"
        field_ = getattr(exc, "field", None)
        where = f"{field_}: " if field_ else ""
        return None, f"cannot be removed alone: {where}{reason}"
    return ablated, ""


# --------------------------------------------------------------------------- result


@dataclass
class Attribution:
    """Runs of a scenario, its reference and the scenario without each component."""

    label: str
    reference: str
    metrics: list[str]
    components: list[Component]
    refused: dict[str, str]  # component name → reason
    summaries: pd.DataFrame  # scenario (= run), replicate, metric, value
    scenarios: dict[str, dict] = field(default_factory=dict)
    confounds: list[dict] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)

    @property
    def replicates(self) -> int:
        return int(self.summaries["replicate"].nunique())

    def _values(self, run: str, metric: str) -> Any:
        import numpy as np

        s = self.summaries
        v = s[(s["scenario"] == run) & (s["metric"] == metric)].sort_values("replicate")
        return v["value"].to_numpy(dtype=np.float64)

    def table(self) -> pd.DataFrame:
        """metric, component, kind, status, effect (+ 95 % t-interval), share (+ 95 %
        bootstrap interval), overrides; rows for the total and the interaction residual.
        ``total_zero`` flags a total whose interval includes 0 (shares unstable)."""
        import numpy as np
        import pandas as pd

        rows = []
        nan = float("nan")
        for m in self.metrics:
            full = self._values(FULL_RUN, m)
            total = full - self._values(REFERENCE_RUN, m)
            tm, tlo, thi = mean_stats(total)
            zero = not (np.isfinite(tlo) and (tlo > 0 or thi < 0))
            effects: dict[str, Any] = {}
            for c in self.components:
                if c.name not in self.refused:
                    effects[c.name] = full - self._values(c.name, m)
            residual = total - sum(effects.values(), np.zeros_like(total))
            shares = _bootstrap_shares(total, {**effects, RESIDUAL: residual},
                                       self.manifest.get("seed", 0))
            rows.append((m, TOTAL, "total", "", tm, tlo, thi, 1.0 if tm else nan, nan, nan, zero,
                         f"{self.label} − {self.reference}"))
            for c in self.components:
                if c.name in self.refused:
                    rows.append((m, c.name, c.kind, self.refused[c.name], nan, nan, nan, nan,
                                 nan, nan, zero, "; ".join(c.overrides)))
                    continue
                e = mean_stats(effects[c.name])
                rows.append((m, c.name, c.kind, "removed", *e, *shares[c.name], zero,
                             "; ".join(c.overrides)))
            rows.append((m, RESIDUAL, "residual", "", *mean_stats(residual), *shares[RESIDUAL],
                         zero, "total − Σ effects"))
        df = pd.DataFrame(rows, columns=["metric", "component", "kind", "status", "effect",
                                         "effect_low", "effect_high", "share", "share_low",
                                         "share_high", "total_zero", "overrides"])
        return df

    def plot(self, out: str | Path | None = None) -> dict[str, Any]:
        """One figure, ``attribution``: per metric, horizontal bars of each component's
        effect with its 95 % interval, beside the total and the residual."""
        from scslab.analysis.figures import save_figures

        figs = {"attribution": _figure(self)}
        if out is not None:
            save_figures(figs, Path(out))
        return figs

    def save(self, out, figures: bool = True, force: bool = False) -> Path:
        """Write the folder whole (``outfolder.py``): replicates.parquet,
        attribution.parquet/.csv/.json, scenarios/, figures/attribution.png into a staging
        sibling, then manifest.json last with every file's checksum, renamed into place.
        ``out`` is a path or an :class:`~scslab.run.outfolder.OutFolder` opened before the runs."""
        import json

        import pyarrow as pa
        import yaml

        from scslab.run.outfolder import OutFolder, OutFolderError
        from scslab.run.results import atomic_write_bytes, atomic_write_json, atomic_write_parquet

        try:
            folder = out if isinstance(out, OutFolder) else OutFolder(out, force=force).open()
            with folder:
                tmp = folder.path("")
                table = self.table()
                atomic_write_parquet(tmp / "replicates.parquet",
                                     pa.Table.from_pandas(self.summaries, preserve_index=False))
                atomic_write_parquet(tmp / "attribution.parquet",
                                     pa.Table.from_pandas(table, preserve_index=False))
                atomic_write_bytes(tmp / "attribution.csv", table.to_csv(index=False).encode())
                records = json.loads(table.to_json(orient="records"))
                atomic_write_json(tmp / "attribution.json", {
                    "scenario": self.label, "reference": self.reference,
                    "metrics": self.metrics, "replicates": self.replicates,
                    "confounds": self.confounds,
                    "components": [c.__dict__ | {"overrides": list(c.overrides),
                                                 "refused": self.refused.get(c.name)}
                                   for c in self.components],
                    "rows": records})
                for i, (run, resolved) in enumerate(self.scenarios.items()):
                    text = f"# {run}\n" + yaml.safe_dump(resolved, sort_keys=False,
                                                         allow_unicode=True)
                    atomic_write_bytes(tmp / "scenarios" / f"{i:02d}-{slug(run)}.yaml",
                                       text.encode())
                if figures:
                    self.plot(tmp / "figures")
                self.manifest = folder.commit(self.manifest)
        except OutFolderError as exc:
            raise CompareError(str(exc)) from None
        return folder.target


def _bootstrap_shares(total: Any, effects: dict[str, Any], seed: int) -> dict[str, tuple]:
    """share = mean(effect) / mean(total) with a 95 % percentile bootstrap interval over
    replicates (resampled jointly; a Philox generator keyed by the seed, so repeatable)."""
    import numpy as np

    n = len(total)
    nan = float("nan")
    mt = float(np.mean(total)) if n else nan
    out: dict[str, tuple] = {}
    rng = np.random.Generator(np.random.Philox(key=int(seed) % 2**64))
    idx = rng.integers(0, n, size=(BOOTSTRAP_DRAWS, n)) if n >= 2 else None
    with np.errstate(divide="ignore", invalid="ignore"):
        bt = total[idx].mean(axis=1) if idx is not None else None
        for name, e in effects.items():
            share = float(np.mean(e)) / mt if mt != 0 else nan
            if idx is None or not np.isfinite(share):
                out[name] = (share, nan, nan)
                continue
            b = e[idx].mean(axis=1) / bt
            b = b[np.isfinite(b)]
            lo, hi = (np.percentile(b, [2.5, 97.5]) if b.size else (nan, nan))
            out[name] = (share, float(lo), float(hi))
    return out


def _figure(att: Attribution) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from scslab._version import __version__

    t = att.table()
    n = len(att.metrics)
    rows = max(len(t[t["metric"] == m]) for m in att.metrics)
    fig, axes = plt.subplots(1, n, figsize=(7 * n, 1.2 + 0.45 * rows), squeeze=False)
    for ax, m in zip(axes[0], att.metrics, strict=True):
        sub = t[t["metric"] == m].iloc[::-1]
        y = np.arange(len(sub))
        eff = sub["effect"].to_numpy(dtype=float)
        err = np.vstack([eff - sub["effect_low"].to_numpy(dtype=float),
                         sub["effect_high"].to_numpy(dtype=float) - eff])
        colours = ["#444444" if k == "total" else "#999999" if k == "residual" else "#3b75af"
                   for k in sub["kind"]]
        ax.barh(y, np.nan_to_num(eff), xerr=np.nan_to_num(err), color=colours, capsize=3)
        labels = [f"{c} (refused)" if s not in ("", "removed") else c
                  for c, s in zip(sub["component"], sub["status"], strict=True)]
        ax.set_yticks(y, labels)
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel(f"effect on {m}: Y(S) − Y(S without it)")
        ax.set_title(f"{m}: {att.label} vs {att.reference}")
    fig.text(0.01, 0.005, f"scslab {__version__}, {att.manifest.get('people', '?'):,} people, "
             f"{att.replicates} replicates; bars: mean, whiskers: 95 % t-interval",
             fontsize=7)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


# --------------------------------------------------------------------------- running


def attribute(
    scenario: Any,
    reference: Any = "baseline",
    metrics: Sequence[str] | None = None,
    *,
    replicates: int = 3,
    people: int | None = None,
    days: int | None = None,
    burn_in: int | None = None,
    seed: int | None = None,
    sets: Sequence[str] = (),
    only: Sequence[str] | None = None,
    extra: Sequence[Component] = (),
    workers: int = 1,
    progress: JobProgress | None = None,
    command: list[str] | None = None,
) -> Attribution:
    """Attribute the effect of ``scenario`` against ``reference`` to its components.

    >>> a = attribute("rongcheng", "baseline", ["violation_rate"], replicates=3,
    ...               people=10_000, days=365)
    >>> a.table()     # metric, component, kind, status, effect (+ interval), share, ...

    ``only`` restricts the components by name; ``extra`` adds hand-made components.
    """
    if replicates < 2:
        raise CompareError("replicates must be at least 2: intervals need two or more")
    if workers < 1:
        raise CompareError("workers must be at least 1")
    (label, ref_label), (sc, ref) = load_specs([scenario, reference], sets, people=people,
                                               days=days, burn_in=burn_in, seed=seed)
    available = metric_names(sc) + [m for m in metric_names(ref) if m not in metric_names(sc)]
    chosen = select_metrics(available, list(metrics) if metrics else list(DEFAULT_METRICS))
    comps = [*components(sc, ref), *extra]
    names = [c.name for c in comps]
    if len(set(names)) != len(names):
        raise CompareError(f"component names repeat: {names}")
    if only:
        wanted = [x.strip() for item in only for x in item.split(",") if x.strip()]
        unknown = [w for w in wanted if w not in names]
        if unknown:
            raise CompareError(f"{', '.join(unknown)}: not a component of {label} against "
                               f"{ref_label}; its components: {', '.join(names) or 'none'}")
        comps = [c for c in comps if c.name in wanted]
    refused: dict[str, str] = {}
    runs: dict[str, Scenario] = {FULL_RUN: sc, REFERENCE_RUN: ref}
    for c in comps:
        if c.name in runs:
            raise CompareError(f"component name {c.name!r} is reserved")
        ablated, reason = check_removable(sc, c)
        if ablated is None:
            refused[c.name] = reason
        else:
            runs[c.name] = ablated
    t0 = time.perf_counter()
    reps = run_jobs(list(runs.values()), replicates, workers, progress)
    wall = time.perf_counter() - t0
    import pandas as pd

    from scslab.scenario import resolved_dict

    rows = [(run, r.replicate, k, float("nan") if v is None else float(v))
            for run, rr in zip(runs, reps, strict=True) for r in rr for k, v in r.summary.items()]
    summaries = pd.DataFrame(rows, columns=["scenario", "replicate", "metric", "value"])
    resolved = {run: resolved_dict(s) for run, s in runs.items()}
    found = confound_records(confounds([sc, ref], [label, ref_label]))
    manifest = base_manifest("attribute", wall, command)
    manifest.update({
        "scenario": label, "reference": ref_label, "metrics": chosen,
        "components": {c.name: list(c.overrides) for c in comps}, "refused": refused,
        "replicates": replicates, "seed": sc.seed, "people": sc.population.people,
        "days": sc.time.days, "burn_in": sc.time.burn_in, "workers": workers,
        "confounds": found, "scenarios": resolved})
    return Attribution(label=label, reference=ref_label, metrics=chosen, components=comps,
                       refused=refused, summaries=summaries, scenarios=resolved,
                       confounds=found, manifest=manifest)

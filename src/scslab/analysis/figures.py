"""Figures for runs, comparisons and explanations (matplotlib, Agg, no pyplot state).

Every figure should read without a caption: a title saying what is shown, axis labels with
units, a legend naming the scenarios, and a source note "scslab VERSION, N people, R
replicates". Figures whose metrics a run did not produce (false sanctions, income lost,
chilled expression, exposure) are skipped silently, so the set grows with the mechanisms.

* :func:`comparison_figures` — for :class:`scslab.analysis.compare.Comparison` (``plot()``);
* :func:`run_figures` — for one run's :class:`scslab.run.results.Results`;
* :func:`decomposition_figure` — for :class:`scslab.analysis.explain.Explanation`.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scslab.analysis.tables import unit_of

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from scslab.analysis.tables import ComparisonLike, ExplanationLike
    from scslab.run.results import Results

MAX_SERIES_PANELS = 9
MAX_GROUP_PANELS = 6


def source_note(people: int, replicates: int, extra: str = "") -> str:
    from scslab._version import __version__

    note = (f"scslab {__version__}, {people:,} people, {replicates} "
            f"replicate{'s' if replicates != 1 else ''}")
    return f"{note}; {extra}" if extra else note


def _figure(width: float, height: float, legend_rows: int = 0) -> Figure:
    """A constrained-layout figure leaving room at the bottom (in inches, so it does not
    depend on the height) for a figure legend and the source note."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    bottom = (0.25 + 0.22 * legend_rows) / height
    fig.get_layout_engine().set(rect=(0.0, bottom, 1.0, 1.0 - bottom))
    return fig


def _legend(fig: Figure, ax, ncols: int) -> None:
    """The figure legend, centred under the panels, above the source note."""
    handles, names = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, names, loc="lower center", ncols=ncols, fontsize=8,
                   frameon=False, bbox_to_anchor=(0.5, 0.2 / fig.get_figheight()))


def _note(fig: Figure, text: str) -> None:
    fig.text(0.995, 0.03 / fig.get_figheight(), text, ha="right", va="bottom", fontsize=7,
             color="0.35")


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _stats(values: Any, metric: str | None = None) -> tuple[float, float, float]:
    from scslab.analysis.tables import mean_stats

    return mean_stats(values, metric)


def _legend_rows(labels: Sequence[str], ncols: int, extra: bool = False) -> int:
    return math.ceil((len(labels) + extra) / max(1, ncols))


def _nonnegative(values: Any) -> bool:
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return bool((v >= 0).all())


def _varies(values: Any) -> bool:
    """False when a metric is zero or undefined everywhere (a flat panel says nothing)."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return bool(v.size) and bool((v != 0).any())


def _grid(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2 if n <= 4 else 3
    return math.ceil(n / cols), cols


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure (for files and for base64 embedding in the report)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


FIGURE_NAMES = ("timeseries", "groups", "harm", "chilling", "exposure", "decomposition")


def warm_up_drawing() -> None:
    """Draw a small figure with the artists the run's figures use (lines, bands, bars
    with whiskers, a legend, titles, a note), and reshape a small frame as the time series
    does: a process's first figure costs ~0.1 s more than its next (fonts loaded, code
    paths first run), which a helper pays while the run simulates (``figure_helper``)."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"day": [0, 1, 0, 1], "replicate": [0, 0, 1, 1],
                          "value": [0.0, 1.0, 2.0, 3.0]})
    frame.pivot_table(index="day", columns="replicate", values="value",
                      dropna=False).rolling(2, min_periods=1).mean()
    fig = _figure(4.0, 3.0, 1)
    left, right = fig.subplots(1, 2, squeeze=False).ravel()
    x = np.arange(3.0)
    left.plot(x, x, label="a")
    left.fill_between(x, x - 0.5, x + 0.5, alpha=0.2, lw=0)
    left.axvspan(0, 1, color="0.9", zorder=0)
    left.set(title="a", xlabel="day", ylabel="share")
    left.grid(alpha=0.3)
    right.bar(x, x, 0.4, yerr=np.ones((2, 3)), capsize=3)
    right.set_xticks(x, ["a", "b", "c"])
    _legend(fig, left, 1)
    fig.suptitle("warm-up\n(first figure)", fontsize=10)
    _note(fig, "note")
    figure_png(fig)


def render_figures(figs: dict[str, Figure]) -> dict[str, bytes]:
    """Each figure's PNG bytes, drawn once: a folder's files and its report embed the same
    bytes (drawing is most of the time a figure costs)."""
    return {name: figure_png(fig) for name, fig in figs.items()}


def save_figures(figs: dict[str, Figure | bytes], out: Path) -> list[Path]:
    """Write each figure (or its PNG bytes, ``render_figures``) as ``out/NAME.png``
    atomically; remove a stale scslab figure that this set no longer has (e.g. after a
    rebuild)."""
    from scslab.run.results import atomic_write_bytes

    out = Path(out)
    for name in FIGURE_NAMES:
        if name not in figs:
            (out / f"{name}.png").unlink(missing_ok=True)
    paths = []
    for name, fig in figs.items():
        path = out / f"{name}.png"
        atomic_write_bytes(path, fig if isinstance(fig, bytes) else figure_png(fig))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- panels


def timeseries_figure(
    series: pd.DataFrame, labels: Sequence[str], metrics: Sequence[str], burn_in: int,
    note: str, title: str = "Outcomes day by day",
) -> Figure | None:
    """Mean over replicates per day (7-day rolling mean) with a 95 % band over replicates;
    the burn-in is shaded."""
    import numpy as np
    import pandas as pd

    from scslab.run.results import metric_bounds, t_quantile_975

    # each row's metric as an integer code, found once: a tidy series can hold 10^8 rows
    # (an ensemble's), over which a comparison of strings per metric takes seconds
    codes, names = pd.factorize(series["metric"])  # 8 B a row; −1 for a missing name
    code_of = {m: c for c, m in enumerate(names)}
    metrics = [m for m in metrics if m in code_of]
    values = series["value"].to_numpy(dtype=np.float64)
    # what _varies asks of each metric's values: any finite and nonzero (a 1-byte mask)
    hit = np.isfinite(values)
    hit &= values != 0
    hit &= codes >= 0
    varies = np.bincount(codes[hit], minlength=len(names)) > 0
    del hit
    flat = [m for m in metrics if not varies[code_of[m]]]
    metrics = [m for m in metrics if m not in flat][:MAX_SERIES_PANELS]
    if not metrics:
        return None
    rows, cols = _grid(len(metrics))
    ncols = min(len(labels) + (burn_in > 0), 3)
    fig = _figure(5.0 * cols, 3.0 * rows + 0.8, _legend_rows(labels, ncols, burn_in > 0))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    colors = _colors(len(labels))
    n_days = int(series["day"].max()) + 1
    window = 7 if n_days - burn_in >= 28 else 1
    for ax, m in zip(axes, metrics, strict=False):
        sub = series[codes == code_of[m]]
        for color, label in zip(colors, labels, strict=True):
            s = sub[sub["scenario"] == label]
            if s.empty:
                continue
            wide = s.pivot_table(index="day", columns="replicate", values="value",
                                 dropna=False).sort_index()
            if window > 1:
                wide = wide.rolling(window, min_periods=1).mean()
            vals = wide.to_numpy(dtype=np.float64)
            with np.errstate(invalid="ignore"):
                n = np.isfinite(vals).sum(axis=1)
                mean = np.nanmean(np.where(n[:, None] > 0, vals, 0.0), axis=1)
                mean[n == 0] = np.nan
            days = wide.index.to_numpy()
            ax.plot(days, mean, color=color, lw=1.3, label=label)
            if vals.shape[1] > 1:
                with np.errstate(invalid="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # days with < 2 values
                    sd = np.nanstd(vals, axis=1, ddof=1)
                    half = np.array([t_quantile_975(int(k) - 1) if k > 1 else np.nan
                                     for k in n]) * sd / np.sqrt(np.maximum(n, 1))
                low, high = mean - half, mean + half
                lo_b, hi_b = metric_bounds(m)
                if np.nanmin(vals, initial=0.0) >= 0:  # a rate or share: the band stops at 0
                    low = np.maximum(low, max(lo_b, 0.0))
                if np.nanmax(vals, initial=0.0) <= hi_b:  # a share's band stops at 1
                    high = np.minimum(high, hi_b)
                ax.fill_between(days, low, high, color=color, alpha=0.2, lw=0)
        if burn_in > 0:
            ax.axvspan(0, burn_in, color="0.9", zorder=0, label="burn-in (not measured)")
        ax.set_title(m, fontsize=10)
        ax.set_xlabel("day")
        ax.set_ylabel(unit_of(m), fontsize=8)
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    _legend(fig, axes[0], ncols)
    smooth = f"{window}-day rolling mean" if window > 1 else "daily value"
    sub = f"(line: {smooth}, mean of replicates; band: 95 % interval over replicates)"
    if flat:
        import textwrap

        sub += "\n" + textwrap.fill("zero or undefined throughout, not shown: " + ", ".join(flat),
                                    int(fig.get_figwidth() * 14))
    fig.suptitle(f"{title}\n{sub}", fontsize=10)
    _note(fig, note)
    return fig


def group_bars_figure(
    summaries: pd.DataFrame, labels: Sequence[str], metrics: Sequence[str],
    groups: Sequence[str], note: str, title: str = "Outcomes by group",
) -> Figure | None:
    """Each metric per group, one bar per scenario, whiskers the 95 % interval over
    replicates (measured period)."""
    import numpy as np

    have = set(summaries["metric"])
    metrics = [m for m in metrics if "[" not in m
               and any(f"{m}[group={g}]" in have for g in groups)
               and _varies(summaries.loc[summaries["metric"].isin(
                   [f"{m}[group={g}]" for g in groups]), "value"])][:MAX_GROUP_PANELS]
    if not metrics or not groups:
        return None
    rows, cols = _grid(len(metrics))
    ncols = min(len(labels), 3)
    fig = _figure(max(4.5, 1.0 + 1.4 * len(groups) * max(1, len(labels)) / 2) * cols,
                  3.2 * rows + 0.8, _legend_rows(labels, ncols))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    colors = _colors(len(labels))
    width = 0.8 / max(1, len(labels))
    x = np.arange(len(groups))
    for ax, m in zip(axes, metrics, strict=False):
        for i, (color, label) in enumerate(zip(colors, labels, strict=True)):
            stats = []
            for g in groups:
                v = summaries.loc[(summaries["scenario"] == label)
                                  & (summaries["metric"] == f"{m}[group={g}]"), "value"]
                stats.append(_stats(v.to_numpy(), m))
            mean = np.array([s[0] for s in stats])
            low = np.array([s[1] for s in stats])
            if _nonnegative(summaries.loc[summaries["metric"].str.startswith(m + "["), "value"]):
                low = np.maximum(low, 0.0)  # a rate or share: the whisker stops at 0
            high = np.array([s[2] for s in stats])
            err = np.vstack([mean - low, high - mean])
            err = np.where(np.isfinite(err), err, 0.0)
            ax.bar(x + (i - (len(labels) - 1) / 2) * width, np.nan_to_num(mean), width,
                   yerr=err, capsize=3, color=color, label=label, ecolor="0.2")
        ax.set_xticks(x, [f"{g}" for g in groups])
        ax.set_xlabel("group")
        ax.set_title(m, fontsize=10)
        ax.set_ylabel(unit_of(m), fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    _legend(fig, axes[0], ncols)
    fig.suptitle(f"{title}\n(measured period; whiskers: 95 % interval over replicates)",
                 fontsize=11)
    _note(fig, note)
    return fig


def _scenario_bars(ax, summaries, labels, metric, colors, offset=0.0, width=0.8, **kw):
    import numpy as np

    means, errs = [], []
    for label in labels:
        v = summaries.loc[(summaries["scenario"] == label) & (summaries["metric"] == metric),
                          "value"].to_numpy()
        m, lo, hi = _stats(v, metric)
        if _nonnegative(v):
            lo = max(lo, 0.0)
        means.append(m)
        errs.append((m - lo, hi - m))
    err = np.nan_to_num(np.array(errs, dtype=float).T)
    x = np.arange(len(labels)) + offset
    ax.bar(x, np.nan_to_num(np.array(means, dtype=float)), width, yerr=err, capsize=3,
           color=colors, ecolor="0.2", **kw)
    return x


def harm_figure(summaries: pd.DataFrame, labels: Sequence[str], note: str) -> Figure | None:
    """False sanctions, and income lost by people who offended (true) vs people who did
    not (false) — only the panels whose metrics the runs produced."""
    have = {m for m in ("false_sanction_rate", "income_lost_true", "income_lost_false")
            if _varies(summaries.loc[summaries["metric"] == m, "value"])}
    panels = []
    if "false_sanction_rate" in have:
        panels.append("false")
    if {"income_lost_true", "income_lost_false"} & have:
        panels.append("income")
    if not panels:
        return None
    fig = _figure(max(5.0, 1.2 * len(labels) + 2.5) * len(panels), 4.2)
    axes = fig.subplots(1, len(panels), squeeze=False).ravel()
    colors = _colors(len(labels))
    for ax, panel in zip(axes, panels, strict=True):
        if panel == "false":
            x = _scenario_bars(ax, summaries, labels, "false_sanction_rate", colors)
            ax.set_title("False sanctions", fontsize=10)
            ax.set_ylabel(unit_of("false_sanction_rate"), fontsize=8)
        else:
            import numpy as np

            x = np.arange(len(labels))
            for off, metric, hatch, name in ((-0.2, "income_lost_true", "", "offended (true)"),
                                             (0.2, "income_lost_false", "//",
                                              "did not offend (false)")):
                if metric in have:
                    _scenario_bars(ax, summaries, labels, metric, colors, offset=off, width=0.4,
                                   hatch=hatch, edgecolor="white", label=name)
            ax.set_title("Income lost to sanctions: true vs false", fontsize=10)
            ax.set_ylabel(unit_of("income_lost_true"), fontsize=8)
            ax.legend(fontsize=8, frameon=False)
        ax.set_xticks(x if panel == "false" else np.arange(len(labels)), labels,
                      rotation=15, ha="right", fontsize=8)
        ax.set_xlabel("scenario")
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Who pays for the system's errors\n(measured period; whiskers: 95 % "
                 "interval over replicates)", fontsize=11)
    _note(fig, note)
    return fig


def chilling_figure(comp: ComparisonLike, note: str) -> Figure | None:
    """Chilled expression per scenario (direct), beside the total from the twin runs."""
    import numpy as np

    from scslab.analysis.tables import DIRECT_CHILLING_METRIC

    s = comp.summaries
    if not _varies(s.loc[s["metric"] == DIRECT_CHILLING_METRIC, "value"]):
        return None
    labels = comp.labels
    fig = _figure(max(5.5, 1.3 * len(labels) + 3), 4.2)
    ax = fig.subplots()
    colors = _colors(len(labels))
    width = 0.4 if comp.twins else 0.8
    _scenario_bars(ax, s, labels, DIRECT_CHILLING_METRIC, colors,
                   offset=-0.2 if comp.twins else 0.0, width=width, label="direct")
    if comp.twins:
        ch = comp.chilling().set_index("scenario")
        x = np.arange(len(labels)) + 0.2
        m = np.array([ch.loc[lab, "total"] if lab in ch.index else np.nan for lab in labels])
        lo = np.array([ch.loc[lab, "total_low"] if lab in ch.index else np.nan for lab in labels])
        hi = np.array([ch.loc[lab, "total_high"] if lab in ch.index else np.nan for lab in labels])
        ax.bar(x, np.nan_to_num(m), width, yerr=np.nan_to_num(np.vstack([m - lo, hi - m])),
               capsize=3, color=colors, hatch="//", edgecolor="white", ecolor="0.2",
               label="total (vs twin without expression-venue surveillance)")
        ax.legend(fontsize=8, frameon=False)
    ax.set_xticks(np.arange(len(labels)), labels, rotation=15, ha="right", fontsize=8)
    ax.set_xlabel("scenario")
    ax.set_ylabel(unit_of(DIRECT_CHILLING_METRIC), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Chilled lawful expression\n(measured period; whiskers: 95 % interval over "
                 "replicates)", fontsize=11)
    _note(fig, note)
    return fig


def decomposition_figure(exp: ExplanationLike) -> Figure:
    """Share of the group disparity removed by equalising each cause (with 95 % intervals),
    all causes together, and the residual."""
    import numpy as np

    t = exp.table()
    t = t[t["kind"] != "base"]
    names = list(t["run"])
    m = t["share"].to_numpy(dtype=float)
    lo = t["share_low"].to_numpy(dtype=float)
    hi = t["share_high"].to_numpy(dtype=float)
    fig = _figure(9.0, 1.0 + 0.55 * len(names) + 1.4)
    ax = fig.subplots()
    y = np.arange(len(names))[::-1]
    kind_color = {"cause": "tab:blue", "all": "tab:green", "residual": "0.6"}
    colors = [kind_color.get(k, "tab:blue") for k in t["kind"]]
    err = np.nan_to_num(np.vstack([m - lo, hi - m]))
    ax.barh(y, np.nan_to_num(m), xerr=err, capsize=3, color=colors, ecolor="0.2")
    for yi, mi, hi_ in zip(y, m, hi, strict=True):
        if np.isfinite(mi):
            x = max(mi, hi_ if np.isfinite(hi_) else mi, 0.0)
            ax.text(x, yi, f"  {0.0 if abs(mi) < 0.005 else mi:.2f}", va="center",
                    ha="left", fontsize=8)
    ax.set_yticks(y, names)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.axvline(1, color="0.3", lw=0.8, ls=":")
    ax.set_xlabel("share of the disparity removed by equalising the cause (1 = all of it)")
    ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        f"Why does {exp.metric} differ between {exp.group_a} and {exp.group_b}?\n"
        f"base disparity ({exp.measure} of {exp.group_a} to {exp.group_b}): "
        f"{exp.base_text()}\n(bars: mean share over replicates; whiskers: 95 % interval; "
        "shares need not add up when causes interact)", fontsize=10)
    _note(fig, source_note(exp.people, exp.replicates, exp.label))
    return fig


# --------------------------------------------------------------------------- sets


def _groups_of(resolved: dict) -> list[str]:
    return list((resolved.get("population") or {}).get("groups") or {})


def comparison_figures(comp: ComparisonLike) -> dict[str, Figure]:
    """Every figure a comparison supports, keyed by file name."""
    first = comp.scenarios[comp.labels[0]]
    note = source_note(comp.people, comp.replicates)
    overall = [m for m in comp.shown_metrics() if "[" not in m]
    figs: dict[str, Any] = {
        "timeseries": timeseries_figure(comp.series, comp.labels, overall,
                                        int(first["time"]["burn_in"]), note),
        "groups": group_bars_figure(comp.summaries, comp.labels, overall, _groups_of(first),
                                    note),
        "harm": harm_figure(comp.summaries, comp.labels, note),
        "chilling": chilling_figure(comp, note),
        "exposure": group_bars_figure(comp.summaries, comp.labels, ["exposure"],
                                      _groups_of(first), note,
                                      title="Privacy exposure by group"),
    }
    return {k: v for k, v in figs.items() if v is not None}


#: a run's figures, in the order they are drawn and written
RUN_FIGURES = ("timeseries", "groups", "harm", "exposure")


def run_figures(results: Results, out: str | Path | None = None,
                only: Sequence[str] = RUN_FIGURES) -> dict[str, Figure]:
    """Figures of one run (time series, groups, harms, exposure); with ``out``, written as
    PNG files there. For ``scslab run --out``. ``only`` builds those of them alone (the
    series frame is made only for the time series): a helper process and its fork draw
    them in two shares (``figure_helper``)."""
    from scslab.analysis.tables import series_frame, summaries_frame

    unknown = set(only) - set(RUN_FIGURES)
    if unknown:
        raise ValueError(f"no run figure named {', '.join(sorted(unknown))}")
    label = results.name
    sc = results.scenario
    note = source_note(int(sc["population"]["people"]), len(results.replicates))
    groups = _groups_of(sc)
    summaries = summaries_frame(label, results.replicates)  # also names the series' metrics
    overall = [m for m in dict.fromkeys(summaries["metric"]) if "[" not in m]
    figs: dict[str, Any] = {}
    if "timeseries" in only:
        series = series_frame(label, results.replicates)
        figs["timeseries"] = timeseries_figure(
            series, [label], overall, int(sc["time"]["burn_in"]), note,
            title=f"{label}: outcomes day by day")
        del series
    if "groups" in only:
        figs["groups"] = group_bars_figure(summaries, [label], overall, groups, note,
                                           title=f"{label}: outcomes by group")
    if "harm" in only:
        figs["harm"] = harm_figure(summaries, [label], note)
    if "exposure" in only:
        figs["exposure"] = group_bars_figure(summaries, [label], ["exposure"], groups, note,
                                             title=f"{label}: privacy exposure by group")
    figs = {k: v for k, v in figs.items() if v is not None}
    if out is not None:
        save_figures(figs, Path(out))
    return figs

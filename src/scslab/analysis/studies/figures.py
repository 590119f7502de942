"""Figures of a study (matplotlib, Agg, no pyplot state): Morris mu*–sigma, Sobol bars,
and the distribution of each contrast over the sampled space."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from scslab.analysis.studies.analysis import StudyAnalysis
    from scslab.analysis.studies.spec import ResolvedStudy

MAX_PANELS = 12


def _grid(n: int) -> tuple[int, int]:
    cols = 1 if n == 1 else 2 if n <= 4 else 3
    return math.ceil(n / cols), cols


def _new(n: int, width_per: float = 4.6, height_per: float = 3.4) -> tuple[Figure, list]:
    from matplotlib.figure import Figure

    rows, cols = _grid(n)
    fig = Figure(figsize=(width_per * cols, height_per * rows + 0.4), dpi=100,
                 layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _note(fig: Figure, study: ResolvedStudy, samples: int) -> None:
    from scslab.analysis.figures import source_note

    fig.supxlabel(source_note(study.spec.people, study.spec.replicates,
                              f"{study.spec.design.method} design, {samples} samples"),
                  fontsize=7, color="0.35", ha="right", x=0.995)


def morris_figure(study: ResolvedStudy, sens: pd.DataFrame, samples: int) -> Figure | None:
    """mu* against sigma per target: far right = influential, high = non-linear or
    interacting."""
    data = sens[sens["index"].isin(["mu_star", "sigma"])]
    targets = list(dict.fromkeys(data["target"]))[:MAX_PANELS]
    if not targets:
        return None
    fig, axes = _new(len(targets))
    factors = study.factor_names
    from matplotlib import colormaps
    from matplotlib.ticker import MaxNLocator

    cmap = colormaps["tab10"]
    for ax, target in zip(axes, targets, strict=True):
        g = data[data["target"] == target]
        xmax = ymax = 0.0
        for j, f in enumerate(factors):
            ms = g[(g["factor"] == f) & (g["index"] == "mu_star")]
            sg = g[(g["factor"] == f) & (g["index"] == "sigma")]
            if ms.empty:
                continue
            x = float(ms["value"].iloc[0])
            xerr = [[x - float(ms["low"].iloc[0])], [float(ms["high"].iloc[0]) - x]]
            y = float(sg["value"].iloc[0])
            ax.errorbar(x, y, xerr=xerr, fmt="o", color=cmap(j % 10), label=f, capsize=3)
            xmax = max(xmax, float(ms["high"].iloc[0]) if ms["high"].notna().all() else x)
            ymax = max(ymax, y)
        ax.set_title(target, fontsize=9)
        ax.set_xlabel("mu* (mean |elementary effect|), 95 % bootstrap")
        ax.set_ylabel("sigma (sd of elementary effects)")
        ax.set_xlim(0, xmax * 1.15 or 1.0)
        ax.set_ylim(0, ymax * 1.2 or 1.0)
        ax.ticklabel_format(style="sci", scilimits=(-2, 3))
        ax.xaxis.set_major_locator(MaxNLocator(5))
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle("Morris screening: which assumptions drive each result", fontsize=11)
    _note(fig, study, samples)
    return fig


def sobol_figure(study: ResolvedStudy, sens: pd.DataFrame, samples: int) -> Figure | None:
    """First-order (S1) and total (ST) indices per factor, with 95 % whiskers: Sobol, or
    S1 alone from RBD-FAST on a Latin hypercube."""
    import numpy as np

    data = sens[sens["index"].isin(["S1", "ST"])]
    targets = list(dict.fromkeys(data["target"]))[:MAX_PANELS]
    if not targets:
        return None
    fig, axes = _new(len(targets))
    factors = study.factor_names
    pos = np.arange(len(factors))
    kinds = [k for k in (("S1", "tab:blue"), ("ST", "tab:orange")) if (data["index"] == k[0]).any()]
    for ax, target in zip(axes, targets, strict=True):
        g = data[data["target"] == target]
        for k, (idx, color) in enumerate(kinds):
            vals, lo, hi = [], [], []
            for f in factors:
                r = g[(g["factor"] == f) & (g["index"] == idx)]
                v = float(r["value"].iloc[0]) if len(r) else np.nan
                vals.append(v)
                lo.append(v - float(r["low"].iloc[0]) if len(r) else 0)
                hi.append(float(r["high"].iloc[0]) - v if len(r) else 0)
            ax.bar(pos + (k - 0.5) * 0.4, vals, 0.4, color=color, label=idx,
                   yerr=[lo, hi], capsize=3)
        ax.set_xticks(pos, factors, rotation=20, ha="right", fontsize=7)
        ax.set_title(target, fontsize=9)
        ax.set_ylabel("share of output variance")
        ax.axhline(0, color="0.5", lw=0.8)
    axes[0].legend(fontsize=7)
    title = ("Sobol indices: first order (alone) and total (with interactions)"
             if len(kinds) == 2 else "First-order indices (RBD-FAST on the Latin hypercube)")
    fig.suptitle(title, fontsize=11)
    _note(fig, study, samples)
    return fig


def contrast_figure(study: ResolvedStudy, analysis: StudyAnalysis, samples: int
                    ) -> Figure | None:
    """Histogram over samples of each contrast's mean paired difference, zero marked,
    with the share keeping its sign and the combined interval."""
    import numpy as np

    eff = analysis.effects
    pairs = list(dict.fromkeys(zip(eff["contrast"], eff["output"], strict=True)))[:MAX_PANELS]
    if not pairs:
        return None
    fig, axes = _new(len(pairs))
    rob = analysis.robustness
    for ax, (c, o) in zip(axes, pairs, strict=True):
        m = eff[(eff["contrast"] == c) & (eff["output"] == o)]["mean"].to_numpy(np.float64)
        m = m[np.isfinite(m)]
        ax.hist(m, bins=max(5, min(30, m.size // 2 or 1)), color="tab:blue", alpha=0.75)
        ax.axvline(0, color="black", lw=1)
        r = rob[(rob["contrast"] == c) & (rob["output"] == o)]
        if len(r):
            r = r.iloc[0]
            if np.isfinite(r["low"]) and r["high"] > r["low"]:
                ax.axvspan(r["low"], r["high"], color="tab:orange", alpha=0.15,
                           label="95 % combined interval")
                ax.legend(fontsize=7)
            if r["sign"] == 0:
                shares = f"no difference in {r['share_same_sign']:.0%} of samples"
            else:
                shares = (f"same sign in {r['share_same_sign']:.0%}, interval excludes 0 "
                          f"in {r['share_excludes_zero']:.0%}")
            ax.set_title(f"{o}: {c}\n{shares}", fontsize=8)
        ax.set_xlabel("paired difference, mean over replicates")
        ax.set_ylabel("samples")
    fig.suptitle("Contrasts over the sampled space", fontsize=11)
    _note(fig, study, samples)
    return fig


def study_figures(study: ResolvedStudy, analysis: StudyAnalysis, samples: int
                  ) -> dict[str, Figure]:
    figs = {"morris": morris_figure(study, analysis.sensitivity, samples),
            "sobol": sobol_figure(study, analysis.sensitivity, samples),
            "contrasts": contrast_figure(study, analysis, samples)}
    return {k: v for k, v in figs.items() if v is not None}

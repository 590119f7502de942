"""Writing a world's result: Parquet tables, a figure and a short report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from scslab.adoption.run import WorldResult


def figure(result: WorldResult, path: Path) -> None:
    """One panel per society: share of replicates with each component in force."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = result.adoption()
    societies = list(result.spec.societies)
    fig, axes = plt.subplots(1, len(societies), figsize=(3.2 * len(societies), 3.0),
                             sharey=True, squeeze=False)
    for ax, s in zip(axes[0], societies, strict=True):
        for c in result.spec.components:
            t = table[(table.society == s) & (table.component == c)]
            ax.plot(t.period, t.share, marker="o", label=c)
            ax.fill_between(t.period, t.low, t.high, alpha=0.15)
        ax.set_title(s)
        ax.set_xlabel("period")
        ax.set_ylim(-0.05, 1.05)
    axes[0][0].set_ylabel("share of replicates in force")
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(f"{result.spec.name}: adoption timelines ({result.replicates} replicates)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def report(result: WorldResult) -> str:
    """Markdown: the last period's adoption shares and each society's outcomes."""
    spec = result.spec
    table = result.adoption()
    last = table[table.period == table.period.max()]
    lines = [f"# World {spec.name}", "", spec.description.strip(), "",
             f"{result.replicates} replicates, {result.manifest.get('people')} people, "
             f"{result.manifest.get('periods')} periods of {spec.period_days} days.", "",
             "## In force at the last period (share of replicates, 90 % Wilson interval)", "",
             "| society | " + " | ".join(spec.components) + " |",
             "|---|" + "---|" * len(spec.components)]
    for s in spec.societies:
        cells = []
        for c in spec.components:
            row = last[(last.society == s) & (last.component == c)].iloc[0]
            cells.append(f"{row.share:.2f} [{row.low:.2f}, {row.high:.2f}]")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    obs = result.observations.groupby("society", sort=False)[
        ["violation_rate", "approval", "institutional_trust", "cost"]].mean()
    lines += ["", "## Outcomes (mean over periods and replicates)", "",
              "| society | violation rate | approval | institutional trust | cost |",
              "|---|---|---|---|---|"]
    for s, r in obs.iterrows():
        lines.append(f"| {s} | {r.violation_rate:.5f} | {r.approval:.3f} | "
                     f"{r.institutional_trust:.3f} | {r.cost:.2f} |")
    return "\n".join(lines) + "\n"


def write(result: WorldResult, staging: Path) -> None:
    """timelines.parquet, observations.parquet, adoption.parquet, adoption.png, report.md."""
    result.timelines.to_parquet(staging / "timelines.parquet", index=False)
    result.observations.to_parquet(staging / "observations.parquet", index=False)
    pd.DataFrame(result.adoption()).to_parquet(staging / "adoption.parquet", index=False)
    figure(result, staging / "adoption.png")
    (staging / "report.md").write_text(report(result), encoding="utf-8")

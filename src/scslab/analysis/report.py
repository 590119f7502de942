"""Output directories and the self-contained HTML report of a comparison or explanation.

A comparison directory (``scslab compare ... --out DIR``)::

    replicates.parquet   scenario, replicate, metric, value    (every replicate's summary)
    series.parquet       scenario, replicate, day, metric, value
    comparison.parquet   the comparison table (theme, metric, scenario, mean, low, high,
                         diff, diff_low, diff_high) — derived from replicates.parquet
    scenarios/NN-LABEL.yaml   each resolved scenario
    figures/*.png
    report.html          figures embedded, tables, scenarios, manifest, "What is assumed"
    manifest.json        written last: a directory with a manifest is complete

An explanation directory (``scslab explain ... --out DIR``) holds ``replicates.parquet``
(scenario = run), ``disparity.parquet``, ``explanation.parquet``, the scenarios, the
decomposition figure, the report and the manifest. ``scslab report DIR`` rebuilds the
report (and figures) from the stored files without running anything: every table is
derived from ``replicates.parquet`` by the same code, so it comes out identical.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scslab.analysis.html import figure_html, page_html, table_html
from scslab.analysis.summary import fmt
from scslab.analysis.tables import CompareError, ComparisonLike, ExplanationLike, slug

if TYPE_CHECKING:
    import pandas as pd

    from scslab.run.outfolder import OutFolder


def _num(x: Any) -> float | None:
    import math

    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def interval_text(mean: Any, low: Any, high: Any) -> str:
    """``mean [low, high]`` with '—' where undefined."""
    m, lo, hi = _num(mean), _num(low), _num(high)
    if m is None:
        return "—"
    if lo is None or hi is None:
        return fmt(m)
    return f"{fmt(m)} [{fmt(lo)}, {fmt(hi)}]"


def comparison_rows(table: pd.DataFrame, labels: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """The comparison table side by side: header and rows (theme, metric, one cell per
    scenario, one paired-difference cell per scenario after the first). Shared by the
    terminal table and the report."""
    header = ["theme", "metric", *labels, *[f"Δ {lab} − {labels[0]}" for lab in labels[1:]]]
    rows = []
    for (theme, metric), g in table.groupby(["theme", "metric"], sort=False):
        g = g.set_index("scenario")
        cells = [interval_text(*g.loc[lab, ["mean", "low", "high"]]) if lab in g.index else "—"
                 for lab in labels]
        diffs = [interval_text(*g.loc[lab, ["diff", "diff_low", "diff_high"]])
                 if lab in g.index else "—" for lab in labels[1:]]
        rows.append([str(theme), str(metric), *cells, *diffs])
    return header, rows


def explanation_rows(exp: ExplanationLike) -> tuple[list[str], list[list[str]]]:
    t = exp.table()
    header = ["run", "what is equalised", "overrides", f"{exp.metric} [{exp.group_a}]",
              f"{exp.metric} [{exp.group_b}]", f"disparity ({exp.measure})",
              "share of base disparity removed"]
    rows = []
    for _, r in t.iterrows():
        rows.append([r["run"], r["description"], r["overrides"] or "—",
                     interval_text(r["value_a"], None, None),
                     interval_text(r["value_b"], None, None),
                     interval_text(r["disparity"], r["disparity_low"], r["disparity_high"]),
                     interval_text(r["share"], r["share_low"], r["share_high"])])
    return header, rows


def twin_rows(comp: ComparisonLike) -> tuple[list[str], list[list[str]]]:
    ch = comp.chilling()
    header = ["scenario", "total chilling effect (twin − scenario expression_rate)",
              "direct chilling (chilled_expression)", "twin overrides"]
    rows = [[r["scenario"], interval_text(r["total"], r["total_low"], r["total_high"]),
             interval_text(r["direct"], r["direct_low"], r["direct_high"]),
             r["twin_overrides"]] for _, r in ch.iterrows()]
    return header, rows


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1200px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.88em;margin:.6em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;vertical-align:top}
th{background:#f3f3f3}td:first-child,td:nth-child(2),th:first-child{text-align:left}
figure{margin:1.5em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}pre{background:#f7f7f7;padding:.8em;overflow:auto;
font-size:.8em}.note{color:#555;font-size:.9em}
"""


def _figures_html(figs: dict[str, Any], captions: dict[str, str]) -> str:
    from scslab.analysis.figures import figure_png

    return "\n".join(figure_html(fig if isinstance(fig, bytes) else figure_png(fig), name,
                                 captions.get(name, name))
                     for name, fig in figs.items())


def assumed_rows(scenarios: dict[str, dict]) -> tuple[list[str], list[list[str]]]:
    """One row per calibrated input (the whole register, scslab.core.calibration) with how it
    was calibrated, the output it makes given, and the value each scenario used."""
    from scslab.core.calibration import calibrated_inputs, group_overrides, scenario_value

    labels = list(scenarios)
    header = ["parameter", "published figure", "how", "given output", "source", "tag",
              *labels]
    rows = []
    for c in calibrated_inputs():
        cells = []
        for lab in labels:
            v = scenario_value(scenarios[lab], c.path)
            text = "—" if v is None else str(v)
            over = group_overrides(scenarios[lab], c.path)
            if over:
                text += " (" + ", ".join(f"{g}: {x}" for g, x in over.items()) + ")"
            cells.append(text)
        how = c.method if c.fitted is None else f"{c.method}: {c.fitted}"
        given = "—" if c.target is None else (
            c.target + ("" if c.target_value is None else f" = {c.target_value}"))
        rows.append([c.path, f"{c.value} — {c.figure}", how, given, c.citation, c.tag,
                     *cells])
    return header, rows


def mark_given(rows: list[list[str]], scenarios: dict[str, dict]) -> list[list[str]]:
    """Outcome rows (theme, metric, ...) whose metric is given in some scenario (the
    target of a calibrated input it uses) get "(given)" after the metric's name."""
    from scslab.core.calibration import given_outputs

    given: set[str] = set()
    for resolved in scenarios.values():
        given |= set(given_outputs(resolved, [r[1] for r in rows]))
    return [[r[0], f"{r[1]} (given)" if r[1] in given else r[1], *r[2:]] for r in rows]


def _scenarios_html(scenarios: dict[str, dict]) -> str:
    import yaml

    parts = []
    for label, resolved in scenarios.items():
        text = yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True)
        parts.append(f"<details><summary>{html.escape(label)}</summary>"
                     f"<pre>{html.escape(text)}</pre></details>")
    return "\n".join(parts)


def _manifest_html(manifest: dict) -> str:
    shown = {k: v for k, v in manifest.items() if k != "scenarios"}
    return ("<details><summary>manifest.json (without the resolved scenarios, shown above)"
            f"</summary><pre>{html.escape(json.dumps(shown, indent=2))}</pre></details>")


_ASSUMED_TEXT = (
    "These parameters were set to published figures (the input register, "
    "scslab.core.calibration): set directly, tuned by hand, or fitted by scslab calibrate. "
    "Results that follow from them are inputs, not findings: an outcome marked (given) is "
    "the output a calibrated input was set to reproduce — its level is given, while its "
    "differences between scenarios are results. Every other parameter is an assumption "
    "documented in the parameter register (docs/parameters.md).")

_FIGURE_CAPTIONS = {
    "timeseries": "Outcomes day by day: mean over replicates with a 95 % band; the "
                  "burn-in (grey) is not measured.",
    "groups": "Outcomes by group, per scenario, with 95 % intervals over replicates.",
    "harm": "False sanctions and income lost by people who offended vs people who did not.",
    "chilling": "Chilled lawful expression: direct (metric) and total (vs the twin without "
                "expression-venue surveillance).",
    "exposure": "Privacy exposure by group.",
    "decomposition": "Share of the group disparity removed by equalising each cause.",
}


def comparison_html(comp: ComparisonLike, figs: dict[str, Any] | None = None) -> str:
    """The report of a comparison as one self-contained HTML page (``figs``: figures or
    their PNG bytes; None: drawn here)."""
    from scslab._version import __version__
    from scslab.analysis.confounds import confounds_html

    e = html.escape
    m = comp.manifest
    labels = comp.labels
    header, rows = comparison_rows(comp.table(), labels)
    rows = mark_given(rows, {lab: comp.scenarios[lab] for lab in labels})
    crn = m.get("crn", True)
    parts = [
        f"<h1>scslab comparison: {e(', '.join(labels))}</h1>",
        f"<p>{comp.people:,} people, {m.get('days', '?')} measured days after a "
        f"{m.get('burn_in', '?')}-day burn-in, {comp.replicates} replicates per scenario, "
        f"{'common random numbers (one seed: ' + str(m.get('seeds', {}).get(labels[0])) + ')' if crn else 'independent random numbers (a seed per scenario)'}"
        f". scslab {e(str(m.get('scslab_version', __version__)))}, revision "
        f"{e(str(m.get('code_revision')))}.</p>",
        confounds_html(m.get("confounds", [])),
        "<h2>Outcomes</h2>",
        "<p class=\"note\">Mean over replicates of the measured-period value with its 95 % "
        "t-interval; Δ is the paired difference against the first scenario (replicate r "
        "of every scenario shares its population and random numbers), with the 95 % "
        "t-interval of the per-replicate differences.</p>",
        table_html(header, rows),
    ]
    if comp.twins:
        th, tr = twin_rows(comp)
        parts += ["<h2>Chilling: total vs direct</h2>",
                  "<p class=\"note\">Each scenario was also run as a twin without "
                  "surveillance of expression venues, on the same numbers. Total = twin's "
                  "expression rate − the scenario's (paired); direct = the chilled_expression "
                  "metric where a module reports it. With no twin transformation registered "
                  "the twin equals the scenario and the total is 0.</p>",
                  table_html(th, tr)]
    if figs is None:
        figs = comp.plot()
    if figs:
        parts += ["<h2>Figures</h2>", _figures_html(figs, _FIGURE_CAPTIONS)]
    ah, ar = assumed_rows({lab: comp.scenarios[lab] for lab in labels})
    parts += ["<h2>What is assumed</h2>", f"<p class=\"note\">{e(_ASSUMED_TEXT)}</p>",
              table_html(ah, ar),
              "<h2>Scenarios (resolved)</h2>", _scenarios_html(comp.scenarios),
              "<h2>Manifest</h2>", _manifest_html(m)]
    return page_html(f"scslab comparison: {', '.join(labels)}", "\n".join(parts), _CSS)


def explanation_html(exp: ExplanationLike, figs: dict[str, Any] | None = None) -> str:
    """The report of an explanation as one self-contained HTML page (``figs``: figures or
    their PNG bytes; None: drawn here)."""
    e = html.escape
    m = exp.manifest
    header, rows = explanation_rows(exp)
    t = exp.table()
    shares = t[t["kind"] == "cause"]["share"].sum()
    all_share = t[t["kind"] == "all"]["share"]
    measure_note = ("ln(M_A / M_B)" if exp.measure == "log ratio" else
                    "M_A − M_B (a log ratio is undefined: some value is zero)")
    parts = [
        f"<h1>Why does {e(exp.metric)} differ between {e(exp.group_a)} and "
        f"{e(exp.group_b)}?</h1>",
        f"<p>Scenario {e(exp.label)}; {exp.people:,} people, {m.get('days', '?')} measured "
        f"days after a {m.get('burn_in', '?')}-day burn-in, {exp.replicates} replicates, "
        f"seed {m.get('seed')}. Disparity = {e(measure_note)}; base disparity "
        f"{e(exp.base_text())}.</p>",
        "<h2>Decomposition</h2>",
        "<p class=\"note\">Each cause is equalised (group A gets group B's value) on the "
        "same populations and random numbers; its share = (D_base − D_equalised) / D_base "
        "per replicate, mean and 95 % t-interval over replicates. Shares need not add up "
        "when causes interact: sum of single-cause shares "
        f"{e(fmt(_num(shares)))}, all causes together "
        f"{e(fmt(_num(all_share.iloc[0]) if len(all_share) else None))}.</p>",
    ]
    if exp.unstable():
        parts.append("<p><strong>The base disparity's interval includes 0: the shares are "
                     "ratios of noise. Run more replicates or people.</strong></p>")
    parts.append(table_html(header, rows))
    if figs is None:
        figs = exp.plot()
    parts += ["<h2>Figures</h2>", _figures_html(figs, _FIGURE_CAPTIONS)]
    ah, ar = assumed_rows(exp.scenarios)
    parts += ["<h2>What is assumed</h2>", f"<p class=\"note\">{e(_ASSUMED_TEXT)}</p>",
              table_html(ah, ar), "<h2>Scenarios (resolved)</h2>",
              _scenarios_html(exp.scenarios), "<h2>Manifest</h2>", _manifest_html(m)]
    return page_html(f"scslab explain: {exp.metric} {exp.group_a} vs {exp.group_b}",
                 "\n".join(parts), _CSS)


# --------------------------------------------------------------------------- files


def _parquet(path: Path, df: pd.DataFrame) -> None:
    import pyarrow as pa

    from scslab.run.results import atomic_write_parquet

    atomic_write_parquet(path, pa.Table.from_pandas(df, preserve_index=False))


def _write_scenarios(out: Path, scenarios: dict[str, dict]) -> None:
    import yaml

    from scslab.run.results import atomic_write_bytes

    for i, (label, resolved) in enumerate(scenarios.items()):
        text = f"# {label}\n" + yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True)
        atomic_write_bytes(out / "scenarios" / f"{i:02d}-{slug(label)}.yaml", text.encode())


def _folder(out: Path | OutFolder, force: bool) -> OutFolder:
    """An open :class:`OutFolder` (opened here when given a path)."""
    from scslab.run.outfolder import OutFolder, OutFolderError

    if isinstance(out, OutFolder):
        return out
    try:
        return OutFolder(out, force=force).open()
    except OutFolderError as exc:
        raise CompareError(str(exc)) from None


def commit_folder(folder: OutFolder, manifest: dict) -> dict:
    from scslab.run.outfolder import OutFolderError

    try:
        return folder.commit(manifest)
    except OutFolderError as exc:
        raise CompareError(str(exc)) from None


def write_comparison_files(comp: ComparisonLike, out: Path | OutFolder, figures: bool = True,
                           force: bool = False) -> Path:
    """Write a comparison folder whole (see the module docstring; ``outfolder.py``): the
    files into a temporary sibling, the manifest with their checksums last, then renamed
    into place. ``out`` is a path or an :class:`OutFolder` opened before the runs."""
    from scslab.analysis.figures import render_figures, save_figures
    from scslab.run.results import atomic_write_bytes

    folder = _folder(out, force)
    with folder:
        tmp = folder.path("")
        _parquet(tmp / "replicates.parquet", comp.summaries)
        _parquet(tmp / "series.parquet", comp.series)
        _parquet(tmp / "comparison.parquet", comp.table())
        _write_scenarios(tmp, comp.scenarios)
        figs = render_figures(comp.plot()) if figures else {}
        if figs:
            save_figures(figs, tmp / "figures")
        atomic_write_bytes(tmp / "report.html", comparison_html(comp, figs).encode("utf-8"))
        comp.manifest = commit_folder(folder, comp.manifest)
    return folder.target


def write_explanation_files(exp: ExplanationLike, out: Path | OutFolder, figures: bool = True,
                            force: bool = False) -> Path:
    """Write an explanation folder whole; the manifest last."""
    from scslab.analysis.figures import render_figures, save_figures
    from scslab.run.results import atomic_write_bytes

    folder = _folder(out, force)
    with folder:
        tmp = folder.path("")
        _parquet(tmp / "replicates.parquet", exp.summaries)
        _parquet(tmp / "disparity.parquet", exp.values())
        _parquet(tmp / "explanation.parquet", exp.table())
        _write_scenarios(tmp, exp.scenarios)
        figs = render_figures(exp.plot()) if figures else {}
        if figs:
            save_figures(figs, tmp / "figures")
        atomic_write_bytes(tmp / "report.html", explanation_html(exp, figs).encode("utf-8"))
        exp.manifest = commit_folder(folder, exp.manifest)
    return folder.target

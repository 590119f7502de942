"""Write a study's analysis: Parquet tables, figures and one self-contained report.html.

``DIR/analysis/{outputs,effects,sensitivity,robustness}.parquet``, ``DIR/figures/*.png``
and ``DIR/report.html`` (figures embedded as base64 PNG), each written atomically.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

from scslab.analysis.html import figure_html, page_html, table_html

if TYPE_CHECKING:
    import pandas as pd

    from scslab.analysis.studies.analysis import StudyAnalysis
    from scslab.analysis.studies.spec import ResolvedStudy

TABLES = ("outputs", "effects", "sensitivity", "robustness")
FIGURE_NAMES = ("morris", "sobol", "contrasts")

_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}h2{border-bottom:1px solid #ddd;margin-top:2em}
table{border-collapse:collapse;font-size:.85em}th,td{border:1px solid #ccc;padding:.2em .5em;
text-align:right}th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}
img{max-width:100%}pre{background:#f7f7f7;padding:.8em;overflow:auto;font-size:.8em}
.note{color:#555;font-size:.9em}"""

_CAPTIONS = {
    "morris": "Morris screening: mu* (horizontal, 95 % bootstrap) is how much a factor moves "
              "the result; sigma (vertical) how much that depends on the other factors.",
    "sobol": "S1: the share of variance a factor explains alone; ST (Sobol designs): with its "
             "interactions (95 % bootstrap whiskers). On a Latin hypercube S1 comes from "
             "RBD-FAST.",
    "contrasts": "Each contrast's mean paired difference over the sampled space; the shaded "
                 "band is the 95 % interval combining parameter and Monte Carlo uncertainty.",
}


def _fmt(v: object) -> str:
    if isinstance(v, float):
        if v != v:
            return "—"
        return f"{v:.4g}"
    return str(v)


def _table(df: pd.DataFrame) -> str:
    return table_html([str(c) for c in df.columns],
                      [[_fmt(v) for v in row] for row in df.itertuples(index=False)])


def report_html(study: ResolvedStudy, analysis: StudyAnalysis, runs: pd.DataFrame,
                pngs: dict[str, bytes]) -> str:
    from scslab._version import __version__

    s = study.spec
    e = html.escape
    ok = int((runs["status"] == "ok").sum()) if len(runs) else 0
    parts = [f"<h1>Study {e(s.name)}</h1>",
             f"<p>{e(s.description)}</p>" if s.description else "",
             f"<p>{len(study.labels)} scenarios ({e(', '.join(study.labels))}), "
             f"{s.people:,} people, "
             + (f"{s.days:,} days" if s.world is None
                else f"world {e(s.world)}, {s.periods or 'its'} periods")
             + f", {s.replicates} replicates, "
             f"{e(s.design.method)} design over {len(s.factors)} factors; {ok} runs "
             f"finished. scslab {__version__}.</p>",
             "<h2>Sign-robustness of contrasts</h2>",
             '<p class="note">share_same_sign: share of samples whose mean paired difference '
             "has the overall sign; share_excludes_zero: share whose 95 % interval over "
             "replicates lies on that side of zero; low/high: 95 % interval combining "
             "parameter and Monte Carlo uncertainty.</p>",
             _table(analysis.robustness) if len(analysis.robustness) else "<p>no contrasts</p>"]
    if len(analysis.sensitivity):
        main = analysis.sensitivity[analysis.sensitivity["index"].isin(["mu_star", "sigma",
                                                                        "S1", "ST", "S2"])]
        parts += ["<h2>Sensitivity</h2>",
                  _table(main[["target", "factor", "index", "value", "low", "high"]])]
    if analysis.notes:
        parts += ["<h2>Notes</h2><ul>",
                  *(f"<li>{e(n)}</li>" for n in analysis.notes), "</ul>"]
    parts += [figure_html(png, name, _CAPTIONS.get(name, name)) for name, png in pngs.items()]
    factors = "\n".join(f"{k}: [{v.low:g}, {v.high:g}]"
                        + (" (integer, rounded)" if k in study.integer_factors else "")
                        for k, v in s.factors.items())
    parts += ["<h2>Factors</h2>", f"<pre>{e(factors)}</pre>",
              "<details><summary>the study</summary><pre>"
              f"{e(json.dumps(s.model_dump(mode='json'), indent=2))}</pre></details>"]
    body = "\n".join(p for p in parts if p)
    return page_html(s.name, body, _CSS)


def write_analysis(root: Path, study: ResolvedStudy, analysis: StudyAnalysis,
                   runs: pd.DataFrame, samples: int, figures: bool = True) -> Path:
    """Write tables, figures and the report into the study folder; returns report.html."""
    import pyarrow as pa

    from scslab.analysis.figures import figure_png
    from scslab.analysis.studies.figures import study_figures
    from scslab.run.results import atomic_write_bytes, atomic_write_parquet

    root = Path(root)
    for name in TABLES:
        atomic_write_parquet(root / "analysis" / f"{name}.parquet",
                             pa.Table.from_pandas(getattr(analysis, name), preserve_index=False))
    pngs: dict[str, bytes] = {}
    if figures:
        figs = study_figures(study, analysis, samples)
        for name in FIGURE_NAMES:
            if name not in figs:
                (root / "figures" / f"{name}.png").unlink(missing_ok=True)
        for name, fig in figs.items():
            pngs[name] = figure_png(fig)
            atomic_write_bytes(root / "figures" / f"{name}.png", pngs[name])
    atomic_write_bytes(root / "report.html",
                       report_html(study, analysis, runs, pngs).encode("utf-8"))
    return root / "report.html"

"""A calibration's result folder: calibration.json, calibration.md, report.html and
profiles.png, written whole through :class:`scslab.run.outfolder.OutFolder`."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from scslab.calibrate.fit import Calibration


def _num(x: float | None, digits: int = 4) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


def target_rows(cal: Calibration) -> tuple[list[str], list[list[str]]]:
    """The fit on every target, fitted and held out; a miss says MISS."""
    header = ["target", "role", "scenario", "metric", "published ± u", "simulated",
              "95 % interval (replicates)", "z", "verdict"]
    rows = []
    for f in cal.fits:
        if f.role == "fit":
            role = "fit (given: an input, not a finding)"
        elif f.given_by:
            role = f"held out, but given ({f.given_by} was set to it)"
        else:
            role = "held out"
        if f.simulated is None:
            verdict = "MISS: not reported by the run"
        else:
            verdict = "within uncertainty" if f.within else "MISS"
        interval = ("—" if f.low is None else f"[{_num(f.low)}, {_num(f.high)}]")
        rows.append([f.name, role, f.scenario, f.metric,
                     f"{_num(f.published)} ± {_num(f.uncertainty)}", _num(f.simulated),
                     interval, "—" if f.z is None else f"{f.z:+.2f}", verdict])
    return header, rows


def parameter_rows(cal: Calibration) -> tuple[list[str], list[list[str]]]:
    header = ["parameter", "range", "default", "fitted", "interval (profile, 95 %)",
              "identified"]
    rows = []
    for p in cal.parameters:
        interval = "—" if p.interval is None else f"[{_num(p.interval[0])}, {_num(p.interval[1])}]"
        rows.append([p.path, f"[{_num(p.low)}, {_num(p.high)}]", _num(p.default),
                     _num(p.fitted), interval, p.identified])
    return header, rows


def ridge_lines(cal: Calibration) -> list[str]:
    """The ridges: parameters the fitted targets cannot tell apart."""
    out = []
    for r in cal.ridges:
        names = " and ".join(f"`{p}`" for p in r["parameters"])
        direction = ", ".join(f"{w:+.2f}" for w in r["direction"])
        out += [f"**Not separately pinned down (correlated ridge):** {names} trade off — "
                f"moving them together along ({direction}) (each scaled to its range) moves "
                f"the fitted targets {r['ratio']:.2g} × as much as the most sensitive "
                "direction. Their fitted values are one point on the ridge; add a target "
                "that moves them differently, or fix all but one.", ""]
    return out


def markdown(cal: Calibration) -> str:
    def table(header: list[str], rows: list[list[str]]) -> list[str]:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return out

    misses = [f.name for f in cal.fits if not f.within]
    lines = [f"# Calibration: {cal.name}", "",
             f"Targets: `{cal.targets_file}`. {cal.people} people, {cal.days} days "
             f"(burn-in {cal.burn_in if cal.burn_in is not None else 'scenario default'}), "
             f"{cal.replicates} replicates per point on common random numbers; "
             f"{cal.trials} trials; objective S = Σ ((simulated − published)/u)² over the "
             f"fitted targets: {cal.objective:.4g} at the optimum"
             + ("" if cal.default_objective is None
                else f", {cal.default_objective:.4g} at the defaults") + ".", "",
             "## Fitted parameters", ""]
    if not cal.converged:
        lines += [f"**Not converged:** a profile point fits better (S = "
                  f"{cal.profile_minimum:.4g}) than the best trial after "
                  f"{cal.polish_rounds} polish round(s); run more trials or rounds "
                  "(a rerun with a larger --trials or --polish continues).", ""]
    elif cal.polish_rounds:
        lines += [f"Converged after {cal.polish_rounds} polish round(s): a profile point "
                  "that fitted better became a trial and the profiles were redone around "
                  "it; no profile point now beats the best trial.", ""]
    lines += table(*parameter_rows(cal))
    lines += ["", "A parameter is *not pinned down* when S stays within 3.84 of its minimum "
              "(χ²₁, 95 %) over its whole range with the others at the optimum.", ""]
    lines += ridge_lines(cal)
    lines += [
              "## Fit on every target", ""]
    lines += table(*target_rows(cal))
    lines += ["", "Fitted targets are **given**: reproducing them is an input of the model, "
              "not a finding. Held-out targets are checks — except those marked given, "
              "whose output a calibrated input (scslab.core.calibration) was set to reproduce: "
              "they check the input register, not the model.",
              "", ("Misses: " + ", ".join(misses)) if misses else "Misses: none.", ""]
    return "\n".join(lines)


def profile_figure(cal: Calibration) -> Figure:
    from matplotlib.figure import Figure

    n = max(1, len(cal.parameters))
    fig = Figure(figsize=(4.2 * n, 3.4), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    for ax, p in zip(axes, cal.parameters, strict=False):
        if p.grid:
            ax.plot(p.grid, p.profile, "o-", color="C0", label="S, others at optimum")
            ax.axhline(min([*p.profile, cal.objective]) + 3.84, color="grey", ls="--",
                       lw=1, label="S_min + 3.84")
        ax.axvline(p.fitted, color="C3", lw=1, label="fitted")
        if p.default is not None:
            ax.axvline(p.default, color="C2", lw=1, ls=":", label="default")
        ax.set_xlabel(p.path.rsplit(".", 1)[-1])
        ax.set_ylabel("S (standardized squared distance)")
        ax.set_title(p.identified, fontsize=9)
        ax.legend(fontsize=7)
    return fig


def report_html(cal: Calibration, png: bytes) -> str:
    import base64

    e = html.escape

    def table(header: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(
            f"<td class=\"{'miss' if c.startswith('MISS') else ''}\">{e(c)}</td>" for c in r)
            + "</tr>" for r in rows)
        return f"<table><tr>{head}</tr>{body}</table>"

    md = markdown(cal).split("\n")
    intro = md[2]
    data = base64.b64encode(png).decode("ascii")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{e(cal.name)}</title><style>body{{font-family:sans-serif;max-width:70em;"
            "margin:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:2px 6px}td.miss{color:#b00;font-weight:bold}</style></head><body>"
            f"<h1>Calibration: {e(cal.name)}</h1><p>{e(intro)}</p>"
            f"<h2>Fitted parameters</h2>{table(*parameter_rows(cal))}"
            + "".join(f"<p>{e(x.replace('**', ''))}</p>" for x in ridge_lines(cal) if x) +
            f"<figure><img alt=\"profiles\" src=\"data:image/png;base64,{data}\">"
            "<figcaption>Profile per parameter: S over its range with the others at the "
            "optimum.</figcaption></figure>"
            f"<h2>Fit on every target</h2>{table(*target_rows(cal))}"
            "<p>Fitted targets are given (inputs, not findings); held-out targets are "
            "checks; misses are marked MISS.</p></body></html>\n")


def write_result(cal: Calibration, folder: str | Path, command: list[str] | None = None) -> Path:
    """Write the result folder whole (replacing an earlier result of this calibration)."""
    from scslab.analysis.figures import figure_png
    from scslab.run.outfolder import OutFolder

    target = Path(folder)
    with OutFolder(target, force=True) as of:
        png = figure_png(profile_figure(cal))
        of.path("calibration.json").write_text(
            json.dumps(cal.as_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        of.path("calibration.md").write_text(markdown(cal), encoding="utf-8")
        of.path("profiles.png").write_bytes(png)
        of.path("report.html").write_text(report_html(cal, png), encoding="utf-8")
        of.commit({"kind": "scslab-calibration", "name": cal.name,
                   "command": command or []})
    return target

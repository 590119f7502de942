"""System cards: the few headline outcomes of a scenario against a reference.

A card runs :func:`scslab.analysis.attribution.attribute` once — the scenario S, the reference R and
S without each of its components, all on common random numbers — and derives every row
from those per-replicate summaries:

* the paired difference ``Y_r(S) − Y_r(R)`` with its 95 % t-interval (Monte Carlo);
* with a study folder holding the contrast ``S - R`` and the output: the interval of the
  mixture over the study's samples (parameter + Monte Carlo uncertainty,
  :func:`scslab.analysis.studies.analysis.mixture_interval`) and the sign-robustness share;
* the components that cause it: ``Y_r(S) − Y_r(S − c)`` per component (attribution);
* a disparity row is the gap ``Y[group=a] − Y[group=b]`` per replicate, treated the same.

A headline whose metric a scenario does not report (its module is off) is "not measured
here" with the reason; nothing is ever filled in by hand. See docs/answers.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scslab.analysis.html import page_html, table_html

#: Headline groups, in the order a card shows them.
CARD_GROUPS = (
    "compliance",
    "market trust and transaction costs",
    "officials' corruption and falsified statistics",
    "privacy exposure",
    "harms to the wrongly flagged",
    "disparities by group",
)

#: How many components a row names (largest |effect| first).
TOP_COMPONENTS = 3


@dataclass(frozen=True)
class Headline:
    """One headline outcome: ``metric`` (or, with ``groups``, the gap between two groups)."""

    group: str
    metric: str
    label: str
    module: str  # the module whose metric it is (for "not measured here")
    groups: tuple[str, str] | None = None  # (a, b): the gap metric[group=a] − metric[group=b]

    @property
    def key(self) -> str:
        if self.groups is None:
            return self.metric
        return f"{self.metric}[group={self.groups[0]}] − {self.metric}[group={self.groups[1]}]"

    def parts(self) -> list[str]:
        """The summary metrics this headline needs."""
        if self.groups is None:
            return [self.metric]
        return [f"{self.metric}[group={g}]" for g in self.groups]


HEADLINES: tuple[Headline, ...] = (
    Headline("compliance", "violation_rate", "violations per person-day", "behaviour"),
    Headline("compliance", "detection_rate", "share of violations recorded", "behaviour"),
    Headline("market trust and transaction costs", "fraud_rate", "share of trades defrauded",
             "market"),
    Headline("market trust and transaction costs", "transaction_cost",
             "transaction cost per buyer-day", "market"),
    Headline("officials' corruption and falsified statistics", "bribes_paid",
             "bribes paid per person-day", "officials"),
    Headline("officials' corruption and falsified statistics", "reported_minus_true_compliance",
             "true − reported violations per region person-day", "officials"),
    Headline("privacy exposure", "records_per_person_day", "records per person-day",
             "dossier"),
    Headline("privacy exposure", "exposure", "exposure (parties × sensitivity)", "surveillance"),
    Headline("harms to the wrongly flagged", "false_sanction_rate",
             "share of sanctions that are false", "harm"),
    Headline("harms to the wrongly flagged", "false_sanction_days",
             "false sanction days", "harm"),
    Headline("disparities by group", "false_sanction_rate", "false sanction rate gap",
             "harm", ("minority", "majority")),
    Headline("disparities by group", "blocked_movement_rate", "blocked movement rate gap",
             "surveillance", ("minority", "majority")),
)

NOT_SHOWN = (
    "Replicates share people and random numbers, so intervals are paired (Monte Carlo); "
    "without a study they do not include parameter uncertainty.",
    "Components are removed one at a time; their effects need not add up to the total "
    "(the residual is the interaction).",
    "A synthetic society: magnitudes rest on the assumptions of the parameter register "
    "(docs/parameters.md); the calibrated inputs are listed.",
)


@dataclass
class CardRow:
    """One headline of a card (JSON-serialisable)."""

    group: str
    key: str
    label: str
    measured: bool
    reason: str = ""
    diff: float | None = None
    low: float | None = None
    high: float | None = None
    scenario_mean: float | None = None
    scenario_low: float | None = None
    scenario_high: float | None = None
    reference_mean: float | None = None
    combined_low: float | None = None
    combined_high: float | None = None
    robustness: float | None = None
    robustness_note: str = ""
    components: list[dict] = field(default_factory=list)


@dataclass
class Card:
    scenario: str
    reference: str
    rows: list[CardRow]
    assumed: list[dict]
    not_shown: list[str]
    confounds: list[dict]
    settings: dict

    def to_dict(self) -> dict:
        return clean_json(asdict(self))

    @classmethod
    def from_dict(cls, d: dict) -> Card:
        rows = [CardRow(**r) for r in d["rows"]]
        return cls(**{**d, "rows": rows})

    def row(self, key: str) -> CardRow:
        for r in self.rows:
            if r.key == key:
                return r
        raise KeyError(key)


def clean_json(x: Any) -> Any:
    """NaN/inf → None, recursively (strict JSON)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: clean_json(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [clean_json(v) for v in x]
    return x


def _module_on(resolved: dict, name: str) -> bool:
    mod = resolved.get("modules", {}).get(name)
    return isinstance(mod, dict) and bool(mod.get("enabled", False))


def _why_missing(h: Headline, label: str, resolved: dict, reported: bool = False) -> str:
    if h.module in resolved.get("modules", {}) and not _module_on(resolved, h.module):
        return f"module {h.module} is off in {label}"
    what = h.metric if h.groups is None else f"{h.metric} for {' and '.join(h.groups)}"
    if reported:
        return f"{what} is undefined in {label} (a ratio with nothing to count)"
    return f"{label} does not report {what}"


# --------------------------------------------------------------------------- values


def _series(summaries: Any, run: str, metric: str) -> Any:
    import numpy as np

    s = summaries[(summaries["scenario"] == run) & (summaries["metric"] == metric)]
    return s.sort_values("replicate")["value"].to_numpy(dtype=np.float64)


def headline_values(summaries: Any, run: str, h: Headline) -> Any:
    """Per-replicate value of a headline in one run (the gap for a disparity)."""
    parts = [_series(summaries, run, m) for m in h.parts()]
    if h.groups is None:
        return parts[0]
    return parts[0] - parts[1]


def _f(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _study_rows(study: Any, contrast: str) -> tuple[dict[str, dict], str]:
    """output → {low, high, share_same_sign} from a study folder's runs, for ``contrast``;
    and a note on the size the study ran at."""
    from scslab.analysis.studies import open_study
    from scslab.analysis.studies.analysis import per_sample_effects, robustness_table

    result = open_study(study)
    sp = result.study.spec
    note = (f"The study ({Path(study).name}) ran {sp.people:,} people for {sp.days} days with "
            f"{sp.replicates} replicates per sample; its intervals are at that size.")
    if contrast not in [c.text for c in result.study.contrasts]:
        return {}, note
    effects = per_sample_effects(result.study, result.metrics)
    effects = effects[effects["contrast"] == contrast]
    if effects.empty:
        return {}, note
    rob = robustness_table(effects)
    return ({r["output"]: {"low": _f(r["low"]), "high": _f(r["high"]),
                           "share": _f(r["share_same_sign"]), "samples": int(r["samples"])}
             for _, r in rob.iterrows()}, note)


def build_card(att: Any, headlines: Sequence[Headline] = HEADLINES,
               study: str | Path | None = None) -> Card:
    """A card from an :class:`~scslab.analysis.attribution.Attribution` (every run's summaries)."""
    import numpy as np

    from scslab.analysis.attribution import FULL_RUN, REFERENCE_RUN
    from scslab.analysis.compare import mean_stats, paired_stats
    from scslab.core.calibration import calibrated_inputs, scenario_value

    s_label, r_label = att.label, att.reference
    s_res, r_res = att.scenarios[FULL_RUN], att.scenarios[REFERENCE_RUN]
    available = set(att.summaries["metric"].unique())
    contrast = f"{s_label} - {r_label}"
    robust, study_note = _study_rows(study, contrast) if study is not None else ({}, "")
    rows: list[CardRow] = []
    for h in headlines:
        row = CardRow(group=h.group, key=h.key, label=h.label, measured=False)
        rows.append(row)
        full = headline_values(att.summaries, FULL_RUN, h) if set(h.parts()) <= available else None
        ref = (headline_values(att.summaries, REFERENCE_RUN, h)
               if set(h.parts()) <= available else None)
        if full is None or not np.isfinite(full).any():
            row.reason = f"not measured here: {_why_missing(h, s_label, s_res)}"
            continue
        m_s, lo_s, hi_s = mean_stats(full)
        row.scenario_mean, row.scenario_low, row.scenario_high = _f(m_s), _f(lo_s), _f(hi_s)
        if not np.isfinite(ref).any():
            why = _why_missing(h, r_label, r_res, set(h.parts()) <= available)
            row.reason = (f"no paired difference: {why}; shown is the level in {s_label}")
            continue
        d, lo, hi = paired_stats(full, ref)
        row.measured = True
        row.diff, row.low, row.high = _f(d), _f(lo), _f(hi)
        row.reference_mean = _f(mean_stats(ref)[0])
        if h.groups is None and h.metric in robust:
            rb = robust[h.metric]
            row.combined_low, row.combined_high = rb["low"], rb["high"]
            row.robustness = rb["share"]
            row.robustness_note = f"over {rb['samples']} study samples"
        elif study is not None:
            row.robustness_note = f"the study has no output {h.key} for {contrast}"
        else:
            row.robustness_note = "no study given"
        comps = []
        for c in att.components:
            if c.name in att.refused:
                continue
            eff = full - headline_values(att.summaries, c.name, h)
            e, elo, ehi = mean_stats(eff)
            if not math.isfinite(e) or e == 0:
                continue  # a component whose removal changes nothing does not cause it
            comps.append({"component": c.name, "effect": _f(e), "low": _f(elo), "high": _f(ehi),
                          "share": _f(e / d) if d else None})
        comps.sort(key=lambda x: (-abs(x["effect"]), x["component"]))
        row.components = comps[:TOP_COMPONENTS]
    assumed = []
    for c in calibrated_inputs():
        v = scenario_value(s_res, c.path)
        if v is None:
            continue
        assumed.append({"path": c.path, "value": v, "figure": c.figure,
                        "citation": c.citation, "tag": c.tag})
    not_shown = list(NOT_SHOWN)
    if study_note:
        not_shown.append(study_note)
    if att.refused:
        not_shown.append("Components that cannot be removed alone: "
                         + "; ".join(f"{k} ({v})" for k, v in att.refused.items()))
    m = att.manifest
    settings = {k: m.get(k) for k in ("people", "days", "burn_in", "replicates", "seed")}
    settings["study"] = None if study is None else str(study)
    return Card(scenario=s_label, reference=r_label, rows=rows, assumed=assumed,
                not_shown=not_shown, confounds=list(att.confounds), settings=settings)


def make_card(scenario: Any, against: Any = "baseline", *, replicates: int = 3,
              people: int | None = None, days: int | None = None,
              burn_in: int | None = None, seed: int | None = None,
              sets: Sequence[str] = (), workers: int = 1,
              study: str | Path | None = None,
              headlines: Sequence[Headline] = HEADLINES,
              progress: Callable[[int, int], None] | None = None) -> tuple[Card, Any]:
    """Run the attribution behind a card and build it. Returns (card, attribution)."""
    from scslab.analysis.attribution import attribute
    from scslab.analysis.compare import load_specs, metric_names

    _, (sc, ref) = load_specs([scenario, against], sets, people=people, days=days,
                              burn_in=burn_in, seed=seed)
    have = set(metric_names(sc)) | set(metric_names(ref))
    wanted = [m for h in headlines for m in h.parts() if m in have]
    metrics = list(dict.fromkeys(wanted)) or None
    att = attribute(scenario, against, metrics, replicates=replicates, people=people,
                    days=days, burn_in=burn_in, seed=seed, sets=sets, workers=workers,
                    progress=progress)
    return build_card(att, headlines, study), att


# --------------------------------------------------------------------------- rendering


def fmt(x: float | None) -> str:
    """How every number of a card or an answer is written (3 significant digits)."""
    if x is None:
        return "—"
    if x == 0:
        return "0"
    return f"{x:.3g}"


def interval(low: float | None, high: float | None) -> str:
    return f"[{fmt(low)}, {fmt(high)}]"


def row_cells(r: CardRow) -> list[str]:
    """headline, difference [95 %], combined [95 %], robustness, components."""
    if not r.measured:
        if r.scenario_mean is not None:
            return [r.label, f"level {fmt(r.scenario_mean)} "
                    f"{interval(r.scenario_low, r.scenario_high)} — {r.reason}", "", "", ""]
        return [r.label, r.reason, "", "", ""]
    combined = interval(r.combined_low, r.combined_high) if r.combined_low is not None else "—"
    rob = f"{r.robustness:.0%}" if r.robustness is not None else f"— ({r.robustness_note})"
    comps = "; ".join(f"{c['component']} {fmt(c['effect'])}" for c in r.components) or "— (no single removable component changes it)"
    return [r.label, f"{fmt(r.diff)} {interval(r.low, r.high)}", combined, rob, comps]


CARD_HEADER = ["outcome", "S − R, 95 % interval (Monte Carlo)",
               "with parameter uncertainty", "same sign", "caused by (effect of removal)"]


def print_card(card: Card, console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    s = card.settings
    console.print(f"[bold]card[/bold] {escape(card.scenario)} against "
                  f"{escape(card.reference)} — {s['people']:,} people, {s['days']} days, "
                  f"{s['replicates']} replicates on common random numbers")
    for g in CARD_GROUPS:
        rows = [r for r in card.rows if r.group == g]
        if not rows:
            continue
        t = Table(title=g, title_justify="left")
        for h in CARD_HEADER:
            t.add_column(h)
        for r in rows:
            t.add_row(*(escape(c) for c in row_cells(r)))
        console.print(t)
    if card.confounds:
        console.print("[yellow]the scenarios also differ in the society:[/yellow] "
                      + escape(", ".join(c["path"] for c in card.confounds)))
    console.print("[bold]What is assumed[/bold]: "
                  + (escape("; ".join(f"{a['path']} = {a['value']} ({a['citation']})"
                                      for a in card.assumed)) or "no calibrated input"))
    console.print("[bold]What this does not show[/bold]:")
    for n in card.not_shown:
        console.print(f"  - {escape(n)}")


def card_section_html(card: Card) -> str:
    import html

    e = html.escape
    parts = [f"<h2>{e(card.scenario)} against {e(card.reference)}</h2>",
             f"<p class=note>{card.settings['people']:,} people, {card.settings['days']} days, "
             f"{card.settings['replicates']} replicates on common random numbers.</p>"]
    for g in CARD_GROUPS:
        rows = [row_cells(r) for r in card.rows if r.group == g]
        if rows:
            parts.append(f"<h3>{e(g)}</h3>" + table_html(CARD_HEADER, rows))
    if card.confounds:
        parts.append("<p class=warn>The scenarios also differ in the society: "
                     + e(", ".join(c["path"] for c in card.confounds)) + "</p>")
    assumed = [[a["path"], str(a["value"]), a["figure"], a["citation"], a["tag"]]
               for a in card.assumed]
    parts.append("<h3>What is assumed</h3>"
                 + (table_html(["parameter", "value", "published figure", "source", "tag"],
                               assumed) if assumed else "<p>No calibrated input.</p>"))
    parts.append("<h3>What this does not show</h3><ul>"
                 + "".join(f"<li>{e(n)}</li>" for n in card.not_shown) + "</ul>")
    return "\n".join(parts)


CSS = (
    "body{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;"
    "color:#222;line-height:1.45}table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}"
    "th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top;"
    "font-size:.9rem}th{background:#f4f4f4}.note{color:#666;font-size:.9rem}"
    ".warn{background:#fff6d6;padding:.4rem .6rem}.answer{font-size:1.15rem;"
    "background:#eef4fb;padding:.6rem .8rem;border-left:4px solid #2a6ebb}"
    ".open{background:#f6f6f6;border-left:4px solid #999;padding:.6rem .8rem}"
    "img{max-width:100%}figure{margin:1rem 0}figcaption{color:#555;font-size:.9rem}"
    "section{page-break-inside:avoid;margin-bottom:2.5rem}")


def card_html(card: Card) -> str:
    return page_html(f"card: {card.scenario} against {card.reference}",
                     card_section_html(card), CSS)
